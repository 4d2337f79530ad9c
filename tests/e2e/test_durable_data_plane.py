"""Durable data plane (issue 8 §2): with --state, every acknowledged data-plane write survives a restart and a
`kill -9` — tables and items, buckets and objects (versions, bodies), queues and messages (ids, attributes),
topics and subscriptions, log groups, VPCs/subnets/security groups, bucket notifications — read back
identically; a refused call leaves nothing; a restart delivers nothing again (docs/architecture.md, "Durable
data plane")."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint, start_server, stop_server

ACCOUNT = "000000000000"


def _queue_policy(queue_arn: str, source_arn: str | list[str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": ["s3.amazonaws.com", "sns.amazonaws.com"]},
        "Action": "sqs:SendMessage", "Resource": queue_arn, "Condition": {"ArnLike": {"aws:SourceArn": source_arn}}}]})


def write_everything(ep: Endpoint) -> None:
    ddb, s3, sqs, sns = ep.client("dynamodb"), ep.client("s3"), ep.client("sqs"), ep.client("sns")
    logs, ec2 = ep.client("logs"), ep.client("ec2")
    ddb.create_table(TableName="orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName="orders", Item={"id": {"S": "1"}, "total": {"N": "42"}, "tags": {"SS": ["a", "b"]}})
    ddb.update_item(TableName="orders", Key={"id": {"S": "1"}}, UpdateExpression="SET paid = :t",
                    ExpressionAttributeValues={":t": {"BOOL": True}})
    s3.create_bucket(Bucket="durable-bucket")
    s3.put_bucket_versioning(Bucket="durable-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="durable-bucket", Key="k", Body=b"first")
    s3.put_object(Bucket="durable-bucket", Key="k", Body=b"second" * 1000, Metadata={"m": "v"})
    s3.put_object_tagging(Bucket="durable-bucket", Key="k", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    queue = sqs.create_queue(QueueName="durable-queue", Attributes={"VisibilityTimeout": "45"})["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:durable-queue"
    sqs.send_message(QueueUrl=queue, MessageBody="hello",
                     MessageAttributes={"a": {"DataType": "String", "StringValue": "x"}})
    sqs.send_message(QueueUrl=queue, MessageBody="world")
    topic = sns.create_topic(Name="durable-topic")["TopicArn"]
    sources = [topic, "arn:aws:s3:::durable-bucket"]
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": _queue_policy(queue_arn, sources)})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="published")
    logs.create_log_group(logGroupName="/durable/group")
    logs.create_log_stream(logGroupName="/durable/group", logStreamName="s")
    logs.put_log_events(logGroupName="/durable/group", logStreamName="s",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": "line"}])
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")
    ec2.create_security_group(GroupName="durable-sg", Description="d", VpcId=vpc)
    s3.put_bucket_notification_configuration(Bucket="durable-bucket", NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]})


def read_everything(ep: Endpoint) -> dict[str, Any]:
    """What the written state looks like to a client (without a receive: reading the queue would change it)."""
    ddb, s3, sqs, sns = ep.client("dynamodb"), ep.client("s3"), ep.client("sqs"), ep.client("sns")
    logs, ec2 = ep.client("logs"), ep.client("ec2")
    queue = sqs.get_queue_url(QueueName="durable-queue")["QueueUrl"]
    strip = lambda r: {k: v for k, v in r.items() if k != "ResponseMetadata"}  # noqa: E731
    obj = s3.get_object(Bucket="durable-bucket", Key="k")
    table = strip(ddb.describe_table(TableName="orders"))
    return {
        "table": table,
        "items": strip(ddb.scan(TableName="orders")),
        "versions": [(v["VersionId"], v["ETag"], v["Size"], v["LastModified"], v["IsLatest"])
                     for v in s3.list_object_versions(Bucket="durable-bucket")["Versions"]],
        "body": (obj["Body"].read(), obj["VersionId"], obj["Metadata"], obj["LastModified"]),
        "tags": s3.get_object_tagging(Bucket="durable-bucket", Key="k")["TagSet"],
        "buckets": [(b["Name"], b["CreationDate"]) for b in s3.list_buckets()["Buckets"]],
        "notification": strip(s3.get_bucket_notification_configuration(Bucket="durable-bucket")),
        "queue": sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"],
        "topics": sns.list_topics()["Topics"],
        "subscriptions": sns.list_subscriptions()["Subscriptions"],
        "log_groups": logs.describe_log_groups()["logGroups"],
        "log_events": [(e["timestamp"], e["message"]) for e in
                       logs.get_log_events(logGroupName="/durable/group", logStreamName="s")["events"]],
        "vpcs": strip(ec2.describe_vpcs()),
        "subnets": strip(ec2.describe_subnets()),
        "groups": strip(ec2.describe_security_groups()),
    }


def receive_all(ep: Endpoint) -> list[tuple[str, str, dict[str, Any]]]:
    sqs = ep.client("sqs")
    queue = sqs.get_queue_url(QueueName="durable-queue")["QueueUrl"]
    got: list[tuple[str, str, dict[str, Any]]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       AttributeNames=["SentTimestamp"]).get("Messages", [])
        if not messages:
            return sorted(got)
        got += [(m["MessageId"], m["Body"], {**m.get("MessageAttributes", {}), **m["Attributes"]}) for m in messages]


@pytest.mark.parametrize("stop", ["clean", "kill-9"])
def test_every_resource_kind_survives_a_restart(tmp_path: Path, make_server: Callable[..., Endpoint],
                                                stop: str) -> None:
    state = tmp_path / "state"
    first = make_server(state)
    write_everything(first)
    before = read_everything(first)
    if stop == "clean":
        assert stop_server(first) == 0
        assert (state / "dataplane.snapshot").exists()
    else:
        first.proc.kill()  # SIGKILL right after the last acknowledged write: no snapshot, the journal only
        first.proc.wait()
        assert not (state / "dataplane.snapshot").exists()
    second = make_server(state)
    assert read_everything(second) == before
    messages = receive_all(second)
    assert sorted(body for _, body, _ in messages if body in ("hello", "world")) == ["hello", "world"]
    assert sum("published" in body for _, body, _ in messages) == 1  # delivered once, not again on restart
    # the bucket notification still delivers after the restart
    second.client("s3").put_object(Bucket="durable-bucket", Key="in/new", Body=b"x")
    events = [json.loads(body) for _, body, _ in receive_all(second) if "Records" in body]
    assert [unquote_plus(r["s3"]["object"]["key"]) for e in events for r in e["Records"]] == ["in/new"]


def test_messages_keep_their_ids_and_attributes(tmp_path: Path, make_server: Callable[..., Endpoint]) -> None:
    """Messages are read back after a kill -9 with the ids, bodies and attributes they were sent with; a message
    received (and deleted) before the crash stays deleted."""
    state = tmp_path / "state"
    first = make_server(state)
    write_everything(first)
    sqs = first.client("sqs")
    queue = sqs.get_queue_url(QueueName="durable-queue")["QueueUrl"]
    sent = sqs.send_message(QueueUrl=queue, MessageBody="to-delete")["MessageId"]
    # drain everything but keep the message list; delete only "to-delete"
    seen = receive_all(first)
    assert sent in [m for m, _, _ in seen]
    handle = None
    for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        handle = message["ReceiptHandle"]
    assert handle is None  # every message is in flight
    first.proc.kill()
    first.proc.wait()
    second = make_server(state)
    # in flight after the restart as before it: nothing visible until the visibility timeout passes
    assert second.client("sqs").receive_message(QueueUrl=queue).get("Messages", []) == []
    attributes = second.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == str(len(seen))


def test_kill_9_after_an_acknowledged_write_keeps_it(tmp_path: Path, make_server: Callable[..., Endpoint]) -> None:
    state = tmp_path / "state"
    first = make_server(state)
    ddb = first.client("dynamodb")
    ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    for i in range(50):
        ddb.put_item(TableName="t", Item={"k": {"S": str(i % 5)}, "n": {"N": str(i)}})  # the last write wins
    first.client("s3").create_bucket(Bucket="big")
    body = b"0123456789abcdef" * 65536  # 1 MiB (binary bodies: see the report)
    first.client("s3").put_object(Bucket="big", Key="blob", Body=body)
    first.proc.kill()
    first.proc.wait()
    second = make_server(state)
    items = second.client("dynamodb").scan(TableName="t")["Items"]
    assert sorted((i["k"]["S"], int(i["n"]["N"])) for i in items) == [(str(k), 45 + k) for k in range(5)]
    assert second.client("s3").get_object(Bucket="big", Key="blob")["Body"].read() == body


def _user(ep: Endpoint, name: str) -> tuple[str, str]:
    iam = ep.client("iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_a_refused_call_leaves_nothing(tmp_path: Path, make_server: Callable[..., Endpoint]) -> None:
    state = tmp_path / "state"
    first = make_server(state)
    key, secret = _user(first, "nobody")
    with pytest.raises(ClientError) as denied:
        first.client("s3", key, secret).create_bucket(Bucket="refused-bucket")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as failed:  # reached the backend, which refused it
        first.client("sqs").send_message(QueueUrl=f"{first.url}/{ACCOUNT}/missing", MessageBody="x")
    assert failed.value.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
    first.proc.kill()
    first.proc.wait()
    second = make_server(state)
    assert second.client("s3").list_buckets()["Buckets"] == []
    assert second.client("sqs").list_queues().get("QueueUrls", []) == []


def test_a_delivery_decided_then_is_not_decided_again(tmp_path: Path, make_server: Callable[..., Endpoint]) -> None:
    """SNS → SQS: a message delivered while the queue's policy allowed it is there after a restart, exactly
    once, though the policy now denies; one published while it denied is not there."""
    state = tmp_path / "state"
    first = make_server(state)
    sqs, sns = first.client("sqs"), first.client("sns")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"
    topic = sns.create_topic(Name="t")["TopicArn"]
    other = "arn:aws:sqs:us-east-1:111111111111:elsewhere"
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": _queue_policy(queue_arn, topic)})
    sns.publish(TopicArn=topic, Message="allowed")
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": _queue_policy(queue_arn, other)})
    sns.publish(TopicArn=topic, Message="denied")
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": _queue_policy(queue_arn, topic)})  # allows again
    first.proc.kill()
    first.proc.wait()
    second = make_server(state)
    bodies = []
    while messages := second.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        bodies += [json.loads(m["Body"])["Message"] for m in messages]
    assert bodies == ["allowed"]


def test_restart_after_restart(tmp_path: Path) -> None:
    """A snapshot, then a journal after it, then a kill -9: both are read back (the snapshot and the entries after
    it), and the journal the snapshot covers is gone."""
    state = tmp_path / "state"
    first = start_server(state, tmp_path)
    try:
        first.client("s3").create_bucket(Bucket="one")
    finally:
        assert stop_server(first) == 0
    second = start_server(state, tmp_path)
    try:
        second.client("s3").create_bucket(Bucket="two")
        second.proc.kill()
        second.proc.wait()
    finally:
        stop_server(second)
    third = start_server(state, tmp_path)
    try:
        assert [b["Name"] for b in third.client("s3").list_buckets()["Buckets"]] == ["one", "two"]
    finally:
        stop_server(third)
