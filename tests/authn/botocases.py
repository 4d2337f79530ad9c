"""Requests signed by real botocore clients, captured before they are sent and turned into the
`HttpRequest` the gateway would receive; botocore's own canonical request is recorded alongside.

Every case is signed at `SIGNED_AT` (botocore's clock is pinned), once with long-term keys and once with
session credentials. Nothing leaves the process: a `before-send` hook records the prepared request and
aborts the call.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from functools import cache, lru_cache
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3
import botocore.auth
from botocore.config import Config

from lambdaperm.authn import Credential
from lambdaperm.protocol.http import HttpRequest

SIGNED_AT = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
ENDPOINT = "http://localhost:4566"
TLS_ENDPOINT = "https://localhost:4566"
LONG_TERM = Credential("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
SESSION = Credential(
    "ASIAIOSFODNN7EXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    session_token="IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token=",
)


class _Sent(Exception):
    """Raised by the before-send hook: the request is captured, nothing goes on the wire."""


@dataclass
class Case:
    name: str
    service: str
    request: HttpRequest
    credential: Credential
    botocore_canonical: str
    presigned: bool = False
    signed_body: bool = True  # False where the payload hash is UNSIGNED-PAYLOAD / a streaming marker
    tags: frozenset[str] = field(default_factory=frozenset)

    def lookup(self, akid: str) -> Credential | None:
        return self.credential if akid == self.credential.access_key_id else None


def host_header(url: str) -> str:
    """The Host header http.client sends for `url` (the port only when it is not the default)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _body(body: Any) -> bytes:
    if body is None:
        return b""
    if hasattr(body, "read"):
        data = body.read()
        return data if isinstance(data, bytes) else data.encode("utf-8")
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def to_http_request(method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> HttpRequest:
    parts = urlsplit(url)
    wire = [("Host", host_header(url)), *headers]
    return HttpRequest(method, parts.path, parts.query, wire, body, scheme=parts.scheme)


@contextmanager
def pinned_signing(moment: datetime) -> Iterator[list[str]]:
    """Pin botocore's signing clock and record every canonical request (SigV4) or string to sign (SigV2)
    it builds."""
    recorded: list[str] = []
    v4_canonical = botocore.auth.SigV4Auth.canonical_request
    v2_canonical = botocore.auth.HmacV1Auth.canonical_string

    def v4(self: Any, request: Any) -> str:
        text: str = v4_canonical(self, request)
        recorded.append(text)
        return text

    def v2(self: Any, *args: Any, **kwargs: Any) -> str:
        text: str = v2_canonical(self, *args, **kwargs)
        recorded.append(text)
        return text

    naive = moment.astimezone(UTC).replace(tzinfo=None)
    epoch = moment.timestamp()
    with (
        mock.patch.object(botocore.auth, "get_current_datetime", lambda *a, **k: naive),
        mock.patch.object(botocore.auth.SigV4Auth, "canonical_request", v4),
        mock.patch.object(botocore.auth.HmacV1Auth, "canonical_string", v2),
        mock.patch.object(botocore.auth.HmacV1Auth, "_get_date", lambda self: formatdate(epoch, usegmt=True)),
        mock.patch.object(
            botocore.auth.HmacV1QueryAuth, "_get_date", lambda self: str(int(epoch + int(self._expires)))
        ),
    ):
        yield recorded


@cache
def _client(service: str, credential: Credential, endpoint: str, extra: str = "") -> Any:
    options: dict[str, Any] = json.loads(extra) if extra else {}
    client = boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id=credential.access_key_id,
        aws_secret_access_key=credential.secret_access_key,
        aws_session_token=credential.session_token,
        config=Config(retries={"max_attempts": 0}, **options),
    )
    client.meta.events.register("before-send", _hook)
    return client


_last: list[Any] = []


def _hook(request: Any, **_: Any) -> None:
    _last[:] = [request]
    raise _Sent


Call = Callable[[Any], Any]

# (name, service, endpoint, client options, call, tags). Tags: "unsigned" (payload not signed), "presign"
# (the call returns a URL, requested with GET or the method of a "method:…" tag).
CALLS: list[tuple[str, str, str, dict[str, Any], Call, frozenset[str]]] = []


def _call(
    name: str,
    service: str,
    call: Call,
    *,
    endpoint: str = ENDPOINT,
    options: dict[str, Any] | None = None,
    tags: tuple[str, ...] = (),
) -> None:
    CALLS.append((name, service, endpoint, options or {}, call, frozenset(tags)))


_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Sid": "ü ünïcode & +"}],
    }
)
_call("iam-list-users", "iam", lambda c: c.list_users(PathPrefix="/a b/+&=%/"))
_call(
    "iam-create-role",
    "iam",
    lambda c: c.create_role(RoleName="r+=,.@-", Path="/x/", AssumeRolePolicyDocument=_POLICY),
)
_call("sts-caller-identity", "sts", lambda c: c.get_caller_identity())
_call("sts-default-port", "sts", lambda c: c.get_caller_identity(), endpoint="http://localhost")
_call("lambda-default-tls-port", "lambda", lambda c: c.list_functions(), endpoint="https://LocalHost")
_call(
    "sts-assume-role",
    "sts",
    lambda c: c.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="s@x", Policy=_POLICY
    ),
)
_call(
    "lambda-invoke",
    "lambda",
    lambda c: c.invoke(
        FunctionName="arn:aws:lambda:us-east-1:123456789012:function:my-func",
        Qualifier="v1",
        Payload='{"a": "ü"}',
    ),
)
_call("lambda-get-policy", "lambda", lambda c: c.get_policy(FunctionName="f", Qualifier="$LATEST"))
_call("lambda-list", "lambda", lambda c: c.list_functions(MaxItems=10, Marker="a b+c/ü=&"))
_call(
    "lambda-add-permission",
    "lambda",
    lambda c: c.add_permission(
        FunctionName="my-func:prod",
        StatementId="s-1",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
        Qualifier="prod",
    ),
)
_call(
    "lambda-tag",
    "lambda",
    lambda c: c.tag_resource(
        Resource="arn:aws:lambda:us-east-1:123456789012:function:f", Tags={"k  x": "v ü"}
    ),
)
_call("dynamodb-list", "dynamodb", lambda c: c.list_tables())
_call("dynamodb-put", "dynamodb", lambda c: c.put_item(TableName="t", Item={"k": {"S": "ü +/=&"}}))
_call(
    "sqs-send", "sqs", lambda c: c.send_message(QueueUrl=f"{ENDPOINT}/123456789012/q", MessageBody="ü & + %")
)
_call(
    "sns-publish", "sns", lambda c: c.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:t", Message="hi ü")
)
_call("ec2-describe", "ec2", lambda c: c.describe_instances(Filters=[{"Name": "tag:a b", "Values": ["x+y"]}]))
_KEY = "dir with space/ünï+%x~!*'()$&=;:@,?#[].txt"
_call(
    "s3-put-path",
    "s3",
    lambda c: c.put_object(
        Bucket="bucket",
        Key=_KEY,
        Body=b"hello\x00world",
        Metadata={"m": "  a   b  "},
        ContentType="text/plain",
    ),
)
_call("s3-get-path", "s3", lambda c: c.get_object(Bucket="bucket", Key=_KEY, Range="bytes=0-9"))
_call(
    "s3-list-v2",
    "s3",
    lambda c: c.list_objects_v2(Bucket="bucket", Prefix="dir with space/ü+", Delimiter="/"),
)
_call("s3-multipart", "s3", lambda c: c.create_multipart_upload(Bucket="bucket", Key="a/b"))
_VIRTUAL = {"s3": {"addressing_style": "virtual"}}
_call("s3-get-virtual", "s3", lambda c: c.get_object(Bucket="bucket", Key=_KEY), options=_VIRTUAL)
_call(
    "s3-copy-virtual",
    "s3",
    lambda c: c.copy_object(Bucket="bucket", Key="k", CopySource={"Bucket": "src", "Key": _KEY}),
    options=_VIRTUAL,
)
_call(
    "s3-delete-objects",
    "s3",
    lambda c: c.delete_objects(Bucket="bucket", Delete={"Objects": [{"Key": _KEY}]}),
)
_call(
    "s3-put-unsigned",
    "s3",
    lambda c: c.put_object(Bucket="bucket", Key=_KEY, Body=b"data"),
    options={"s3": {"payload_signing_enabled": False}},
    tags=("unsigned",),
)
_call(
    "s3-put-trailer",
    "s3",
    lambda c: c.put_object(Bucket="bucket", Key=_KEY, Body=io.BytesIO(b"x" * 70000)),
    endpoint=TLS_ENDPOINT,
    tags=("unsigned",),
)
_S3V4 = {"signature_version": "s3v4"}
_call(
    "s3-presign-get",
    "s3",
    lambda c: c.generate_presigned_url(
        "get_object", Params={"Bucket": "bucket", "Key": _KEY, "ResponseContentType": "a/b c"}, ExpiresIn=600
    ),
    options=_S3V4,
    tags=("presign", "unsigned"),
)
_call(
    "s3-presign-put-virtual",
    "s3",
    lambda c: c.generate_presigned_url(
        "put_object", Params={"Bucket": "bucket", "Key": _KEY}, ExpiresIn=3600, HttpMethod="PUT"
    ),
    options={**_S3V4, **_VIRTUAL},
    tags=("presign", "unsigned", "method:PUT"),
)
_call(
    "sts-presign-get",
    "sts",
    lambda c: c.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET"),
    tags=("presign",),
)
_call(
    "sts-presign-post",
    "sts",
    lambda c: c.generate_presigned_url("get_caller_identity", ExpiresIn=900),
    tags=("presign", "method:POST"),
)


# S3 Signature Version 2: botocore's default for presigned URLs in us-east-1, and signature_version="s3".
V2_CALLS: list[tuple[str, str, str, dict[str, Any], Call, frozenset[str]]] = []
_V2 = {"signature_version": "s3"}
_V2_SPECS: list[tuple[str, dict[str, Any], Call, tuple[str, ...]]] = [
    (
        "s3v2-presign-get",
        {},
        lambda c: c.generate_presigned_url(
            "get_object",
            Params={"Bucket": "bucket", "Key": _KEY, "ResponseContentType": "a/b c"},
            ExpiresIn=600,
        ),
        ("presign",),
    ),
    (
        "s3v2-presign-put-virtual",
        _VIRTUAL,
        lambda c: c.generate_presigned_url(
            "put_object", Params={"Bucket": "bucket", "Key": _KEY}, ExpiresIn=3600, HttpMethod="PUT"
        ),
        ("presign", "method:PUT"),
    ),
    (
        "s3v2-put",
        _V2,
        lambda c: c.put_object(
            Bucket="bucket", Key=_KEY, Body=b"v2 body", Metadata={"m": " a  b "}, ContentType="text/plain"
        ),
        (),
    ),
    (
        "s3v2-acl-virtual",
        {**_V2, **_VIRTUAL},
        lambda c: c.get_object_acl(Bucket="bucket", Key="k", VersionId="3"),
        (),
    ),
]
for _spec in _V2_SPECS:
    V2_CALLS.append((_spec[0], "s3", ENDPOINT, _spec[1], _spec[2], frozenset(("unsigned", *_spec[3]))))


def _capture(
    name: str,
    service: str,
    endpoint: str,
    options: dict[str, Any],
    call: Call,
    tags: frozenset[str],
    credential: Credential,
    at: datetime = SIGNED_AT,
) -> Case:
    client = _client(service, credential, endpoint, json.dumps(options, sort_keys=True))
    with pinned_signing(at) as recorded:
        if "presign" in tags:
            url = call(client)
            method = next((tag[7:] for tag in tags if tag.startswith("method:")), "GET")
            body = b"presigned upload \xff" if method == "PUT" else b""
            request = to_http_request(method, url, [], body)
        else:
            _last.clear()
            with suppress(_Sent):
                call(client)
            sent = _last[0]
            headers = [(_text(k), _text(v)) for k, v in sent.headers.items()]
            request = to_http_request(sent.method, sent.url, headers, _body(sent.body))
    assert recorded, f"{name}: botocore signed nothing"
    return Case(
        f"{name}/{'session' if credential.session_token else 'long-term'}",
        service,
        request,
        credential,
        recorded[-1],
        presigned="presign" in tags,
        signed_body="unsigned" not in tags,
        tags=tags,
    )


def capture(name: str, credential: Credential = LONG_TERM, at: datetime = SIGNED_AT) -> Case:
    """The call named `name` in CALLS, signed by `credential` at `at`."""
    spec = next(spec for spec in CALLS + V2_CALLS if spec[0] == name)
    return _capture(*spec, credential=credential, at=at)


@lru_cache(maxsize=1)
def all_cases() -> tuple[Case, ...]:
    return tuple(
        _capture(*spec, credential=credential) for spec in CALLS for credential in (LONG_TERM, SESSION)
    )


@lru_cache(maxsize=1)
def v2_cases() -> tuple[Case, ...]:
    return tuple(
        _capture(*spec, credential=credential) for spec in V2_CALLS for credential in (LONG_TERM, SESSION)
    )
