"""A request line in absolute form names the request's host (region/account review round 19).

The rule: "When an origin server receives a request with an absolute-form of request-target, the origin server MUST
ignore the received Host header field (if any) and instead use the host information of the request-target"
(RFC 9112 §3.2.2, https://www.rfc-editor.org/rfc/rfc9112#section-3.2.2). AWS reads a request's region and service
from its host and refuses a credential scoped to another region
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html).

Why: uvicorn's httptools protocol keeps only the path of `POST http://sqs.eu-west-1.amazonaws.com/ HTTP/1.1`, so the
target's authority was dropped and the request was served as its Host header named it (us-east-1): the server read
another request than the client wrote. One reading now: the target's authority replaces the Host header before
anything reads the request, so the request is decided, verified and served for the host it names — a host its
credential scope (or verified signature) does not cover is refused by the usual checks, in the client's protocol,
and any other authority is read exactly as a Host header naming it.

How: `recorded_targets` keeps the raw request target in the ASGI scope (uvicorn's h11 protocol keeps it as the path
itself), and `origin_form` gives the path and the headers the rest of the server reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

SCOPE_KEY = "lambdaperm.request_target"  # the raw request target, as received (bytes)


def recorded_targets(base: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """`base` (uvicorn's httptools protocol class) keeping each request's raw target in its scope. A class without
    the parser's head callbacks (uvicorn's h11 protocol, which keeps the whole target as the path) is unchanged."""
    if not all(hasattr(base, name) for name in ("on_headers_complete", "on_url")):
        return base

    class RecordedTargets(base):  # type: ignore[valid-type,misc]
        def on_headers_complete(self) -> None:
            self.scope[SCOPE_KEY] = bytes(self.url)
            super().on_headers_complete()

    return RecordedTargets


def origin_form(scope: MutableMapping[str, Any], headers: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """The raw path (without the query) and the headers of the request: for an absolute-form target, its path and
    its authority as the only Host header (RFC 9112 §3.2.2); otherwise the scope's path and the headers unchanged."""
    raw: bytes = scope.get(SCOPE_KEY) or scope.get("raw_path") or scope["path"].encode()
    target = raw.decode("latin-1")
    path = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
    if target.startswith("/") or target == "*" or "://" not in target:
        return path, headers
    parts = urlsplit(target)
    authority = parts.netloc  # verbatim: read exactly as a Host header naming it would be
    if SCOPE_KEY not in scope:  # uvicorn's h11 protocol: the path is the whole target
        path = parts.path or "/"
    return path, [*(h for h in headers if h[0].lower() != "host"), ("host", authority)]
