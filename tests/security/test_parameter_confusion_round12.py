"""Attack class 2, review round 12: enumerated members that moto reads differently from AWS.

Round 10's audit checks that moto reads every member the decision reads; it cannot see a member moto reads
*differently*. An enumerated member is the sharpest case: AWS accepts exactly its value set (case included), the
condition key read from it holds that value as sent, and moto 5.2.1 compares some of them loosely (upper-cased,
"anything but COUNT") or stores them as given. A value outside the set then passed a Deny written for the
canonical value and was executed as that canonical value, or as something AWS never stores. Each test runs
against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys


def _fails(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return str(err.value.response["Error"]["Code"]), int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _user(server: Endpoint, account: str, service: str, statements: list[dict[str, Any]]) -> Any:
    return server.client(service, **user_keys(server, account, "r12", *statements))


def test_dynamodb_select_in_another_case_is_refused_not_read_as_all_attributes(server: Endpoint) -> None:
    """DynamoDB `Select` is one of ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES, COUNT; any other
    value is 400 ValidationException "1 validation error detected: Value '…' at 'select' failed to satisfy
    constraint: Member must satisfy enum value set: […]"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html#DDB-Scan-request-Select,
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html).
    Attack: a Deny on `dynamodb:Select` = ALL_ATTRIBUTES does not match `all_attributes` (StringEquals is
    case-sensitive), and moto 5.2.1's Scan returns whole items for any Select but COUNT: the caller read every
    attribute of every item past the Deny. Query upper-cases Select (`count` ran as COUNT)."""
    account = "888800001211"
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName="r12",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="r12", Item={"pk": {"S": "a"}, "secret": {"S": "s3cr3t"}})
    user = _user(
        server,
        account,
        "dynamodb",
        [
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": ["dynamodb:Scan", "dynamodb:Query"],
                "Resource": "*",
                "Condition": {"StringEquals": {"dynamodb:Select": "ALL_ATTRIBUTES"}},
            },
        ],
    )
    assert _fails(lambda: user.scan(TableName="r12", Select="ALL_ATTRIBUTES")) == ("AccessDeniedException", 400)
    for value in ("all_attributes", "All_Attributes", "count"):
        with pytest.raises(ClientError) as err:
            user.scan(TableName="r12", Select=value)
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert f"Value '{value}' at 'select' failed to satisfy constraint" in err.value.response["Error"]["Message"]
    query = {"TableName": "r12", "KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": {":a": {"S": "a"}}}
    assert _fails(lambda: user.query(**query, Select="count"))[0] == "ValidationException"
    assert user.scan(TableName="r12", Select="COUNT")["Count"] == 1  # the enum's own value is served
    # ReturnValues (dynamodb:ReturnValues) is checked alike
    put = {"TableName": "r12", "Item": {"pk": {"S": "b"}}}
    assert _fails(lambda: user.put_item(**put, ReturnValues="all_old"))[0] == "ValidationException"


def test_s3_enumerated_headers_in_another_case_are_refused(server: Endpoint) -> None:
    """S3 refuses a header value outside its set with 400 InvalidArgument naming the header
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html; `x-amz-server-side-encryption` is AES256,
    aws:kms, aws:kms:dsse; `x-amz-object-lock-mode` GOVERNANCE or COMPLIANCE; `x-amz-object-lock-legal-hold` ON or
    OFF; `x-amz-metadata-directive` and `x-amz-tagging-directive` COPY or REPLACE;
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, API_CopyObject.html).
    Attack: a Deny written on the canonical value of the condition key (`s3:x-amz-server-side-encryption` =
    AES256, `s3:object-lock-mode` = GOVERNANCE, `s3:object-lock-legal-hold` = ON, `s3:x-amz-metadata-directive` =
    REPLACE) does not match another case, and moto 5.2.1 stored `aes256` / `governance` as given and wrote the
    object, applied `replace` as COPY; `x-amz-acl: PUBLIC-READ` was a 500."""
    account = "888800001213"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r12-enums", ObjectLockEnabledForBucket=True)
    body = b"x"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket="r12-enums", Key="src", Body=body, ContentMD5=md5, Metadata={"a": "1"})
    denied = {
        "s3:x-amz-server-side-encryption": "AES256",
        "s3:object-lock-mode": "GOVERNANCE",
        "s3:object-lock-legal-hold": "ON",
        "s3:x-amz-metadata-directive": "REPLACE",
    }
    user = _user(
        server,
        account,
        "s3",
        [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
        + [
            {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*", "Condition": {"StringEquals": {k: v}}}
            for k, v in denied.items()
        ],
    )
    canonical = {"ServerSideEncryption": "AES256", "ObjectLockLegalHoldStatus": "ON"}
    for name, value in canonical.items():  # the Deny applies to the canonical value
        with pytest.raises(ClientError) as refused:
            user.put_object(Bucket="r12-enums", Key="k", Body=body, ContentMD5=md5, **{name: value})
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, name
    puts: list[tuple[str, dict[str, Any]]] = [
        ("x-amz-server-side-encryption", {"ServerSideEncryption": "aes256"}),
        ("x-amz-object-lock-mode", {"ObjectLockMode": "governance", "ObjectLockRetainUntilDate": "2031-01-01"}),
        ("x-amz-object-lock-legal-hold", {"ObjectLockLegalHoldStatus": "on"}),
        ("x-amz-acl", {"ACL": "PUBLIC-READ"}),
    ]
    for header, extra in puts:
        with pytest.raises(ClientError) as err:
            user.put_object(Bucket="r12-enums", Key="k", Body=body, ContentMD5=md5, **extra)
        assert err.value.response["Error"]["Code"] == "InvalidArgument", header
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, header
        assert err.value.response["Error"].get("ArgumentName") == header
    copy = {"Bucket": "r12-enums", "Key": "dst", "CopySource": "r12-enums/src"}
    assert _fails(lambda: user.copy_object(**copy, MetadataDirective="replace", Metadata={"b": "2"})) == (
        "InvalidArgument",
        400,
    )
    assert _fails(lambda: user.copy_object(**copy, TaggingDirective="replace", Tagging="t=2")) == (
        "InvalidArgument",
        400,
    )
    listed = s3.list_objects_v2(Bucket="r12-enums").get("Contents", [])
    assert [o["Key"] for o in listed] == ["src"]  # nothing was written
    # aws:kms passes the Deny on AES256: authorized, then 501 (no KMS served, implicit accesses round 9)
    kms = {"ServerSideEncryption": "aws:kms"}
    assert _fails(lambda: user.put_object(Bucket="r12-enums", Key="k", Body=body, ContentMD5=md5, **kms)) == (
        "NotImplemented",
        501,
    )
