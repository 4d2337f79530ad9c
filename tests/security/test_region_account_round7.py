"""Attack class: region and account confusion (review round 7).

A call authorized for one region, account (or partition) must act there and nowhere else, and be decided on the
resource the backend acts on. Each test plays the attack against a real `lambdaperm serve` with real boto3 and
asserts AWS's outcome; the structural oracle (acted-on ⊆ authorized) checks every request when the server stops.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
OTHER = "eu-west-1"


def user(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> Callable[..., Any]:
    """A user of `account` with an inline policy; returns a client factory signed with its key."""
    return clients_of(server, user_keys(server, account, name, *statements), REGION)


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


# ---- DynamoDB: the tables a restore reads and creates ----------------------------------------------------------


def secret_table(server: Endpoint, account: str, name: str) -> Any:
    """`account`'s table `name` in us-east-1 holding one secret item; its owner's client."""
    owner = server.client("dynamodb", key=account)
    owner.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    owner.put_item(TableName=name, Item={"id": {"S": "1"}, "v": {"S": "top secret"}})
    return owner


def denied_on(account: str, table: str) -> dict[str, Any]:
    return {
        "Effect": "Deny",
        "Action": "dynamodb:*",
        "Resource": [
            f"arn:aws:dynamodb:{REGION}:{account}:table/{table}",
            f"arn:aws:dynamodb:{REGION}:{account}:table/{table}/*",
        ],
    }


@pytest.mark.parametrize(
    "target",
    [
        f"arn:aws:dynamodb:{OTHER}:666700000001:table/loot",
        "arn:aws:dynamodb:{region}:666700000099:table/loot",
        "arn:aws-cn:dynamodb:{region}:666700000001:table/loot",
        "arn:aws:dynamodb::666700000001:table/loot",
    ],
    ids=["other-region", "other-account", "other-partition", "no-region"],
)
def test_a_restore_target_named_by_an_arn_elsewhere_does_not_copy_a_denied_table(server: Endpoint, target: str) -> None:
    """Attack: a user allowed dynamodb:* but denied everything on table `secret` (us-east-1) restores it to a
    TargetTableName that is a table ARN of another region (or account, partition, none). The catalog decided the
    call on that ARN's region — the source `secret` included, as `arn:aws:dynamodb:eu-west-1:…:table/secret` —
    while the backend, acting in us-east-1, copied us-east-1's `secret` into a new table named by the ARN text:
    every item of the denied table copied past the Deny.

    AWS: a request acts in its endpoint's region; a table ARN names its region and account, and DynamoDB refuses
    one that is not the request's (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-cross-account-access.html);
    RestoreTableToPointInTime needs its permissions on the source table
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableToPointInTime.html). Refused,
    and no table is created.
    """
    account = "666700000001"
    owner = server.client("dynamodb", key=account)
    if "secret" not in owner.list_tables()["TableNames"]:
        secret_table(server, account, "secret")
    name = "restorer-" + "".join(ch for ch in target.format(region="r") if ch.isalnum())[-40:]
    client = user(
        server,
        account,
        name,
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        denied_on(account, "secret"),
    )("dynamodb")
    before = owner.list_tables()["TableNames"]
    with pytest.raises(ClientError) as err:
        client.restore_table_to_point_in_time(
            SourceTableName="secret", TargetTableName=target.format(region=REGION), UseLatestRestorableTime=True
        )
    assert code(err) in {"ValidationException", "AccessDeniedException"}, err.value.response
    assert owner.list_tables()["TableNames"] == before


@pytest.mark.parametrize(
    "source",
    [
        "arn:aws:dynamodb:{region}:{account}:table/src/index/gsi",
        "arn:aws:dynamodb:{region}:{account}:table/src:x",
        "arn:aws:dynamodb:{region}:{account}:global-table/src",
        "arn:aws:dynamodb:{region}:{account}:table/src/stream/2024-01-01T00:00:00.000",
    ],
    ids=["index", "suffix", "global-table", "stream"],
)
def test_a_source_table_arn_that_names_no_table_is_refused(server: Endpoint, source: str) -> None:
    """Attack: RestoreTableToPointInTime with a SourceTableArn that is not a table ARN (an index, a stream, a global
    table). The catalog resolved no source from it and authorized the target only; the backend (which reads
    SourceTableName only) then looked a source up by the ARN text — a read decided on nothing.

    AWS: SourceTableArn is "The DynamoDB table that will be restored"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableToPointInTime.html); anything
    else is a ValidationException. Refused; no table is created.
    """
    account = "666700000011"
    owner = server.client("dynamodb", key=account)
    if "src" not in owner.list_tables()["TableNames"]:
        secret_table(server, account, "src")
    with pytest.raises(ClientError) as err:
        owner.restore_table_to_point_in_time(
            SourceTableArn=source.format(region=REGION, account=account),
            TargetTableName="copy",
            UseLatestRestorableTime=True,
        )
    assert code(err) == "ValidationException", err.value.response
    assert owner.list_tables()["TableNames"] == ["src"]


def test_a_source_table_arn_is_the_table_it_names(server: Endpoint) -> None:
    """SourceTableArn naming a table of the signed region restores that table (moto reads SourceTableName only: the
    ARN was authorized and then ignored, answering SourceTableNotFoundException — a wrong deny), and a Deny on the
    table named by the ARN applies."""
    account = "666700000021"
    owner = secret_table(server, account, "origin")
    arn = f"arn:aws:dynamodb:{REGION}:{account}:table/origin"
    owner.restore_table_to_point_in_time(SourceTableArn=arn, TargetTableName="restored", UseLatestRestorableTime=True)
    assert owner.get_item(TableName="restored", Key={"id": {"S": "1"}})["Item"]["v"] == {"S": "top secret"}
    client = user(
        server,
        account,
        "restorer",
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        denied_on(account, "origin"),
    )("dynamodb")
    with pytest.raises(ClientError) as err:
        client.restore_table_to_point_in_time(SourceTableArn=arn, TargetTableName="again", UseLatestRestorableTime=True)
    assert code(err) == "AccessDeniedException"
    assert "again" not in owner.list_tables()["TableNames"]


# ---- SNS: a lambda subscription's endpoint, and its owner ------------------------------------------------------


def open_topic(server: Endpoint, account: str, name: str) -> str:
    """`account`'s topic that lets anyone subscribe and publish."""
    sns = server.client("sns", key=account)
    topic = str(sns.create_topic(Name=name)["TopicArn"])
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": ["sns:Subscribe", "sns:Publish"], "Resource": topic}
        ],
    }
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return topic


NOT_FUNCTION_ARNS = [
    "f",
    "f:1",
    "666700000031:function:f",
    "function:f",
    "us-east-1:666700000031:function:f",
    "arn:aws-cn:lambda:cn-north-1:666700000031:function:f",
    "arn:aws-us-gov:lambda:us-gov-west-1:666700000031:function:f",
    "arn:aws:lambda:mars-1:666700000031:function:f",
    "arn:aws:lambda::666700000031:function:f",
    "arn:aws:sqs:us-east-1:666700000031:q",
    "https://example.com/",
    "arn:aws:lambda:us-east-1:666700000031:layer:f",
]


@pytest.mark.parametrize("endpoint", NOT_FUNCTION_ARNS)
def test_a_lambda_subscription_needs_a_function_arn(server: Endpoint, endpoint: str) -> None:
    """Attack: account B subscribes to A's open topic with Protocol `lambda` and an Endpoint that is not a function
    ARN: a bare name or partial ARN (a delivery resolved it in the topic owner's account and region, decided on the
    text as written), another partition's ARN (the delivery crashed in a worker, unrecorded), a queue ARN, a URL.

    AWS: "For the lambda protocol, the endpoint is the ARN of an Lambda function"
    (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html): 400 InvalidParameter "Invalid parameter:
    Lambda endpoint ARN"; nothing is subscribed.
    """
    topic = open_topic(server, "666700000031", "open-topic")
    subscriber = server.client("sns", key="666700000032")
    with pytest.raises(ClientError) as err:
        subscriber.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=endpoint)
    assert (code(err), err.value.response["Error"]["Message"]) == (
        "InvalidParameter",
        "Invalid parameter: Lambda endpoint ARN",
    )
    listed = server.client("sns", key="666700000031").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["Endpoint"] for s in listed if s["Endpoint"] == endpoint] == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "arn:aws:lambda:us-east-1:666700000032:function:f",
        "arn:aws:lambda:eu-west-1:666700000032:function:f",
        "arn:aws:lambda:us-east-1:666700000032:function:f:live",
        "arn:aws:lambda:us-east-1:666700000032:function:f:$LATEST",
    ],
)
def test_a_function_arn_of_any_region_and_account_subscribes(server: Endpoint, endpoint: str) -> None:
    """A function ARN (of another account, another region, qualified) is a valid lambda endpoint
    (https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html); its deliveries are decided by the
    function policy."""
    topic = open_topic(server, "666700000041", "any-function")
    arn = server.client("sns", key="666700000042").subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint=endpoint, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    assert arn.startswith(topic + ":")


def test_a_subscription_to_another_accounts_topic_is_the_subscribers(server: Endpoint) -> None:
    """Account B subscribes its own function to A's topic (A's topic policy allows it). The subscription is B's:
    its Owner is B and B's ListSubscriptions lists it ("Returns a list of the requester's subscriptions",
    https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptions.html). lambdaperm executes the call in the
    topic owner's account, where moto recorded the topic owner as the subscription's Owner and listed it to A; the
    subscription is now recorded as B's (`dataplane/sns_subscription_owners.py`)."""
    a, b = "666700000051", "666700000052"
    topic = open_topic(server, a, "owned-by-a")
    mine = server.client("sns", key=b)
    arn = mine.subscribe(
        TopicArn=topic,
        Protocol="lambda",
        Endpoint=f"arn:aws:lambda:{REGION}:{b}:function:f",
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    owners = {
        s["SubscriptionArn"]: s["Owner"]
        for s in server.client("sns", key=a).list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    }
    assert owners[arn] == b
    assert arn in [s["SubscriptionArn"] for s in mine.list_subscriptions()["Subscriptions"]]
    assert arn not in [s["SubscriptionArn"] for s in server.client("sns", key=a).list_subscriptions()["Subscriptions"]]


def _owners(sns: Any, listing: str, **params: Any) -> dict[str, str]:
    return {s["SubscriptionArn"]: s["Owner"] for s in getattr(sns, listing)(**params)["Subscriptions"]}


def test_each_subscription_keeps_the_account_that_made_it(server: Endpoint) -> None:
    """A's own subscription stays A's, B's to A's topic is B's — in the listings and in GetSubscriptionAttributes
    (`Owner`: "The Amazon Web Services account ID of the subscription's owner",
    https://docs.aws.amazon.com/sns/latest/api/API_GetSubscriptionAttributes.html). B subscribing an endpoint A
    already subscribed gets A's subscription back (SNS makes no duplicate), still A's. The topic owner keeps its
    rights on its topic's subscriptions: it lists them all and unsubscribes B's."""
    a, b = "666700000053", "666700000054"
    topic = open_topic(server, a, "shared")
    sns_a, sns_b = server.client("sns", key=a), server.client("sns", key=b)
    endpoint_a, endpoint_b = (f"arn:aws:lambda:{REGION}:{x}:function:f" for x in (a, b))
    own = sns_a.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=endpoint_a, ReturnSubscriptionArn=True)
    theirs = sns_b.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=endpoint_b, ReturnSubscriptionArn=True)
    again = sns_b.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=endpoint_a, ReturnSubscriptionArn=True)
    own_arn, their_arn = own["SubscriptionArn"], theirs["SubscriptionArn"]
    assert again["SubscriptionArn"] == own_arn
    assert _owners(sns_a, "list_subscriptions_by_topic", TopicArn=topic) == {own_arn: a, their_arn: b}
    assert _owners(sns_a, "list_subscriptions") == {own_arn: a}
    assert _owners(sns_b, "list_subscriptions") == {their_arn: b}
    for arn, owner in ((own_arn, a), (their_arn, b)):
        assert sns_a.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]["Owner"] == owner
    sns_a.unsubscribe(SubscriptionArn=their_arn)
    assert _owners(sns_b, "list_subscriptions") == {}
    assert _owners(sns_a, "list_subscriptions_by_topic", TopicArn=topic) == {own_arn: a}


def test_a_subscription_stays_the_subscribers_after_a_crash(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """The owner is recorded inside Subscribe's journaled unit: a server killed (no snapshot) replays the journal
    and B's subscription to A's topic is still B's."""
    state = tmp_path / "state"
    first = make_server(state)
    a, b = "666700000055", "666700000056"
    topic = open_topic(first, a, "durable")
    endpoint = f"arn:aws:lambda:{REGION}:{b}:function:f"
    arn = first.client("sns", key=b).subscribe(
        TopicArn=topic, Protocol="lambda", Endpoint=endpoint, ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    first.proc.kill()
    first.proc.wait(timeout=20)
    second = make_server(state)
    assert _owners(second.client("sns", key=a), "list_subscriptions_by_topic", TopicArn=topic) == {arn: b}
    assert _owners(second.client("sns", key=b), "list_subscriptions") == {arn: b}
    assert _owners(second.client("sns", key=a), "list_subscriptions") == {}
