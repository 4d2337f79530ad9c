"""Attack class 10, push deliveries: a service that pushes to a destination (S3 → Lambda/SQS/SNS, SNS → Lambda/SQS)
acts as its service principal (`s3.amazonaws.com`, `sns.amazonaws.com`) with `aws:SourceArn` and
`aws:SourceAccount`, so only the destination's resource policy can allow it (spec §3.8;
https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html,
https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html). A bucket's notification
configuration belongs to that bucket: deleting the bucket deletes it, and a bucket created again under the same
name — by anyone — starts with none.

S3 → SQS/SNS and SNS → SQS deliveries happen while the triggering call runs, so their absence is checked right
after the call returns. S3 → Lambda deliveries are asynchronous: a delivery that must not happen is checked
after a later delivery to the same function (the barrier) has been seen.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint, start_server, stop_server
from tests.e2e.lambda_helpers import make_role, zip_of

REGION = "us-east-1"
RECORDER = """
import json, boto3

def handler(event, context):
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName="events", Item={"id": {"S": context.aws_request_id}, "event": {"S": json.dumps(event)}})
"""
UNABLE = "Unable to validate the following destination configurations"


def error(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    return {**exc.value.response["Error"], "Status": exc.value.response["ResponseMetadata"]["HTTPStatusCode"]}


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(
    principal: str,
    action: str,
    resource: str,
    source_arn: str,
    source_account: str | None = None,
) -> dict[str, Any]:
    condition: dict[str, Any] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    if source_account:
        condition["StringEquals"] = {"aws:SourceAccount": source_account}
    return {
        "Effect": "Allow",
        "Principal": {"Service": principal},
        "Action": action,
        "Resource": resource,
        "Condition": condition,
    }


# ---- S3 → Lambda: notifications live and die with their bucket ---------------------------------------------


class Recorder:
    """A function of `account` that stores every event it receives in DynamoDB (table `events`)."""

    def __init__(self, server: Endpoint, account: str) -> None:
        self.account = account
        self.server = server
        self.table()
        role = make_role(
            server.client("iam", key=account),
            "recorder-role",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "dynamodb:PutItem",
                        "Resource": f"arn:aws:dynamodb:{REGION}:{account}:table/events",
                    }
                ],
            },
        )
        self.arn = server.client("lambda", key=account).create_function(
            FunctionName="recorder",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": RECORDER})},
            Timeout=10,
        )["FunctionArn"]

    def table(self) -> None:
        self.server.client("dynamodb", key=self.account).create_table(
            TableName="events",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

    def notify_from(self, bucket: str) -> None:
        """The owner's own bucket, allowed (with SourceAccount) and configured to notify the recorder."""
        lam = self.server.client("lambda", key=self.account)
        lam.add_permission(
            FunctionName="recorder",
            StatementId=f"s3-{bucket}",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{bucket}",
            SourceAccount=self.account,
        )
        self.configure(bucket)

    def configure(self, bucket: str) -> None:
        self.server.client("s3", key=self.account).put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [{"LambdaFunctionArn": self.arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )

    def keys_seen(self, until: str, timeout: float = 30) -> list[str]:
        """Object keys of the S3 events received, once an event for `until` has arrived (bounded wait)."""
        ddb = self.server.client("dynamodb", key=self.account)
        deadline = time.monotonic() + timeout
        while True:
            keys = [
                r["s3"]["object"]["key"]
                for item in ddb.scan(TableName="events")["Items"]
                for r in json.loads(item["event"]["S"]).get("Records", [])
                if "s3" in r
            ]
            if until in keys:
                return keys
            assert time.monotonic() < deadline, f"the event for {until} never arrived (seen: {keys})"
            time.sleep(0.1)

    def barrier(self, name: str) -> list[str]:
        """A delivery that must arrive, from a fresh bucket of the owner: what was seen once it has."""
        s3 = self.server.client("s3", key=self.account)
        s3.create_bucket(Bucket=name)
        self.notify_from(name)
        s3.put_object(Bucket=name, Key=f"{name}.txt", Body=b"x")
        return self.keys_seen(f"{name}.txt")


def test_a_bucket_name_taken_over_does_not_inherit_the_notifications(server: Endpoint) -> None:
    victim, attacker = "555500000001", "555500000002"
    recorder = Recorder(server, victim)
    s3 = server.client("s3", key=victim)
    s3.create_bucket(Bucket="shared-uploads")
    recorder.notify_from("shared-uploads")
    s3.put_object(Bucket="shared-uploads", Key="victim.txt", Body=b"x")
    assert recorder.keys_seen("victim.txt") == ["victim.txt"]
    s3.delete_object(Bucket="shared-uploads", Key="victim.txt")
    s3.delete_bucket(Bucket="shared-uploads")
    theirs = server.client("s3", key=attacker)
    theirs.create_bucket(Bucket="shared-uploads")
    theirs.put_object(Bucket="shared-uploads", Key="attacker.txt", Body=b"x")
    assert "attacker.txt" not in recorder.barrier("victim-barrier-1")
    # the owner's own bucket created again under the same name starts with no notification either
    s3.create_bucket(Bucket="own-uploads")
    recorder.notify_from("own-uploads")
    s3.delete_bucket(Bucket="own-uploads")
    s3.create_bucket(Bucket="own-uploads")
    s3.put_object(Bucket="own-uploads", Key="after-recreate.txt", Body=b"x")
    assert "after-recreate.txt" not in recorder.barrier("victim-barrier-2")


def test_notifications_of_buckets_gone_at_restart_are_gone(tmp_path: Path) -> None:
    """The data plane is durable (docs/architecture.md, "Durable data plane"): after a restart the bucket is still
    its owner's, so another account cannot create the name and inherit its notifications; the owner's targets
    still deliver. (A deleted bucket's targets go with it:
    test_a_bucket_name_taken_over_does_not_inherit_the_notifications.)"""
    victim, attacker = "555500000003", "555500000004"
    state = tmp_path / "state"
    first = start_server(state, tmp_path)
    try:
        recorder = Recorder(first, victim)
        first.client("s3", key=victim).create_bucket(Bucket="restart-uploads")
        recorder.notify_from("restart-uploads")
    finally:
        assert stop_server(first) == 0
    second = start_server(state, tmp_path)  # functions, their policies and the data plane survive
    try:
        recorder.server = second
        theirs = second.client("s3", key=attacker)
        with pytest.raises(ClientError) as taken:
            theirs.create_bucket(Bucket="restart-uploads")
        assert taken.value.response["Error"]["Code"] == "BucketAlreadyExists"
        second.client("s3", key=victim).put_object(Bucket="restart-uploads", Key="owner.txt", Body=b"x")
        assert "owner.txt" in recorder.keys_seen("owner.txt")  # bounded wait for the delivery
    finally:
        stop_server(second)


def test_the_source_account_is_the_bucket_owner_not_the_configuring_caller(server: Endpoint) -> None:
    """A bucket policy may let another account configure notifications; the deliveries still come from the
    bucket, whose owner is the SourceAccount."""
    owner, other = "555500000005", "555500000006"
    recorder = Recorder(server, other)
    server.client("lambda", key=other).add_permission(
        FunctionName="recorder",
        StatementId="own-buckets",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceAccount=other,
    )
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket="owned-elsewhere")
    s3.put_bucket_policy(
        Bucket="owned-elsewhere",
        Policy=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": other},
                "Action": "s3:PutBucketNotification",
                "Resource": "arn:aws:s3:::owned-elsewhere",
            }
        ),
    )
    with pytest.raises(ClientError) as refused:
        recorder.configure("owned-elsewhere")
    assert (error(refused)["Code"], error(refused)["Message"]) == ("InvalidArgument", UNABLE)


# ---- S3 → SQS / SNS, SNS → SQS: the destination's policy decides ------------------------------------------


def queue(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> tuple[str, str]:
    sqs = server.client("sqs", key=account)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{account}:{name}"
    if statements:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(*statements)})
    return url, arn


def bodies(server: Endpoint, account: str, url: str) -> list[str]:
    sqs = server.client("sqs", key=account)
    out: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_s3_to_sqs_needs_the_queue_policy(server: Endpoint) -> None:
    account = "555500000007"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="to-queue")
    url, arn = queue(server, account, "closed")
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_notification_configuration(Bucket="to-queue", NotificationConfiguration=config)
    assert error(refused) | {"RequestId": None, "HostId": None} == {
        "Code": "InvalidArgument",
        "Message": UNABLE,
        "ArgumentName1": arn,
        "Status": 400,
        "ArgumentValue1": "Permissions on the destination queue do not allow S3 to publish notifications from "
        "this bucket",
        "RequestId": None,
        "HostId": None,
    }
    assert bodies(server, account, url) == []  # not even the test event
    sqs = server.client("sqs", key=account)
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": policy(allow("s3.amazonaws.com", "sqs:SendMessage", arn, "arn:aws:s3:::to-queue", account))
        },
    )
    s3.put_bucket_notification_configuration(Bucket="to-queue", NotificationConfiguration=config)
    s3.put_object(Bucket="to-queue", Key="allowed.txt", Body=b"x")
    events = [json.loads(b) for b in bodies(server, account, url)]
    assert [e.get("Event") for e in events if "Event" in e] == ["s3:TestEvent"]
    assert [r["s3"]["object"]["key"] for e in events for r in e.get("Records", [])] == ["allowed.txt"]
    # the policy is checked at each delivery, not only when the configuration was written
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": policy(allow("s3.amazonaws.com", "sqs:SendMessage", arn, "arn:aws:s3:::another-bucket", account))
        },
    )
    s3.put_object(Bucket="to-queue", Key="after-revoke.txt", Body=b"x")
    assert bodies(server, account, url) == []


def test_s3_to_sqs_across_accounts_reaches_the_queue_named_and_only_if_its_policy_allows(server: Endpoint) -> None:
    bucket_owner, queue_owner, stranger = "555500000008", "555500000009", "555500000010"
    url, arn = queue(
        server,
        queue_owner,
        "inbox",
        allow(
            "s3.amazonaws.com",
            "sqs:SendMessage",
            f"arn:aws:sqs:{REGION}:{queue_owner}:inbox",
            "arn:aws:s3:::*",
            bucket_owner,
        ),
    )
    # a queue of the same name in the bucket owner's account must not receive the other account's deliveries
    own_url, _ = queue(server, bucket_owner, "inbox")
    s3 = server.client("s3", key=bucket_owner)
    s3.create_bucket(Bucket="cross-source")
    s3.put_bucket_notification_configuration(
        Bucket="cross-source",
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    s3.put_object(Bucket="cross-source", Key="k.txt", Body=b"x")
    keys = [
        r["s3"]["object"]["key"] for b in bodies(server, queue_owner, url) for r in json.loads(b).get("Records", [])
    ]
    assert keys == ["k.txt"]
    assert bodies(server, bucket_owner, own_url) == []
    # a bucket of a third account is not allowed by the queue policy (aws:SourceAccount)
    theirs = server.client("s3", key=stranger)
    theirs.create_bucket(Bucket="stranger-source")
    with pytest.raises(ClientError) as refused:
        theirs.put_bucket_notification_configuration(
            Bucket="stranger-source",
            NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
        )
    assert error(refused)["Code"] == "InvalidArgument"


def test_sns_to_sqs_needs_the_queue_policy(server: Endpoint) -> None:
    account = "555500000011"
    sns = server.client("sns", key=account)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    url, arn = queue(server, account, "alert-inbox")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="no policy")
    assert bodies(server, account, url) == []
    server.client("sqs", key=account).set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": policy(allow("sns.amazonaws.com", "sqs:SendMessage", arn, topic))}
    )
    sns.publish(TopicArn=topic, Message="allowed")
    assert [json.loads(b)["Message"] for b in bodies(server, account, url)] == ["allowed"]
    # another topic (of another account) subscribing the queue is not allowed by the policy's SourceArn
    other = server.client("sns", key="555500000012")
    other_topic = other.create_topic(Name="alerts")["TopicArn"]
    other.subscribe(TopicArn=other_topic, Protocol="sqs", Endpoint=arn)
    other.publish(TopicArn=other_topic, Message="from elsewhere")
    assert bodies(server, account, url) == []


def test_s3_to_sns_needs_the_topic_policy(server: Endpoint) -> None:
    account = "555500000013"
    sns = server.client("sns", key=account)
    topic = sns.create_topic(Name="uploads")["TopicArn"]
    url, arn = queue(server, account, "upload-inbox")
    server.client("sqs", key=account).set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": policy(allow("sns.amazonaws.com", "sqs:SendMessage", arn, topic))}
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="to-topic")
    config = {"TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]}
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_notification_configuration(Bucket="to-topic", NotificationConfiguration=config)
    assert (error(refused)["Code"], error(refused)["ArgumentName1"], error(refused)["ArgumentValue1"]) == (
        "InvalidArgument",
        topic,
        "Permissions on the destination topic do not allow S3 to publish notifications from this bucket",
    )
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=policy(allow("s3.amazonaws.com", "sns:Publish", topic, "arn:aws:s3:::to-topic", account)),
    )
    s3.put_bucket_notification_configuration(Bucket="to-topic", NotificationConfiguration=config)
    s3.put_object(Bucket="to-topic", Key="up.txt", Body=b"x")
    events = [json.loads(b) for b in bodies(server, account, url)]
    assert [r["s3"]["object"]["key"] for e in events for r in e.get("Records", [])] == ["up.txt"]
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=policy(allow("s3.amazonaws.com", "sns:Publish", topic, "arn:aws:s3:::another-bucket", account)),
    )
    s3.put_object(Bucket="to-topic", Key="after-revoke.txt", Body=b"x")
    assert bodies(server, account, url) == []


@pytest.fixture
def listener() -> Iterator[list[str]]:
    """A local HTTP endpoint that records the paths of the requests it receives."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    seen.append(f"http://127.0.0.1:{httpd.server_address[1]}")
    yield seen
    httpd.shutdown()
    thread.join(timeout=5)


def test_sns_does_not_post_to_unconfirmed_http_endpoints(server: Endpoint, listener: list[str]) -> None:
    """SNS delivers to an HTTP(S) endpoint only after the endpoint confirmed the subscription
    (https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.prepare.html); lambdaperm's server never makes
    a request to an address a caller names. Since implicit accesses round 11 the subscription itself is refused
    (501 NotImplemented: SNS would deliver to it, lambdaperm does not; `dataplane/sns_protocols.py`)."""
    account = "555500000014"
    sns = server.client("sns", key=account)
    topic = sns.create_topic(Name="hooks")["TopicArn"]
    url = listener.pop(0)
    with pytest.raises(ClientError) as refused:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{url}/internal-admin")
    assert refused.value.response["Error"]["Code"] == "NotImplemented", refused.value.response
    sns.publish(TopicArn=topic, Message="reach inside")
    assert listener == []
