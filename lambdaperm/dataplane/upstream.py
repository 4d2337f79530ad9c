"""`--upstream URL`: authorized data-plane calls are forwarded to another AWS-compatible endpoint, the
request bytes unchanged (so the upstream can verify the original signature if it checks one)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from lambdaperm.protocol.http import HttpRequest, HttpResponse

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class Upstream:
    def __init__(self, url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--upstream must be an http(s) URL, not {url!r}")
        self.url = url
        self._parts = parts
        self.timeout = timeout

    def handle(self, req: HttpRequest, account: str, service: str | None = None,
               bucket: str | None = None) -> HttpResponse:
        cls = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(self._parts.hostname or "localhost", self._parts.port, timeout=self.timeout)
        try:
            target = req.path + (f"?{req.query_string}" if req.query_string else "")
            conn.putrequest(req.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in req.headers:
                if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(req.body)))
            conn.endheaders(req.body)
            resp = conn.getresponse()
            body = resp.read()
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
            return HttpResponse(resp.status, headers, body)
        finally:
            conn.close()
