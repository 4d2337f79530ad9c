"""The embedded moto backend: an authorized request is handed to moto's WSGI application in-process.

moto picks the account from the `x-moto-account-id` header; we set it to the account the request acts
in, so several local accounts keep separate resources. moto (and Flask) are imported on the first
data-plane request, not at start-up.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from lambdaperm.protocol.http import HttpRequest, HttpResponse

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MotoBackend:
    # Services whose moto backend app does not depend on the request's host or path (S3's does: virtual-host
    # and path-style buckets are two apps), so the app can be picked without moto's per-request lookup.
    DIRECT = frozenset({"dynamodb", "sqs", "sns", "logs", "ec2", "cloudtrail"})

    def __init__(self) -> None:
        self._app: WsgiApp | None = None
        self._direct: dict[str, WsgiApp] = {}
        self._lock = threading.Lock()

    def app(self) -> WsgiApp:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

                    _leave_lambda_delivery_to_lambdaperm()
                    self._app = DomainDispatcherApplication(create_backend_app)
        return self._app

    def _app_for(self, service: str | None) -> WsgiApp:
        dispatcher = self.app()
        if service not in self.DIRECT:
            return dispatcher
        app = self._direct.get(service)
        if app is None:
            from moto.moto_server.werkzeug_app import create_backend_app

            with self._lock:
                app = self._direct.get(service) or create_backend_app(service)  # type: ignore[arg-type]
                self._direct[service] = app
        return app

    def handle(self, req: HttpRequest, account: str, service: str | None = None) -> HttpResponse:
        host = req.host or "localhost"
        server = urlsplit(f"//{host}")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": req.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": _wsgi_path(req.path),
            "RAW_URI": req.path + (f"?{req.query_string}" if req.query_string else ""),
            "REQUEST_URI": req.path + (f"?{req.query_string}" if req.query_string else ""),
            "QUERY_STRING": req.query_string,
            "SERVER_NAME": server.hostname or "localhost",
            "SERVER_PORT": str(server.port or 80),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": req.remote_addr,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": req.scheme,
            "wsgi.input": io.BytesIO(req.body),
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(req.body)),
        }
        for name, value in req.headers:
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ[f"HTTP_{key}"] = value
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        status_holder: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            status_holder[:] = [status, headers]

        chunks = self._app_for(service)(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = status_holder
        return HttpResponse(int(status.split(" ", 1)[0]), list(headers), body)


def _wsgi_path(raw: str) -> str:
    """WSGI's PATH_INFO is the decoded path, as latin-1 text of the UTF-8 bytes."""
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(raw).decode("latin-1")


def _leave_lambda_delivery_to_lambdaperm() -> None:
    """moto's SNS would deliver `lambda` subscriptions to moto's own Lambda backend (where our functions do
    not exist, failing the Publish). lambdaperm delivers them itself, through the function policy, so moto's
    delivery is switched off for that protocol only."""
    from moto.sns.models import Subscription

    original = Subscription.publish
    if getattr(original, "_lambdaperm", False):
        return

    def publish(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.protocol == "lambda":
            return None
        return original(self, *args, **kwargs)

    publish._lambdaperm = True  # type: ignore[attr-defined]
    Subscription.publish = publish  # type: ignore[method-assign]
