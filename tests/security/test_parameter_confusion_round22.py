"""Parameter confusion, review round 22 (issue 7): shapes earlier rounds did not try, against the executor.

Each test states the attack, AWS's rule and its documentation page, and runs against a real `lambdaperm serve`
(tests/e2e/conftest.py) with real boto3 and raw signed HTTP; the structural oracle (acted-on ⊆ authorized) checks
every test server when it stops.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.test_canonical_execution import user


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def test_attribute_updates_never_rewrite_a_key_attribute(server: Endpoint) -> None:
    """Attack: UpdateItem's legacy `AttributeUpdates` naming the table's partition or sort key. The embedded backend
    checked `UpdateExpression` only, so a caller held to `dynamodb:LeadingKeys` `alice` sent Key `{pk: alice, sk: 1}`
    with `AttributeUpdates={pk: PUT bob}` (or `sk: DELETE`) and the item addressed by `alice` was stored reading
    `pk = bob` (or with no sort key) — to every Scan, export and stream, an item of bob's partition written by alice.
    AWS: "You cannot use UpdateItem to update any primary key attributes"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValueUpdate.html); DynamoDB answers
    400 ValidationException "One or more parameter values were invalid: Cannot update attribute pk. This attribute is
    part of the key" (as for an UpdateExpression, which held). Every spelling is refused and the item is unchanged;
    the same call on a non-key attribute is applied (control)."""
    account = "202200000011"
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName="rd22-keys",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = ddb.describe_table(TableName="rd22-keys")["Table"]["TableArn"]
    item = {"pk": {"S": "alice"}, "sk": {"N": "1"}, "v": {"S": "x"}}
    ddb.put_item(TableName="rd22-keys", Item=item)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:*",
                "Resource": arn,
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["alice"]}},
            }
        ],
    }
    key_id, secret = user(server, account, "rd22-alice", policy)
    alice = server.client("dynamodb", key=key_id, secret=secret)
    key = {"pk": {"S": "alice"}, "sk": {"N": "1"}}
    updates: list[dict[str, Any]] = [
        {"pk": {"Action": "PUT", "Value": {"S": "bob"}}},
        {"pk": {"Value": {"S": "bob"}}},  # PUT is the default action
        {"pk": {"Action": "PUT", "Value": {"S": "alice"}}},  # the same value: still a key attribute
        {"pk": {"Action": "DELETE"}},
        {"sk": {"Action": "DELETE"}},
        {"sk": {"Action": "PUT", "Value": {"N": "2"}}},
        {"sk": {"Action": "ADD", "Value": {"N": "1"}}},
        {"v": {"Action": "PUT", "Value": {"S": "y"}}, "pk": {"Action": "PUT", "Value": {"S": "bob"}}},
    ]
    for table in ("rd22-keys", arn):
        for update in updates:
            code, message = _error(
                lambda t=table, u=update: alice.update_item(TableName=t, Key=key, AttributeUpdates=u)
            )
            assert code == "ValidationException", (table, update, code, message)
            assert "This attribute is part of the key" in message, (table, update, message)
        # a new item (no item at the key yet) is refused alike
        code, _ = _error(
            lambda t=table: alice.update_item(
                TableName=t,
                Key={"pk": {"S": "alice"}, "sk": {"N": "9"}},
                AttributeUpdates={"pk": {"Action": "PUT", "Value": {"S": "carol"}}},
            )
        )
        assert code == "ValidationException", table
    assert ddb.scan(TableName="rd22-keys")["Items"] == [item]
    # control: a non-key attribute is updated through AttributeUpdates, by the same caller
    alice.update_item(TableName="rd22-keys", Key=key, AttributeUpdates={"v": {"Action": "PUT", "Value": {"S": "z"}}})
    assert ddb.get_item(TableName="rd22-keys", Key=key)["Item"]["v"] == {"S": "z"}


# pagination members: every served operation that has one gets a token nobody issued
_TOKEN_MEMBERS = ("NextToken", "nextToken", "Marker", "ContinuationToken", "StartingToken", "PaginationToken")


def _unissued(limits: dict[str, Any]) -> str:
    """A token nobody issued, within the member's length constraints (botocore checks them client-side)."""
    token = "rd22-nobody-issued-this".ljust(int(limits.get("min", 0)), "x")
    return token[: int(limits.get("max", len(token)))]


_SERVED = ("s3", "sqs", "sns", "lambda", "iam", "logs", "ec2", "dynamodb", "sts")


def test_a_pagination_token_nobody_issued_is_refused_never_crashed_on(server: Endpoint) -> None:
    """Attack: a crafted pagination token — an S3 ListObjectsV2 `continuation-token` the backend never issued (its
    tokens name a key to continue after), a non-numeric SNS/Logs `NextToken`, an EC2 `NextToken` naming no
    reservation. The embedded backend looked each up or parsed it and failed: 500 InternalFailure (S3 ListObjectsV2
    on a bucket with keys, SNS ListTopics/ListSubscriptions/ListSubscriptionsByTopic, Logs DescribeDestinations, EC2
    DescribeInstances) — and a token issued before a restart (the backend keeps them in memory) did the same. AWS: a
    token is opaque, only one "returned from the previous call" continues a listing
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html, ContinuationToken); anything else is the
    caller's error, a 4xx (S3 InvalidArgument, SNS InvalidParameter, Logs InvalidParameterException, EC2
    InvalidParameterValue; `dataplane/pagination_tokens.py`). Table over every served operation with a pagination
    member whose other required members this test can fill: never a 5xx other than the documented 501 for an
    operation the backend does not implement. Then the S3 continuation on its own: a token the owner was issued
    continues the listing after its key and never past the prefix (control)."""
    account = "202200000012"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="rd22-tokens")
    for key in ("private/a", "private/b", "public/a", "public/b", "public/c"):
        s3.put_object(Bucket="rd22-tokens", Key=key, Body=b"x")
    topic = server.client("sns", key=account).create_topic(Name="rd22-topic")["TopicArn"]
    fills = {"Bucket": "rd22-tokens", "TopicArn": topic}
    crashed: list[tuple[str, str, str, int | None]] = []
    tried = 0
    for service in _SERVED:
        client = server.client(service, key=account)
        methods = {api: method for method, api in client.meta.method_to_api_mapping.items()}
        for name in client.meta.service_model.operation_names:
            shape = client.meta.service_model.operation_model(name).input_shape
            if shape is None:
                continue
            tokens = [m for m in shape.members if m in _TOKEN_MEMBERS]
            required = [m for m in shape.required_members if m not in tokens]
            if not tokens or any(m not in fills for m in required):
                continue
            for member in tokens:
                params = {m: fills[m] for m in required} | {member: _unissued(shape.members[member].metadata)}
                if service == "s3" and name == "ListObjectsV2":
                    params["Prefix"] = "public/"
                tried += 1
                try:
                    getattr(client, methods[name])(**params)
                except ClientError as err:
                    status = err.response["ResponseMetadata"].get("HTTPStatusCode")
                    message = err.response["Error"].get("Message", "")
                    unimplemented = status == 501 and "not implemented by the embedded moto backend" in message
                    if status is None or (status >= 500 and not unimplemented):
                        crashed.append((service, name, member, status))
    assert tried > 30, tried
    assert crashed == [], crashed
    # S3's answer, and a continuation the owner was issued (control): after its key, within the prefix
    code, _ = _error(lambda: s3.list_objects_v2(Bucket="rd22-tokens", Prefix="public/", ContinuationToken="x"))
    assert code == "InvalidArgument"
    first = s3.list_objects_v2(Bucket="rd22-tokens", Prefix="private/", MaxKeys=1)
    assert [o["Key"] for o in first["Contents"]] == ["private/a"]
    token = first["NextContinuationToken"]
    rest = s3.list_objects_v2(Bucket="rd22-tokens", Prefix="public/", ContinuationToken=token)
    assert [o["Key"] for o in rest["Contents"]] == ["public/a", "public/b", "public/c"]
    assert hashlib.md5(b"private/a").hexdigest() == token  # the backend's format, which the check relies on
