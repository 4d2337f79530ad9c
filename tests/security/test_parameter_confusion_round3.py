"""Attack class 2, review round 3: the embedded backend's side effects beyond the named operation — moto,
executing a call lambdaperm authorized on one resource, also reads or writes another (a bucket it finds
through its global bucket index, a log group named as a subscription destination, a dead-letter queue).

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome: the
answer AWS gives, and the victim resource untouched. The structural oracle (tests/structural) also checks
*acted-on ⊆ authorized* for every request when each test's server stops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
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


def _log_group(logs: Any, group: str) -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now, "message": "hello"}])


def _keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_log_export_writes_only_where_the_caller_may_write(make_server: Callable[..., Endpoint]) -> None:
    """CreateExportTask writes a log group's events into the `destination` bucket: "When you perform a
    CreateExportTask operation, you must use credentials that have permission to write to the S3 bucket that you
    specify as the destination" (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html).
    Attack: a user allowed every Logs action but nothing in S3 exports into a bucket of its own account it may
    not write to, and into another account's bucket (found by name: bucket names are global). The backend wrote
    the export (and a `aws-logs-write-test` object at the bucket's root) into both, authorized as
    logs:CreateExportTask on the log group only. AWS's outcome: refused, no object in either bucket. (No positive
    control on this server: the structural oracle does not model an export's writes under its prefix, nor the
    reads of the group's streams, and would flag an accepted export.)
    """
    server = make_server()  # its own server: the structural oracle's verdict on it is this finding's alone
    account, other = "666600000001", "666600000002"
    logs = server.client("logs", key=account)
    _log_group(logs, "exported-logs")
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="pc3-no-log-writes")
    victim = server.client("s3", key=other)
    victim.create_bucket(Bucket="pc3-victim-bucket")
    exporter = user(
        server,
        account,
        "exporter",
        [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        ],
    )("logs")
    for bucket in ("pc3-no-log-writes", "pc3-victim-bucket"):
        with pytest.raises(ClientError) as caught:
            exporter.create_export_task(
                logGroupName="exported-logs", fromTime=0, to=2**41, destination=bucket, destinationPrefix="loot"
            )
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert _keys(s3, "pc3-no-log-writes") == []
    assert _keys(victim, "pc3-victim-bucket") == []


def test_a_subscription_filter_delivers_only_to_a_destination_logs_supports(server: Endpoint) -> None:
    """A subscription filter's `destinationArn` is a Kinesis stream, a Firehose stream, a Lambda function or a
    CloudWatch Logs *destination* (arn:aws:logs:R:A:destination:NAME, for cross-account delivery) — never a log
    group; AWS answers InvalidParameterException for anything else
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html).
    Attack: a user allowed to write its own log group only (an explicit Deny of logs:PutLogEvents on the
    account's audit log group) subscribes its group to the audit group's ARN; the backend accepted it and copied
    every event later written to the attacker's group into the audit group — forged audit entries. The backend
    also reads a `destination:NAME` ARN as the log group named `destination`.
    """
    account = "666600000003"
    admin = server.client("logs", key=account)
    _log_group(admin, "attacker-group")
    admin.create_log_group(logGroupName="audit-trail")
    admin.create_log_stream(logGroupName="audit-trail", logStreamName="s")
    admin.create_log_group(logGroupName="destination")
    admin.create_log_stream(logGroupName="destination", logStreamName="s")
    logs = user(
        server,
        account,
        "subscriber",
        [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "logs:PutLogEvents",
                "Resource": f"arn:aws:logs:{REGION}:{account}:log-group:audit-trail:*",
            },
        ],
    )("logs")
    for target in (
        f"arn:aws:logs:{REGION}:{account}:log-group:audit-trail:*",
        f"arn:aws:logs:{REGION}:{account}:log-group:audit-trail",
        f"arn:aws:logs:{REGION}:{account}:destination:x",
    ):
        with pytest.raises(ClientError) as caught:
            logs.put_subscription_filter(
                logGroupName="attacker-group", filterName="f", filterPattern="", destinationArn=target
            )
        assert caught.value.response["Error"]["Code"] in ("InvalidParameterException", "NotImplemented"), target
    assert admin.describe_subscription_filters(logGroupName="attacker-group")["subscriptionFilters"] == []
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="attacker-group",
        logStreamName="s",
        logEvents=[{"timestamp": now, "message": "forged audit entry"}],
    )
    assert admin.get_log_events(logGroupName="audit-trail", logStreamName="s")["events"] == []
    assert admin.get_log_events(logGroupName="destination", logStreamName="s")["events"] == []


def test_a_dead_letter_queue_that_denies_all_sources_receives_nothing(server: Endpoint) -> None:
    """A queue's RedriveAllowPolicy says which source queues may name it as their dead-letter queue:
    `denyAll` — "No source queues can specify this queue as the dead-letter queue", `byQueue` — only the
    `sourceQueueArns` (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html,
    RedriveAllowPolicy). Attack: a user allowed everything on its own queue only sets a RedrivePolicy naming the
    account's guarded queue (denyAll, or byQueue for another source) as dead-letter queue, then receives its own
    message twice: the backend, which ignores RedriveAllowPolicy, moved the message into the guarded queue — a
    SendMessage to a queue the user may not write. AWS's outcome: the RedrivePolicy is refused
    (InvalidParameterValue), the guarded queue stays empty.
    """
    account = "666600000004"
    admin = server.client("sqs", key=account)
    mine_arn = f"arn:aws:sqs:{REGION}:{account}:pc3-mine"
    guarded = {
        "pc3-deny-all": {"redrivePermission": "denyAll"},
        "pc3-by-queue": {
            "redrivePermission": "byQueue",
            "sourceQueueArns": [f"arn:aws:sqs:{REGION}:{account}:pc3-other"],
        },
    }
    urls = {
        name: admin.create_queue(QueueName=name, Attributes={"RedriveAllowPolicy": json.dumps(policy)})["QueueUrl"]
        for name, policy in guarded.items()
    }
    mine = admin.create_queue(QueueName="pc3-mine")["QueueUrl"]
    sqs = user(server, account, "redriver", [{"Effect": "Allow", "Action": "sqs:*", "Resource": mine_arn}])("sqs")
    for name in guarded:
        redrive = json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{account}:{name}", "maxReceiveCount": 1})
        with pytest.raises(ClientError) as caught:
            sqs.set_queue_attributes(QueueUrl=mine, Attributes={"RedrivePolicy": redrive})
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValue", name
        with pytest.raises(ClientError) as caught:
            admin.create_queue(QueueName=f"{name}-src", Attributes={"RedrivePolicy": redrive})
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValue", name
    sqs.send_message(QueueUrl=mine, MessageBody="injected")
    sqs.receive_message(QueueUrl=mine, VisibilityTimeout=0)
    sqs.receive_message(QueueUrl=mine, VisibilityTimeout=0)
    for url in urls.values():
        assert admin.receive_message(QueueUrl=url).get("Messages", []) == []
    # positive control: a queue byQueue-listing the source may be its dead-letter queue
    allowed = {"redrivePermission": "byQueue", "sourceQueueArns": [mine_arn]}
    admin.create_queue(QueueName="pc3-dlq-ok", Attributes={"RedriveAllowPolicy": json.dumps(allowed)})
    redrive = json.dumps({"deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{account}:pc3-dlq-ok", "maxReceiveCount": 1})
    sqs.set_queue_attributes(QueueUrl=mine, Attributes={"RedrivePolicy": redrive})
    stored = sqs.get_queue_attributes(QueueUrl=mine, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(stored["RedrivePolicy"])["deadLetterTargetArn"].endswith(":pc3-dlq-ok")
