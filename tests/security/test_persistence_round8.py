"""Persistence, review round 8: lambdaperm's own records about the data plane (the bucket registry, S3 → Lambda
targets) against the durable data plane's journal, with `kill -9` placed deterministically by `crash_gate_round7`
(the trail commit, which carries the call's journal entry, is stopped until the test kills the server).

The rule under test: after a restart, the records say what the acknowledged calls produced — nothing an
unacknowledged call did, and everything an acknowledged one did. A call lost by the crash must leave neither its
data-plane effect nor its records (they commit in one transaction with its journal entry).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.state.db import Database
from tests.e2e.conftest import Endpoint
from tests.security import race_gate
from tests.security.gated_servers import gated_starter
from tests.security.restart_support import crash_during, delivered, lambda_targets, s3_key_logger
from tests.security.test_persistence_round7 import gated  # noqa: F401  (the fixture)

A = "777800000081"
B = "777800000082"


@pytest.fixture
def gated_import(tmp_path: Path) -> Iterator[Callable[[], tuple[Endpoint, Path]]]:
    """Start servers on `tmp_path/state` with the crash gates and ImportTable's gate (`crash_gate_round8`)."""
    yield from gated_starter(tmp_path, "tests.security.crash_gate_round8")


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _config(arn: str) -> dict[str, Any]:
    return {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]}


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
    arn = s3_key_logger(first, A, bucket)
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
    targets = lambda_targets(state, bucket)
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
    arn = s3_key_logger(first, A, bucket)
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=_config(arn))
    crash_during(first, gate, lambda: s3.delete_bucket(Bucket=bucket))

    second, gate = gated()
    s3 = second.client("s3", key=A)
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations")
    s3.put_object(Bucket=bucket, Key="after-lost-delete", Body=b"x")
    assert delivered(second, A, "after-lost-delete")
    crash_during(
        second, gate, lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    )

    third, _ = gated()
    s3 = third.client("s3", key=A)
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("LambdaFunctionConfigurations")
    s3.put_object(Bucket=bucket, Key="after-lost-removal", Body=b"x")
    assert delivered(third, A, "after-lost-removal")


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


def test_a_snapshot_after_an_import_table_covers_the_journal(gated: Callable[[], tuple[Endpoint, Path]]) -> None:  # noqa: F811
    """Attack (durability, not an allow): after one ImportTable, a clean shutdown must still write a snapshot and
    drop the journal it covers. moto keeps the import as a `threading.Thread` (which holds `sys.stderr`), the
    pickle fails, and from then on every snapshot fails: the journal is never truncated and every start-up
    replays all of it (and with it the import, see docs/security.md, persistence review round 8). And the
    snapshot, once written, must give back the import and an export as DescribeImport / ListExports described
    them, with the table and the export's objects.

    AWS: DescribeImport keeps describing a finished import
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeImport.html), ListExports a
    finished export (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListExports.html)."""
    first, _ = gated()
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r8-import-snap")
    s3.put_object(Bucket="r8-import-snap", Key="data/part-1.json", Body=b'{"Item": {"pk": {"S": "a"}}}\n')
    ddb = first.client("dynamodb", key=A)
    arn = _import(ddb, "r8-import-snap", "r8-snap")
    imported = _finished_import(ddb, arn)
    assert imported["ImportStatus"] == "COMPLETED"
    export = _export(ddb, "r8-snap", "r8-import-snap")
    exported = _finished_export(ddb, "r8-snap", export)
    objects = _exported_objects(s3, "r8-import-snap")
    assert exported["ExportStatus"] == "COMPLETED" and len(objects) == 2
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

    second, _ = gated()  # from the snapshot alone
    ddb = second.client("dynamodb", key=A)
    assert ddb.describe_import(ImportArn=arn)["ImportTableDescription"] == imported
    assert _finished_export(ddb, "r8-snap", export) == exported
    assert [i["pk"]["S"] for i in ddb.scan(TableName="r8-snap")["Items"]] == ["a"]
    assert _exported_objects(second.client("s3", key=A), "r8-import-snap") == objects


# --- ImportTable / ExportTableToPointInTime: one unit, replayed from the plan on its tape ------------------------


_TABLE = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _lines(*pks: str) -> bytes:
    return "".join(json.dumps({"Item": {"pk": {"S": pk}}}) + "\n" for pk in pks).encode()


def _import(ddb: Any, bucket: str, table: str) -> str:
    """ImportTable of `bucket`'s prefix `data/` into `table`; its ARN (answered as AWS answers it: IN_PROGRESS)."""
    started = ddb.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": "data/"},
        InputFormat="DYNAMODB_JSON",
        TableCreationParameters={"TableName": table, **_TABLE},
    )["ImportTableDescription"]
    assert started["ImportStatus"] == "IN_PROGRESS"
    return str(started["ImportArn"])


def _finished_import(ddb: Any, arn: str) -> dict[str, Any]:
    """The import's description once it is no longer IN_PROGRESS (bounded wait on a positive signal)."""
    deadline = time.monotonic() + 20
    while True:
        found: dict[str, Any] = ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
        if found["ImportStatus"] != "IN_PROGRESS":
            return found
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.05)


def _export(ddb: Any, table: str, bucket: str) -> str:
    """ExportTableToPointInTime of `table` (point-in-time recovery enabled first) under `bucket`'s `exports`."""
    ddb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="exports")
    assert started["ExportDescription"]["ExportStatus"] == "IN_PROGRESS"
    return str(started["ExportDescription"]["ExportArn"])


def _finished_export(ddb: Any, table: str, arn: str) -> dict[str, Any]:
    """The export's summary (ListExports: DescribeExport is not mapped) once it is no longer IN_PROGRESS."""
    table_arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    deadline = time.monotonic() + 20
    while True:
        listed = ddb.list_exports(TableArn=table_arn)["ExportSummaries"]
        found: dict[str, Any] = next(summary for summary in listed if summary["ExportArn"] == arn)
        if found["ExportStatus"] != "IN_PROGRESS":
            return found
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.05)


def _exported_objects(s3: Any, bucket: str) -> dict[str, tuple[bytes, str, Any]]:
    """Every object under `exports/`: key → (bytes, ETag, LastModified)."""
    found = {}
    for listed in s3.list_objects_v2(Bucket=bucket, Prefix="exports/").get("Contents", []):
        got = s3.get_object(Bucket=bucket, Key=listed["Key"])
        found[listed["Key"]] = (got["Body"].read(), got["ETag"], got["LastModified"])
    return found


def _scan(ddb: Any, table: str) -> list[str]:
    return sorted(i["pk"]["S"] for i in ddb.scan(TableName=table, ConsistentRead=True)["Items"])


def test_an_object_written_under_the_prefix_after_an_import_is_not_imported_after_a_restart(
    gated: Callable[[], tuple[Endpoint, Path]],  # noqa: F811
) -> None:
    """Attack: an ImportTable of `data/` is acknowledged (its objects decided on and imported); then an object is
    written under `data/` (a row the importer never read, and may not be allowed to). After a kill -9 the replay
    must import the objects the acknowledged import read, never the bucket as it is when the journal is replayed
    (moto's own import, run when the pinned one was not installed yet, listed the bucket again).

    AWS: an import reads the objects under its prefix when it runs; an object written afterwards is not part of
    it (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.HowItWorks.html)."""
    first, _ = gated()
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r8-import-late")
    s3.put_object(Bucket="r8-import-late", Key="data/part-1.json", Body=_lines("a", "b"))
    ddb = first.client("dynamodb", key=A)
    assert _finished_import(ddb, _import(ddb, "r8-import-late", "r8-late"))["ImportedItemCount"] == 2
    s3.put_object(Bucket="r8-import-late", Key="data/part-2.json", Body=_lines("late"))
    assert _scan(ddb, "r8-late") == ["a", "b"]
    first.proc.kill()
    first.proc.wait()

    second, _ = gated()
    assert _scan(second.client("dynamodb", key=A), "r8-late") == ["a", "b"]


def test_an_object_written_while_an_import_is_decided_is_not_imported_after_a_restart(
    gated_import: Callable[[], tuple[Endpoint, Path]],
) -> None:
    """Attack: an ImportTable of `data/` is stopped after its objects were listed (the pin: `part-1`) and before
    they are decided on; `data/secret.json` is written then, and the import — decided on `part-1` only — imports
    `part-1` (acknowledged). The PutObject executed before the import, so a replay that lists the bucket when the
    import is replayed (the pinned import not installed before the replay) finds and imports `secret.json`: a row
    nobody decided the importer may read, in a table she can Scan. The replay must import the bytes taped live.

    AWS: the import reads as its caller the objects decided on (implicit accesses review round 5,
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.Requesting.html)."""
    first, gate = gated_import()
    s3 = first.client("s3", key=A)
    bucket = "r8-import-gated"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="data/part-1.json", Body=_lines("a"))
    ddb = first.client("dynamodb", key=A)
    (gate / f"import-{bucket}.hold").touch()
    outcome: list[Any] = []
    importing = threading.Thread(target=lambda: outcome.append(_import(ddb, bucket, "r8-gated")))
    importing.start()
    race_gate.wait_for(gate / f"import-{bucket}.arrived")
    (gate / f"import-{bucket}.hold").unlink()
    s3.put_object(Bucket=bucket, Key="data/secret.json", Body=_lines("secret"))
    (gate / f"import-{bucket}.go").touch()
    importing.join(30)
    assert outcome, "the import was not acknowledged"
    assert _finished_import(ddb, outcome[0])["ImportedItemCount"] == 1
    assert _scan(ddb, "r8-gated") == ["a"]
    first.proc.kill()
    first.proc.wait()

    second, _ = gated_import()
    assert _scan(second.client("dynamodb", key=A), "r8-gated") == ["a"]


def test_an_export_is_restored_as_written_and_what_followed_it_stays_after_a_kill_9(
    gated: Callable[[], tuple[Endpoint, Path]],  # noqa: F811
) -> None:
    """Attack: an ExportTableToPointInTime is acknowledged (its objects written: `_started` and the data file,
    holding items a and b); then item b is deleted and the export's `_started` object too (both acknowledged).
    After a kill -9 the replay must give the export's objects exactly as they were written (same keys, bytes, ETag,
    time: the table as it was when the export ran, not as the entries after it left it), with the deleted object
    still deleted and the deleted item still deleted. moto wrote the objects in a thread of its own outside any
    unit (not ordered, not journaled), and a replayed export without the pinned export wrote other keys.

    AWS: an export writes the table's items as of its point in time under `<S3Prefix>/AWSDynamoDB/<ExportId>/`
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html); acknowledged
    DeleteItem and DeleteObject are durable."""
    first, _ = gated()
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r8-export")
    s3.put_object(Bucket="r8-export", Key="data/part-1.json", Body=_lines("a", "b"))
    ddb = first.client("dynamodb", key=A)
    _finished_import(ddb, _import(ddb, "r8-export", "r8-exported"))
    export = _export(ddb, "r8-exported", "r8-export")
    described = _finished_export(ddb, "r8-exported", export)
    assert described["ExportStatus"] == "COMPLETED"
    written = _exported_objects(s3, "r8-export")
    export_id = export.rsplit("/", 1)[1]
    started, data = sorted(written, key=lambda key: key.endswith("_started"), reverse=True)
    assert started == f"exports/AWSDynamoDB/{export_id}/_started" and data.startswith(
        f"exports/AWSDynamoDB/{export_id}/data/"
    )
    rows = gzip.decompress(written[data][0]).decode().splitlines()
    assert sorted(json.loads(row)["Item"]["pk"]["S"] for row in rows) == ["a", "b"]
    ddb.delete_item(TableName="r8-exported", Key={"pk": {"S": "b"}})
    s3.delete_object(Bucket="r8-export", Key=started)
    first.proc.kill()
    first.proc.wait()

    second, _ = gated()
    ddb = second.client("dynamodb", key=A)
    assert _exported_objects(second.client("s3", key=A), "r8-export") == {data: written[data]}
    assert _scan(ddb, "r8-exported") == ["a"]
    assert _finished_export(ddb, "r8-exported", export) == described


def test_an_export_the_crash_lost_leaves_no_object(gated: Callable[[], tuple[Endpoint, Path]]) -> None:  # noqa: F811
    """Attack: an ExportTableToPointInTime executes (its objects written) and the server is killed before its
    journal entry commits. After the restart there is neither the export nor any of its objects: the export's
    writes are part of its call's unit, lost with it (moto's thread wrote them outside any unit).

    AWS: a call never acknowledged may not have happened; what it would have written is not there."""
    first, gate = gated()
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="r8-export-lost")
    s3.put_object(Bucket="r8-export-lost", Key="data/part-1.json", Body=_lines("a"))
    ddb = first.client("dynamodb", key=A)
    _finished_import(ddb, _import(ddb, "r8-export-lost", "r8-export-lost"))
    ddb.update_continuous_backups(
        TableName="r8-export-lost", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    arn = ddb.describe_table(TableName="r8-export-lost")["Table"]["TableArn"]
    crash_during(
        first,
        gate,
        lambda: ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="r8-export-lost", S3Prefix="exports"),
    )

    second, _ = gated()
    assert _exported_objects(second.client("s3", key=A), "r8-export-lost") == {}
    assert second.client("dynamodb", key=A).list_exports(TableArn=arn)["ExportSummaries"] == []
