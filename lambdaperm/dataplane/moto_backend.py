"""The embedded moto backend: an authorized request is handed to moto's WSGI application in-process.

moto picks the account from the `x-moto-account-id` header; we set it to the account the request acts
in, so several local accounts keep separate resources. moto (and Flask) are imported on the first
data-plane request, not at start-up.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.hosts import virtual_host_label
from lambdaperm.protocol.http import HttpRequest, HttpResponse

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MotoBackend:
    # moto's backend app per service. S3 requests are always handed over path-style on host `localhost`
    # (see `handle`), which moto's S3 app reads path-style. moto's own dispatcher is never used: it routes
    # by Host and by path and would expose moto's admin API (/moto-api/...) to anyone.
    DIRECT: Mapping[str, str] = {"dynamodb": "dynamodb", "sqs": "sqs", "sns": "sns", "logs": "logs", "ec2": "ec2",
                                 "cloudtrail": "cloudtrail", "s3": "s3"}

    def __init__(self) -> None:
        self._direct: dict[str, WsgiApp] = {}
        self._lock = threading.Lock()

    def _app_for(self, service: str | None) -> WsgiApp:
        backend = self.DIRECT.get(service or "")
        if backend is None:
            raise ServiceError("NotImplemented", f"lambdaperm's data plane does not serve {service}", 501)
        app = self._direct.get(backend)
        if app is None:
            from moto.moto_server.werkzeug_app import create_backend_app

            _leave_lambda_delivery_to_lambdaperm()
            with self._lock:
                app = self._direct.get(backend) or create_backend_app(backend)  # type: ignore[arg-type]
                self._direct[backend] = app
        return app

    def handle(self, req: HttpRequest, account: str, service: str | None = None,
               bucket: str | None = None) -> HttpResponse:
        """Serve an authorized request. An S3 request is rewritten path-style on a neutral host from the
        bucket lambdaperm authorized, so that moto cannot read another bucket out of the Host header."""
        if service == "s3":
            req = _path_style(req, bucket, virtual_host_label(req.host) is not None)
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


def _path_style(req: HttpRequest, bucket: str | None, virtual_host: bool) -> HttpRequest:
    """The same S3 request, path-style (`/{bucket}/{key}`) on host `localhost`: a virtual-hosted request
    (the bucket was read from the Host header) always gets the bucket it was authorized for in front of its
    path, whatever the path looks like."""
    from urllib.parse import quote

    path = req.path or "/"
    if virtual_host and bucket is not None:
        path = "/" + quote(bucket, safe="") + (path if path != "/" else "")
    headers = [(k, v) for k, v in req.headers if k.lower() != "host"] + [("Host", "localhost")]
    return HttpRequest(req.method, path, req.query_string, headers, req.body, req.remote_addr, req.scheme)
