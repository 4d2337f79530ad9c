"""SNS → Lambda across regions, through a real server.

A topic can deliver to a Lambda function of another region
(https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html, "Prerequisites for integrating Amazon
SNS with Lambda functions across regions"). The function is invoked in its own region, as any SNS delivery: by
`sns.amazonaws.com`, allowed only by the function policy, with `aws:SourceArn` = the topic's ARN
(https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html). lambdaperm never delivered such a message: the
delivery read the function's ARN in the topic's region and failed (a wrong deny).
"""

from __future__ import annotations

import json
import time
from typing import Any

from lambdaperm.state import Database
from lambdaperm.trail import TrailStore

from .conftest import Endpoint
from .lambda_helpers import make_role, zip_of

ACCOUNT = "000000000000"
FUNCTION_REGION = "us-east-1"
TOPIC_REGION = "us-west-2"
RECORDER = """
import json, boto3

def handler(event, context):
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName="sns-events", Item={"id": {"S": context.aws_request_id}, "event": {"S": json.dumps(event)}})
"""


def messages(server: Endpoint) -> list[tuple[str, str]]:
    """(topic ARN, message) of every SNS record the function stored."""
    items = server.client("dynamodb", region=FUNCTION_REGION).scan(TableName="sns-events")["Items"]
    return [
        (r["Sns"]["TopicArn"], r["Sns"]["Message"])
        for item in items
        for r in json.loads(item["event"]["S"]).get("Records", [])
        if "Sns" in r
    ]


def sns_invokes(server: Endpoint) -> list[dict[str, Any]]:
    assert server.state is not None
    db = Database(server.state)
    try:
        return [
            r
            for r in TrailStore(db.connect).records()
            if r.get("eventName") == "Invoke" and r["userIdentity"].get("invokedBy") == "sns.amazonaws.com"
        ]
    finally:
        db.close()


def wait_for(what: str, probe: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.2)


def test_a_topic_delivers_to_a_function_of_another_region_as_its_policy_allows(server: Endpoint) -> None:
    server.client("dynamodb", region=FUNCTION_REGION).create_table(
        TableName="sns-events",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    role = make_role(
        server.client("iam"),
        "sns-recorder-role",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:PutItem",
                    "Resource": f"arn:aws:dynamodb:{FUNCTION_REGION}:{ACCOUNT}:table/sns-events",
                }
            ],
        },
    )
    lam = server.client("lambda", region=FUNCTION_REGION)
    function = lam.create_function(
        FunctionName="sns-recorder",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": RECORDER})},
        Timeout=10,
    )["FunctionArn"]
    sns = server.client("sns", region=TOPIC_REGION)
    allowed = sns.create_topic(Name="west-alerts")["TopicArn"]
    other = sns.create_topic(Name="west-other")["TopicArn"]
    lam.add_permission(
        FunctionName="sns-recorder",
        StatementId="from-west",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=allowed,
    )
    for topic in (allowed, other):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)

    sns.publish(TopicArn=other, Message="not allowed by the function policy")
    sns.publish(TopicArn=allowed, Message="across regions")

    # delivered to the function in its own region
    assert (allowed, "across regions") in wait_for("the cross-region delivery", lambda: messages(server))
    # the other topic's delivery was decided by the function policy (aws:SourceArn) and denied, in the trail
    denied = wait_for(
        "the denied delivery's record",
        lambda: [
            r
            for r in sns_invokes(server)
            if r["requestParameters"].get("sourceArn") == other or r["requestParameters"].get("SourceArn") == other
        ],
    )
    assert denied[0]["errorCode"] == "AccessDeniedException"
    assert denied[0]["awsRegion"] == FUNCTION_REGION
    assert [m for t, m in messages(server) if t == other] == []
