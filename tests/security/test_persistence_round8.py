"""Persistence, review round 8: lambdaperm's own records about the data plane (the bucket registry, S3 → Lambda
targets) against the durable data plane's journal, with `kill -9` placed deterministically by `crash_gate_round7`
(the trail commit, which carries the call's journal entry, is stopped until the test kills the server).

The rule under test: after a restart, the records say what the acknowledged calls produced — nothing an
unacknowledged call did, and everything an acknowledged one did. A call lost by the crash must leave neither its
data-plane effect nor its records (they commit in one transaction with its journal entry).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.gateway.events import NOTIFICATION
from lambdaperm.state import Records
from lambdaperm.state.db import Database
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.test_persistence_round7 import crash_during, gated  # noqa: F401  (the fixture)

A = "777800000081"
B = "777800000082"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _lambda_targets(state: Path, bucket: str) -> Any:
    """The S3 → Lambda targets lambdaperm keeps for `bucket` (its records, read beside the server)."""
    db = Database(state)
    try:
        return Records(db).get(NOTIFICATION, "", bucket)
    finally:
        db.close()


def _function(endpoint: Endpoint, bucket: str) -> str:
    """Function `process` of A (logs every S3 key it is given), invocable by S3 for `bucket`."""
    role = make_role(
        endpoint.client("iam", key=A),
        "process-role",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": "*",
                }
            ],
        },
    )
    lam = endpoint.client("lambda", key=A)
    handler = "def handler(e, c):\n    print('saw', e['Records'][0]['s3']['object']['key'])\n    return 1\n"
    arn = lam.create_function(
        FunctionName="process",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": handler})},
    )["FunctionArn"]
    lam.add_permission(
        FunctionName="process",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount=A,
    )
    return str(arn)


def _config(arn: str) -> dict[str, Any]:
    return {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]}


def _delivered(endpoint: Endpoint, key: str) -> bool:
    """Whether function `process` logged an S3 event of `key` (waited for, up to 30 s: a positive signal)."""
    logs = endpoint.client("logs", key=A)
    deadline = time.monotonic() + 30
    while True:
        try:
            found = logs.filter_log_events(logGroupName="/aws/lambda/process", filterPattern=f'"saw {key}"')["events"]
        except ClientError:  # no log group yet
            found = []
        if found or time.monotonic() >= deadline:
            return bool(found)
        time.sleep(0.2)


# --- the bucket registry ----------------------------------------------------------------------------------------


def test_a_create_bucket_the_crash_lost_reserves_no_name(gated: Callable[[], tuple[Endpoint, Path]]) -> None:  # noqa: F811
    """Attack: A's CreateBucket executes (the registry names A the name's owner) and the server is killed before
    the call's journal entry commits. After the restart there is no bucket — the create was never acknowledged —
    but the registry still names A: any other account's CreateBucket is refused BucketAlreadyExists for a name
    nobody holds, and the name stays A's (A may create it at any time; another's bucket under it would be
    refused). The registry must say what the acknowledged calls produced: the name is free.

    AWS: "after a bucket is deleted, the name becomes available for reuse"; a name is held by an existing bucket
    only (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)."""
    first, gate = gated()
    crash_during(first, gate, lambda: first.client("s3", key=A).create_bucket(Bucket="r8-lost-create"))

    second, _ = gated()
    with pytest.raises(ClientError) as missing:
        second.client("s3", key=A).head_bucket(Bucket="r8-lost-create")
    assert missing.value.response["Error"]["Code"] in ("404", "NoSuchBucket")
    other = second.client("s3", key=B)
    other.create_bucket(Bucket="r8-lost-create")  # the name was never A's
    with pytest.raises(ClientError) as taken:
        second.client("s3", key=A).create_bucket(Bucket="r8-lost-create")
    assert code(taken) == "BucketAlreadyExists"


def test_a_create_and_delete_committed_together_leave_the_name_free(
    gated: Callable[[], tuple[Endpoint, Path]],  # noqa: F811
) -> None:
    """Positive control of the ordering of records written with their journal entries: a CreateBucket then a
    DeleteBucket, both acknowledged, then a clean restart — the name is free for another account, and that
    account holds it after a second restart.

    AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"""
    first, _ = gated()
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r8-free")
    s3.delete_bucket(Bucket="r8-free")
    first.proc.kill()  # no clean shutdown: everything comes from the journal
    first.proc.wait()
    second, _ = gated()
    second.client("s3", key=B).create_bucket(Bucket="r8-free")
    second.proc.kill()
    second.proc.wait()
    third, _ = gated()
    with pytest.raises(ClientError) as taken:
        third.client("s3", key=A).create_bucket(Bucket="r8-free")
    assert code(taken) == "BucketAlreadyExists"
    third.client("s3", key=B).head_bucket(Bucket="r8-free")


# --- S3 → Lambda targets ---------------------------------------------------------------------------------------


def test_a_notification_configuration_the_crash_lost_keeps_no_lambda_target(
    gated: Callable[[], tuple[Endpoint, Path]],  # noqa: F811
) -> None:
    """Attack: the owner's PutBucketNotificationConfiguration adding a Lambda target executes (lambdaperm keeps
    the target in its records at once) and the server is killed before its journal entry commits. After the
    restart the bucket has no notification configuration (GetBucketNotificationConfiguration shows none) but
    lambdaperm still holds the target, and every new object is pushed to the function: a configuration nobody
    was answered for delivers the bucket's object keys.

    AWS: a bucket's notification configuration is the one last written and acknowledged; GetBucketNotification-
    Configuration returns what is in force
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html)."""
    first, gate = gated()
    bucket = "r8-lost-notification"
    arn = _function(first, bucket)
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket=bucket)
    crash_during(
        first,
        gate,
        lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=_config(arn)),
    )

    second, _ = gated()
    s3 = second.client("s3", key=A)
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    state = second.state
    assert state is not None
    targets = _lambda_targets(state, bucket)
    assert targets is None or targets.get("Targets") == []


def test_a_delete_bucket_the_crash_lost_keeps_the_restored_buckets_lambda_target(
    gated: Callable[[], tuple[Endpoint, Path]],  # noqa: F811
) -> None:
    """Attack (a wrong deny, the mirror of the above): the owner's DeleteBucket executes (lambdaperm drops the
    bucket's Lambda targets at once) and the server is killed before its journal entry commits. After the
    restart the bucket is back with its notification configuration, but its objects no longer reach the
    function. And the removal of the targets by an unacknowledged empty PutBucketNotificationConfiguration
    likewise.

    AWS: a bucket and its notification configuration exist until a DeleteBucket succeeds
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucket.html)."""
    first, gate = gated()
    bucket = "r8-lost-delete"
    arn = _function(first, bucket)
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=_config(arn))
    crash_during(first, gate, lambda: s3.delete_bucket(Bucket=bucket))

    second, gate = gated()
    s3 = second.client("s3", key=A)
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations")
    s3.put_object(Bucket=bucket, Key="after-lost-delete", Body=b"x")
    assert _delivered(second, "after-lost-delete")
    crash_during(
        second, gate, lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    )

    third, _ = gated()
    s3 = third.client("s3", key=A)
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations")
    s3.put_object(Bucket=bucket, Key="after-lost-removal", Body=b"x")
    assert _delivered(third, "after-lost-removal")


# --- ImportTable after a restart ---------------------------------------------------------------------------------


def test_an_acknowledged_import_table_survives_a_kill_9(gated: Callable[[], tuple[Endpoint, Path]]) -> None:  # noqa: F811
    """Attack: an ImportTable is acknowledged and completes; one item is then deleted (acknowledged). The server is
    killed (-9: no snapshot) and restarted: the replay must give the imported table with its items as the
    acknowledged calls left them — not lose the import (the replayed import has no pinned plan) nor bring the
    deleted item back.

    AWS: ImportTable creates the table and writes the source's items; an acknowledged DeleteItem is durable
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ImportTable.html)."""
    first, _ = gated()
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r8-import-source")
    lines = "".join(json.dumps({"Item": {"pk": {"S": pk}}}) + "\n" for pk in ("a", "b", "c"))
    s3.put_object(Bucket="r8-import-source", Key="data/part-1.json", Body=lines.encode())
    ddb = first.client("dynamodb", key=A)
    arn = ddb.import_table(
        S3BucketSource={"S3Bucket": "r8-import-source", "S3KeyPrefix": "data/"},
        InputFormat="DYNAMODB_JSON",
        TableCreationParameters={
            "TableName": "r8-imported",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]["ImportArn"]
    deadline = time.monotonic() + 20
    while ddb.describe_import(ImportArn=arn)["ImportTableDescription"]["ImportStatus"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.05)
    ddb.delete_item(TableName="r8-imported", Key={"pk": {"S": "b"}})
    first.proc.kill()
    first.proc.wait()

    second, _ = gated()
    ddb = second.client("dynamodb", key=A)
    items = ddb.scan(TableName="r8-imported", ConsistentRead=True)["Items"]
    assert sorted(i["pk"]["S"] for i in items) == ["a", "c"]


@pytest.mark.xfail(
    strict=True,
    reason="review round 8: moto's TableImport is a Thread (sys.stderr): every snapshot after an ImportTable fails",
)
def test_a_snapshot_after_an_import_table_covers_the_journal(gated: Callable[[], tuple[Endpoint, Path]]) -> None:  # noqa: F811
    """Attack (durability, not an allow): after one ImportTable, a clean shutdown must still write a snapshot and
    drop the journal it covers. moto keeps the import as a `threading.Thread` (which holds `sys.stderr`), the
    pickle fails, and from then on every snapshot fails: the journal is never truncated and every start-up
    replays all of it (and with it the import, see docs/security.md, persistence review round 8).

    AWS: DescribeImport keeps describing a finished import
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeImport.html)."""
    first, _ = gated()
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r8-import-snap")
    s3.put_object(Bucket="r8-import-snap", Key="data/part-1.json", Body=b'{"Item": {"pk": {"S": "a"}}}\n')
    ddb = first.client("dynamodb", key=A)
    arn = ddb.import_table(
        S3BucketSource={"S3Bucket": "r8-import-snap", "S3KeyPrefix": "data/"},
        InputFormat="DYNAMODB_JSON",
        TableCreationParameters={
            "TableName": "r8-snap",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )["ImportTableDescription"]["ImportArn"]
    deadline = time.monotonic() + 20
    while ddb.describe_import(ImportArn=arn)["ImportTableDescription"]["ImportStatus"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.05)
    first.proc.terminate()  # a clean shutdown: a snapshot, then the journal it covers is deleted
    assert first.proc.wait(timeout=60) == 0
    state = first.state
    assert state is not None
    db = Database(state)
    try:
        left = db.connection().execute("SELECT count(*) FROM dataplane_journal").fetchone()[0]
    finally:
        db.close()
    assert (state / "dataplane.snapshot").exists()
    assert left == 0
