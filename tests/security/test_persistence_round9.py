"""Persistence, review round 9: what a start-up's replay of the data-plane journal executes, against what the
journaled calls executed live.

The rule under test: a replayed entry does exactly what its call did when it was authorized and acknowledged —
the same objects, in the same buckets, with the same ids — never what the backend's own code would do with the
same parameters (docs/architecture.md, "Durable data plane"; AWS: an acknowledged write is durable,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Endpoint

A = "777800000091"
REGION = "us-east-1"


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _export_grant(bucket: str, source_account: str, prefix: str) -> str:
    """AWS's export guide policy, writes scoped to `prefix/`: the regional logs
    service may read the ACL and write objects under the prefix, for log groups of `source_account` only
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasksConsole.html)."""
    service = {"Service": f"logs.{REGION}.amazonaws.com"}
    condition = {
        "StringEquals": {"aws:SourceAccount": source_account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{REGION}:{source_account}:log-group:*"},
    }
    acl = {"StringEquals": {**condition["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"}}
    statements = [
        {
            "Effect": "Allow",
            "Principal": service,
            "Action": "s3:GetBucketAcl",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": condition,
        },
        {
            "Effect": "Allow",
            "Principal": service,
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*",
            "Condition": {**condition, **acl},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def test_a_replayed_log_export_writes_what_the_export_wrote(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack: account A exports the streams of its log group whose names start with `pub` into its bucket,
    whose policy lets the logs service write under `exp/` only. Live, lambdaperm pins the export (the
    task id, the streams) and authorizes every key: `exp/aws-logs-write-test` and `exp/<task>/pub/000000.gz`.
    The server is then killed (kill -9 after the acknowledgement: the next start-up replays the journal). If the
    replay runs the backend's own CreateExportTask rather than the pinned plan on the entry's tape, it writes
    `aws-logs-write-test` at the root of the bucket (a key its policy never let the logs service write), one
    object per stream of the group — A's `private` stream, which the export excluded, is written too — under
    fresh random folders, and the acknowledged task id is unknown.

    AWS: an export writes `destinationPrefix/aws-logs-write-test` and the matching streams' objects under
    `destinationPrefix/taskId/` (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html,
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html); what was
    acknowledged is what is durable, nothing else."""
    state = tmp_path / "state"
    state_server = make_server(state)
    logs = state_server.client("logs", key=A)
    logs.create_log_group(logGroupName="r9-app")
    now = int(time.time() * 1000)
    for stream in ("pub", "private"):
        logs.create_log_stream(logGroupName="r9-app", logStreamName=stream)
        logs.put_log_events(
            logGroupName="r9-app", logStreamName=stream, logEvents=[{"timestamp": now, "message": f"{stream} line"}]
        )
    s3a = state_server.client("s3", key=A)
    s3a.create_bucket(Bucket="r9-exports")
    s3a.put_bucket_policy(Bucket="r9-exports", Policy=_export_grant("r9-exports", A, "exp"))
    task = logs.create_export_task(
        logGroupName="r9-app",
        fromTime=0,
        to=now + 60_000,
        destination="r9-exports",
        destinationPrefix="exp",
        logStreamNamePrefix="pub",
    )["taskId"]
    live = _keys(s3a, "r9-exports")
    assert live == sorted(["exp/aws-logs-write-test", f"exp/{task}/pub/000000.gz"])  # the pinned export, live

    state_server.proc.kill()  # acknowledged, then kill -9: no snapshot at shutdown, the journal is replayed
    state_server.proc.wait()
    restarted = make_server(state)
    assert _keys(restarted.client("s3", key=A), "r9-exports") == live
    described = restarted.client("logs", key=A).describe_export_tasks(taskId=task)["exportTasks"]
    assert [t["taskId"] for t in described] == [task]
