"""Attack class 2, review round 6: the executor reading another value than the one lambdaperm authorized —
here, values the embedded backend's XML reader changes after the decision (whitespace it strips).

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* for every request when each test's
server stops.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    return clients_of(server, user_keys(server, account, name, *statements))


def _tags(s3: Any, bucket: str, key: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]}


# One account per variant (the module's server is shared): the tag sent → the account it is played in.
ACCOUNTS = {
    ("role", " admin "): "888800000611",
    ("role", "admin\u3000"): "888800000612",
    (" role", "admin"): "888800000613",
    ("role\u00a0", "admin"): "888800000614",
}


@pytest.mark.parametrize(
    ("sent_key", "sent_value"),
    list(ACCOUNTS),
    ids=["value-spaces", "value-ideographic-space", "key-leading-space", "key-no-break-space"],
)
def test_an_object_tag_is_stored_as_it_was_authorized(server: Endpoint, sent_key: str, sent_value: str) -> None:
    """`s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` are the tags of the request, and
    `s3:ExistingObjectTag/<key>` the tags the object then carries
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html); S3 stores a tag's key
    and value as given (tag keys and values are case-sensitive strings of letters, numbers, spaces and
    `+ - = . _ : / @`, https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html). Attack: the
    caller may tag objects with anything but `role=admin` (a Deny on `s3:RequestObjectTag/role` equal to
    `admin`); it sends `role=" admin "` (or the key
    `" role"`, or Unicode spaces). lambdaperm decides on the tag as sent, which the Deny does not match; the
    embedded backend's XML reader (xmltodict, whitespace stripped) stored `role=admin`, which a second policy
    trusts: the reader allowed objects tagged `role=admin` read the protected document. AWS's outcome: the
    object carries exactly the tag sent (or the request is refused), and the reader cannot read it.
    """
    account = ACCOUNTS[(sent_key, sent_value)]
    bucket = f"r6-tags-{account}"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket=bucket)
    admin.put_object(Bucket=bucket, Key="doc", Body=b"PROTECTED", Tagging="role=reader")
    tagger = user(
        server,
        account,
        "tagger",
        [
            {"Effect": "Allow", "Action": ["s3:PutObjectTagging", "s3:GetObjectTagging"], "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:PutObjectTagging",
                "Resource": "*",
                "Condition": {"StringEquals": {"s3:RequestObjectTag/role": "admin"}},
            },
        ],
    )
    reader = user(
        server,
        account,
        "reader",
        [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {"StringEquals": {"s3:ExistingObjectTag/role": "admin"}},
            }
        ],
    )
    with pytest.raises(ClientError) as denied:
        tagger("s3").put_object_tagging(
            Bucket=bucket, Key="doc", Tagging={"TagSet": [{"Key": "role", "Value": "admin"}]}
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    try:
        tagger("s3").put_object_tagging(
            Bucket=bucket, Key="doc", Tagging={"TagSet": [{"Key": sent_key, "Value": sent_value}]}
        )
    except ClientError as err:
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403, 501), err.response
        assert _tags(admin, bucket, "doc") == {"role": "reader"}
    else:
        assert _tags(admin, bucket, "doc") == {sent_key: sent_value}
    with pytest.raises(ClientError) as refused:
        reader("s3").get_object(Bucket=bucket, Key="doc")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_an_object_lock_mode_is_applied_as_it_was_authorized(server: Endpoint) -> None:
    """`s3:object-lock-mode` is the retention mode of a PutObjectRetention request, `GOVERNANCE` or
    `COMPLIANCE` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-retention-limits,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectLockRetention.html); a compliance-mode lock
    cannot be shortened or removed by anyone, the root user included. Attack: the caller may set retention
    except in COMPLIANCE mode (a Deny on `s3:object-lock-mode` equal to `COMPLIANCE`); it sends
    `<Mode> COMPLIANCE </Mode>`. lambdaperm decides on the mode as sent, which the Deny does not match; the
    embedded backend's XML reader strips the spaces and locks the object in COMPLIANCE mode. AWS's outcome:
    the object is not in COMPLIANCE mode (S3 knows no mode ` COMPLIANCE `: the request is refused).
    """
    account = "888800000602"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="r6-locked", ObjectLockEnabledForBucket=True)
    admin.put_object(Bucket="r6-locked", Key="doc", Body=b"data")
    locker = user(
        server,
        account,
        "locker",
        [
            {"Effect": "Allow", "Action": ["s3:PutObjectRetention", "s3:GetObjectRetention"], "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:PutObjectRetention",
                "Resource": "*",
                "Condition": {"StringEquals": {"s3:object-lock-mode": "COMPLIANCE"}},
            },
        ],
    )
    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3650)
    with pytest.raises(ClientError) as denied:
        locker("s3").put_object_retention(
            Bucket="r6-locked", Key="doc", Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until}
        )
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    try:
        locker("s3").put_object_retention(
            Bucket="r6-locked", Key="doc", Retention={"Mode": " COMPLIANCE ", "RetainUntilDate": until}
        )
    except ClientError as err:
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403, 501), err.response
    assert admin.head_object(Bucket="r6-locked", Key="doc").get("ObjectLockMode") != "COMPLIANCE"


def _attribute_reader(server: Endpoint, account: str) -> Any:
    """A table `r6-items` whose item has a shown, a secret and a `#a` attribute, and a caller the DynamoDB
    guide's attribute policy limits to `pk` and `shown` (ForAllValues on `dynamodb:Attributes`, Select
    SPECIFIC_ATTRIBUTES when given)."""
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName="r6-items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"pk": {"S": "1"}, "shown": {"S": "p"}, "secret": {"S": "SECRET"}, "#a": {"S": "HASH-SECRET"}}
    ddb.put_item(TableName="r6-items", Item=item)
    return user(
        server,
        account,
        "attrs",
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
                "Resource": "*",
                "Condition": {
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "shown"]},
                    "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                },
            }
        ],
    )("dynamodb")


def test_specific_attributes_without_a_projection_reads_no_other_attribute(server: Endpoint) -> None:
    """`Select: SPECIFIC_ATTRIBUTES` "returns only the attributes listed in ProjectionExpression"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html#DDB-Query-request-Select);
    without ProjectionExpression or AttributesToGet DynamoDB refuses the request (ValidationException "Must
    specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"). Attack: a
    caller limited to the attributes `pk` and `shown` (the guide's ForAllValues policy on
    `dynamodb:Attributes`, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html)
    queries and scans with SPECIFIC_ATTRIBUTES and no projection: the authorizer read no attribute (the
    ForAllValues condition holds on an empty set) and the backend returned whole items, `secret` included.
    """
    ddb = _attribute_reader(server, "888800000603")
    for call in (
        lambda: ddb.query(
            TableName="r6-items",
            KeyConditionExpression="pk = :v",
            ExpressionAttributeValues={":v": {"S": "1"}},
            Select="SPECIFIC_ATTRIBUTES",
        ),
        lambda: ddb.scan(TableName="r6-items", Select="SPECIFIC_ATTRIBUTES"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "SPECIFIC_ATTRIBUTES" in refused.value.response["Error"]["Message"]
    allowed = ddb.query(
        TableName="r6-items",
        KeyConditionExpression="pk = :v",
        ExpressionAttributeValues={":v": {"S": "1"}},
        Select="SPECIFIC_ATTRIBUTES",
        ProjectionExpression="pk, shown",
    )
    assert allowed["Items"] == [{"pk": {"S": "1"}, "shown": {"S": "p"}}]


def test_an_undefined_attribute_name_placeholder_reads_nothing(server: Endpoint) -> None:
    """A `#name` in an expression must be defined in ExpressionAttributeNames; otherwise DynamoDB refuses the
    request: ValidationException "Invalid ProjectionExpression: An expression attribute name used in the
    document path is not defined; attribute name: #a"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html).
    Attack: the caller limited to `pk` and `shown` reads `ProjectionExpression="#a"` without defining `#a`:
    the authorizer skipped the placeholder (no attribute named), the backend read the literal attribute `#a`
    of the item and returned it.
    """
    ddb = _attribute_reader(server, "888800000604")
    with pytest.raises(ClientError) as refused:
        ddb.get_item(TableName="r6-items", Key={"pk": {"S": "1"}}, ProjectionExpression="#a")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "attribute name: #a" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as filtered:
        ddb.scan(
            TableName="r6-items",
            ProjectionExpression="pk",
            FilterExpression="#a = :v",
            ExpressionAttributeValues={":v": {"S": "HASH-SECRET"}},
        )
    assert filtered.value.response["Error"]["Code"] == "ValidationException"
    named = ddb.get_item(
        TableName="r6-items",
        Key={"pk": {"S": "1"}},
        ProjectionExpression="#p",
        ExpressionAttributeNames={"#p": "shown"},
    )
    assert named["Item"] == {"shown": {"S": "p"}}
