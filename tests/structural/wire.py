"""Requests as bytes on the wire, for the parser-differential fuzz: what boto3 really sends (captured before
it leaves the client), re-signed after a mutation, handed to lambdaperm in-process or over HTTP.

Credentials are an account's root key (its 12-digit id, any secret), which lambdaperm accepts without
checking the signature; the requests are signed anyway (SigV4, boto3's own signer), so that every
mutation that keeps a well-formed credential scope is one an attacker could send with a key of their own.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from lambdaperm.protocol import HttpRequest

# the header lines the signer writes (dropped before re-signing)
_SIGNING = {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}
# headers that describe the body (dropped when a mutation changes it)
_BODY_DIGESTS = ("content-md5", "x-amz-checksum-", "x-amz-sdk-checksum-algorithm", "content-length")


@dataclass(frozen=True)
class Raw:
    """One HTTP request, header lines kept in order and repeated as sent."""

    service: str
    region: str
    account: str
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    unsigned: tuple[tuple[str, str], ...] = field(default=())  # added after signing (another header line)
    secret: str = "any-secret"  # the access key is `account`: a root key, or an IAM user's key id

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def with_header(self, name: str, value: str | None) -> Raw:
        """This request with `name` set to `value` (every line of it replaced; None removes it)."""
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        return replace(self, headers=kept if value is None else (*kept, (name, value)))

    def signed(self, host: str) -> Raw:
        """Signed for this request's account, service and region as the request is now (plus `unsigned`)."""
        headers = {k: v for k, v in self.headers if k.lower() not in _SIGNING}
        headers.setdefault("Host", host)
        url = f"http://{headers['Host']}{self.path}" + (f"?{self.query}" if self.query else "")
        request = AWSRequest(self.method, url, data=self.body, headers=headers)
        signer = S3SigV4Auth if self.service == "s3" else SigV4Auth
        signer(Credentials(self.account, self.secret), _signing_name(self.service), self.region).add_auth(request)
        lines = [(k, v) for k, v in self.headers if k.lower() not in _SIGNING]
        if not any(k.lower() == "host" for k, _ in lines):
            lines.insert(0, ("Host", host))
        lines += [(k, str(v)) for k, v in request.headers.items() if k.lower() in _SIGNING]
        return replace(self, headers=(*lines, *self.unsigned), unsigned=())

    def with_body(self, body: bytes) -> Raw:
        """This request with another body (the digests of the old one dropped)."""
        kept = tuple((k, v) for k, v in self.headers if not k.lower().startswith(_BODY_DIGESTS))
        return replace(self, headers=kept, body=body)

    def http_request(self) -> HttpRequest:
        return HttpRequest(self.method, self.path, self.query, list(self.headers), self.body)

    def send(self, port: int, timeout: float = 30) -> tuple[int, bytes]:
        """Send exactly these lines to 127.0.0.1:port; (status, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            target = self.path + (f"?{self.query}" if self.query else "")
            conn.putrequest(self.method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers:
                if name.lower() != "content-length":
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(self.body)))
            conn.endheaders(self.body)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def reproduce(self) -> str:
        return (
            f"Raw({self.service!r}, {self.region!r}, {self.account!r}, {self.method!r}, {self.path!r}, "
            f"{self.query!r}, {self.headers!r}, {self.body[:2000]!r})"
        )


def _signing_name(service: str) -> str:
    return {"logs": "logs", "sqs": "sqs", "sns": "sns", "ec2": "ec2", "dynamodb": "dynamodb", "s3": "s3"}[service]


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


def captured(
    service: str,
    operation: str,
    params: dict[str, Any],
    account: str,
    region: str,
    endpoint: str,
    secret: str = "any-secret",
) -> Raw:
    """The request boto3 sends for `client.<operation>(**params)` to `endpoint` (path-style for S3), as signed
    by the client (`account` is the access key id: an account's root key, or an IAM user's with `secret`)."""
    client = boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=account,
        aws_secret_access_key=secret,
        config=Config(
            retries={"max_attempts": 1}, s3={"addressing_style": "path"}, request_checksum_calculation="when_required"
        ),
    )
    client.meta.events.register("before-send", _capture)
    method = getattr(client, _snake(operation))
    try:
        method(**params)
    except _Captured as got:
        request = got.request
    else:  # pragma: no cover - before-send always raises
        raise AssertionError("the request was not captured")
    parts = urlsplit(request.url)
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = tuple((k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items())
    return Raw(
        service,
        region,
        account,
        request.method,
        parts.path or "/",
        parts.query,
        (("Host", parts.netloc), *headers),
        body or b"",
        secret=secret,
    )


def serialized(
    service: str, operation: str, params: dict[str, Any], account: str, region: str, host: str, protocol: str
) -> Raw:
    """The request botocore's `protocol` serializer writes for the call (SQS's query-compatible form), signed."""
    import botocore.session
    from botocore.awsrequest import create_request_object, prepare_request_dict
    from botocore.serialize import create_serializer

    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    request_dict = create_serializer(protocol, include_validation=False).serialize_to_request(params, model)
    if protocol == "query" and isinstance(request_dict["body"], dict):
        request_dict["body"] = _legacy_names(service, model, request_dict["body"])
    prepare_request_dict(request_dict, endpoint_url=f"http://{host}")
    request = create_request_object(request_dict).prepare()
    parts = urlsplit(request.url)
    body = request.body or b""
    body = body.encode() if isinstance(body, str) else bytes(body)
    headers = tuple((k, str(v)) for k, v in request.headers.items() if k.lower() != "content-length")
    return Raw(
        service, region, account, request.method, parts.path or "/", parts.query, (("Host", host), *headers), body
    ).signed(host)


def _legacy_names(service: str, model: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The parameter names an SDK speaking the service's query protocol sends: botocore's current model of a
    query-compatible JSON service (SQS) dropped the query names (`AttributeNames.1` for `AttributeName.1`), which
    lambdaperm reads as the older SDKs write them (lambdaperm/protocol/legacy_query.py)."""
    from lambdaperm.protocol.legacy_query import query_dialect

    dialect = query_dialect(service)
    shape = model.input_shape
    if dialect is None or shape is None:
        return body
    renamed = {name: dialect.naming.member(shape, name, member) for name, member in shape.members.items()}
    out: dict[str, Any] = {}
    for key, value in body.items():
        first, dot, rest = key.partition(".")
        out[renamed.get(first, first) + dot + rest] = value
    return out


def _snake(name: str) -> str:
    from botocore import xform_name

    return str(xform_name(name))


def from_prepared(service: str, region: str, account: str, request: Any) -> HttpRequest:
    """The HttpRequest lambdaperm would read for a prepared botocore request (the canonical request)."""
    parts = urlsplit(request.url)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    headers = [("Host", parts.netloc)] + [
        (k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items() if k.lower() != "host"
    ]
    return HttpRequest(request.method, parts.path or "/", parts.query, headers, bytes(body))
