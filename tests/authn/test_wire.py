"""Over a real socket: boto3 (urllib3) and urllib send signed requests to a loopback HTTP server that
builds the `HttpRequest` from what arrived (raw request target, header names as sent, body) and verifies
it. This catches what capturing before sending cannot: the Host header the HTTP client writes, the
path as it goes on the wire, Expect: 100-continue, Content-Length."""

from __future__ import annotations

import contextlib
import threading
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.config import Config

from lambdaperm.authn import AuthFailure, Credential, Scope, verify
from lambdaperm.protocol.http import HttpRequest
from tests.authn.botocases import LONG_TERM, SESSION

CREDENTIALS = {c.access_key_id: c for c in (LONG_TERM, SESSION)}
Outcome = Scope | AuthFailure


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    outcomes: list[Outcome]

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = HttpRequest(self.command, path, query, list(self.headers.items()), body)
        try:
            self.outcomes.append(verify(request, CREDENTIALS.get, datetime.now(UTC)))
        except AuthFailure as failure:
            self.outcomes.append(failure)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[Outcome]]]:
    outcomes: list[Outcome] = []
    handler = type("Handler", (_Handler,), {"outcomes": outcomes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", outcomes
    finally:
        httpd.shutdown()
        httpd.server_close()


def _client(service: str, endpoint: str, credential: Credential) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=credential.access_key_id,
        aws_secret_access_key=credential.secret_access_key,
        aws_session_token=credential.session_token,
        config=Config(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=5),
    )


KEY = "dir with space/ünï+%x~!*'()$&=;:@,.txt"
CALLS: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("iam", "iam", lambda c: c.list_users(PathPrefix="/a b/+&=%/")),
    ("sts", "sts", lambda c: c.get_caller_identity()),
    (
        "lambda-invoke",
        "lambda",
        lambda c: c.invoke(FunctionName="arn:aws:lambda:us-east-1:1:function:f", Qualifier="1"),
    ),
    ("lambda-policy", "lambda", lambda c: c.get_policy(FunctionName="f", Qualifier="$LATEST")),
    ("dynamodb", "dynamodb", lambda c: c.put_item(TableName="t", Item={"k": {"S": "ü +"}})),
    (
        "s3-put",
        "s3",
        lambda c: c.put_object(Bucket="bucket", Key=KEY, Body=b"x" * 9000, Metadata={"m": " a  b "}),
    ),
    ("s3-list", "s3", lambda c: c.list_objects_v2(Bucket="bucket", Prefix="dir with space/ü")),
]


@pytest.mark.parametrize("credential", [LONG_TERM, SESSION], ids=["long-term", "session"])
@pytest.mark.parametrize(("name", "service", "call"), CALLS, ids=[name for name, _, _ in CALLS])
def test_boto3_over_the_wire(
    server: tuple[str, list[Outcome]],
    name: str,
    service: str,
    call: Callable[[Any], Any],
    credential: Credential,
) -> None:
    endpoint, outcomes = server
    before = len(outcomes)
    # The empty 200 answers are not what the client expects; only the request matters.
    with contextlib.suppress(Exception):
        call(_client(service, endpoint, credential))
    assert len(outcomes) == before + 1
    outcome = outcomes[-1]
    assert isinstance(outcome, Scope), f"{name}: {outcome!r}"
    assert (outcome.service, outcome.access_key_id) == (service, credential.access_key_id)


@pytest.mark.parametrize("version", ["s3v4", "default"])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_presigned_url_with_urllib(server: tuple[str, list[Outcome]], method: str, version: str) -> None:
    """botocore's default for S3 presigned URLs in us-east-1 is still Signature Version 2."""
    endpoint, outcomes = server
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=SESSION.access_key_id,
        aws_secret_access_key=SESSION.secret_access_key,
        aws_session_token=SESSION.session_token,
        config=Config(signature_version="s3v4") if version == "s3v4" else None,
    )
    operation = "get_object" if method == "GET" else "put_object"
    params = {"Bucket": "bucket", "Key": KEY}
    url = s3.generate_presigned_url(operation, Params=params, ExpiresIn=60, HttpMethod=method)
    assert ("X-Amz-Signature=" in url) is (version == "s3v4")
    data = b"uploaded by urllib" if method == "PUT" else None
    # urllib would add a form Content-Type to a PUT; SigV2 signs Content-Type, so send it empty as signed.
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    outcome = outcomes[-1]
    assert isinstance(outcome, Scope) and outcome.presigned, repr(outcome)


def test_a_wrong_secret_is_rejected_over_the_wire(server: tuple[str, list[Outcome]]) -> None:
    endpoint, outcomes = server
    wrong = Credential(LONG_TERM.access_key_id, LONG_TERM.secret_access_key[:-1] + "X")
    with contextlib.suppress(Exception):
        _client("sts", endpoint, wrong).get_caller_identity()
    outcome = outcomes[-1]
    assert isinstance(outcome, AuthFailure) and outcome.kind == "bad_signature"
