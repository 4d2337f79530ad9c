"""SNS PublishBatch → Lambda subscribers, through a real server.

PublishBatch publishes up to ten messages to a topic, each "delivered to the topic's subscribers" as Publish
delivers one (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html); a Lambda subscriber is invoked
once per message by `sns.amazonaws.com`, allowed only by the function policy, with `aws:SourceArn` = the topic's
ARN (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html). lambdaperm delivered Publish only: a batch never
reached a function (a wrong deny).
"""

from __future__ import annotations

import json

from .conftest import Endpoint
from .lambda_helpers import make_role, zip_of
from .test_sns_lambda_cross_region import RECORDER, messages, sns_invokes, wait_for

ACCOUNT = "000000000000"
REGION = "us-east-1"


def _records(server: Endpoint) -> list[dict[str, str]]:
    items = server.client("dynamodb", region=REGION).scan(TableName="sns-events")["Items"]
    return [r["Sns"] for item in items for r in json.loads(item["event"]["S"]).get("Records", []) if "Sns" in r]


def test_each_message_of_a_batch_is_delivered_as_the_function_policy_allows(server: Endpoint) -> None:
    server.client("dynamodb", region=REGION).create_table(
        TableName="sns-events",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/sns-events"
    statement = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}
    role = make_role(server.client("iam"), "batch-recorder-role", {"Version": "2012-10-17", "Statement": [statement]})
    lam = server.client("lambda", region=REGION)
    function = lam.create_function(
        FunctionName="batch-recorder",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": RECORDER})},
        Timeout=10,
    )["FunctionArn"]
    sns = server.client("sns", region=REGION)
    allowed = sns.create_topic(Name="batch-allowed")["TopicArn"]
    other = sns.create_topic(Name="batch-other")["TopicArn"]
    lam.add_permission(
        FunctionName="batch-recorder",
        StatementId="from-allowed",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=allowed,
    )
    for topic in (allowed, other):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)

    refused = sns.publish_batch(
        TopicArn=other,
        PublishBatchRequestEntries=[{"Id": "x1", "Message": "not allowed 1"}, {"Id": "x2", "Message": "not allowed 2"}],
    )
    assert len(refused["Successful"]) == 2  # the publish itself succeeds; each delivery is decided on its own
    sent = sns.publish_batch(
        TopicArn=allowed,
        PublishBatchRequestEntries=[
            {"Id": "a", "Message": "first of the batch", "Subject": "one"},
            {"Id": "b", "Message": "second of the batch"},
        ],
    )
    ids = {entry["Id"]: entry["MessageId"] for entry in sent["Successful"]}

    delivered = wait_for("both deliveries", lambda: len(messages(server)) >= 2 and _records(server))
    by_message = {r["Message"]: r for r in delivered}
    assert set(by_message) == {"first of the batch", "second of the batch"}
    assert by_message["first of the batch"]["Subject"] == "one"
    assert by_message["first of the batch"]["MessageId"] == ids["a"]
    assert by_message["second of the batch"]["MessageId"] == ids["b"]
    assert {r["TopicArn"] for r in delivered} == {allowed}
    # the other topic's two deliveries were decided by the function policy (aws:SourceArn) and denied, in the trail
    denied = wait_for(
        "the denied deliveries' records",
        lambda: [r for r in sns_invokes(server) if r.get("errorCode") == "AccessDeniedException"][1:],
    )
    assert denied
    assert [m for t, m in messages(server) if t == other] == []
