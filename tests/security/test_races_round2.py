"""Attack class: races (time of check vs time of use), review round 2.

Round 1 held a call's bucket name from authorization to execution. This round plays the same window for the
other resources a call is authorized on and then acts on: an SQS queue and an SNS topic deleted and created
again under the same ARN, an IAM role re-created between AssumeRole's decision and the session's issue, a
Lambda function re-created between Invoke's decision and the run. Every window is played deterministically
with a gate between authorization and execution in a real server (`race_gate_services`: the data plane's gate
of round 1, plus the same gate after the authorization of lambdaperm's own services).

The rule throughout is "one reading" (docs/architecture.md): what executes is what was authorized. A resource
created after the call was decided was authorized for nobody.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.gated_servers import gated_for_module
from tests.security.iam_users import key_pair, policy, user_keys
from tests.security.race_support import Held, release_after, through_gate

REGION = "us-east-1"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    yield from gated_for_module(tmp_path_factory, "races2", "tests.security.race_gate_services")


def _error(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return "ok"


# --- SQS: a queue deleted and created again under the same URL ---------------------------------------------


def test_a_queue_cannot_be_recreated_while_a_send_to_it_is_between_authorization_and_execution(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's queue `race-inbox` lets account A send to it. A's SendMessage is authorized by that policy;
    before it executes, B deletes the queue and creates it again with no policy (only B may use it). The held
    send then executed on the new queue: a message from A in a queue whose policy never allowed A.

    AWS: "After you delete a queue, you must wait at least 60 seconds before creating a queue with the same
    name" — CreateQueue answers QueueDeletedRecently
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html). So a call
    decided on the deleted queue cannot reach a new queue of the same name: it finds no queue
    (QueueDoesNotExist)."""
    server, gate = gated
    a, b = "555500000001", "555500000002"
    sqs_b = server.client("sqs", key=b)
    arn = f"arn:aws:sqs:{REGION}:{b}:race-inbox"
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{a}:root"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
    }
    url = sqs_b.create_queue(QueueName="race-inbox", Attributes={"Policy": policy(grant)})["QueueUrl"]
    sender = through_gate(server.client("sqs", key=a), "sqs-send")
    held = Held(gate, "sqs-send", lambda: sender.send_message(QueueUrl=url, MessageBody="from A")).start()
    sqs_b.delete_queue(QueueUrl=url)
    recreated = _error(lambda: sqs_b.create_queue(QueueName="race-inbox"))
    outcome = held.release()
    assert outcome == ("error", "AWS.SimpleQueueService.NonExistentQueue"), outcome
    assert recreated == "AWS.SimpleQueueService.QueueDeletedRecently"


def test_a_queue_name_may_be_created_again_once_the_deletion_is_60_seconds_old(
    gated: tuple[Endpoint, Path],
) -> None:
    """Positive control: QueueDeletedRecently is about the same name in the same account and region only —
    another name, another account and another region are created at once."""
    server, _gate = gated
    owner = "555500000003"
    sqs = server.client("sqs", key=owner)
    url = sqs.create_queue(QueueName="race-gone")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    assert _error(lambda: sqs.create_queue(QueueName="race-gone")) == "AWS.SimpleQueueService.QueueDeletedRecently"
    assert _error(lambda: sqs.create_queue(QueueName="race-gone-2")) == "ok"
    assert _error(lambda: server.client("sqs", key="555500000004").create_queue(QueueName="race-gone")) == "ok"
    other_region = server.client("sqs", key=owner, region="eu-west-1")
    assert _error(lambda: other_region.create_queue(QueueName="race-gone")) == "ok"


# --- SNS: a topic deleted and created again under the same ARN ---------------------------------------------


def test_a_publish_held_over_a_topic_recreation_does_not_reach_the_new_topics_subscribers(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's topic `race-news` lets account A publish. A's Publish is authorized by that policy; before it
    executes, B deletes the topic, creates it again (the default policy: B's account only) and subscribes its
    queue. The held publish then executed on the new topic and was delivered to the new topic's subscriber.

    AWS: a topic's policy decides who may publish to it
    (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html); the new topic's policy never
    allowed A, so A's message is not delivered to its subscribers: the publish either ran on the old topic
    (before it was deleted) or finds no topic (NotFound)."""
    server, gate = gated
    a, b = "555500000011", "555500000012"
    sns_b, sqs_b = server.client("sns", key=b), server.client("sqs", key=b)
    topic = sns_b.create_topic(Name="race-news")["TopicArn"]
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{a}:root"},
        "Action": "sns:Publish",
        "Resource": topic,
    }
    sns_b.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy(grant))
    inbox = sqs_b.create_queue(QueueName="race-news-inbox")["QueueUrl"]
    inbox_arn = f"arn:aws:sqs:{REGION}:{b}:race-news-inbox"
    allow_sns = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": inbox_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
    }
    sqs_b.set_queue_attributes(QueueUrl=inbox, Attributes={"Policy": policy(allow_sns)})
    publisher = through_gate(server.client("sns", key=a), "sns-publish")
    held = Held(gate, "sns-publish", lambda: publisher.publish(TopicArn=topic, Message="from A")).start()

    def change_hands() -> None:
        sns_b.delete_topic(TopicArn=topic)
        assert sns_b.create_topic(Name="race-news")["TopicArn"] == topic
        sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)

    outcome = release_after(held, change_hands)
    assert outcome[0] == "ok" or outcome == ("error", "NotFound"), outcome
    sns_b.publish(TopicArn=topic, Message="from B")  # positive control: the new topic delivers B's messages
    bodies = [
        json.loads(m["Body"])["Message"]
        for m in sqs_b.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert bodies == ["from B"], bodies


# --- STS: a role re-created between AssumeRole's decision and the session's issue --------------------------


def _user(server: Endpoint, account: str, name: str, *actions: str) -> Any:
    return key_pair(user_keys(server, account, name, {"Effect": "Allow", "Action": list(actions), "Resource": "*"}))


def test_assume_role_does_not_issue_a_session_of_a_role_recreated_after_its_trust_policy_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's role `race-role` trusts account A. A's user calls AssumeRole, allowed by that trust policy;
    before the session is issued, B deletes the role and creates another `race-role` that trusts only B's own
    account. The held call then issued A a session of the new role — a role whose trust policy never allowed A.

    AWS: a role's trust policy decides who may assume it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html), and a role is its unique
    id: a role deleted and created again is another role (sessions of the old one are not sessions of the new
    one, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
    The session issued must be of the role whose trust policy was decided, or none (AccessDenied)."""
    server, gate = gated
    a, b = "555500000021", "555500000022"
    iam_b = server.client("iam", key=b)
    trust_a = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{a}:root"}, "Action": "sts:AssumeRole"}
    first = iam_b.create_role(RoleName="race-role", AssumeRolePolicyDocument=policy(trust_a))["Role"]
    key, secret = _user(server, a, "race-assumer", "sts:AssumeRole")
    sts = through_gate(server.client("sts", key=key, secret=secret), "assume")
    arn = first["Arn"]
    held = Held(gate, "assume", lambda: sts.assume_role(RoleArn=arn, RoleSessionName="race")).start()
    trust_b = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b}:root"}, "Action": "sts:AssumeRole"}
    second: dict[str, Any] = {}

    def change_hands() -> None:
        iam_b.delete_role(RoleName="race-role")
        second.update(iam_b.create_role(RoleName="race-role", AssumeRolePolicyDocument=policy(trust_b))["Role"])

    outcome = release_after(held, change_hands)
    assert second["RoleId"] != first["RoleId"]
    assert outcome == ("error", "AccessDenied") or (
        outcome[0] == "ok" and outcome[1]["AssumedRoleUser"]["AssumedRoleId"].startswith(first["RoleId"] + ":")
    ), outcome
    if outcome[0] == "ok":  # issued before the deletion: a session of the deleted role, never of the new one
        creds = outcome[1]["Credentials"]
        session = server.client(
            "sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"]
        )
        with contextlib.suppress(ClientError):  # refused outright: no identity at all
            assert not session.get_caller_identity()["UserId"].startswith(second["RoleId"])


# --- Lambda: a function re-created between Invoke's decision and the run ----------------------------------


def _handler(text: str) -> bytes:
    return zip_of({"app.py": f"def handler(event, context):\n    return {text!r}\n"})


def test_invoke_does_not_run_a_function_recreated_after_its_policy_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's function `race-fn` lets account A invoke it (AddPermission). A's Invoke is authorized by that
    function policy; before it runs, B deletes the function and creates another `race-fn` (other code, no
    policy: only B may invoke it). The held call then ran the new function for A.

    AWS: a function's resource-based policy decides who in another account may invoke it, and it is deleted
    with the function (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html). The invoke runs the function whose
    policy allowed it, or none (ResourceNotFoundException) — never the new function."""
    server, gate = gated
    a, b = "555500000031", "555500000032"
    lam_b = server.client("lambda", key=b)
    role = make_role(server.client("iam", key=b), "race-fn-role")

    def create(text: str) -> None:
        lam_b.create_function(
            FunctionName="race-fn",
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _handler(text)},
        )

    create("old function")
    lam_b.add_permission(
        FunctionName="race-fn", StatementId="a", Action="lambda:InvokeFunction", Principal=f"arn:aws:iam::{a}:root"
    )
    arn = f"arn:aws:lambda:{REGION}:{b}:function:race-fn"
    invoker = through_gate(server.client("lambda", key=a), "invoke")
    held = Held(gate, "invoke", lambda: json.loads(invoker.invoke(FunctionName=arn)["Payload"].read())).start()

    def change_hands() -> None:
        lam_b.delete_function(FunctionName="race-fn")
        create("new function")

    outcome = release_after(held, change_hands)
    assert outcome in (("ok", "old function"), ("error", "ResourceNotFoundException")), outcome
    assert json.loads(lam_b.invoke(FunctionName="race-fn")["Payload"].read()) == "new function"  # control
