"""Attack class: implicit accesses, review round 8 — accesses a service makes itself, on a caller's behalf or as
its own service principal, each authorized as AWS authorizes it: S3 endpoints that are not the REST API's (website,
directory buckets), function and event source mapping settings Lambda acts on, Lambda's own log writes, and what
the durable data plane keeps of them across a restart.

Each test plays the attack against a real `lambdaperm serve` with real boto3 (or raw signed HTTP) and asserts
AWS's outcome. The structural oracle (tests/structural) also checks *acted-on ⊆ authorized* when each test's
server stops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.test_implicit_accesses_round7 import to_host

REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    print('log line from the handler')\n    return 'ran'\n"})
BASIC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _until(what: str, check: Callable[[], Any], seconds: float = 30) -> Any:
    """The first truthy answer of `check`, polled for at most `seconds` (a positive signal, bounded)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


# ---- S3 website endpoints and directory-bucket endpoints are not the REST API's ----------------------------------

WEBSITE_HOSTS = [
    ("{b}.s3-website-us-east-1.amazonaws.com", "/secret"),  # s3-website dash Region
    ("{b}.s3-website.us-east-1.amazonaws.com", "/secret"),  # s3-website dot Region
    ("s3-website-us-east-1.amazonaws.com", "/{b}/secret"),  # the website host, read as path style
    ("s3-website.us-east-1.amazonaws.com", "/{b}/secret"),
]


@pytest.mark.parametrize(("host", "path"), WEBSITE_HOSTS)
def test_website_endpoints_are_not_served_as_rest_calls(server: Endpoint, host: str, path: str) -> None:
    """Attack: a signed GET of a private object, and a signed PUT, sent to the bucket's website endpoint
    (`<bucket>.s3-website-<region>.amazonaws.com`) were executed as REST API calls on the bucket with the signer's
    identity: the private object was answered, the PUT overwrote it.
    AWS rule: a website endpoint is not the REST API. It serves only publicly readable content, to anonymous GET and
    HEAD requests (other methods: 405 Method Not Allowed; a private object: 403), and supports no authenticated
    requests (https://docs.aws.amazon.com/AmazonS3/latest/userguide/WebsiteEndpoints.html, "Key differences between
    a website endpoint and a REST API endpoint"). lambdaperm serves no website hosting: 501 NotImplemented naming the
    endpoint, and the object is unchanged."""
    account = "780800000001"
    s3 = server.client("s3", key=account)
    bucket = f"site-{account}"
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="secret", Body=b"private content")
    host, path = host.format(b=bucket), path.format(b=bucket)
    status, body = to_host(server, "GET", path, host, key=account)
    assert status == 501, body
    assert b"private content" not in body and b"website" in body
    status, body = to_host(server, "PUT", path, host, key=account, body=b"overwritten")
    assert status == 501, body
    assert s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"private content"


DIRECTORY_HOSTS = [
    # the zonal endpoint of a directory bucket: virtual-hosted, the bucket name carries the zone
    ("dir--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com", "/{b}"),
    ("s3express-use1-az4.us-east-1.amazonaws.com", "/{b}"),  # the zonal endpoint, path style
    ("s3express-control.us-east-1.amazonaws.com", "/{b}"),  # the regional (control) endpoint
]


@pytest.mark.parametrize(("host", "path"), DIRECTORY_HOSTS)
def test_directory_bucket_endpoints_are_not_read_as_path_style(server: Endpoint, host: str, path: str) -> None:
    """Attack: a request signed for `s3` to a directory bucket's zonal endpoint
    (`<bucket>--<az-id>--x-s3.s3express-<az-id>.<region>.amazonaws.com`) or to the S3 Express control endpoint was
    read as a path-style call on a general purpose bucket named by the path: a GET meant for an object of the
    directory bucket listed another bucket, a PUT meant to write it wrote there.
    AWS rule: those endpoints serve directory buckets (S3 Express One Zone), whose data calls are authorized by
    `s3express:CreateSession` sessions on the directory bucket's ARN (`arn:aws:s3express:…:bucket/<name>`,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-express-security-iam.html), never as a call on a
    general purpose bucket. lambdaperm serves no directory buckets: 501 NotImplemented naming the endpoint."""
    account = "780800000002"
    s3 = server.client("s3", key=account)
    bucket = f"general-{account}"
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="listed-key", Body=b"general purpose")
    status, body = to_host(server, "GET", path.format(b=bucket), host, key=account)
    assert status == 501, body
    assert b"listed-key" not in body and b"directory buckets" in body
    status, body = to_host(server, "PUT", path.format(b=bucket) + "/planted", host, key=account, body=b"x")
    assert status == 501, body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])] == ["listed-key"]


# ---- function settings Lambda acts on, or that are configuration lambdaperm does not apply ------------------------

SETTINGS = [
    ("TracingConfig", {"TracingConfig": {"Mode": "Active"}}),
    ("SnapStart", {"SnapStart": {"ApplyOn": "PublishedVersions"}}),
    ("EphemeralStorage", {"EphemeralStorage": {"Size": 10240}}),
]


@pytest.mark.parametrize(("setting", "extra"), SETTINGS, ids=[s for s, _ in SETTINGS])
def test_settings_lambda_acts_on_are_refused_not_dropped(server: Endpoint, setting: str, extra: dict[str, Any]) -> None:
    """Attack: a function created with active tracing (Lambda writes X-Ray segments with the execution role:
    `xray:PutTraceSegments`, `xray:PutTelemetryRecords`, and refuses a role without them at CreateFunction), with
    SnapStart (Lambda runs the function's initialization at PublishVersion, with the role, and resumes snapshots of
    it) or with 10 GB of ephemeral storage was accepted; the setting was dropped (the configuration answered
    PassThrough, no SnapStart, 512 MB) and the function ran without it.
    AWS rule: tracing: https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html (the execution role needs
    the X-Ray write permissions); SnapStart: https://docs.aws.amazon.com/lambda/latest/dg/snapstart.html;
    ephemeral storage: https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html (/tmp of
    the configured size). lambdaperm serves no X-Ray, no SnapStart and a 512 MB /tmp: 501 NotImplemented naming the
    setting at CreateFunction and UpdateFunctionConfiguration; the values lambdaperm applies (PassThrough, None, 512)
    are accepted."""
    account = "780800000003"
    lam = server.client("lambda", key=account)
    role = make_role(server.client("iam", key=account), f"settings8-{setting}", managed=[BASIC_ROLE])
    name = f"settings8-{setting}"
    base = {"Runtime": "python3.11", "Role": role, "Handler": "app.handler", "Code": {"ZipFile": CODE}}
    with pytest.raises(ClientError) as refused:
        lam.create_function(FunctionName=name, **base, **extra)
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert setting in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        lam.get_function(FunctionName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    served = {
        "TracingConfig": {"TracingConfig": {"Mode": "PassThrough"}},
        "SnapStart": {"SnapStart": {"ApplyOn": "None"}},
        "EphemeralStorage": {"EphemeralStorage": {"Size": 512}},
    }[setting]
    before = lam.create_function(FunctionName=name, **base, **served)  # positive control: what lambdaperm does
    with pytest.raises(ClientError) as refused:
        lam.update_function_configuration(FunctionName=name, Timeout=9, **extra)
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    after = lam.get_function_configuration(FunctionName=name)
    assert after["Timeout"] == before["Timeout"] and after["RevisionId"] == before["RevisionId"]
    lam.update_function_configuration(FunctionName=name, Timeout=9, **served)


# ---- Lambda's log writes: CreateLogGroup only for a group that does not exist -------------------------------------


def _log_messages(server: Endpoint, account: str, group: str) -> list[str]:
    logs = server.client("logs", key=account)
    if not [g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group]:
        return []
    return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]


def test_logs_are_written_to_an_existing_group_without_create_log_group(server: Endpoint) -> None:
    """Wrong deny: the account creates the function's log group itself (with its retention) and gives the role only
    `logs:CreateLogStream` and `logs:PutLogEvents` on it — the usual way to keep Lambda from re-creating a deleted
    group. lambdaperm required `logs:CreateLogGroup` too and dropped every log line.
    AWS rule: Lambda creates the log group when it does not exist ("If no log group exists with the name that you
    entered, Lambda creates a new log group for your function",
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html); an existing group is
    written with CreateLogStream and PutLogEvents. Positive control: without the group, and without
    CreateLogGroup, nothing is written and no group is created."""
    account = "780800000004"
    iam, lam, logs = (server.client(s, key=account) for s in ("iam", "lambda", "logs"))
    streams_only = policy(
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{REGION}:{account}:log-group:/aws/lambda/*",
        }
    )
    role = make_role(iam, "streams-only", streams_only)
    base = {"Runtime": "python3.11", "Role": role, "Handler": "app.handler", "Code": {"ZipFile": CODE}}
    logs.create_log_group(logGroupName="/aws/lambda/precreated")
    lam.create_function(FunctionName="precreated", **base)
    lam.create_function(FunctionName="no-group", **base)
    assert lam.invoke(FunctionName="precreated", Payload=b"{}")["StatusCode"] == 200  # logs shipped before the answer
    assert lam.invoke(FunctionName="no-group", Payload=b"{}")["StatusCode"] == 200
    assert any("log line from the handler" in m for m in _log_messages(server, account, "/aws/lambda/precreated"))
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/no-group")["logGroups"]
    assert groups == []


# ---- SQS event source mappings: partial batch responses, and settings Lambda acts on ------------------------------

PARTIAL = """
def handler(event, context):
    failed = []
    for record in event["Records"]:
        print("processed " + record["body"])
        if record["body"].startswith("fail"):
            failed.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failed}
"""


def _queue_total(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_report_batch_item_failures_deletes_only_the_successful_messages(server: Endpoint) -> None:
    """Attack: an SQS event source mapping with `FunctionResponseTypes: [ReportBatchItemFailures]` — the function
    reports the messages it failed. lambdaperm stored the setting and dropped it: the whole batch was deleted with
    the role's `sqs:DeleteMessage`, the failed messages included (a delete Lambda does not make, and data lost).
    AWS rule: with ReportBatchItemFailures, Lambda deletes only the messages not reported in `batchItemFailures`;
    the reported ones become visible again (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html,
    "Implementing partial batch responses")."""
    account = "780800000005"
    iam, lam, sqs = (server.client(s, key=account) for s in ("iam", "lambda", "sqs"))
    role = make_role(
        iam,
        "partial-batches",
        policy(
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": "*",
            }
        ),
        managed=[BASIC_ROLE],
    )
    url = sqs.create_queue(QueueName="partial")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    code = zip_of({"app.py": PARTIAL})
    lam.create_function(
        FunctionName="partial", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
    )
    sqs.send_message(QueueUrl=url, MessageBody="fail-1")
    sqs.send_message(QueueUrl=url, MessageBody="ok-1")
    mapping = lam.create_event_source_mapping(
        FunctionName="partial", EventSourceArn=arn, BatchSize=10, FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    group = "/aws/lambda/partial"
    _until("the first batch", lambda: any("ok-1" in m for m in _log_messages(server, account, group)))
    # the poller runs one mapping's batches one after another: once a later batch has run, the first one's deletes
    # are done
    sqs.send_message(QueueUrl=url, MessageBody="ok-2")
    _until("the second batch", lambda: any("ok-2" in m for m in _log_messages(server, account, group)))
    total = _until("the second batch's delete", lambda: [n for n in [_queue_total(sqs, url)] if n <= 1])[0]
    assert total == 1  # fail-1 is kept (visible again after the visibility timeout), ok-1 and ok-2 are deleted
    lam.delete_event_source_mapping(UUID=mapping["UUID"])


MAPPING_SETTINGS = [
    ("FilterCriteria", {"FilterCriteria": {"Filters": [{"Pattern": json.dumps({"body": ["wanted"]})}]}}),
    ("KMSKeyArn", {"KMSKeyArn": "arn:aws:kms:us-east-1:780800000006:key/1234abcd-12ab-34cd-56ef-1234567890ab"}),
    ("ScalingConfig", {"ScalingConfig": {"MaximumConcurrency": 2}}),
    ("FunctionResponseTypes", {"FunctionResponseTypes": ["ReportEverything"]}),
]


@pytest.mark.parametrize(("setting", "extra"), MAPPING_SETTINGS, ids=[s for s, _ in MAPPING_SETTINGS])
def test_mapping_settings_lambda_acts_on_are_refused_not_dropped(
    server: Endpoint, setting: str, extra: dict[str, Any]
) -> None:
    """Attack: an SQS event source mapping created with filter criteria (Lambda invokes the function only with the
    matching messages and deletes the others), a customer managed key for them (used with the caller's KMS
    permissions), or a maximum concurrency was accepted and the setting dropped: every message reached the function,
    unfiltered. A response type that is not ReportBatchItemFailures was stored as given.
    AWS rule: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html (filtered-out SQS messages
    are deleted), https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html (KMSKeyArn,
    ScalingConfig; FunctionResponseTypes: the one valid value ReportBatchItemFailures). lambdaperm serves none of
    the three settings: 501 NotImplemented naming it, and no mapping; an unknown response type: ValidationException.
    """
    account = "780800000006"
    iam, lam, sqs = (server.client(s, key=account) for s in ("iam", "lambda", "sqs"))
    role = make_role(
        iam,
        f"mapping8-{setting}",
        policy(
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": "*",
            }
        ),
    )
    url = sqs.create_queue(QueueName=f"mapping8-{setting}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    name = f"mapping8-{setting}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    with pytest.raises(ClientError) as refused:
        lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, Enabled=False, **extra)
    expected = "ValidationException" if setting == "FunctionResponseTypes" else "NotImplemented"
    assert refused.value.response["Error"]["Code"] == expected
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []
    made = lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn, Enabled=False)  # positive control
    with pytest.raises(ClientError) as refused:
        lam.update_event_source_mapping(UUID=made["UUID"], **extra)
    assert refused.value.response["Error"]["Code"] == expected
    assert lam.get_event_source_mapping(UUID=made["UUID"])["FunctionResponseTypes"] == []
    lam.delete_event_source_mapping(UUID=made["UUID"])


# ---- the durable data plane's restart: log writes kept, none replayed as new ---------------------------------------


def test_log_writes_survive_a_restart_and_none_is_written_again(
    tmp_path: Path, make_server: Callable[..., Endpoint]
) -> None:
    """Held: a function's log lines, written while its role allowed the writes, are kept across a kill -9 restart
    (the journal is replayed), once each; after the role loses `logs:PutLogEvents`, an invocation writes nothing —
    before the restart and after it — and the replay writes nothing new.
    AWS rule: log events once written stay with their group whatever the role's later permissions; a write is
    decided when it is made (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html, the
    role's permissions)."""
    account = "780800000007"
    state = tmp_path / "state"
    first = make_server(state)
    iam, lam = first.client("iam", key=account), first.client("lambda", key=account)
    role = make_role(iam, "logger", managed=[BASIC_ROLE])
    lam.create_function(
        FunctionName="logger", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    lam.invoke(FunctionName="logger", Payload=b"{}")
    lam.invoke(FunctionName="logger", Payload=b"{}")
    group = "/aws/lambda/logger"
    assert sum("log line from the handler" in m for m in _log_messages(first, account, group)) == 2
    iam.put_role_policy(
        RoleName="logger",
        PolicyName="no-writes",
        PolicyDocument=json.dumps(policy({"Effect": "Deny", "Action": "logs:PutLogEvents", "Resource": "*"})),
    )
    lam.invoke(FunctionName="logger", Payload=b"{}")
    assert sum("log line from the handler" in m for m in _log_messages(first, account, group)) == 2
    first.proc.kill()  # SIGKILL: no snapshot, the start-up replays the journal
    first.proc.wait()
    second = make_server(state)
    assert sum("log line from the handler" in m for m in _log_messages(second, account, group)) == 2
    second.client("lambda", key=account).invoke(FunctionName="logger", Payload=b"{}")
    assert sum("log line from the handler" in m for m in _log_messages(second, account, group)) == 2
