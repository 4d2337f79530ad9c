"""Raw signed S3 requests for the S3 attack classes: what boto3 cannot send (a sub-resource pair, a copy
source it would encode, a second header line, a namespaced XML body), signed by botocore's own SigV4
signer and sent with http.client so that every header line goes out as written."""

from __future__ import annotations

import http.client
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.e2e.conftest import Endpoint


@dataclass
class Reply:
    status: int
    body: bytes

    @property
    def code(self) -> str:
        found = re.search(rb"<Code>([^<]*)</Code>", self.body)
        return found.group(1).decode() if found else ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def send(
    server: Endpoint,
    method: str,
    path: str,
    *,
    key: str,
    secret: str = "test",
    query: str = "",
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    split: Sequence[str] = (),
) -> Reply:
    """A request signed for s3/us-east-1 with `headers`. A header named in `split` is signed with its
    comma-joined value (SigV4's canonical form of a repeated header) and sent as one line per value: a
    validly signed repeated header."""
    netloc = urlsplit(server.url).netloc
    url = f"http://{netloc}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method, url, data=body, headers=dict(headers))
    S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(request)
    lines: list[tuple[str, str]] = []
    for name, value in request.prepare().headers.items():
        if str(name).lower() in {h.lower() for h in split}:
            lines += [(str(name), part) for part in str(value).split(",")]
        elif str(name).lower() != "content-length":
            lines.append((str(name), str(value)))
    host, port = netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest(method, path + (f"?{query}" if query else ""), skip_accept_encoding=True)
        for name, value in lines:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Reply(response.status, response.read())
    finally:
        conn.close()
