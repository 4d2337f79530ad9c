"""Attack class 2, review round 5: the backend doing more than the named operation — S3 server access logs
written into a bucket whose policy does not let S3's logging service write there — and, held, DynamoDB table
ARNs of another Region inside transactions and batches.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* for every request when each test's
server stops.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    created = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: server.client(service, key=created["AccessKeyId"], secret=created["SecretAccessKey"])


def _keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_access_logs_reach_only_a_bucket_whose_policy_lets_logging_write_for_that_source(server: Endpoint) -> None:
    """S3 delivers server access logs as the service principal `logging.s3.amazonaws.com`; the destination
    bucket's policy must allow it `s3:PutObject`, and AWS recommends restricting it by `aws:SourceArn` (the
    source bucket) and `aws:SourceAccount`
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html). Attack: the
    account's audit bucket lets the logging service write only for the `approved-*` source buckets (and
    explicitly denies any other source); a user who may only manage its own bucket points that bucket's
    logging at the audit bucket. The backend's check at PutBucketLogging looks for an Allow to the logging
    service and ignores conditions and Deny statements, then writes a log object into the audit bucket for
    every request to the user's bucket. AWS's outcome: nothing is written into the audit bucket (the
    configuration may be refused, or accepted and the deliveries dropped).
    """
    account = "888800000501"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="r5-audit")
    logging_principal = {"Service": "logging.s3.amazonaws.com"}
    admin.put_bucket_policy(
        Bucket="r5-audit",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": logging_principal,
                        "Action": ["s3:PutObject"],
                        "Resource": "arn:aws:s3:::r5-audit/*",
                        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::approved-*"}},
                    },
                    {
                        "Effect": "Deny",
                        "Principal": logging_principal,
                        "Action": ["s3:PutObject"],
                        "Resource": "arn:aws:s3:::r5-audit/*",
                        "Condition": {"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::approved-*"}},
                    },
                ],
            }
        ),
    )
    s3 = user(
        server,
        account,
        "logger",
        [{"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::r5-mine", "arn:aws:s3:::r5-mine/*"]}],
    )("s3")
    s3.create_bucket(Bucket="r5-mine")
    with contextlib.suppress(ClientError):  # refused at configuration is AWS's outcome too
        s3.put_bucket_logging(
            Bucket="r5-mine",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "r5-audit", "TargetPrefix": ""}},
        )
    for n in range(3):
        s3.put_object(Bucket="r5-mine", Key=f"k{n}", Body=b"x")
        s3.get_object(Bucket="r5-mine", Key=f"k{n}")
    assert _keys(admin, "r5-audit") == []
    # positive control: an approved source bucket's requests are logged into the audit bucket
    admin.create_bucket(Bucket="approved-r5")
    admin.put_bucket_logging(
        Bucket="approved-r5",
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "r5-audit", "TargetPrefix": "approved/"}},
    )
    admin.put_object(Bucket="approved-r5", Key="k", Body=b"x")
    logged = _keys(admin, "r5-audit")
    assert logged and all(key.startswith("approved/") for key in logged)


def _table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "k"}, "v": {"S": name}})


def test_a_table_arn_of_another_region_in_a_transaction_or_batch_writes_nothing(server: Endpoint) -> None:
    """A DynamoDB request acts on the tables of the Region its endpoint serves; a table ARN names its Region
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.Partitions.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html). Attack: a user allowed everything on
    DynamoDB except the `guarded` table of eu-west-1 sends, to us-east-1, TransactWriteItems /
    BatchWriteItem / TransactGetItems / BatchGetItem whose table is `guarded`'s eu-west-1 ARN (a table of the
    same name exists in us-east-1 too). AWS's outcome: refused; neither table changes.
    """
    account = "888800000502"
    east = server.client("dynamodb", key=account)
    west = server.client("dynamodb", key=account, region="eu-west-1")
    _table(east, "guarded")
    _table(west, "guarded")
    west_arn = f"arn:aws:dynamodb:eu-west-1:{account}:table/guarded"
    dynamodb = user(
        server,
        account,
        "writer",
        [
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "dynamodb:*", "Resource": west_arn},
        ],
    )("dynamodb")
    key = {"pk": {"S": "k"}}
    attempts: list[tuple[Any, dict[str, Any]]] = [
        (
            dynamodb.transact_write_items,
            {"TransactItems": [{"Put": {"TableName": west_arn, "Item": {**key, "v": {"S": "x"}}}}]},
        ),
        (dynamodb.transact_write_items, {"TransactItems": [{"Delete": {"TableName": west_arn, "Key": key}}]}),
        (
            dynamodb.transact_write_items,
            {
                "TransactItems": [
                    {
                        "Update": {
                            "TableName": west_arn,
                            "Key": key,
                            "UpdateExpression": "SET v = :x",
                            "ExpressionAttributeValues": {":x": {"S": "x"}},
                        }
                    }
                ]
            },
        ),
        (dynamodb.batch_write_item, {"RequestItems": {west_arn: [{"DeleteRequest": {"Key": key}}]}}),
        (dynamodb.transact_get_items, {"TransactItems": [{"Get": {"TableName": west_arn, "Key": key}}]}),
        (dynamodb.batch_get_item, {"RequestItems": {west_arn: {"Keys": [key]}}}),
        (dynamodb.delete_item, {"TableName": west_arn, "Key": key}),
    ]
    for call, params in attempts:
        with pytest.raises(ClientError):
            call(**params)
    for client in (east, west):
        assert client.get_item(TableName="guarded", Key=key)["Item"]["v"] == {"S": "guarded"}
