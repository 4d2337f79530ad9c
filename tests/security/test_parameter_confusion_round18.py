"""Parameter confusion, review round 18 (issue 7): what a function URL handler reads of the request it was sent.

Each test states the attack, AWS's rule and its documentation page; each was run against a real `lambdaperm serve`
(tests/e2e/conftest.py) with real boto3 and raw HTTP, and failed before its fix.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.conftest import Endpoint
from tests.security.test_runtime_limits import _deploy

_ECHO = """
import json
def handler(event, context):
    seen = {k: event.get(k) for k in ("rawPath", "rawQueryString", "headers", "queryStringParameters", "cookies")}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(seen)}
"""


def _raw(url: str, request_line: str, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    head = "".join(f"{k}: {v}\r\n" for k, v in [("Host", parts.netloc), *headers, ("Connection", "close")])
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(f"{request_line} HTTP/1.1\r\n{head}\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def _echo_url(server: Endpoint, name: str) -> str:
    lam = _deploy(server, "000000000000", name, _ECHO)
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    lam.add_permission(
        FunctionName=name,
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
    return str(url.split("//", 1)[1].split(".", 1)[0])


def _seen(server: Endpoint, url_id: str, target: str, headers: list[tuple[str, str]]) -> dict[str, Any]:
    status, body = _raw(server.url, f"GET /_lambdaperm/url/{url_id}{target}", headers)
    assert status == 200, body[:300]
    seen: dict[str, Any] = json.loads(body)
    return seen


def test_a_function_url_handler_reads_every_value_of_a_repeated_header_query_parameter_and_cookie(
    server: Endpoint,
) -> None:
    """Attack: a caller (or a proxy in front of a function URL adding its own header) sends a header, a query
    parameter or a Cookie header twice — `X-Dup: one` then `x-dup: two`, `?user=alice&user=bob`, `Cookie: a=1` then
    `Cookie: b=2`. The event kept only the last value of each (`x-dup: two`, `user: bob`, cookies `[b=2]`): the
    handler read another request than the one sent, and a handler (or an upstream check) reading the first value is
    silently bypassed. Lambda builds payload format 2.0 for a function URL
    (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads), in which duplicate headers and
    duplicate query strings are combined with commas
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html), and
    `cookies` holds every cookie of the request."""
    url_id = _echo_url(server, "r18-echo")
    single = _seen(server, url_id, "/p?user=alice", [("X-One", "v"), ("Cookie", "a=1; c=3")])
    assert single["headers"]["x-one"] == "v" and single["queryStringParameters"] == {"user": "alice"}  # control
    assert single["cookies"] == ["a=1", "c=3"]
    seen = _seen(
        server,
        url_id,
        "/p?user=alice&user=bob&k=1",
        [("X-Dup", "one"), ("x-dup", "two"), ("Cookie", "a=1"), ("Cookie", "b=2")],
    )
    assert seen["rawQueryString"] == "user=alice&user=bob&k=1"
    assert seen["headers"]["x-dup"] == "one,two", seen["headers"]
    assert seen["queryStringParameters"] == {"user": "alice,bob", "k": "1"}, seen["queryStringParameters"]
    assert seen["cookies"] == ["a=1", "b=2"], seen["cookies"]


def test_a_function_url_path_is_given_to_the_handler_as_sent(server: Endpoint) -> None:
    """Round 17's open lead: a `%0A` (or an encoded dot segment) in a function URL's path. No decision reads the
    path (the URL id alone selects the function), and the handler gets `rawPath` exactly as sent, still
    percent-encoded — no newline, no `..` resolution that would make the handler route another path than the
    caller's (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads)."""
    url_id = _echo_url(server, "r18-path")
    seen = _seen(server, url_id, "/a%0Ab/%2e%2e/c?x=%0A", [])
    assert seen["rawPath"] == "/a%0Ab/%2e%2e/c"
    assert seen["rawQueryString"] == "x=%0A" and seen["queryStringParameters"] == {"x": "\n"}
