"""Raw signed HTTP for the security suite: a request signed by botocore's own SigV4 signer (the shapes a
client library cannot send — a repeated parameter, a second header line, a Host of another region — are
written by hand around the signature), sent with http.client so that every header line goes out as given."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.conftest import Endpoint


class _SigningUserAgent(SigV4Auth):
    """botocore's signer, with the User-Agent among the signed headers (botocore leaves it out)."""

    def headers_to_sign(self, request: Any) -> Any:
        headers = super().headers_to_sign(request)
        if "user-agent" in request.headers:
            headers["user-agent"] = request.headers["user-agent"]
        return headers


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def code(self) -> str:
        """The AWS error code, in whichever protocol's shape the reply carries it."""
        found = re.search(rb"<Code>([^<]*)</Code>", self.body)
        if found:
            return found.group(1).decode()
        for name, value in self.headers:
            if name.lower() == "x-amzn-errortype":
                return value.split(":", 1)[0]
        try:
            document = json.loads(self.body or b"{}")
        except ValueError:
            return ""
        return str(document.get("__type", "")).rsplit("#", 1)[-1] if isinstance(document, dict) else ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def send(
    server: Endpoint,
    service: str,
    region: str,
    method: str,
    path: str = "/",
    *,
    key: str,
    secret: str = "test",
    query: str = "",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    host: str | None = None,
    sign_user_agent: bool = False,
    unsigned: Sequence[tuple[str, str]] = (),
    split: Sequence[str] = (),
) -> Reply:
    """Sign `headers` + host for (service, region) with `key`, add the `unsigned` header lines after
    signing (a second line of a signed header among them), and send it all to the server. A header named
    in `split` is signed with its comma-joined value (SigV4's canonical form of a repeated header) and sent
    as one line per value, the second in upper case: a validly signed repeated header."""
    netloc = urlsplit(server.url).netloc
    target_host = host or netloc
    url = f"http://{target_host}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method, url, data=body, headers=dict(headers))
    signer = S3SigV4Auth if service == "s3" else (_SigningUserAgent if sign_user_agent else SigV4Auth)
    signer(Credentials(key, secret), service, region).add_auth(request)
    prepared = request.prepare()
    lines = [("Host", target_host)]
    for name, value in prepared.headers.items():
        if str(name).lower() in {h.lower() for h in split}:
            parts = str(value).split(",")
            lines += [(str(name) if i == 0 else str(name).upper(), part) for i, part in enumerate(parts)]
        else:
            lines.append((str(name), str(value)))
    lines += unsigned
    conn = http.client.HTTPConnection(netloc.split(":")[0], int(netloc.split(":")[1]), timeout=30)
    try:
        conn.putrequest(method, path + (f"?{query}" if query else ""), skip_host=True, skip_accept_encoding=True)
        for name, value in lines:
            if name.lower() != "content-length":
                conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        conn.close()
