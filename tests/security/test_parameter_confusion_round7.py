"""Attack class 2, review round 7: the executor acting on, or returning, more than lambdaperm authorized.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* for every request when each test's
server stops.
"""

from __future__ import annotations

import base64
import http.client
import json
import zlib
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    return clients_of(server, user_keys(server, account, name, *statements))


def _attribute_table(server: Endpoint, account: str, table: str) -> Any:
    admin = server.client("dynamodb", key=account)
    admin.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    admin.put_item(TableName=table, Item={"pk": {"S": "alice"}, "score": {"N": "1"}, "secret": {"S": "SSN-123"}})
    return admin


def _guide_policy(account: str, table: str) -> list[dict[str, Any]]:
    """The DynamoDB guide's "limit access to specific attributes" policy
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html)."""
    return [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "dynamodb:Scan",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
            ],
            "Resource": f"arn:aws:dynamodb:{REGION}:{account}:table/{table}",
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "score"]},
                "StringEqualsIfExists": {
                    "dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                    "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"],
                },
            },
        }
    ]


@pytest.mark.parametrize("operation", ["update_item", "put_item", "delete_item"])
def test_a_failed_condition_returns_no_attribute_the_policy_withholds(server: Endpoint, operation: str) -> None:
    """`ReturnValuesOnConditionCheckFailure: ALL_OLD` makes DynamoDB return the whole item when a write's
    condition fails (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html); the
    guide's attribute-restricting policy names `dynamodb:Attributes` and `dynamodb:ReturnValues` only. Attack
    (held): a caller allowed `pk` and `score` writes `score` under a condition that fails, asking for ALL_OLD,
    to read `secret`. lambdaperm's answer carries no item (moto's `Item` is not re-serialized), so nothing
    withheld comes back; this test fails the day the error starts carrying the item without a decision on it.
    """
    account = {"update_item": "888800000701", "put_item": "888800000702", "delete_item": "888800000703"}[operation]
    table = "r7-attrs"
    _attribute_table(server, account, table)
    ddb = user(server, account, "scorer", _guide_policy(account, table))("dynamodb")
    with pytest.raises(ClientError) as denied:
        ddb.get_item(TableName=table, Key={"pk": {"S": "alice"}})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    call: dict[str, Any] = {
        "TableName": table,
        "ConditionExpression": "attribute_not_exists(pk)",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if operation == "update_item":
        call.update(
            Key={"pk": {"S": "alice"}},
            UpdateExpression="SET score = :v",
            ExpressionAttributeValues={":v": {"N": "2"}},
        )
    elif operation == "put_item":
        call.update(Item={"pk": {"S": "alice"}, "score": {"N": "2"}})
    else:
        call.update(Key={"pk": {"S": "alice"}})
    with pytest.raises(ClientError) as failed:
        getattr(ddb, operation)(**call)
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert "SSN-123" not in json.dumps(failed.value.response, default=str)


def _put_raw(url: str, headers: list[tuple[str, str]], body: bytes) -> tuple[int, bytes]:
    """A PUT of `url` with exactly these header lines (http.client adds none but Host)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
    try:
        target = f"{parts.path}?{parts.query}" if parts.query else parts.path
        conn.putrequest("PUT", target, skip_accept_encoding=True)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            conn.putheader(name, value)
        conn.endheaders(body)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


TRAILER_ACCOUNTS = {"x-amz-tagging:role=admin": "888800000711", "x-amz-acl:public-read": "888800000712"}


@pytest.mark.parametrize("trailer", list(TRAILER_ACCOUNTS), ids=["tagging", "acl"])
def test_a_presigned_put_takes_no_header_from_a_trailer(server: Endpoint, trailer: str) -> None:
    """A presigned URL signs its query and `host`, not the body nor `Content-Encoding`; S3 refuses any
    `x-amz-*` header a presigned request did not sign ("There were headers present in the request which were
    not signed"), and reads trailing headers only from a request authenticated with the Authorization header
    whose `x-amz-trailer` announces them — object checksums
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html). Attack: the bearer of a
    presigned PutObject URL (its signer wanted a plain upload) sends `Content-Encoding: aws-chunked` and a
    trailer `x-amz-tagging: role=admin` (or `x-amz-acl: public-read`); lambdaperm read the trailer as a header,
    so the object was stored tagged `role=admin` (trusted by `s3:ExistingObjectTag` policies) or readable by
    everyone. AWS's outcome: the request is refused and nothing is stored.
    """
    account = TRAILER_ACCOUNTS[trailer]
    bucket = f"r7-presigned-{account}"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket=bucket)
    url = admin.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "upload"}, ExpiresIn=300)
    plain, _ = _put_raw(url, [], b"hello")
    assert plain == 200  # the URL works as its signer meant it
    admin.delete_object(Bucket=bucket, Key="upload")
    body = b"5\r\nhello\r\n0\r\n" + trailer.encode() + b"\r\n\r\n"
    status, reply = _put_raw(url, [("Content-Encoding", "aws-chunked")], body)
    assert status == 400, reply
    assert b"<Code>MalformedTrailerError</Code>" in reply
    listed = admin.list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount") == 0, listed


class _StreamingTrailerAuth(S3SigV4Auth):
    """botocore's S3 signer with the payload declared `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (botocore does so
    itself only over HTTPS)."""

    def payload(self, request: AWSRequest) -> str:
        return "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def _put_streaming(server: Endpoint, path: str, account: str, announced: str, body: bytes) -> tuple[int, bytes]:
    """A PutObject signed with the Authorization header, its body aws-chunked with `x-amz-trailer: announced`."""
    headers = {"x-amz-trailer": announced, "x-amz-decoded-content-length": "5", "Content-Encoding": "aws-chunked"}
    request = AWSRequest("PUT", f"{server.url}{path}", data=body, headers=headers)
    _StreamingTrailerAuth(Credentials(account, "test"), "s3", REGION).add_auth(request)
    sent = [(str(k), str(v)) for k, v in request.prepare().headers.items() if str(k).lower() != "content-length"]
    return _put_raw(f"{server.url}{path}", sent, body)


def _crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


@pytest.mark.parametrize(
    ("announced", "trailer", "accepted"),
    [
        ("x-amz-checksum-crc32", "x-amz-checksum-crc32:" + _crc32_b64(b"hello"), True),
        ("x-amz-tagging", "x-amz-tagging:role=admin", False),
        ("x-amz-checksum-crc32", "x-amz-website-redirect-location:/elsewhere", False),
    ],
    ids=["announced-checksum", "announced-tagging", "unannounced"],
)
def test_a_signed_streaming_upload_takes_only_its_announced_checksum(
    server: Endpoint, announced: str, trailer: str, accepted: bool
) -> None:
    """The Authorization-header form of the same upload (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `x-amz-trailer`
    signed): the announced checksum trailer is S3's documented use and is accepted
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html); a trailer that is no
    checksum, or that `x-amz-trailer` did not announce, is not a request header and is refused rather than read
    as one."""
    account = "888800000713"
    bucket = f"r7-streaming-{account}"
    admin = server.client("s3", key=account)
    if bucket not in [b["Name"] for b in admin.list_buckets()["Buckets"]]:
        admin.create_bucket(Bucket=bucket)
    body = b"5\r\nhello\r\n0\r\n" + trailer.encode() + b"\r\n\r\n"
    key = f"k-{announced}-{accepted}"
    status, text = _put_streaming(server, f"/{bucket}/{key}", account, announced, body)
    if accepted:
        assert status == 200, text
        assert admin.get_object(Bucket=bucket, Key=key)["Body"].read() == b"hello"
    else:
        assert status == 400 and b"<Code>MalformedTrailerError</Code>" in text, text
        with pytest.raises(ClientError):
            admin.head_object(Bucket=bucket, Key=key)
