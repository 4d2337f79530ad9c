"""Attack class: implicit accesses, follow-up of review round 4 — a CloudWatch Logs export is authorized on every
object key it writes, and writes no other.

CreateExportTask writes `{destinationPrefix}/aws-logs-write-test`, then one object per exported log stream,
`{destinationPrefix}/{taskId}/{logStreamName}/000000.gz`
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html). Both the caller ("credentials
that have permission to write to the S3 bucket",
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html) and the logs
service principal (through the bucket policy) must be allowed s3:PutObject on those keys. lambdaperm decided on
the key `{prefix}/` (never written) and the backend wrote keys of its own choosing.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"


def _user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    return clients_of(server, user_keys(server, account, name, *statements))


def _group(logs: Any, group: str, streams: dict[str, list[str]]) -> int:
    """A log group whose streams hold these messages (stamped now); returns the events' timestamp."""
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    for stream, messages in streams.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        if messages:
            events = [{"timestamp": now, "message": m} for m in messages]
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    return now


def _bucket_for_logs(s3: Any, bucket: str, account: str) -> None:
    """A bucket whose policy grants the regional logs service what AWS's export guide grants it."""
    s3.create_bucket(Bucket=bucket)
    service = {"Service": f"logs.{REGION}.amazonaws.com"}
    source = {"aws:SourceAccount": account}
    statements = [
        {
            "Effect": "Allow",
            "Principal": service,
            "Action": "s3:GetBucketAcl",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringEquals": source},
        },
        {
            "Effect": "Allow",
            "Principal": service,
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}},
        },
    ]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_an_export_is_decided_on_the_keys_it_writes_not_on_its_prefix(server: Endpoint) -> None:
    """Attack: a user allowed s3:PutObject on exactly `b/x/` and `b/aws-logs-write-test` (no wildcard: the keys
    lambdaperm used to decide on) exports a group with events under prefix `x`; the backend wrote
    `x/<uuid>/s/000000.gz`. AWS's outcome: AccessDeniedException (the export's objects are not writable by the
    caller), nothing written."""
    account = "555500000001"
    admin_logs, admin_s3 = server.client("logs", key=account), server.client("s3", key=account)
    _group(admin_logs, "f1-exact", {"s": ["hello"]})
    _bucket_for_logs(admin_s3, "f1-exact-bucket", account)
    exporter = _user(
        server,
        account,
        "exact-writer",
        [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": ["arn:aws:s3:::f1-exact-bucket/x/", "arn:aws:s3:::f1-exact-bucket/aws-logs-write-test"],
            },
        ],
    )
    with pytest.raises(ClientError) as caught:
        exporter("logs").create_export_task(
            logGroupName="f1-exact", fromTime=0, to=2**41, destination="f1-exact-bucket", destinationPrefix="x"
        )
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert _keys(admin_s3, "f1-exact-bucket") == []


def test_a_deny_on_one_streams_objects_refuses_the_export(server: Endpoint) -> None:
    """Attack: a user allowed s3:PutObject on `b/x/*` but explicitly denied `b/x/*/secret-stream/*` exports a
    group that has a `secret-stream` with events. AWS's outcome: AccessDeniedException, nothing written."""
    account = "555500000002"
    admin_logs, admin_s3 = server.client("logs", key=account), server.client("s3", key=account)
    _group(admin_logs, "f1-secret", {"public": ["ok"], "secret-stream": ["password=hunter2"]})
    _bucket_for_logs(admin_s3, "f1-secret-bucket", account)
    exporter = _user(
        server,
        account,
        "denied-writer",
        [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::f1-secret-bucket/x/*"},
            {
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::f1-secret-bucket/x/*/secret-stream/*",
            },
        ],
    )
    with pytest.raises(ClientError) as caught:
        exporter("logs").create_export_task(
            logGroupName="f1-secret", fromTime=0, to=2**41, destination="f1-secret-bucket", destinationPrefix="x"
        )
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert _keys(admin_s3, "f1-secret-bucket") == []


def test_the_logs_service_is_decided_on_every_key_too(server: Endpoint) -> None:
    """The bucket policy grants the logs service `b/x/*` but denies it `b/x/*/secret-stream/*`: the service's
    PutObject check on that stream's object fails ("PutObject call on the given bucket failed"), nothing
    written — even for the account's root, which may write anything."""
    account = "555500000003"
    logs, s3 = server.client("logs", key=account), server.client("s3", key=account)
    _group(logs, "f1-service", {"public": ["ok"], "secret-stream": ["token"]})
    _bucket_for_logs(s3, "f1-service-bucket", account)
    policy = json.loads(s3.get_bucket_policy(Bucket="f1-service-bucket")["Policy"])
    policy["Statement"].append(
        {
            "Effect": "Deny",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::f1-service-bucket/x/*/secret-stream/*",
        }
    )
    s3.put_bucket_policy(Bucket="f1-service-bucket", Policy=json.dumps(policy))
    with pytest.raises(ClientError) as caught:
        logs.create_export_task(
            logGroupName="f1-service", fromTime=0, to=2**41, destination="f1-service-bucket", destinationPrefix="x"
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "PutObject call on the given bucket failed" in caught.value.response["Error"]["Message"]
    assert _keys(s3, "f1-service-bucket") == []


def test_an_allowed_export_writes_exactly_the_authorized_keys(make_server: Callable[..., Endpoint]) -> None:
    """Positive control (its own server: the structural oracle checks acted-on ⊆ authorized when it stops): a
    user allowed `b/x/*` exports a group with one stream holding events in the range, one holding events after
    it and one empty. Written: `x/aws-logs-write-test` and `x/<taskId>/<stream>/000000.gz` for the stream with
    events in [from, to] only, its content the stream's events."""
    server = make_server()
    account = "555500000004"
    admin_logs, admin_s3 = server.client("logs", key=account), server.client("s3", key=account)
    now = _group(admin_logs, "f1-allowed", {"in-range": ["first", "second"], "empty": []})
    admin_logs.create_log_stream(logGroupName="f1-allowed", logStreamName="later")
    admin_logs.put_log_events(
        logGroupName="f1-allowed",
        logStreamName="later",
        logEvents=[{"timestamp": now + 60_000, "message": "after the range"}],
    )
    _bucket_for_logs(admin_s3, "f1-allowed-bucket", account)
    exporter = _user(
        server,
        account,
        "writer",
        [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::f1-allowed-bucket/x/*"},
        ],
    )
    task = exporter("logs").create_export_task(
        logGroupName="f1-allowed",
        fromTime=now - 1000,
        to=now + 1000,
        destination="f1-allowed-bucket",
        destinationPrefix="x",
    )["taskId"]
    assert _keys(admin_s3, "f1-allowed-bucket") == sorted(["x/aws-logs-write-test", f"x/{task}/in-range/000000.gz"])
    # (the object's content is not read back: GetObject of a body that is not UTF-8 fails in the embedded
    # backend's reply parsing, a finding reported separately; its size shows the two events were written)
    head = admin_s3.head_object(Bucket="f1-allowed-bucket", Key=f"x/{task}/in-range/000000.gz")
    stamp = datetime.fromtimestamp(now / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert head["ContentLength"] == len(gzip.compress(f"{stamp} first\n{stamp} second".encode()))
    described = admin_logs.describe_export_tasks(taskId=task)["exportTasks"][0]
    assert described["destinationPrefix"] == "x" and described["status"]["code"] == "COMPLETED"
