"""Attack class: races (time of check vs time of use), review round 3.

Rounds 1 and 2 held the resources a caller's call names (bucket, topic, role names; a function's incarnation)
from authorization to execution, and checked that the caches on the request path (`state.Derived`) never serve
a value computed before an acknowledged write. This round plays the windows they left: a push delivery to a
Lambda function decided on the function policy and then run on a function found afterwards, and an S3 object
read decided on the tags of the object that was there (`s3:ExistingObjectTag`) and executed on the object
written since (and the same for a copy's source, a version made current again by DeleteObjects, and an overwrite
whose object the embedded backend stores before its tags), and the SQS poller running a function deleted after
its decision. Every window is played deterministically with gates in a real server (`race_gate_objects`: the
gates of rounds 1 and 2, one inside a push delivery, one inside the backend's PutObject, one inside the SQS
poller), never with timing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security import race_gate, race_gate_deliveries
from tests.security.gated_servers import gated_for_module
from tests.security.iam_users import user_keys
from tests.security.race_support import Held, through_gate

REGION = "us-east-1"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    yield from gated_for_module(tmp_path_factory, "races3", "tests.security.race_gate_objects")


def _wait(predicate: Any, what: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


# --- S3 → Lambda: the function deleted and created again between the delivery's decision and its run --------

_WRITER = """
import boto3

def handler(event, context):
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName="ran", Item={{"id": {{"S": context.aws_request_id}}, "which": {{"S": {which!r}}}}})
"""


def test_an_s3_event_does_not_run_a_function_recreated_after_the_delivery_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: account A's bucket notifies B's function `race-push`, whose policy lets s3.amazonaws.com invoke it
    for that bucket (aws:SourceArn, aws:SourceAccount). An object is written; the delivery is decided on that
    policy; before it runs, B deletes the function and creates another `race-push` (other code, no policy:
    S3 may not invoke it). The delivery then ran the new function — an invocation no policy allowed.

    AWS: S3 invokes a function only where the function's resource-based policy allows s3.amazonaws.com, and
    that policy is deleted with the function
    (https://docs.aws.amazon.com/lambda/latest/dg/with-s3.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html). The delivery runs the function
    whose policy allowed it, or none — never the new one. (Round 2 fixed this window for Invoke and named
    this one.)"""
    server, gate = gated
    a, b = "555500000301", "555500000302"
    name = "race-push"
    lam_b = server.client("lambda", key=b)
    ddb_b = server.client("dynamodb", key=b)
    ddb_b.create_table(
        TableName="ran",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    role = make_role(
        server.client("iam", key=b),
        "race-push-role",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}]},
    )

    def create(which: str) -> str:
        return str(
            lam_b.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": zip_of({"app.py": _WRITER.format(which=which)})},
                Timeout=10,
            )["FunctionArn"]
        )

    arn = create("old")
    bucket = "race-push-source"
    lam_b.add_permission(
        FunctionName=name,
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount=a,
    )
    s3_a = server.client("s3", key=a)
    s3_a.create_bucket(Bucket=bucket)
    s3_a.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    (gate / f"deliver-{name}.hold").touch()
    before = race_gate_deliveries.done_count(gate)
    s3_a.put_object(Bucket=bucket, Key="k", Body=b"x")
    race_gate.wait_for(gate / f"deliver-{name}.arrived")
    (gate / f"deliver-{name}.hold").unlink()
    lam_b.delete_function(FunctionName=name)
    create("new")
    (gate / f"deliver-{name}.go").touch()
    _wait(lambda: race_gate_deliveries.done_count(gate) > before, "the delivery did not end")
    ran = [item["which"]["S"] for item in ddb_b.scan(TableName="ran")["Items"]]
    assert "new" not in ran, ran
    # control: the new function itself runs (for its owner), so the absence above is the delivery's
    lam_b.invoke(FunctionName=name)
    assert [item["which"]["S"] for item in ddb_b.scan(TableName="ran")["Items"]].count("new") == 1


# --- S3: an object read decided on one object's tags, executed on the object written since ----------------


def test_get_object_does_not_return_an_object_written_after_its_tags_were_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: user `reader` may GetObject in the bucket except objects tagged classification=secret (an explicit
    Deny on s3:ExistingObjectTag/classification). `report` is tagged public. The reader's GetObject is decided on
    those tags; before it executes, the owner overwrites `report` with secret content tagged secret. The held
    call then returned the secret content — read under the tags of an object that is no longer there.

    AWS: s3:ExistingObjectTag is the tag of the object the request acts on
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html); S3 is strongly
    consistent (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel): a GetObject
    reads either the object before the overwrite (public content) or the one after it (tagged secret: denied).
    No ordering returns the secret content to this reader."""
    server, gate = gated
    owner = "555500000303"
    bucket = "race-tagged"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket=bucket)
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "secret"}},
        },
    ]
    keys = user_keys(server, owner, "reader", *statements)
    reader = server.client("s3", **keys)
    s3.put_object(Bucket=bucket, Key="report", Body=b"public figures", Tagging="classification=public")
    assert reader.get_object(Bucket=bucket, Key="report")["Body"].read() == b"public figures"  # control

    held_reader = through_gate(server.client("s3", **keys), "get")
    held = Held(gate, "get", lambda: held_reader.get_object(Bucket=bucket, Key="report")["Body"].read()).start()
    overwrite = Held(
        gate,
        "unused",
        lambda: s3.put_object(Bucket=bucket, Key="report", Body=b"SECRET", Tagging="classification=secret"),
    )
    overwrite.thread.start()
    overwrite.thread.join(5)  # with a hold on the object the overwrite waits for the held read; without, it is done
    outcome = held.release()
    overwrite.thread.join(30)
    assert overwrite.outcome is not None and overwrite.outcome[0] == "ok", overwrite.outcome
    assert outcome in (("ok", b"public figures"), ("error", "AccessDenied")), outcome
    # control: after the overwrite the reader is denied the secret object
    with pytest.raises(ClientError) as denied:
        reader.get_object(Bucket=bucket, Key="report")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def _denied_secret_objects(server: Endpoint, owner: str, user: str, bucket: str, *extra: dict[str, Any]) -> Any:
    """An S3 client of IAM user `user` of `owner`, who may GetObject in `bucket` except objects tagged
    classification=secret (an explicit Deny on s3:ExistingObjectTag/classification), plus `extra` statements."""
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "secret"}},
        },
        *extra,
    ]
    keys = user_keys(server, owner, user, *statements)
    return server.client("s3", **keys)


def _body(s3: Any, bucket: str, key: str, **kw: Any) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read())


def _code(call: Any) -> str:
    try:
        call()
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return "ok"


def test_get_object_is_not_decided_on_an_overwrite_whose_tags_are_not_written_yet(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: as above, but the reader's GetObject comes while the owner's overwrite (secret content, tagged
    secret) is executing: the embedded backend stores the new object first and writes its tags after. A decision
    made in between read the new object with no tags — the Deny on classification=secret did not apply — and
    returned the secret content.

    AWS: a PutObject with `x-amz-tagging` creates the object with its tags in one step
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, "x-amz-tagging"); S3 is strongly
    consistent (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel). A read sees
    the old object or the new one with its tags: the public content, or AccessDenied."""
    server, gate = gated
    owner, bucket, key = "555500000304", "race-untagged", "report-untagged"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket=bucket)
    reader = _denied_secret_objects(server, owner, "untagged-reader", bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=b"public figures", Tagging="classification=public")
    assert _body(reader, bucket, key) == b"public figures"  # control
    (gate / f"tag-{key}.hold").touch()
    overwrite = Held(
        gate, "unused", lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"SECRET", Tagging="classification=secret")
    )
    overwrite.thread.start()
    race_gate.wait_for(gate / f"tag-{key}.arrived")  # the new object is in the bucket, its tags not yet
    (gate / f"tag-{key}.hold").unlink()
    read = Held(gate, "unused", lambda: _body(reader, bucket, key))
    read.thread.start()
    read.thread.join(5)  # with a hold on the object the read waits for the overwrite; without, it is done
    (gate / f"tag-{key}.go").touch()
    overwrite.thread.join(30)
    read.thread.join(30)
    assert overwrite.outcome is not None and overwrite.outcome[0] == "ok", overwrite.outcome
    assert read.outcome in (("ok", b"public figures"), ("error", "AccessDenied")), read.outcome


def test_copy_object_does_not_copy_a_source_written_after_its_tags_were_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: user `copier` may read the objects of `race-copy-src` except those tagged classification=secret,
    and write into `race-copy-dst`. Its CopyObject of `doc` (tagged public) is decided on the source's tags;
    before it executes, the owner overwrites `doc` with secret content tagged secret. The held copy then copied
    the secret content into a bucket the copier can read back.

    AWS: CopyObject reads its source as a GetObject would (s3:GetObject on the source, its
    s3:ExistingObjectTag: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html); with strong consistency the
    copy reads the source before the overwrite (public content) or after it (tagged secret: denied)."""
    server, gate = gated
    owner, src, dst = "555500000305", "race-copy-src", "race-copy-dst"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    write = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{dst}/*"}
    copier = _denied_secret_objects(server, owner, "copier", src, write)
    s3.put_object(Bucket=src, Key="doc", Body=b"public figures", Tagging="classification=public")
    copier.copy_object(Bucket=dst, Key="control", CopySource={"Bucket": src, "Key": "doc"})  # control
    assert _body(s3, dst, "control") == b"public figures"

    held_copier = through_gate(copier, "copy")
    held = Held(
        gate, "copy", lambda: held_copier.copy_object(Bucket=dst, Key="copy", CopySource={"Bucket": src, "Key": "doc"})
    ).start()
    overwrite = Held(
        gate, "unused", lambda: s3.put_object(Bucket=src, Key="doc", Body=b"SECRET", Tagging="classification=secret")
    )
    overwrite.thread.start()
    overwrite.thread.join(5)  # with a hold on the source the overwrite waits for the held copy; without, it is done
    outcome = held.release()
    overwrite.thread.join(30)
    assert overwrite.outcome is not None and overwrite.outcome[0] == "ok", overwrite.outcome
    assert outcome[0] == "ok" or outcome == ("error", "AccessDenied"), outcome
    if outcome[0] == "ok":
        assert _body(s3, dst, "copy") == b"public figures"
    # control: after the overwrite the copier is denied the secret source
    assert _code(lambda: copier.copy_object(Bucket=dst, Key="x", CopySource={"Bucket": src, "Key": "doc"})) == (
        "AccessDenied"
    )


def test_delete_objects_does_not_change_the_version_a_read_was_decided_on(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: in a versioned bucket, `report` has an old version with secret content (tagged secret) under a
    current public one. The reader (denied objects tagged secret) has its GetObject decided on the current
    version's public tags; before it executes, the owner's DeleteObjects removes that version (VersionId), so the
    old secret version is current again. The held read then returned the secret version.

    AWS: a GetObject without versionId reads the current version, and s3:ExistingObjectTag is that version's tags
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html); deleting a specific
    version makes the previous one current
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html). Before the delete the
    read returns the public version; after it the current version is tagged secret: denied. DeleteObjects
    deletes each key as a DeleteObject of it would (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html)."""
    server, gate = gated
    owner, bucket = "555500000306", "race-versions"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    reader = _denied_secret_objects(server, owner, "version-reader", bucket)
    s3.put_object(Bucket=bucket, Key="report", Body=b"SECRET", Tagging="classification=secret")
    current = s3.put_object(Bucket=bucket, Key="report", Body=b"public figures", Tagging="classification=public")
    assert _body(reader, bucket, "report") == b"public figures"  # control

    held_reader = through_gate(reader, "versions-get")
    held = Held(gate, "versions-get", lambda: _body(held_reader, bucket, "report")).start()
    delete = Held(
        gate,
        "unused",
        lambda: s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": "other"}, {"Key": "report", "VersionId": current["VersionId"]}]},
        ),
    )
    delete.thread.start()
    delete.thread.join(5)  # with a hold on the keys the delete waits for the held read; without, it is done
    outcome = held.release()
    delete.thread.join(30)
    assert delete.outcome is not None and delete.outcome[0] == "ok", delete.outcome
    assert not delete.outcome[1].get("Errors"), delete.outcome
    assert outcome in (("ok", b"public figures"), ("error", "AccessDenied")), outcome
    # control: the old version is current again, and the reader is denied it
    assert _code(lambda: reader.get_object(Bucket=bucket, Key="report")) == "AccessDenied"
    assert _body(s3, bucket, "report") == b"SECRET"


# --- SQS → Lambda: the function deleted and created again between the poller's decision and its run ---------


def test_the_sqs_poller_does_not_run_a_function_deleted_after_its_decision(gated: tuple[Endpoint, Path]) -> None:
    """Attack: B's queue feeds B's function `race-poll` through an event source mapping. The poller decides a poll
    on the function's execution role (it may receive from the queue) and receives a batch; before the function
    runs, B deletes `race-poll` and creates another under the name, whose role may not read the queue. The
    poller then ran the function record it had read before its decision: the deleted function's code, after
    DeleteFunction was acknowledged.

    AWS: a deleted function is not invoked any more
    (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html); Lambda polls the queue and invokes
    the function with the execution role's permissions
    (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions), so the new function
    gets no message received under the old role's decision either. The batch is not processed (it becomes
    visible again, as after a failed invocation). (`events.deliver` was fixed the same way in this round.)"""
    server, gate = gated
    b, name, queue = "555500000307", "race-poll", "race-poll-queue"
    lam = server.client("lambda", key=b)
    ddb = server.client("dynamodb", key=b)
    ddb.create_table(
        TableName="ran",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_arn = f"arn:aws:sqs:{REGION}:{b}:{queue}"
    iam = server.client("iam", key=b)
    put = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}
    sqs_calls = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    reads = {"Effect": "Allow", "Action": sqs_calls, "Resource": queue_arn}
    old_role = make_role(iam, "race-poll-old", {"Version": "2012-10-17", "Statement": [put, reads]})
    new_role = make_role(iam, "race-poll-new", {"Version": "2012-10-17", "Statement": [put]})

    def create(which: str, role: str) -> None:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": _WRITER.format(which=which)})},
            Timeout=10,
        )

    def ran() -> list[str]:
        return [item["which"]["S"] for item in ddb.scan(TableName="ran")["Items"]]

    create("old", old_role)
    sqs = server.client("sqs", key=b)
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=name, BatchSize=1)
    sqs.send_message(QueueUrl=url, MessageBody="first")
    _wait(lambda: ran() == ["old"], "the mapping did not run the function")  # control: the mapping works

    done = gate / f"poll-{queue}.done"
    (gate / f"poll-{queue}.hold").touch()
    sqs.send_message(QueueUrl=url, MessageBody="second")
    race_gate.wait_for(gate / f"poll-{queue}.arrived")  # decided on the old role, batch received
    (gate / f"poll-{queue}.hold").unlink()
    lam.delete_function(FunctionName=name)
    create("new", new_role)
    (gate / f"poll-{queue}.go").touch()
    _wait(done.exists, "the held poll did not end")
    assert ran() == ["old"], ran()
    # control: the new function itself runs (for its owner), so the absence above is the poller's
    lam.invoke(FunctionName=name)
    assert sorted(ran()) == ["new", "old"], ran()


# --- the object holds, in process: every object a decision may read is held, writers exclusively -------------


def test_every_s3_object_an_operation_is_authorized_on_is_held() -> None:
    """By construction: for every S3 operation of the service model, each object `arn:aws:s3:::bucket/key` its
    authorization names (the object, a copy's source, each key of a DeleteObjects) is one the call holds from its
    decision to its execution (`object_holds`); an operation the catalog cannot map is refused anyway."""
    import botocore.session

    from lambdaperm.catalog import UnmappedOperation, UnresolvedResource, required_actions
    from lambdaperm.gateway import object_holds

    model = botocore.session.get_session().get_service_model("s3")
    sample = {
        "Bucket": "b",
        "Key": "k k/é",
        "CopySource": "src/s%20k",
        "Delete": {"Objects": [{"Key": "x"}, {"Key": "y"}]},
    }
    checked = 0
    for operation in model.operation_names:
        shape = model.operation_model(operation).input_shape
        params = {name: value for name, value in sample.items() if shape is not None and name in shape.members}
        try:
            needed = required_actions("s3", operation, params, account="111111111111", region=REGION)
        except (UnmappedOperation, UnresolvedResource):
            continue
        objects = [r for n in needed for r in n.resources if r.startswith("arn:aws:s3:::") and "/" in r]
        held = object_holds.objects("s3", operation, params)
        assert {r.removeprefix("arn:aws:s3:::") for r in objects} <= set(held), (operation, objects, held)
        object_holds.Held(frozenset(held)).check("s3", [r for n in needed for r in n.resources])
        checked += bool(objects)
    assert checked > 20, checked  # the object operations were reached (GetObject, PutObject, CopyObject...)


def test_object_holds_are_exclusive_for_writers_and_refuse_an_object_not_held() -> None:
    from lambdaperm.gateway import object_holds

    assert object_holds.objects("s3", "GetObject", {"Bucket": "b", "Key": "k"}) == {"b/k": False}
    assert object_holds.objects("s3", "PutObject", {"Bucket": "b", "Key": "k"}) == {"b/k": True}
    assert object_holds.objects("s3", "SomeFutureObjectOperation", {"Bucket": "b", "Key": "k"}) == {"b/k": True}
    copy = {"Bucket": "b", "Key": "d", "CopySource": {"Bucket": "s", "Key": "k"}}
    assert object_holds.objects("s3", "CopyObject", copy) == {"b/d": True, "s/k": False}
    onto_itself = {"Bucket": "b", "Key": "k", "CopySource": "b/k"}
    assert object_holds.objects("s3", "CopyObject", onto_itself) == {"b/k": True}
    delete = {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "v"}]}}
    assert object_holds.objects("s3", "DeleteObjects", delete) == {"b/x": True, "b/y": True}
    assert object_holds.objects("sqs", "SendMessage", {"QueueUrl": "q"}) == {}
    with pytest.raises(Exception) as refused:
        object_holds.Held(frozenset({"b/k"})).check("s3", ["arn:aws:s3:::b", "arn:aws:s3:::b/k", "arn:aws:s3:::b/j"])
    assert getattr(refused.value, "code", None) == "NotImplemented" and "arn:aws:s3:::b/j" in str(refused.value)


def test_a_held_object_keeps_a_writer_waiting_until_the_reader_is_done() -> None:
    """In process, with a positive signal instead of timing: a writer of an object a reader holds has not run
    while the reader holds it, and runs once it is released; readers share."""
    import threading

    from lambdaperm.gateway import object_holds

    log: list[str] = []
    writer_waiting = threading.Event()

    def write() -> None:
        writer_waiting.set()
        with object_holds.held(
            "s3", "DeleteObjects", {"Bucket": "hb", "Delete": {"Objects": [{"Key": "z"}, {"Key": "k"}]}}
        ):
            log.append("write")

    with object_holds.held("s3", "GetObject", {"Bucket": "hb", "Key": "k"}):
        with object_holds.held("s3", "HeadObject", {"Bucket": "hb", "Key": "k"}):  # readers share
            log.append("read")
        writer = threading.Thread(target=write)
        writer.start()
        writer_waiting.wait(10)
        writer.join(0.5)  # bounded: the writer must still be waiting whatever the delay
        assert writer.is_alive() and log == ["read"], log
    writer.join(10)
    assert log == ["read", "write"]
