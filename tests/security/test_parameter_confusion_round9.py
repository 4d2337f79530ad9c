"""Attack class 2, review round 9: the executor ignoring a parameter lambdaperm's decision depended on.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* for every request when each test's
server stops.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
TABLE = "r9-items"


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    return clients_of(server, user_keys(server, account, name, *statements))


def _attribute_reader(server: Endpoint, account: str, conditions: dict[str, Any] | None = None) -> Any:
    """A table with one item {pk, shown, secret}, and a reader limited to `pk` and `shown` by the guide's
    attribute policy (ForAllValues on dynamodb:Attributes,
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html)."""
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "1"}, "shown": {"S": "p"}, "secret": {"S": "s"}})
    condition = {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "shown"]}, **(conditions or {})}
    return user(
        server,
        account,
        "reader",
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"],
                "Resource": f"arn:aws:dynamodb:{REGION}:{account}:table/{TABLE}",
                "Condition": condition,
            }
        ],
    )("dynamodb")


_QUERY = {"KeyConditions": {"pk": {"AttributeValueList": [{"S": "1"}], "ComparisonOperator": "EQ"}}}


def test_attributes_to_get_returns_only_the_attributes_it_names(server: Endpoint) -> None:
    """AttributesToGet (the legacy projection) "returns only the attributes listed"; "If AttributesToGet is not
    specified ... all attributes are returned"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.AttributesToGet.html).
    The authorizer decides GetItem / Query / Scan on `dynamodb:Attributes` = the names listed. Attack: the
    caller limited to `pk` and `shown` asks for `AttributesToGet=["pk"]`: allowed, and moto 5.2.1 ignores
    AttributesToGet in GetItem, Query and Scan (it reads it in BatchGetItem only), so the whole item came back,
    `secret` included.
    """
    ddb = _attribute_reader(server, "888800000901")
    got = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "1"}}, AttributesToGet=["pk"])
    assert got["Item"] == {"pk": {"S": "1"}}
    queried = ddb.query(TableName=TABLE, AttributesToGet=["pk", "shown"], **_QUERY)
    assert queried["Items"] == [{"pk": {"S": "1"}, "shown": {"S": "p"}}]
    scanned = ddb.scan(TableName=TABLE, AttributesToGet=["shown"], Select="SPECIFIC_ATTRIBUTES")
    assert scanned["Items"] == [{"shown": {"S": "p"}}]
    batch = ddb.batch_get_item(RequestItems={TABLE: {"Keys": [{"pk": {"S": "1"}}], "AttributesToGet": ["pk"]}})
    assert batch["Responses"][TABLE] == [{"pk": {"S": "1"}}]
    with pytest.raises(ClientError) as denied:  # naming `secret` is still denied
        ddb.get_item(TableName=TABLE, Key={"pk": {"S": "1"}}, AttributesToGet=["pk", "secret"])
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_scan_select_count_returns_no_items(server: Endpoint) -> None:
    """`Select: COUNT` "returns the number of matching items, rather than the matching items themselves"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html#DDB-Scan-request-Select).
    The authorizer decides a COUNT as naming no attribute (`ForAllValues` holds). Attack: the caller limited to
    `pk` and `shown` scans with `Select=COUNT`: allowed, and moto 5.2.1's Scan ignores Select and returned
    every item whole (its Query drops Items on COUNT; its Scan does not).
    """
    ddb = _attribute_reader(server, "888800000902")
    scanned = ddb.scan(TableName=TABLE, Select="COUNT")
    assert scanned["Count"] == 1
    assert "Items" not in scanned
    queried = ddb.query(TableName=TABLE, Select="COUNT", **_QUERY)
    assert queried["Count"] == 1
    assert "Items" not in queried
    with pytest.raises(ClientError) as denied:  # reading whole items is still denied
        ddb.scan(TableName=TABLE)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_attributes_to_get_beside_a_projection_expression_is_refused(server: Endpoint) -> None:
    """DynamoDB refuses a legacy parameter beside an expression parameter: ValidationException "Can not use both
    expression and non-expression parameters in the same request"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.html). moto
    5.2.1 checks it in GetItem only; Query and Scan applied the ProjectionExpression and ignored the rest."""
    ddb = _attribute_reader(server, "888800000903")
    for call in (
        lambda: ddb.get_item(
            TableName=TABLE, Key={"pk": {"S": "1"}}, AttributesToGet=["pk"], ProjectionExpression="pk"
        ),
        lambda: ddb.scan(TableName=TABLE, AttributesToGet=["pk"], ProjectionExpression="shown"),
        lambda: ddb.query(TableName=TABLE, AttributesToGet=["pk"], ProjectionExpression="pk", **_QUERY),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "ValidationException"
        assert "Can not use both expression and non-expression parameters" in refused.value.response["Error"]["Message"]


_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _public(acl: dict[str, Any]) -> bool:
    return any(grant["Grantee"].get("URI") == _ALL_USERS for grant in acl["Grants"])


def test_put_object_acl_on_a_version_changes_that_version_only(server: Endpoint) -> None:
    """PutObjectAcl with `versionId` "sets the ACL of a specific version" and needs s3:PutObjectVersionAcl, not
    s3:PutObjectAcl (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html). Attack: a user
    allowed s3:PutObjectVersionAcl and denied s3:PutObjectAcl sets `public-read` on an old version of the
    object: authorized as s3:PutObjectVersionAcl, and moto 5.2.1's PutObjectAcl ignores `versionId`, so the
    CURRENT version became readable by everyone — an s3:PutObjectAcl the policy denies.
    """
    account = "888800000904"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="r9-versions")
    admin.put_bucket_versioning(Bucket="r9-versions", VersioningConfiguration={"Status": "Enabled"})
    old = admin.put_object(Bucket="r9-versions", Key="doc", Body=b"old")["VersionId"]
    admin.put_object(Bucket="r9-versions", Key="doc", Body=b"current secret")
    s3 = user(
        server,
        account,
        "version-acl",
        [
            {"Effect": "Allow", "Action": "s3:PutObjectVersionAcl", "Resource": "arn:aws:s3:::r9-versions/*"},
            {"Effect": "Deny", "Action": "s3:PutObjectAcl", "Resource": "arn:aws:s3:::r9-versions/*"},
        ],
    )("s3")
    with pytest.raises(ClientError) as denied:  # the current version: denied
        s3.put_object_acl(Bucket="r9-versions", Key="doc", ACL="public-read")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    try:
        s3.put_object_acl(Bucket="r9-versions", Key="doc", VersionId=old, ACL="public-read")
    except ClientError as err:  # not served: fail closed (a wrong deny), never the current version
        assert err.response["Error"]["Code"] == "NotImplemented"
        assert not _public(admin.get_object_acl(Bucket="r9-versions", Key="doc"))
        assert not _public(admin.get_object_acl(Bucket="r9-versions", Key="doc", VersionId=old))
    else:
        assert not _public(admin.get_object_acl(Bucket="r9-versions", Key="doc"))
        assert _public(admin.get_object_acl(Bucket="r9-versions", Key="doc", VersionId=old))


def test_list_objects_returns_no_more_entries_than_max_keys(server: Endpoint) -> None:
    """ListObjects' MaxKeys "sets the maximum number of keys returned in the response ... The response might
    contain fewer keys but will never contain more", and a common prefix counts as one
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html); `s3:max-keys` is the condition key
    that bounds it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html). Attack: a
    user allowed s3:ListBucket only with `max-keys` ≤ 2 lists with a delimiter: authorized for 2 entries, and
    moto 5.2.1's ListObjects (V1) truncates the keys only, so every common prefix of the bucket came back.
    """
    account = "888800000905"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="r9-listing")
    for folder in ("a", "b", "c", "d"):
        admin.put_object(Bucket="r9-listing", Key=f"{folder}/x", Body=b"")
    admin.put_object(Bucket="r9-listing", Key="top", Body=b"")
    s3 = user(
        server,
        account,
        "few-keys",
        [
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::r9-listing",
                "Condition": {"NumericLessThanEquals": {"s3:max-keys": "2"}},
            }
        ],
    )("s3")
    with pytest.raises(ClientError) as denied:
        s3.list_objects(Bucket="r9-listing", Delimiter="/", MaxKeys=5)
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    v2 = s3.list_objects_v2(Bucket="r9-listing", Delimiter="/", MaxKeys=2)
    assert len(v2.get("Contents", [])) + len(v2.get("CommonPrefixes", [])) == 2
    try:
        listed = s3.list_objects(Bucket="r9-listing", Delimiter="/", MaxKeys=2)
    except ClientError as err:  # not served: fail closed
        assert err.response["Error"]["Code"] == "NotImplemented"
    else:
        assert len(listed.get("Contents", [])) + len(listed.get("CommonPrefixes", [])) <= 2
        assert listed["IsTruncated"]


@pytest.mark.parametrize("prefix", ["home/a+b/", "home/a b/", "home/a%2Fb/", "home/a.*/", "home/\u00e9/"])
def test_a_listing_returns_only_keys_under_the_prefix_as_written(server: Endpoint, prefix: str) -> None:
    """`s3:prefix` is the request's `prefix` as written, and S3 lists only the keys that begin with it
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html). Attack (held): a prefix
    with `+`, a space, `%2F`, regex characters or a non-ASCII letter, which a backend decoding the query string
    (`+` as a space, `%2F` as `/`) or matching by pattern would read as another prefix, in V1, V2 and
    ListObjectVersions with `encoding-type=url` (boto3's default)."""
    account = "888800000906"
    admin = server.client("s3", key=account)
    tag = zlib.crc32(prefix.encode())
    bucket = f"r9-prefix-{tag}"
    admin.create_bucket(Bucket=bucket)
    others = ["home/a b/x", "home/a+b/x", "home/a/b/x", "home/a%2Fb/x", "home/aXX/x", "home/e/x", "home/secret"]
    for key in [f"{prefix}mine", *others]:
        admin.put_object(Bucket=bucket, Key=key, Body=b"")
    expected = sorted({f"{prefix}mine", *(k for k in others if k.startswith(prefix))})
    s3 = user(
        server,
        account,
        f"lister-{tag}",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
                "Resource": f"arn:aws:s3:::{bucket}",
                "Condition": {"StringEquals": {"s3:prefix": prefix}},
            }
        ],
    )("s3")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]) == expected
    assert sorted(o["Key"] for o in s3.list_objects(Bucket=bucket, Prefix=prefix)["Contents"]) == expected
    versions = s3.list_object_versions(Bucket=bucket, Prefix=prefix)["Versions"]
    assert sorted(v["Key"] for v in versions) == expected
    with pytest.raises(ClientError) as denied:
        s3.list_objects_v2(Bucket=bucket, Prefix="home/")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_delete_item_with_a_failed_expected_condition_deletes_nothing(server: Endpoint) -> None:
    """`Expected` (the legacy condition) makes DeleteItem conditional: "If the conditional expression evaluates to
    false, the delete fails" with ConditionalCheckFailedException
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.Expected.html).
    The call lambdaperm authorized (and recorded) is that conditional delete; moto 5.2.1's DeleteItem ignores
    `Expected` and deleted the item whatever its attributes — another call than the one authorized.
    """
    account = "888800000907"
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "1"}, "owner": {"S": "bob"}})
    with pytest.raises(ClientError) as refused:
        ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "1"}}, Expected={"owner": {"Value": {"S": "alice"}}})
    assert refused.value.response["Error"]["Code"] in ("ConditionalCheckFailedException", "NotImplemented")
    assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "1"}})["Item"]["owner"] == {"S": "bob"}


def test_conditional_operator_or_is_not_read_as_and(server: Endpoint) -> None:
    """`ConditionalOperator: OR` makes a legacy ScanFilter match when any condition holds
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.ConditionalOperator.html);
    moto 5.2.1 joins the conditions by AND whatever it says, so the answer was another scan's (here: none of the
    items). Served as DynamoDB answers it, or refused (501) — never answered as another call."""
    ddb = server.client("dynamodb", key="888800000908")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "1"}, "a": {"S": "x"}})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "2"}, "b": {"S": "y"}})
    scan_filter = {
        "a": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]},
        "b": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "y"}]},
    }
    try:
        found = ddb.scan(TableName=TABLE, ScanFilter=scan_filter, ConditionalOperator="OR")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "NotImplemented"
    else:
        assert sorted(item["pk"]["S"] for item in found["Items"]) == ["1", "2"]
    assert ddb.scan(TableName=TABLE, ScanFilter=scan_filter, ConditionalOperator="AND")["Items"] == []
