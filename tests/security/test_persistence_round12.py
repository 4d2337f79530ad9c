"""Persistence, review round 12: every served data-plane operation lambdaperm does not journal (a "read",
`moto_backend._changes_state`) leaves the backend's state exactly as it found it.

The rule under test: what the backend holds after a restart is what the journal replays; a call that is not
journaled must therefore not change the backend (docs/architecture.md, "Durable data plane"). Round 10 read moto's
read methods for writes (an AST reading); this module runs every one of them on a populated backend, in-process as
the gateway does (`MotoBackend.execute`), and compares the pickled state of the six backends — what a snapshot
holds (`snapshots`) — byte for byte before and after. A read moto implements with a write, unjournaled, fails here.
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.session import get_session  # type: ignore[import-untyped]

from lambdaperm.catalog.services import operations
from lambdaperm.dataplane import snapshots
from lambdaperm.dataplane.moto_backend import SERVED, MotoBackend, _changes_state
from lambdaperm.protocol.errors import ServiceError
from tests.e2e.conftest import Endpoint

A = "777800000112"
REGION = "us-east-1"
TABLE = "r12-table"
BUCKET = "r12-bucket"
QUEUE = "r12-queue"
GROUP = "r12-group"
STREAM = "r12-stream"

# Reads that change the backend and are journaled for it, with why. Each is checked to be journaled
# (`_changes_state`) and to be the only kind of read allowed to change the state.
JOURNALED_STATE_CHANGING_READS: dict[tuple[str, str], str] = {
    # counts a receive, hides the message, issues a receipt handle, may move it to the dead-letter queue;
    # journaled per attempt when the queue changed (moto_backend._receive, rounds 10)
    ("sqs", "ReceiveMessage"): "a receive is a state change (visibility, receive count)",
}

_session = get_session()


def _model(service: str) -> Any:
    return _session.get_service_model(service)


def _call(backend: MotoBackend, service: str, operation: str, params: dict[str, Any]) -> Any:
    return backend.execute(_model(service).operation_model(operation), params, A, REGION).output


@pytest.fixture(scope="module")
def populated() -> Iterator[tuple[MotoBackend, dict[str, Any]]]:
    """One backend holding something of each served service, and the identifiers of what it holds."""
    backend = MotoBackend(journal=None)
    for service in SERVED:
        backend.load(service)
    names: dict[str, Any] = {}
    _call(
        backend,
        "dynamodb",
        "CreateTable",
        {
            "TableName": TABLE,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        },
    )
    _call(backend, "dynamodb", "PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}})
    _call(
        backend,
        "dynamodb",
        "UpdateContinuousBackups",
        {"TableName": TABLE, "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}},
    )
    names["TableArn"] = _call(backend, "dynamodb", "DescribeTable", {"TableName": TABLE})["Table"]["TableArn"]
    backup = _call(backend, "dynamodb", "CreateBackup", {"TableName": TABLE, "BackupName": "r12-backup"})
    names["BackupArn"] = backup["BackupDetails"]["BackupArn"]
    _call(backend, "s3", "CreateBucket", {"Bucket": BUCKET})
    _call(backend, "s3", "PutBucketVersioning", {"Bucket": BUCKET, "VersioningConfiguration": {"Status": "Enabled"}})
    put = _call(backend, "s3", "PutObject", {"Bucket": BUCKET, "Key": "o", "Body": b"payload"})
    names["VersionId"] = put.get("VersionId")
    _call(
        backend,
        "s3",
        "PutObjectTagging",
        {"Bucket": BUCKET, "Key": "o", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}},
    )
    _call(backend, "s3", "PutObject", {"Bucket": BUCKET, "Key": "cold", "Body": b"c", "StorageClass": "GLACIER"})
    _call(backend, "s3", "RestoreObject", {"Bucket": BUCKET, "Key": "cold", "RestoreRequest": {"Days": 1}})
    upload = _call(backend, "s3", "CreateMultipartUpload", {"Bucket": BUCKET, "Key": "mp"})
    names["UploadId"] = upload["UploadId"]
    names["QueueUrl"] = _call(backend, "sqs", "CreateQueue", {"QueueName": QUEUE})["QueueUrl"]
    _call(backend, "sqs", "SendMessage", {"QueueUrl": names["QueueUrl"], "MessageBody": "m"})
    topic = _call(backend, "sns", "CreateTopic", {"Name": "r12-topic"})["TopicArn"]
    names["TopicArn"] = topic
    queue_arn = f"arn:aws:sqs:{REGION}:{A}:{QUEUE}"
    sub = _call(backend, "sns", "Subscribe", {"TopicArn": topic, "Protocol": "sqs", "Endpoint": queue_arn})
    names["SubscriptionArn"] = sub["SubscriptionArn"]
    _call(backend, "logs", "CreateLogGroup", {"logGroupName": GROUP})
    _call(backend, "logs", "CreateLogStream", {"logGroupName": GROUP, "logStreamName": STREAM})
    _call(
        backend,
        "logs",
        "PutLogEvents",
        {
            "logGroupName": GROUP,
            "logStreamName": STREAM,
            "logEvents": [{"timestamp": 1_700_000_000_000, "message": "hi"}],
        },
    )
    vpc = _call(backend, "ec2", "CreateVpc", {"CidrBlock": "10.12.0.0/16"})["Vpc"]["VpcId"]
    names["VpcId"] = vpc
    names["SubnetId"] = _call(backend, "ec2", "CreateSubnet", {"VpcId": vpc, "CidrBlock": "10.12.1.0/24"})["Subnet"][
        "SubnetId"
    ]
    names["GroupId"] = _call(
        backend, "ec2", "CreateSecurityGroup", {"GroupName": "r12-sg", "Description": "d", "VpcId": vpc}
    )["GroupId"]
    eni = _call(backend, "ec2", "CreateNetworkInterface", {"SubnetId": names["SubnetId"]})
    names["NetworkInterfaceId"] = eni["NetworkInterface"]["NetworkInterfaceId"]
    yield backend, names


# a value for a required member, by member name (the identifiers of what `populated` holds)
def _by_name(names: dict[str, Any]) -> dict[str, Any]:
    return {
        "TableName": TABLE,
        "ResourceArn": names["TableArn"],
        "BackupArn": names["BackupArn"],
        "Bucket": BUCKET,
        "Key": "o",
        "UploadId": names["UploadId"],
        "VersionId": names["VersionId"],
        "QueueUrl": names["QueueUrl"],
        "QueueName": QUEUE,
        "TopicArn": names["TopicArn"],
        "SubscriptionArn": names["SubscriptionArn"],
        "logGroupName": GROUP,
        "logStreamName": STREAM,
        "logGroupIdentifier": GROUP,
        "VpcId": names["VpcId"],
        "SubnetId": names["SubnetId"],
        "GroupId": names["GroupId"],
        "NetworkInterfaceId": names["NetworkInterfaceId"],
        "Attribute": "description",
    }


# reads whose required members alone do not reach the populated objects
def _overrides(names: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("dynamodb", "GetItem"): {"TableName": TABLE, "Key": {"pk": {"S": "a"}}},
        ("dynamodb", "Query"): {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :v",
            "ExpressionAttributeValues": {":v": {"S": "a"}},
        },
        ("dynamodb", "Scan"): {"TableName": TABLE},
        ("dynamodb", "BatchGetItem"): {"RequestItems": {TABLE: {"Keys": [{"pk": {"S": "a"}}]}}},
        ("dynamodb", "TransactGetItems"): {"TransactItems": [{"Get": {"TableName": TABLE, "Key": {"pk": {"S": "a"}}}}]},
        ("s3", "HeadObject"): {"Bucket": BUCKET, "Key": "cold"},  # restored: its restore status is read
        ("s3", "ListParts"): {"Bucket": BUCKET, "Key": "mp", "UploadId": names["UploadId"]},
        ("logs", "GetLogEvents"): {"logGroupName": GROUP, "logStreamName": STREAM},
        ("logs", "FilterLogEvents"): {"logGroupName": GROUP},
        ("logs", "TestMetricFilter"): {"filterPattern": "hi", "logEventMessages": ["hi"]},
        ("ec2", "DescribeVpcAttribute"): {"VpcId": names["VpcId"], "Attribute": "enableDnsSupport"},
    }


def _value(shape: Any, member: str, names: dict[str, Any]) -> Any:
    known = _by_name(names)
    if member in known:
        return known[member]
    if shape.type_name == "structure":
        return {name: _value(shape.members[name], name, names) for name in shape.required_members}
    if shape.type_name == "list":
        return [_value(shape.member, member, names)]
    if shape.type_name == "map":
        return {"k": _value(shape.value, member, names)}
    if shape.type_name in ("integer", "long"):
        return 1
    if shape.type_name == "boolean":
        return False
    if shape.type_name == "timestamp":
        return 1_700_000_000
    if shape.type_name == "blob":
        return b"x"
    enum = shape.metadata.get("enum") if shape.type_name == "string" else None
    return enum[0] if enum else "x"


def _reads() -> list[tuple[str, str]]:
    return sorted(
        (service, operation)
        for service in SERVED
        for operation in operations(service)
        if not _changes_state(service, operation, {})
    )


class _StatePickler(pickle.Pickler):
    """A snapshot's pickling, but for moto's ManagedState read counter: each read of an S3 key counts (`advance()`,
    `_tick`), and the count moves a status only under a "manual" transition. Every ManagedState lambdaperm serves
    runs moto's default "immediate" progression (nothing can set another: moto's own API is not served), where the
    counter is read by nothing — so it is left out while, and only while, its model's progression is immediate."""

    def reducer_override(self, obj: Any) -> Any:
        from moto.moto_api import state_manager
        from moto.moto_api._internal.managed_state_model import ManagedState

        if not isinstance(obj, ManagedState) or state_manager.get_transition(obj.model_name)["progression"] != (
            "immediate"
        ):
            return NotImplemented
        reduced = list(obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL))
        reduced[2] = {name: value for name, value in dict(reduced[2]).items() if name != "_tick"}
        return tuple(reduced)


def _pickled(value: Any) -> bytes:
    out = io.BytesIO()
    _StatePickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _state() -> dict[str, bytes]:
    backends = snapshots._backends()
    state = {service: _pickled(dict(found)) for service, found in backends.items()}
    state["bucket_accounts"] = _pickled(dict(backends["s3"].bucket_accounts))
    return state


def test_the_read_list_is_not_empty_and_names_only_served_reads() -> None:
    """The table-driven test below must cover something: the served reads of each of the six services."""
    reads = _reads()
    assert {service for service, _ in reads} == set(SERVED)
    assert len(reads) > 100
    for key in JOURNALED_STATE_CHANGING_READS:
        assert key in {(s, o) for s in SERVED for o in operations(s)}, key


@pytest.mark.parametrize(("service", "operation"), _reads())
def test_an_unjournaled_read_leaves_the_backend_byte_identical(
    populated: tuple[MotoBackend, dict[str, Any]], service: str, operation: str
) -> None:
    """Attack: a call lambdaperm classifies as a read is not journaled; if moto's implementation of it writes to
    the backend (a counter, a lazily created default, a status advanced by reading it), that write is in the live
    backend — later calls answer from it — and a `kill -9` loses it: the restart replays the journal without it.
    AWS: what was acknowledged is durable (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DataDurability.html);
    lambdaperm's rule: every state change the backend makes is journaled (docs/architecture.md)."""
    backend, names = populated
    model = _model(service).operation_model(operation)
    params = _overrides(names).get((service, operation))
    if params is None:
        shape = model.input_shape
        params = {} if shape is None else {m: _value(shape.members[m], m, names) for m in shape.required_members}
    before = _state()
    with contextlib.suppress(ServiceError):  # an error answer must not change the state either
        backend.execute(model, params, A, REGION)
    after = _state()
    changed = sorted(name for name in before if before[name] != after[name])
    assert not changed, f"{service}:{operation}({params}) changed {changed} without being journaled"


# --- what the finding does across kill -9, against a real server --------------------------------------------------


def _events(sqs: Any, queue: str) -> list[str]:
    """The S3 event names in the queue (received with VisibilityTimeout 0: left in the queue)."""
    names: list[str] = []
    for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
        names += [record["eventName"] for record in json.loads(message["Body"]).get("Records", [])]
    return sorted(names)


def test_a_restore_completed_event_sent_by_a_read_survives_kill_9(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack: moto completes an S3 restore lazily — the object's restore status moves to RESTORED the first time
    something reads it (HeadObject, GetObject: `FakeKey.status`), and that transition sends the bucket's
    `s3:ObjectRestore:Completed` notification. A read is not journaled, so the delivered event — a message in the
    destination queue, counted and received by the queue's consumers — is lost at a `kill -9`: after the restart
    the queue holds the `ObjectRestore:Post` event of the (journaled) RestoreObject only.

    AWS: S3 sends `s3:ObjectRestore:Completed` when the restore completes, and event notifications are delivered
    at least once (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-how-to-event-types-and-destinations.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html); a message in an SQS queue is
    stored redundantly until deleted (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-basic-architecture.html)."""
    state = tmp_path / "state"
    server = make_server(state)
    s3, sqs = server.client("s3", key=A), server.client("sqs", key=A)
    queue = sqs.create_queue(QueueName="r12-restores")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{A}:r12-restores"
    sqs.set_queue_attributes(
        QueueUrl=queue,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                            "Condition": {"StringEquals": {"aws:SourceAccount": A}},
                        }
                    ],
                }
            )
        },
    )
    s3.create_bucket(Bucket="r12-cold")
    s3.put_bucket_notification_configuration(
        Bucket="r12-cold",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectRestore:*"]}]},
    )
    sqs.purge_queue(QueueUrl=queue)  # the s3:TestEvent
    s3.put_object(Bucket="r12-cold", Key="k", Body=b"archived", StorageClass="GLACIER")
    s3.restore_object(Bucket="r12-cold", Key="k", RestoreRequest={"Days": 1})
    assert 'ongoing-request="false"' in s3.head_object(Bucket="r12-cold", Key="k")["Restore"]
    live = _events(sqs, queue)
    assert live == ["ObjectRestore:Completed", "ObjectRestore:Post"]

    server.proc.kill()  # kill -9 after the acknowledgements: the next start-up replays the journal
    server.proc.wait()
    restarted = make_server(state)
    assert _events(restarted.client("sqs", key=A), queue) == live


# --- an acknowledged asynchronous invocation across kill -9 --------------------------------------------------------

_STARTS = """
import time
import boto3

def handler(event, context):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.put_item(TableName="r12-runs", Item={"id": {"S": "start:" + context.aws_request_id}})
    time.sleep(25)  # still running when the server is killed
    ddb.put_item(TableName="r12-runs", Item={"id": {"S": "done:" + context.aws_request_id}})
    return {}
"""


def _runs(ddb: Any, until: Callable[[list[str]], bool], seconds: float) -> list[str]:
    """The items the handler wrote, once `until` holds for them (bounded wait for that positive signal)."""
    deadline = time.monotonic() + seconds
    while True:
        items = sorted(i["id"]["S"] for i in ddb.scan(TableName="r12-runs")["Items"])
        if until(items) or time.monotonic() >= deadline:
            return items
        time.sleep(0.2)


def _runs_function(server: Endpoint, ddb: Any, code: str) -> Any:
    """The table `r12-runs` and the function `r12-async` (running `code`, allowed to write the table); its client."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    ddb.create_table(
        TableName="r12-runs",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    account = server.client("sts").get_caller_identity()["Account"]
    role = make_role(
        server.client("iam"),
        "r12-async",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:PutItem",
                    "Resource": f"arn:aws:dynamodb:us-east-1:{account}:table/r12-runs",
                }
            ],
        },
    )
    lam = server.client("lambda")
    lam.create_function(
        FunctionName="r12-async",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": code})},
        Timeout=60,
    )
    return lam


def test_an_acknowledged_event_invocation_survives_kill_9(make_server: Callable[..., Endpoint], tmp_path: Path) -> None:
    """Attack: an asynchronous invocation answered 202 is held in the server's memory only (a thread pool's
    queue, `LambdaEnv.submit`); a `kill -9` while it waits or runs loses it, and nothing runs it after the
    restart — the acknowledged event is gone.

    AWS: "Lambda places the event in a queue and returns a success response without additional information. A
    separate process reads events from the queue and sends them to your function", retrying errors for up to
    6 hours (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html): the event is durable once
    acknowledged and is run to completion (or to its retries and destinations) whatever happens to the host.
    Fixed: the event is in the SQLite state before the 202 and run again at start-up (async_queue_store)."""
    state = tmp_path / "state"
    server = make_server(state)
    ddb = server.client("dynamodb")
    lam = _runs_function(server, ddb, _STARTS)
    assert lam.invoke(FunctionName="r12-async", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    started = _runs(ddb, lambda items: len(items) >= 1, 60)
    assert [i for i in started if i.startswith("start:")], started  # acknowledged, running, not done

    server.proc.kill()  # kill -9 while the acknowledged event runs
    server.proc.wait()
    restarted = make_server(state).client("dynamodb")
    after = _runs(restarted, lambda items: any(i.startswith("done:") for i in items), 45)
    assert any(i.startswith("done:") for i in after), f"the acknowledged event never completed: {after}"


_RUNS = """
import uuid
import boto3

def handler(event, context):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    run = event["tag"] + ":" + context.aws_request_id + ":" + uuid.uuid4().hex  # one item per run, retries too
    ddb.put_item(TableName="r12-runs", Item={"id": {"S": run}})
    return {}
"""


def _stored_events(state: Path) -> list[str]:
    """The accepted events the server's state holds (async_queue_store.EVENTS; a WAL database reads while served)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(state / "state.db")) as conn:
        rows = conn.execute("SELECT key FROM records WHERE namespace='lambda.async-event'").fetchall()
    return [str(r[0]) for r in rows]


def test_an_event_whose_run_ended_is_not_run_again_after_a_restart(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack (the other side of the fix above): a completed event left in the state would run again at every
    start-up — a second run AWS does not make after a clean restart. Lambda removes the event from its queue once
    the function has processed it (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html); at least
    once holds across a crash only. The completed event is gone from the state, and after the restart a later event
    runs while the first one has still run once."""
    from tests.e2e.conftest import stop_server

    state = tmp_path / "state"
    server = make_server(state)
    ddb = server.client("dynamodb")
    lam = _runs_function(server, ddb, _RUNS)
    assert (
        lam.invoke(FunctionName="r12-async", InvocationType="Event", Payload=b'{"tag": "first"}')["StatusCode"] == 202
    )
    first = _runs(ddb, lambda items: len(items) >= 1, 60)
    assert len(first) == 1 and first[0].startswith("first:"), first
    # the run ended: its record goes after the handler's write, so wait for the state to be empty (bounded)
    deadline = time.monotonic() + 30
    while _stored_events(state) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _stored_events(state) == []
    assert stop_server(server) == 0
    assert _stored_events(state) == []

    restarted = make_server(state)
    lam2 = restarted.client("lambda")
    assert (
        lam2.invoke(FunctionName="r12-async", InvocationType="Event", Payload=b'{"tag": "second"}')["StatusCode"] == 202
    )
    after = _runs(restarted.client("dynamodb"), lambda items: any(i.startswith("second:") for i in items), 60)
    assert [i for i in after if i.startswith("second:")], after
    assert [i for i in after if i.startswith("first:")] == first, after  # run once, not again at start-up
