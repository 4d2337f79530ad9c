"""Implicit accesses: an SNS subscription of another account's SQS queue, made by someone who does not own the
queue, delivers nothing until the queue's owner confirms it — attacked against a real `lambdaperm serve` with
real boto3.

AWS (https://docs.aws.amazon.com/sns/latest/dg/sns-send-message-to-sqs-cross-account.html): "When the queue owner
creates a subscription, the subscription doesn't require confirmation"; otherwise SNS sends a
`SubscriptionConfirmation` message (Type, MessageId, Token, TopicArn, Message, SubscribeURL, Timestamp:
https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html) to the queue and delivers
nothing else until `ConfirmSubscription(TopicArn, Token)`. Subscribe answers "pending confirmation" unless
`ReturnSubscriptionArn` is true (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html: "if the endpoint
and the topic are not in the same Amazon Web Services account, the endpoint owner must run the ConfirmSubscription
action"); a pending subscription is listed with the ARN "PendingConfirmation" and has the attribute
PendingConfirmation "true". A token SNS did not issue for the topic is refused: 400 InvalidParameter
"Invalid parameter: Token" (https://docs.aws.amazon.com/sns/latest/api/API_ConfirmSubscription.html).

Deliveries happen while Publish runs, so what a queue holds is read right after the call returns; every negative
assertion has a positive control in the same test (a same-account queue subscribed to the same topic, or the
same queue after confirmation).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint, start_server, stop_server

REGION = "us-east-1"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def sns_may_send(queue_arn: str, topic_arn: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
    }
    if topic_arn is not None:
        statement["Condition"] = {"ArnEquals": {"aws:SourceArn": topic_arn}}
    return statement


def queue(server: Endpoint, account: str, name: str, topic_arn: str | None = None) -> tuple[str, str]:
    """(URL, ARN) of a new queue whose policy lets SNS send to it (from `topic_arn` only, when given)."""
    sqs = server.client("sqs", key=account)
    url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    arn = f"arn:aws:sqs:{REGION}:{account}:{name}"
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(sns_may_send(arn, topic_arn))})
    return url, arn


def messages(server: Endpoint, account: str, url: str) -> list[dict[str, Any]]:
    """Every message in the queue now, parsed (SNS envelopes are JSON), deleted once read."""
    sqs = server.client("sqs", key=account)
    got: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return got
        for m in batch:
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def notifications(server: Endpoint, account: str, url: str) -> list[str]:
    return [m["Message"] for m in messages(server, account, url) if m.get("Type") == "Notification"]


def topic_with_control(server: Endpoint, owner: str, name: str) -> tuple[str, str]:
    """A topic of `owner` with a same-account queue subscribed: (topic ARN, control queue URL)."""
    topic = str(server.client("sns", key=owner).create_topic(Name=name)["TopicArn"])
    url, arn = queue(server, owner, f"{name}-control", topic)
    reply = server.client("sns", key=owner).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    assert reply["SubscriptionArn"].startswith(f"{topic}:")  # same account: confirmed at once
    return topic, url


def let_confirm(server: Endpoint, owner: str, topic: str, account: str) -> None:
    """The topic's policy lets `account` call ConfirmSubscription (lambdaperm authorizes a signed call as
    sns:ConfirmSubscription on the topic; across accounts the topic policy must allow it)."""
    server.client("sns", key=owner).set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["sns:ConfirmSubscription", "sns:Subscribe"],
                "Resource": topic,
            }
        ),
    )


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response["Error"]
    return str(err["Code"]), str(err["Message"]), int(exc.value.response["ResponseMetadata"]["HTTPStatusCode"])


# ---- the pending subscription and its confirmation ----------------------------------------------------------


def test_the_queue_owner_confirms_with_the_token_sns_sent_and_then_receives(server: Endpoint) -> None:
    a, b = "777730000001", "777730000002"
    topic, control = topic_with_control(server, a, "confirm-news")
    url, arn = queue(server, b, "confirm-inbox")
    sns_a = server.client("sns", key=a)
    assert sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"] == "pending confirmation"
    listed = sns_a.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted(s["SubscriptionArn"] == "PendingConfirmation" for s in listed) == [False, True]

    sns_a.publish(TopicArn=topic, Message="before confirmation")
    assert notifications(server, a, control) == ["before confirmation"]  # the publish was delivered elsewhere
    inbox = messages(server, b, url)
    assert [m["Type"] for m in inbox] == ["SubscriptionConfirmation"]  # and to B only the confirmation request
    request = inbox[0]
    assert request["TopicArn"] == topic
    assert request["Token"] and request["MessageId"] and request["Timestamp"]
    assert request["Message"].startswith(f"You have chosen to subscribe to the topic {topic}.")
    assert "Action=ConfirmSubscription" in request["SubscribeURL"] and request["Token"] in request["SubscribeURL"]

    let_confirm(server, a, topic, b)
    confirmed = server.client("sns", key=b).confirm_subscription(TopicArn=topic, Token=request["Token"])
    assert confirmed["SubscriptionArn"].startswith(f"{topic}:")
    listed = sns_a.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert confirmed["SubscriptionArn"] in [s["SubscriptionArn"] for s in listed]
    assert "PendingConfirmation" not in [s["SubscriptionArn"] for s in listed]
    attributes = sns_a.get_subscription_attributes(SubscriptionArn=confirmed["SubscriptionArn"])["Attributes"]
    assert attributes["PendingConfirmation"] == "false"

    sns_a.publish(TopicArn=topic, Message="after confirmation")
    assert notifications(server, b, url) == ["after confirmation"]
    assert notifications(server, a, control) == ["after confirmation"]


def test_a_subscription_arn_asked_for_is_returned_but_stays_pending(server: Endpoint) -> None:
    """ReturnSubscriptionArn=true: "the value is always the subscription ARN, even if the subscription requires
    confirmation" — which does not confirm it."""
    a, b = "777730000003", "777730000004"
    topic, control = topic_with_control(server, a, "arn-news")
    url, arn = queue(server, b, "arn-inbox")
    sns_a = server.client("sns", key=a)
    sub = sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert sub.startswith(f"{topic}:")
    assert sns_a.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "true"
    sns_a.publish(TopicArn=topic, Message="unsolicited")
    assert notifications(server, a, control) == ["unsolicited"]
    assert [m["Type"] for m in messages(server, b, url)] == ["SubscriptionConfirmation"]


def test_a_token_sns_did_not_issue_for_the_topic_is_refused(server: Endpoint) -> None:
    a, b = "777730000005", "777730000006"
    topic, control = topic_with_control(server, a, "token-news")
    other_topic, _ = topic_with_control(server, a, "token-other")
    url, arn = queue(server, b, "token-inbox")
    sns_a, sns_b = server.client("sns", key=a), server.client("sns", key=b)
    sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns_a.subscribe(TopicArn=other_topic, Protocol="sqs", Endpoint=arn)
    tokens = {m["TopicArn"]: m["Token"] for m in messages(server, b, url)}
    assert set(tokens) == {topic, other_topic}
    let_confirm(server, a, topic, b)

    for wrong in ("0" * len(tokens[topic]), tokens[topic][:-1], tokens[other_topic]):
        with pytest.raises(ClientError) as refused:
            sns_b.confirm_subscription(TopicArn=topic, Token=wrong)
        assert code(refused) == ("InvalidParameter", "Invalid parameter: Token", 400)
    sns_a.publish(TopicArn=topic, Message="still pending")
    assert notifications(server, a, control) == ["still pending"]
    assert messages(server, b, url) == []


def test_the_confirmation_request_is_sent_only_where_the_queue_policy_lets_the_topic_send(server: Endpoint) -> None:
    """The SubscriptionConfirmation message is a delivery like any other: `sns.amazonaws.com` with aws:SourceArn
    the topic, against the queue's policy."""
    a, b = "777730000007", "777730000008"
    topic, _ = topic_with_control(server, a, "policy-news")
    url, arn = queue(server, b, "policy-inbox", topic_arn=f"arn:aws:sns:{REGION}:{a}:another-topic")
    sns_a = server.client("sns", key=a)
    assert sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"] == "pending confirmation"
    assert messages(server, b, url) == []
    # positive control: a topic the queue policy names gets its confirmation request through
    allowed = str(sns_a.create_topic(Name="another-topic")["TopicArn"])
    sns_a.subscribe(TopicArn=allowed, Protocol="sqs", Endpoint=arn)
    assert [(m["Type"], m["TopicArn"]) for m in messages(server, b, url)] == [("SubscriptionConfirmation", allowed)]


# ---- positive controls: subscriptions that need no confirmation --------------------------------------------


def test_a_same_account_subscription_is_confirmed_at_once(server: Endpoint) -> None:
    a = "777730000009"
    sns = server.client("sns", key=a)
    topic = str(sns.create_topic(Name="own-news")["TopicArn"])
    url, arn = queue(server, a, "own-inbox", topic)
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    assert sub.startswith(f"{topic}:")
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "false"
    sns.publish(TopicArn=topic, Message="hello")
    assert [(m["Type"], m["Message"]) for m in messages(server, a, url)] == [("Notification", "hello")]


def test_the_queue_owner_subscribing_to_another_accounts_topic_is_confirmed_at_once(server: Endpoint) -> None:
    a, b = "777730000010", "777730000011"
    topic = str(server.client("sns", key=a).create_topic(Name="shared-news")["TopicArn"])
    let_confirm(server, a, topic, b)  # lets B subscribe
    url, arn = queue(server, b, "shared-inbox", topic)
    sns_b = server.client("sns", key=b)
    sub = sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    assert sub.startswith(f"{topic}:")
    server.client("sns", key=a).publish(TopicArn=topic, Message="hello B")
    got = messages(server, b, url)
    assert [(m["Type"], m["Message"]) for m in got] == [("Notification", "hello B")]


def test_the_queue_owner_subscribing_confirms_a_pending_subscription(server: Endpoint) -> None:
    """The topic owner's pending subscription, then the queue owner's own Subscribe of the same queue: the queue's
    owner has asked for the messages, so they are delivered."""
    a, b = "777730000012", "777730000013"
    topic, _ = topic_with_control(server, a, "both-news")
    let_confirm(server, a, topic, b)
    url, arn = queue(server, b, "both-inbox", topic)
    sns_a = server.client("sns", key=a)
    assert sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"] == "pending confirmation"
    sub = server.client("sns", key=b).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    assert sub.startswith(f"{topic}:")
    assert [m["Type"] for m in messages(server, b, url)] == ["SubscriptionConfirmation"]
    sns_a.publish(TopicArn=topic, Message="wanted")
    assert notifications(server, b, url) == ["wanted"]
    # and the topic owner subscribing again does not make it pending again
    assert sns_a.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)["SubscriptionArn"] == sub


# ---- restarts: the data plane starts empty, and so does the confirmation state ------------------------------


def test_a_pending_subscription_and_its_token_survive_a_restart(tmp_path: Path) -> None:
    """The data plane is durable (docs/architecture.md, "Durable data plane"): a subscription pending its queue
    owner's confirmation is still pending after a restart — nothing is delivered to it — and the token issued
    before the restart (valid two days) confirms it; only then are messages delivered."""
    a, b = "777730000014", "777730000015"
    state = tmp_path / "state"
    first = start_server(state, tmp_path)
    try:
        topic, _ = topic_with_control(first, a, "restart-news")
        url, arn = queue(first, b, "restart-inbox")
        first.client("sns", key=a).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        old_token = messages(first, b, url)[0]["Token"]
    finally:
        assert stop_server(first) == 0
    second = start_server(state, tmp_path)
    try:
        sns_a = second.client("sns", key=a)
        listed = sns_a.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert [s["SubscriptionArn"] for s in listed if s["Endpoint"] == arn] == ["PendingConfirmation"]
        sns_a.publish(TopicArn=topic, Message="not yet")
        assert messages(second, b, url) == []
        let_confirm(second, a, topic, b)
        sns_b = second.client("sns", key=b)
        with pytest.raises(ClientError) as refused:
            sns_b.confirm_subscription(TopicArn=topic, Token=old_token[:-1] + ("0" if old_token[-1] != "0" else "1"))
        assert code(refused) == ("InvalidParameter", "Invalid parameter: Token", 400)
        sns_b.confirm_subscription(TopicArn=topic, Token=old_token)
        sns_a.publish(TopicArn=topic, Message="now")
        assert notifications(second, b, url) == ["now"]
    finally:
        stop_server(second)
