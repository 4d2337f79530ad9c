"""Attack class: region and account confusion (review round 12).

Round 11's open areas, against a real `lambdaperm serve` with real boto3: DynamoDB table resource-based policies
across accounts and regions (a table ARN of another region, an index the table's policy does not name, a grantee
deleted and re-created in its own account, a table deleted and re-created by its owner), STS on a regional host
with a role ARN of another partition, and Lambda event-source mappings on another account's or region's queue.
Each test asserts AWS's outcome.

AWS: a table's resource-based policy governs the table and its indexes; across accounts both the caller's identity
policy and the table's policy must allow
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-cross-account-access.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

A = "791200000001"
B = "791200000002"
ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
TABLE_ARGS: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [
        {"AttributeName": "k", "AttributeType": "S"},
        {"AttributeName": "g", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by-g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}
KEY = {"k": {"S": "secret"}}


def _arn(name: str, account: str = A, region: str = "us-east-1") -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def _grant(principal: str, actions: list[str], resources: list[str]) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions, "Resource": resources}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _table(server: Endpoint, name: str, region: str = "us-east-1", account: str = A) -> Any:
    ddb = server.client("dynamodb", key=account, region=region)
    ddb.create_table(TableName=name, **TABLE_ARGS)
    ddb.put_item(TableName=name, Item={"k": {"S": "secret"}, "g": {"S": "x"}, "where": {"S": f"{account}/{region}"}})
    return ddb


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as failed:
        call()
    return str(failed.value.response["Error"]["Code"])


def test_a_table_arn_of_another_region_reaches_neither_table(server: Endpoint) -> None:
    """Attack: A has table `r12-twin` in us-east-1 (its policy grants B's user GetItem) and in eu-west-1 (no grant).
    B's user, allowed `*` by its own policy, signs for eu-west-1 and names the us-east-1 table's ARN, then signs for
    us-east-1 and names the eu-west-1 ARN. AWS: a regional endpoint serves its region's tables only; neither call
    may answer an item (ValidationException for an ARN of another region: docs/fidelity.md). Signed for us-east-1
    with the us-east-1 ARN, the grant applies and the item is us-east-1's."""
    _table(server, "r12-twin", "eu-west-1")
    ddb = _table(server, "r12-twin")
    keys = user_keys(server, B, "r12-twin-reader", ALL)
    reader = clients_of(server, keys)
    principal = f"arn:aws:iam::{B}:user/r12-twin-reader"
    ddb.put_resource_policy(ResourceArn=_arn("r12-twin"), Policy=_grant(principal, ["dynamodb:GetItem"], ["*"]))
    east, west = _arn("r12-twin"), _arn("r12-twin", region="eu-west-1")
    assert _code(lambda: reader("dynamodb", "eu-west-1").get_item(TableName=east, Key=KEY)) in (
        "ValidationException",
        "AccessDeniedException",
        "ResourceNotFoundException",
    )
    assert _code(lambda: reader("dynamodb", "us-east-1").get_item(TableName=west, Key=KEY)) in (
        "ValidationException",
        "AccessDeniedException",
        "ResourceNotFoundException",
    )
    item = reader("dynamodb", "us-east-1").get_item(TableName=east, Key=KEY)["Item"]
    assert item["where"] == {"S": f"{A}/us-east-1"}


def test_a_grant_on_the_table_does_not_open_its_indexes_across_accounts(server: Endpoint) -> None:
    """Attack: A's table policy grants B's user dynamodb:Query on the table ARN only; B queries A's index by the
    table ARN and `IndexName`. AWS: a Query on an index is decided on `table/T/index/I` (Service Authorization
    Reference: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html), which the
    statement's Resource `table/T` does not match: across accounts the table's policy must allow, so the index
    query is AccessDenied while the table query is answered. Conversely a grant on `table/T/index/*` only lets the
    index be queried, not the table."""
    ddb = _table(server, "r12-indexed")
    table_reader = clients_of(server, user_keys(server, B, "r12-table-reader", ALL))("dynamodb")
    index_reader = clients_of(server, user_keys(server, B, "r12-index-reader", ALL))("dynamodb")
    arn = _arn("r12-indexed")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:user/r12-table-reader"},
                "Action": "dynamodb:Query",
                "Resource": arn,
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{B}:user/r12-index-reader"},
                "Action": "dynamodb:Query",
                "Resource": f"{arn}/index/*",
            },
        ],
    }
    ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps(policy))
    on_table = {"KeyConditionExpression": "k = :k", "ExpressionAttributeValues": {":k": {"S": "secret"}}}
    on_index = {"KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "x"}}}
    assert table_reader.query(TableName=arn, **on_table)["Count"] == 1
    assert _code(lambda: table_reader.query(TableName=arn, IndexName="by-g", **on_index)) == "AccessDeniedException"
    assert index_reader.query(TableName=arn, IndexName="by-g", **on_index)["Count"] == 1
    assert _code(lambda: index_reader.query(TableName=arn, **on_table)) == "AccessDeniedException"


def test_a_grantee_recreated_in_its_own_account_is_not_granted(server: Endpoint) -> None:
    """Attack: A's table policy grants B's user `u` GetItem; B deletes `u` and creates a new user `u`. AWS: a policy
    naming an IAM user is stored with the user's unique ID — "If you delete the user, then you break the
    relationship … even if you re-create the user with the same name"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-users):
    the new `u` is denied A's item, across accounts as within one."""
    ddb = _table(server, "r12-pinned")
    iam_b = server.client("iam", key=B)
    first = clients_of(server, user_keys(server, B, "r12-grantee", ALL))("dynamodb")
    principal = f"arn:aws:iam::{B}:user/r12-grantee"
    ddb.put_resource_policy(
        ResourceArn=_arn("r12-pinned"), Policy=_grant(principal, ["dynamodb:GetItem"], [_arn("r12-pinned")])
    )
    assert first.get_item(TableName=_arn("r12-pinned"), Key=KEY)["Item"]["k"] == {"S": "secret"}
    for key in iam_b.list_access_keys(UserName="r12-grantee")["AccessKeyMetadata"]:
        iam_b.delete_access_key(UserName="r12-grantee", AccessKeyId=key["AccessKeyId"])
    iam_b.delete_user_policy(UserName="r12-grantee", PolicyName="p")
    iam_b.delete_user(UserName="r12-grantee")
    again = clients_of(server, user_keys(server, B, "r12-grantee", ALL))("dynamodb")
    assert _code(lambda: again.get_item(TableName=_arn("r12-pinned"), Key=KEY)) == "AccessDeniedException"


def test_a_table_recreated_by_its_owner_has_no_grant(server: Endpoint) -> None:
    """Attack: A's table policy grants B's user every item action; A deletes the table and creates a new one of the
    same name (the same ARN), with no policy. AWS: the policy is attached to the table and goes with it
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html): the new
    table answers GetResourcePolicy with PolicyNotFoundException and B's GetItem is AccessDenied."""
    ddb = _table(server, "r12-reborn")
    reader = clients_of(server, user_keys(server, B, "r12-reborn-reader", ALL))("dynamodb")
    principal = f"arn:aws:iam::{B}:user/r12-reborn-reader"
    ddb.put_resource_policy(ResourceArn=_arn("r12-reborn"), Policy=_grant(principal, ["dynamodb:*"], ["*"]))
    assert reader.get_item(TableName=_arn("r12-reborn"), Key=KEY)["Item"]
    ddb.delete_table(TableName="r12-reborn")
    _table(server, "r12-reborn")
    assert _code(lambda: ddb.get_resource_policy(ResourceArn=_arn("r12-reborn"))) == "PolicyNotFoundException"
    assert _code(lambda: reader.get_item(TableName=_arn("r12-reborn"), Key=KEY)) == "AccessDeniedException"


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-west-1", "aws-cn"), ("eu-west-1", "aws-us-gov"), ("us-east-1", "aws-cn")],
)
def test_regional_sts_does_not_assume_a_role_of_another_partition(
    server: Endpoint, region: str, partition: str
) -> None:
    """Attack: A has role `r12-role` trusting B; B's user, allowed `*`, calls AssumeRole on the regional STS host
    (signed for eu-west-1) with `arn:aws-cn:iam::A:role/r12-role` — a role ARN of another partition, which names no
    role of this partition. AWS: a role is assumed by its ARN; an ARN of another partition is not a role of the
    `aws` partition (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html): no credentials are issued."""
    iam_a = server.client("iam", key=A)
    name = f"r12-role-{partition}-{region}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "sts:AssumeRole"}],
    }
    iam_a.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    caller = clients_of(server, user_keys(server, B, f"r12-sts-{partition}-{region}", ALL))("sts", region)
    with pytest.raises(ClientError) as err:
        caller.assume_role(RoleArn=f"arn:{partition}:iam::{A}:role/{name}", RoleSessionName="r12")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)
    # the ARN of this partition is assumed (the trust allows B)
    creds = caller.assume_role(RoleArn=f"arn:aws:iam::{A}:role/{name}", RoleSessionName="r12")["Credentials"]
    assert creds["AccessKeyId"]


def _queue_with_denied_bucket(server: Endpoint, name: str, bucket: str) -> tuple[Any, str]:
    """A queue of A whose policy allows S3 to send from any source ("*") and denies it, on the queue's own
    (`aws` partition) ARN, for `bucket`: (A's SQS client, the queue URL)."""
    sqs = server.client("sqs", key=A)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{A}:{name}"
    s3 = {"Service": "s3.amazonaws.com"}
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": s3, "Action": "sqs:SendMessage", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": s3,
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}},
            },
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return sqs, url


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov", "sns"])
def test_a_bucket_notification_to_a_queue_arn_of_another_partition_is_refused(server: Endpoint, partition: str) -> None:
    """Attack: queue `q` of A allows S3 to send from any bucket (`Resource: *`) but denies it, on `q`'s ARN,
    for bucket X. A's PutBucketNotificationConfiguration on X names `arn:aws:sqs:us-east-1:A:q`: refused (the
    Deny). The same queue named `arn:<partition>:sqs:us-east-1:A:q` — an ARN of another partition, which the Deny on
    the `aws` ARN does not match while the backend delivers by the ARN's account, region and name alone.
    AWS: a notification destination is a queue of the bucket's partition and region; S3 validates it by sending a
    test message and answers 400 InvalidArgument "Unable to validate the following destination configurations"
    when it cannot (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html). Nothing
    is delivered to `q` after a PutObject. (`sns`: the queue named by a topic ARN, `arn:aws:sns:us-east-1:A:q`,
    was already refused: held.)"""
    bucket, name = f"r12-notify-{partition}", f"r12-notified-{partition}"
    s3 = server.client("s3", key=A)
    s3.create_bucket(Bucket=bucket)
    sqs, url = _queue_with_denied_bucket(server, name, bucket)

    def configure(arn: str) -> str:
        config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
        return _code(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config))

    assert configure(f"arn:aws:sqs:us-east-1:{A}:{name}") == "InvalidArgument"
    other = f"arn:aws:sns:us-east-1:{A}:{name}" if partition == "sns" else f"arn:{partition}:sqs:us-east-1:{A}:{name}"
    assert configure(other) == "InvalidArgument"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
    assert received.get("Messages", []) == []


def test_a_bucket_notification_to_a_topic_arn_of_another_partition_is_refused(server: Endpoint) -> None:
    """Attack: as for the queue, topic `t` of A allows S3 to publish from any source and denies it, on `t`'s `aws`
    ARN, for bucket X; X's notification configuration names `arn:aws-cn:sns:us-east-1:A:t`. AWS: the destination
    is a topic of the bucket's partition, validated before the configuration is stored
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html): 400
    InvalidArgument, as for the `aws` ARN (the Deny). Nothing reaches the topic's queue subscriber. (Held before
    `dataplane/s3_notification_arns.py` too; the queue was the bypass.)"""
    bucket, name = "r12-notify-topic", "r12-notified-topic"
    s3, sns = server.client("s3", key=A), server.client("sns", key=A)
    s3.create_bucket(Bucket=bucket)
    topic = sns.create_topic(Name=name)["TopicArn"]
    principal = {"Service": "s3.amazonaws.com"}
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sns:Publish", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": principal,
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}},
            },
        ],
    }
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    sqs = server.client("sqs", key=A)
    url = sqs.create_queue(QueueName="r12-topic-subscriber")["QueueUrl"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{A}:r12-topic-subscriber")

    def configure(arn: str) -> str:
        config = {"TopicConfigurations": [{"TopicArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
        return _code(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config))

    assert configure(topic) == "InvalidArgument"
    assert configure(topic.replace("arn:aws:", "arn:aws-cn:", 1)) == "InvalidArgument"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    received = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10)
    assert received.get("Messages", []) == []


@pytest.mark.parametrize("source", ["arn:aws-cn:sqs:us-east-1:{a}:{q}", "arn:aws:sqs:eu-west-1:{a}:{q}"])
def test_an_event_source_mapping_on_another_accounts_queue_by_another_arn_is_refused(
    server: Endpoint, source: str
) -> None:
    """Attack: A's queue policy allows B's function role everything on `*` but denies it sqs:ReceiveMessage on the
    queue's own (`aws`, us-east-1) ARN. B creates an event-source mapping of its us-east-1 function on A's queue
    named by an ARN of another partition, or of another region (where A has a queue of the same name with no
    policy). AWS: "The Lambda function and the Amazon SQS queue must be in the same AWS Region, although they can
    be in different AWS accounts", and the execution role needs ReceiveMessage on the queue
    (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs-cross-account-example.html,
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html): refused, no mapping."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    tag = "cn" if "aws-cn" in source else "west"
    queue = f"r12-esm-{tag}"
    role_name = f"r12-esm-role-{tag}"
    sqs_a = server.client("sqs", key=A)
    url = sqs_a.create_queue(QueueName=queue)["QueueUrl"]
    server.client("sqs", key=A, region="eu-west-1").create_queue(QueueName=queue)
    role = make_role(server.client("iam", key=B), role_name, policy={"Version": "2012-10-17", "Statement": [ALL]})
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "sqs:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": {"AWS": role},
                "Action": "sqs:ReceiveMessage",
                "Resource": f"arn:aws:sqs:us-east-1:{A}:{queue}",
            },
        ],
    }
    sqs_a.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    lam = server.client("lambda", key=B)
    code = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
    lam.create_function(
        FunctionName=f"r12-esm-{tag}", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
    )
    arn = source.format(a=A, q=queue)
    assert _code(lambda: lam.create_event_source_mapping(FunctionName=f"r12-esm-{tag}", EventSourceArn=arn)) in (
        "InvalidParameterValueException",
        "AccessDeniedException",
    )
    assert lam.list_event_source_mappings(FunctionName=f"r12-esm-{tag}")["EventSourceMappings"] == []


def test_a_cross_account_invoke_by_an_alias_arn_of_another_region_is_refused(server: Endpoint) -> None:
    """Attack: A has function `r12-f` with alias `live` in us-east-1 and in eu-west-1; only the eu-west-1 alias's
    policy grants account B lambda:InvokeFunction. B (allowed `*` by its own policy) signs for us-east-1 and invokes
    the eu-west-1 alias's ARN, hoping the grant decided there runs the us-east-1 function. AWS: a function is
    invoked in the region of the endpoint; an ARN of another region names no function there
    (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html; docs/fidelity.md for the error): refused,
    nothing runs. Signed
    for eu-west-1 the grant applies; the us-east-1 alias, not granted, is AccessDenied from either region."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    role = make_role(server.client("iam", key=A), "r12-invoke-role")
    arns = {}
    for region in ("us-east-1", "eu-west-1"):
        lam = server.client("lambda", key=A, region=region)
        code = zip_of({"app.py": f"def handler(event, context):\n    return '{region}'\n"})
        lam.create_function(
            FunctionName="r12-f", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
        )
        version = lam.publish_version(FunctionName="r12-f")["Version"]
        arns[region] = lam.create_alias(FunctionName="r12-f", Name="live", FunctionVersion=version)["AliasArn"]
    server.client("lambda", key=A, region="eu-west-1").add_permission(
        FunctionName="r12-f", Qualifier="live", StatementId="b", Action="lambda:InvokeFunction", Principal=B
    )
    b_east = clients_of(server, user_keys(server, B, "r12-invoker", ALL))("lambda", "us-east-1")
    b_west = server.client("lambda", key=B, region="eu-west-1")
    assert _code(lambda: b_east.invoke(FunctionName=arns["eu-west-1"])) in (
        "ResourceNotFoundException",
        "InvalidParameterValueException",
        "AccessDeniedException",
        "ValidationException",
    )
    assert _code(lambda: b_east.invoke(FunctionName=arns["us-east-1"])) == "AccessDeniedException"
    assert json.loads(b_west.invoke(FunctionName=arns["eu-west-1"])["Payload"].read()) == "eu-west-1"
    assert _code(lambda: b_west.invoke(FunctionName=arns["us-east-1"])) in (
        "ResourceNotFoundException",
        "InvalidParameterValueException",
        "AccessDeniedException",
        "ValidationException",
    )
