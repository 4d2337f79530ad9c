"""Attack class: implicit accesses, review round 4 — accesses a service makes itself, on a caller's behalf or as
its own service principal, each authorized as AWS authorizes it.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* when each test's server stops.
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


def _log_group(logs: Any, group: str) -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now, "message": "hello"}])


def _keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_log_export_needs_the_bucket_policy_to_grant_the_logs_service(make_server: Callable[..., Endpoint]) -> None:
    """CreateExportTask: CloudWatch Logs checks the destination bucket as its own service principal
    (`logs.<region>.amazonaws.com`: s3:GetBucketAcl on the bucket, s3:PutObject on the objects), which only the
    bucket policy can grant — for a bucket of the caller's own account as for another's; the caller's own
    permission to write the bucket is not enough
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html, "Set permissions on an Amazon
    S3 bucket": "If the bucket is in your account, use the following policy").
    Attack: an account's root (allowed everything by its identity) exports a log group into its own bucket whose
    policy grants the logs service nothing; lambdaperm authorized the write as the caller only and the backend
    wrote the export. AWS's outcome: refused ("GetBucketAcl call on the given bucket failed"), nothing written.
    """
    server = make_server()  # its own server: the structural oracle's verdict on it is this finding's alone
    account = "777700000001"
    logs = server.client("logs", key=account)
    _log_group(logs, "r4-exported")
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r4-no-logs-grant")
    with pytest.raises(ClientError) as caught:
        logs.create_export_task(
            logGroupName="r4-exported", fromTime=0, to=2**41, destination="r4-no-logs-grant", destinationPrefix="x"
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "GetBucketAcl call on the given bucket failed" in caught.value.response["Error"]["Message"]
    assert _keys(s3, "r4-no-logs-grant") == []


def _logs_grant(bucket: str, source_account: str) -> str:
    """The bucket policy of AWS's export guide: the regional logs service may read the ACL and write objects,
    for log groups of `source_account` only."""
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
            "Resource": f"arn:aws:s3:::{bucket}/*",
            "Condition": {**condition, **acl},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def test_a_log_export_is_decided_by_the_source_account_the_bucket_policy_names(
    make_server: Callable[..., Endpoint],
) -> None:
    """The bucket policy's grant to the logs service is scoped by aws:SourceAccount / aws:SourceArn (the
    confused-deputy guard of https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html):
    a grant for another account's log groups does not let this account export into the bucket; the grant for
    this account's does (positive control: on a group without streams, so that the export writes nothing
    beyond the authorized keys — the structural oracle does not model an export's objects under its prefix)."""
    server = make_server()
    account = "777700000002"
    logs = server.client("logs", key=account)
    logs.create_log_group(logGroupName="r4-scoped")
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="r4-other-source")
    s3.put_bucket_policy(Bucket="r4-other-source", Policy=_logs_grant("r4-other-source", "777700000099"))
    with pytest.raises(ClientError) as caught:
        logs.create_export_task(
            logGroupName="r4-scoped", fromTime=0, to=2**41, destination="r4-other-source", destinationPrefix="x"
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert _keys(s3, "r4-other-source") == []
    s3.create_bucket(Bucket="r4-own-source")
    s3.put_bucket_policy(Bucket="r4-own-source", Policy=_logs_grant("r4-own-source", account))
    task = logs.create_export_task(
        logGroupName="r4-scoped", fromTime=0, to=2**41, destination="r4-own-source", destinationPrefix="x"
    )
    assert task["taskId"]
    assert logs.describe_export_tasks(taskId=task["taskId"])["exportTasks"][0]["destination"] == "r4-own-source"


def test_server_access_logs_go_only_to_a_bucket_of_the_source_buckets_owner(
    make_server: Callable[..., Endpoint],
) -> None:
    """S3 server access logging: "The source and destination buckets must be owned by the same AWS account"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html); PutBucketLogging
    with another account's target bucket is 400 InvalidTargetBucketForLogging.
    Attack: account B's audit bucket grants `logging.s3.amazonaws.com` s3:PutObject with no source condition
    (the unconditioned grant of older guides); account A points the logging of its own bucket at B's bucket,
    then makes requests to its bucket — each a log object written into B's bucket. AWS's outcome: the
    configuration is refused, nothing is written into B's bucket."""
    server = make_server()
    a, b = "777700000003", "777700000004"
    victim = server.client("s3", key=b)
    victim.create_bucket(Bucket="r4-b-audit")
    grant = {
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::r4-b-audit/*",
    }
    victim.put_bucket_policy(Bucket="r4-b-audit", Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]}))
    attacker = server.client("s3", key=a)
    attacker.create_bucket(Bucket="r4-a-source")
    with pytest.raises(ClientError) as caught:
        attacker.put_bucket_logging(
            Bucket="r4-a-source",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "r4-b-audit", "TargetPrefix": "a/"}},
        )
    assert caught.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"
    for n in range(3):
        attacker.put_object(Bucket="r4-a-source", Key=f"k{n}", Body=b"x")
    assert _keys(victim, "r4-b-audit") == []
