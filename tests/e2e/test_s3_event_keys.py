"""The object key in an S3 event notification is URL-encoded as S3 encodes it, whatever the destination.

S3: "The object key name value is URL encoded. For example, "red flower.jpg" becomes "red+flower.jpg" (Amazon S3
returns "application/x-www-form-urlencoded" as the content type in the response)"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html). Observed in AWS's
records: `+` becomes `%2B` (aws/aws-sdk-net#640), `=` `%3D` (aws/aws-sam-cli#379), and `/` stays as it is
(minio/minio#11665: "in reality the slash character is not encoded, while otherwise using query-style encoding").
Before: lambdaperm's S3 → Lambda records carried the key as written, moto's S3 → SQS records encoded `/` as `%2F`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from .conftest import Endpoint
from .lambda_helpers import make_role, zip_of

REGION = "us-east-1"
OWNER = "000000000000"
KEYS = {
    "lam/1": "lam/1",
    "a b.txt": "a+b.txt",
    "dir/x+y=z:w.txt": "dir/x%2By%3Dz%3Aw.txt",
    "n/\u00fc\u00df.txt": "n/%C3%BC%C3%9F.txt",
}
FORWARD = """
import json, boto3

def handler(event, context):
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName="event-keys-seen")["QueueUrl"]
    for record in event["Records"]:
        sqs.send_message(QueueUrl=url, MessageBody=record["s3"]["object"]["key"])
"""


def _bodies(sqs: Any, url: str, count: int, timeout: float = 30) -> list[str]:
    """The bodies of `count` messages of the queue, waited for with a bound."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        for message in got:
            seen.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def test_lambda_records_carry_the_url_encoded_key(server: Endpoint) -> None:
    sqs = server.client("sqs")
    seen = sqs.create_queue(QueueName="event-keys-seen")["QueueUrl"]
    role = make_role(
        server.client("iam"),
        "event-keys-role",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"], "Resource": "*"}],
        },
    )
    lam = server.client("lambda")
    arn = lam.create_function(
        FunctionName="event-keys",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": FORWARD})},
        Timeout=10,
    )["FunctionArn"]
    lam.add_permission(
        FunctionName="event-keys",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::event-keys-lambda",
        SourceAccount=OWNER,
    )
    s3 = server.client("s3")
    s3.create_bucket(Bucket="event-keys-lambda")
    s3.put_bucket_notification_configuration(
        Bucket="event-keys-lambda",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    for key in KEYS:
        s3.put_object(Bucket="event-keys-lambda", Key=key, Body=b"x")
    assert sorted(_bodies(sqs, seen, len(KEYS))) == sorted(KEYS.values())


def test_sqs_records_carry_the_url_encoded_key(server: Endpoint) -> None:
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName="event-keys-queue")["QueueUrl"]
    queue = f"arn:aws:sqs:{REGION}:{OWNER}:event-keys-queue"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue,
                "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::event-keys-sqs"}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    s3 = server.client("s3")
    s3.create_bucket(Bucket="event-keys-sqs")
    s3.put_bucket_notification_configuration(
        Bucket="event-keys-sqs",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}]},
    )
    for key in KEYS:
        s3.put_object(Bucket="event-keys-sqs", Key=key, Body=b"x")
    records = [json.loads(body) for body in _bodies(sqs, url, len(KEYS) + 1)]
    keys = [r["s3"]["object"]["key"] for body in records for r in body.get("Records", [])]
    assert sorted(keys) == sorted(KEYS.values())
