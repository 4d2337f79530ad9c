"""Attack class: region and account confusion (review round 19).

Round 18 left two leads, both a host that names something else than the request is served as:

- a request line in absolute form (`POST http://sqs.eu-west-1.amazonaws.com/ HTTP/1.1`) whose authority differs from
  the Host header the request was signed with. uvicorn passed the path only, so the authority was dropped and the
  request was served in the Host's region. RFC 9112 §3.2.2: "When an origin server receives a request with an
  absolute-form of request-target, the origin server MUST ignore the received Host header field (if any) and instead
  use the host information of the request-target" (https://www.rfc-editor.org/rfc/rfc9112#section-3.2.2). The
  request names eu-west-1, is signed for us-east-1, and AWS refuses a credential scoped to another region than the
  endpoint's (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html).
- `<bucket>.s3-accelerate.amazonaws.com`, S3 Transfer Acceleration's global endpoint, served as a bucket endpoint of
  the signed region for any bucket and any operation. AWS: the accelerate endpoint serves only a bucket whose
  Transfer Acceleration is enabled, and never GET Service (ListBuckets), PUT Bucket (CreateBucket) or DELETE Bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/transfer-acceleration.html,
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAccelerateConfiguration.html).

Each test runs a real `lambdaperm serve` (tests/e2e/conftest.py) with raw signed HTTP over a socket or real boto3.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

A = "079190000018"
EAST, WEST = "us-east-1", "eu-west-1"
_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _raw(
    server: Endpoint, target: str, host: str, service: str, method: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """`method target HTTP/1.1` sent byte by byte, signed for us-east-1 by A's root key with `host` as its Host."""
    request = AWSRequest(method, f"{server.url}/", data=body, headers={**headers, "Host": host})
    (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(A, "secret"), service, EAST).add_auth(request)
    lines = {k: v for k, v in request.prepare().headers.items() if k.lower() != "content-length"}
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in lines.items())
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    port = urlsplit(server.url).port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode() + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer.partition(b"\r\n\r\n")[2]


def _queue_exists(server: Endpoint, region: str, name: str) -> bool:
    urls = server.client("sqs", key=A, region=region).list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    return any(url.endswith(f"/{name}") for url in urls)


def _table_exists(server: Endpoint, region: str, name: str) -> bool:
    return name in server.client("dynamodb", key=A, region=region).list_tables()["TableNames"]


def _bucket_exists(server: Endpoint, region: str, name: str) -> bool:
    """Whether bucket `name` exists in `region` (bucket names are global: its location says where)."""
    if not any(b["Name"] == name for b in server.client("s3", key=A, region=region).list_buckets()["Buckets"]):
        return False
    location = server.client("s3", key=A).get_bucket_location(Bucket=name)["LocationConstraint"]
    return (location or EAST) == region


_TABLE = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}

# service -> (Host of us-east-1, request for a name, whether the name exists in a region)
_CREATES: dict[str, tuple[str, Callable[[str], tuple[str, dict[str, str], bytes]], Callable[..., bool]]] = {
    "sqs": (
        "sqs.us-east-1.amazonaws.com",
        lambda name: ("POST", _FORM, f"Action=CreateQueue&Version=2012-11-05&QueueName={name}".encode()),
        _queue_exists,
    ),
    "dynamodb": (
        "dynamodb.us-east-1.amazonaws.com",
        lambda name: (
            "POST",
            {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.CreateTable"},
            json.dumps({**_TABLE, "TableName": name}).encode(),
        ),
        _table_exists,
    ),
    "s3": ("s3.amazonaws.com", lambda name: ("PUT", {}, b""), _bucket_exists),
}


def _west(host: str) -> str:
    return host.replace("us-east-1", WEST) if "us-east-1" in host else f"s3.{WEST}.amazonaws.com"


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("service", sorted(_CREATES))
def test_an_absolute_target_naming_another_region_is_refused(server: Endpoint, service: str, scheme: str) -> None:
    """The attack: a create whose request line names eu-west-1's host (`POST http://sqs.eu-west-1.amazonaws.com/`)
    while its Host header and credential scope name us-east-1. AWS's rule: the target's authority is the request's
    host (RFC 9112 §3.2.2); a credential scoped to another region than the endpoint's is refused
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html). Failed first: served in
    us-east-1 (200, the queue, table or bucket created there)."""
    host, request, exists = _CREATES[service]
    name = f"r19abs{sorted(_CREATES).index(service)}{scheme[-1]}"
    method, headers, body = request(name)
    path = f"/{name}" if service == "s3" else "/"
    status, answer = _raw(server, f"{scheme}://{_west(host)}{path}", host, service, method, headers, body)
    assert status in (400, 403), answer
    assert b"east-1" in answer and (b"west-1" in answer or b"Credential should be scoped" in answer), answer
    assert not exists(server, EAST, name), f"{name} was created in us-east-1"
    assert not exists(server, WEST, name), f"{name} was created in eu-west-1"


# a target's authority other than the Host header's: it is read exactly as a Host header naming it is
_AUTHORITIES: dict[str, Callable[[str], str]] = {
    "another region": _west,
    "another host": lambda host: "example.com",
    "another port": lambda host: f"{host}:8443",
    "user info": lambda host: f"alice@{host}",
}


@pytest.mark.parametrize("case", sorted(_AUTHORITIES))
@pytest.mark.parametrize("service", sorted(_CREATES))
def test_an_absolute_target_is_read_as_its_authority(server: Endpoint, service: str, case: str) -> None:
    """One reading: a request in absolute form is answered as the same request in origin form whose Host header is
    the target's authority (RFC 9112 §3.2.2: the Host header is ignored), never as its Host header names it."""
    host, request, exists = _CREATES[service]
    outcomes = []
    for form in ("absolute", "origin"):
        name = f"r19rd{sorted(_CREATES).index(service)}{sorted(_AUTHORITIES).index(case)}{form[0]}"
        method, headers, body = request(name)
        path = f"/{name}" if service == "s3" else "/"
        authority = _AUTHORITIES[case](host)
        if form == "absolute":
            status, _ = _raw(server, f"http://{authority}{path}", host, service, method, headers, body)
        else:
            status, _ = _raw(server, path, authority, service, method, headers, body)
        outcomes.append((status, exists(server, EAST, name), exists(server, WEST, name)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("service", sorted(_CREATES))
def test_an_absolute_target_naming_the_host_is_served(server: Endpoint, service: str) -> None:
    """Control: the same create in absolute form naming the Host it was signed with (as a client talking to a proxy
    writes it) is served, in us-east-1 only."""
    host, request, exists = _CREATES[service]
    name = f"r19same{sorted(_CREATES).index(service)}"
    method, headers, body = request(name)
    path = f"/{name}" if service == "s3" else "/"
    status, answer = _raw(server, f"http://{host}{path}", host, service, method, headers, body)
    assert status == 200, answer
    assert exists(server, EAST, name)
    assert not exists(server, WEST, name)


def test_origin_form_reads_the_targets_authority_under_either_parser() -> None:
    """The reading itself, for both of uvicorn's protocols: httptools (the raw target kept in the scope by
    `recorded_targets`) and h11 (the whole target as the path); an origin-form target leaves the request unchanged."""
    from lambdaperm.gateway.request_targets import SCOPE_KEY, origin_form

    headers = [("Host", "sqs.us-east-1.amazonaws.com"), ("X-Amz-Date", "20261203T000000Z")]
    httptools = {"path": "/q", "raw_path": b"/q", SCOPE_KEY: b"http://sqs.eu-west-1.amazonaws.com/q?Action=x"}
    h11 = {"path": "http://sqs.eu-west-1.amazonaws.com/q", "raw_path": b"http://sqs.eu-west-1.amazonaws.com/q"}
    for scope in (httptools, h11):
        path, read = origin_form(scope, headers)
        assert path == "/q"
        assert [v for k, v in read if k.lower() == "host"] == ["sqs.eu-west-1.amazonaws.com"]
        assert ("X-Amz-Date", "20261203T000000Z") in read
    assert origin_form({"path": "/q", "raw_path": b"/q", SCOPE_KEY: b"/q?Action=x"}, headers) == ("/q", headers)


# S3 Transfer Acceleration's endpoint, for a bucket of us-east-1 without acceleration: (method, host, path, body)
_ACCELERATED = {
    "CreateBucket": ("PUT", "r19accnew.s3-accelerate.amazonaws.com", "/", b""),
    "PutObject": ("PUT", "r19acc.s3-accelerate.amazonaws.com", "/k", b"x"),
    "PutObject, dualstack": ("PUT", "r19acc.s3-accelerate.dualstack.amazonaws.com", "/k", b"x"),
    "PutObject, path style": ("PUT", "s3-accelerate.amazonaws.com", "/r19acc/k", b"x"),
    "ListObjects": ("GET", "r19acc.s3-accelerate.amazonaws.com", "/", b""),
    "ListBuckets": ("GET", "s3-accelerate.amazonaws.com", "/", b""),
    "DeleteBucket": ("DELETE", "r19accempty.s3-accelerate.amazonaws.com", "/", b""),
}


@pytest.mark.parametrize("operation", sorted(_ACCELERATED))
def test_the_transfer_acceleration_endpoint_is_not_a_bucket_endpoint(server: Endpoint, operation: str) -> None:
    """The attack: a call sent to S3 Transfer Acceleration's global endpoint (`<bucket>.s3-accelerate.amazonaws.com`)
    for a bucket without acceleration, or one the endpoint never serves (CreateBucket, DeleteBucket, ListBuckets).
    AWS's rule: the accelerate endpoint serves only a bucket whose Transfer Acceleration is enabled (a DNS-compliant
    name without periods), and "you can use all Amazon S3 operations through the transfer acceleration endpoints
    except GET Service (list buckets), PUT Bucket (create bucket), and DELETE Bucket"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/transfer-acceleration.html). Failed first: each was served
    as on the bucket's regional endpoint (a bucket created in the signed region, an object written). lambdaperm does
    not serve Transfer Acceleration: 501 NotImplemented naming it, and nothing is created or deleted."""
    s3 = server.client("s3", key=A)
    for bucket in ("r19acc", "r19accempty"):
        try:
            s3.create_bucket(Bucket=bucket)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    method, host, path, body = _ACCELERATED[operation]
    status, answer = _raw(server, path, host, "s3", method, {}, body)
    assert status == 501 and b"Transfer Acceleration" in answer, answer
    assert not _bucket_exists(server, EAST, "r19accnew")
    assert _bucket_exists(server, EAST, "r19accempty")
    assert "Contents" not in s3.list_objects_v2(Bucket="r19acc")
