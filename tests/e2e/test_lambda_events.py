"""Event sources and function URLs through a real server: S3 notifications checked against the function
policy and delivered as s3.amazonaws.com, SQS mappings polled with the execution role, URLs with both
auth types, and the demo."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from .conftest import ROOT, Endpoint
from .lambda_helpers import make_role, zip_of
from .test_iam_sts import error

ACCOUNT = "000000000000"
PROD = "111122223333"
REGION = "us-west-2"
RECORDER = """
import json, boto3

def handler(event, context):
    boto3.client("dynamodb", region_name="us-west-2").put_item(
        TableName="events", Item={"id": {"S": context.aws_request_id}, "event": {"S": json.dumps(event)}})
    if any("fail" in json.dumps(r) for r in event.get("Records", [])):
        raise RuntimeError("asked to fail")
    records = len(event.get("Records", []))
    return {"statusCode": 201, "headers": {"x-seen": "yes"}, "body": json.dumps({"records": records})}
"""


@pytest.fixture(scope="module")
def recorder(server: Endpoint) -> dict[str, Any]:
    iam = server.client("iam")
    ddb = server.client("dynamodb", region=REGION)
    ddb.create_table(TableName="events", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    role = make_role(iam, "recorder-role", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:PutItem",
         "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/events"}]})
    lam = server.client("lambda", region=REGION)
    arn = lam.create_function(FunctionName="recorder", Runtime="python3.11", Role=role, Handler="app.handler",
                              Code={"ZipFile": zip_of({"app.py": RECORDER})}, Timeout=10)["FunctionArn"]
    return {"arn": arn, "role": role}


def events_seen(server: Endpoint, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    ddb = server.client("dynamodb", region=REGION)
    deadline = time.monotonic() + timeout
    while True:
        items = ddb.scan(TableName="events")["Items"]
        if len(items) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return [json.loads(i["event"]["S"]) for i in items]


def sqs_body_seen(server: Endpoint, body: str, timeout: float = 20) -> None:
    """Wait (bounded) until the recorder has recorded an SQS record with this body."""
    deadline = time.monotonic() + timeout
    while True:
        seen = events_seen(server, 0, timeout=0)
        if any(r.get("body") == body for e in seen for r in e.get("Records", []) if r.get("eventSource") == "aws:sqs"):
            return
        assert time.monotonic() < deadline, f"no SQS record with body {body!r} was delivered"
        time.sleep(0.2)


def test_s3_notification_needs_the_function_policy(server: Endpoint, recorder: dict[str, Any]) -> None:
    s3 = server.client("s3", key=PROD, region=REGION)
    s3.create_bucket(Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": REGION})
    config = {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": recorder["arn"],
                                                "Events": ["s3:ObjectCreated:*"],
                                                "Filter": {"Key": {"FilterRules": [
                                                    {"Name": "prefix", "Value": "in/"}]}}}]}
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration=config)
    assert error(refused)[:2] == ("InvalidArgument", "Unable to validate the following destination configurations")
    lam = server.client("lambda", region=REGION)
    lam.add_permission(FunctionName="recorder", StatementId="s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::uploads", SourceAccount=PROD)
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration=config)
    s3.put_object(Bucket="uploads", Key="ignored.txt", Body=b"x")
    s3.put_object(Bucket="uploads", Key="in/report.csv", Body=b"x")
    seen = events_seen(server, 1)
    assert len(seen) == 1
    record = seen[0]["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == "uploads" and record["s3"]["object"]["key"] == "in/report.csv"


def test_sqs_mapping_polls_with_the_role(server: Endpoint, recorder: dict[str, Any]) -> None:
    sqs = server.client("sqs", region=REGION)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"
    lam = server.client("lambda", region=REGION)
    with pytest.raises(ClientError) as no_role_permission:
        lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="recorder", BatchSize=5)
    assert error(no_role_permission)[:2] == (
        "InvalidParameterValueException",
        "The function execution role does not have permissions to call ReceiveMessage on SQS")
    server.client("iam").attach_role_policy(
        RoleName="recorder-role", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole")
    before = len(events_seen(server, 0, timeout=0))
    mapping = lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="recorder", BatchSize=5)
    assert mapping["State"] in ("Enabled", "Creating") and mapping["EventSourceArn"] == queue_arn
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    seen = events_seen(server, before + 1)
    bodies = [r["body"] for e in seen for r in e.get("Records", []) if r.get("eventSource") == "aws:sqs"]
    assert "hello" in bodies
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        if attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0":
            break
        time.sleep(0.2)
    assert attrs["ApproximateNumberOfMessages"] == "0"  # deleted after a successful invoke
    sqs.send_message(QueueUrl=url, MessageBody="fail please")
    sqs_body_seen(server, "fail please")  # the handler records the batch, then raises
    # the poller runs one batch at a time, so a message of another mapping is delivered only once the failed
    # batch's outcome (deleted or kept) is applied: then the failed message must still be in the queue
    marker_url = sqs.create_queue(QueueName="jobs-marker")["QueueUrl"]
    marker = lam.create_event_source_mapping(EventSourceArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs-marker",
                                             FunctionName="recorder", BatchSize=1)
    sqs.send_message(QueueUrl=marker_url, MessageBody="marker")
    sqs_body_seen(server, "marker")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 1
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    lam.delete_event_source_mapping(UUID=marker["UUID"])


def _get(url: str, host: str | None = None, signed_by: tuple[str, str] | None = None) -> tuple[int, bytes,
                                                                                                dict[str, str]]:
    headers = {"Host": host} if host else {}
    if signed_by is not None:
        request = AWSRequest("GET", url, headers=headers)
        SigV4Auth(Credentials(*signed_by), "lambda", REGION).add_auth(request)
        headers = dict(request.prepare().headers)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_function_urls(server: Endpoint, recorder: dict[str, Any]) -> None:
    lam = server.client("lambda", region=REGION)
    config = lam.create_function_url_config(FunctionName="recorder", AuthType="NONE")
    url_id = config["FunctionUrl"].split("//", 1)[1].split(".", 1)[0]
    path_url = f"{server.url}/_lambdaperm/url/{url_id}/hello?x=1"
    status, body, _ = _get(path_url)
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})  # NONE still needs the policy
    lam.add_permission(FunctionName="recorder", StatementId="url", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    status, body, _ = _get(path_url)
    assert status == 403  # and, since 2026-11-01, lambda:InvokeFunction via the URL too
    lam.add_permission(FunctionName="recorder", StatementId="url-invoke", Action="lambda:InvokeFunction",
                       Principal="*", InvokedViaFunctionUrl=True)
    status, body, headers = _get(path_url)
    assert status == 201 and headers.get("x-seen") == "yes"
    port = server.url.rsplit(":", 1)[1]
    status, _, _ = _get(f"{server.url}/ping", host=f"{url_id}.lambda-url.{REGION}.localhost:{port}")
    assert status == 201
    lam.update_function_url_config(FunctionName="recorder", AuthType="AWS_IAM")
    assert _get(path_url)[0] == 403
    assert _get(path_url, signed_by=(ACCOUNT, "any"))[0] == 201  # the account's root, same account


def test_demo_runs(server: Endpoint) -> None:
    proc = subprocess.run([sys.executable, "-m", "lambdaperm.cli.main", "demo"], capture_output=True, text=True,
                          timeout=180, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert ("is not authorized to perform: dynamodb:PutItem on resource: "
            "arn:aws:dynamodb:us-west-2:444455556666:table/other") in out
    assert ("User: arn:aws:iam::999988887777:root is not authorized to perform: lambda:InvokeFunction on resource: "
            "arn:aws:lambda:us-west-2:444455556666:function:my-s3-function") in out
    assert "table test now holds" in out and "Demo complete" in out
