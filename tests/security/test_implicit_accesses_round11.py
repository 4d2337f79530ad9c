"""Attack class: implicit accesses, review round 11 — SNS deliveries a subscription or a Publish asks for, by protocol.

A subscription is a setting SNS acts on at every Publish: it delivers the message to the endpoint (an HTTP(S) POST,
an email, an SMS, a mobile push through the platform application, a Firehose PutRecord as the
`SubscriptionRoleArn`, an SQS SendMessage, a Lambda Invoke —
https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html). Rounds 7–9's rule: a setting the service acts on is
performed as AWS performs it, or refused with 501 NotImplemented naming it after authorization — never stored and
dropped. lambdaperm delivers `sqs` (moto, guarded by the queue policy: `dataplane/deliveries.py`) and `lambda`
(`gateway/events.py`, by the function policy); moto 5.2.1 stores every other protocol — http, https, email,
email-json, sms, application, firehose, and any text at all, `SQS` or `ftp` included — answers it confirmed
(PendingConfirmation "false", ConfirmationWasAuthenticated "true") and delivers nothing. Publish with `PhoneNumber`
(an SMS) or a platform endpoint `TargetArn` (a mobile push) answered a MessageId and sent nothing; a Subscribe of an
`application` endpoint read the endpoint without any decision on it (the structural oracle's lead).

Each test plays against a real `lambdaperm serve` with real boto3. The protocol table is read from botocore's own
documentation of Subscribe's `Protocol`, so a protocol a later botocore documents fails the test until it is
classified here.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
ACCOUNT = "791100000011"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:r11-topic"
PLATFORM_ENDPOINT = f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/r11-app/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

# Delivered by lambdaperm (each with its resource-policy decision at delivery time; tests of earlier rounds).
DELIVERED = {
    "sqs": "moto's SendMessage, guarded by the queue policy (dataplane/deliveries.py; test_push_deliveries.py)",
    "lambda": "lambdaperm's Invoke, guarded by the function policy (gateway/events.py; test_lambda_events.py)",
}
# Delivered by SNS to something lambdaperm does not serve: refused, 501.
ENDPOINTS = {
    "http": "http://127.0.0.1:9/hook",
    "https": "https://example.com/hook",
    "email": "someone@example.com",
    "email-json": "someone@example.com",
    "sms": "+15555550100",
    "firehose": f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/r11-stream",
    "application": "",  # the fixture's platform endpoint
}


def _documented_protocols() -> list[str]:
    """The protocols botocore documents for Subscribe's `Protocol` (each in a <code> element)."""
    model = botocore.session.get_session().get_service_model("sns")
    doc = model.operation_model("Subscribe").input_shape.members["Protocol"].documentation
    return re.findall(r"<code>([a-z0-9-]+)</code>", doc)


def _refused(call: Callable[[], Any], *words: str) -> dict[str, Any]:
    with pytest.raises(ClientError) as refused:
        call()
    error: dict[str, Any] = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501, error
    assert error["Code"] == "NotImplemented", error
    for word in words:
        assert word in error["Message"], error
    return error


@pytest.fixture(scope="module")
def account(server: Endpoint) -> Iterator[dict[str, Any]]:
    """The account's SNS client (root), a topic and a user allowed every SNS action. The platform endpoint is named,
    not created: the refusal comes before the backend reads it (and the structural oracle does not map
    CreatePlatformApplication/CreatePlatformEndpoint, round 10's note)."""
    sns = server.client("sns", key=ACCOUNT)
    assert sns.create_topic(Name="r11-topic")["TopicArn"] == TOPIC
    user = clients_of(
        server, user_keys(server, ACCOUNT, "r11-sns", {"Effect": "Allow", "Action": "sns:*", "Resource": "*"})
    )
    yield {"sns": sns, "user_sns": user("sns"), "endpoint": PLATFORM_ENDPOINT}


def _subscriptions(sns: Any) -> list[dict[str, Any]]:
    return list(sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"])


def test_every_documented_protocol_is_classified() -> None:
    """Every protocol botocore documents for Subscribe is either delivered by lambdaperm or refused here: a new
    protocol fails this test until it is performed or refused."""
    documented = _documented_protocols()
    assert documented, "botocore's Protocol documentation lists no <code> protocol: read it again"
    assert set(documented) == set(DELIVERED) | set(ENDPOINTS), documented


@pytest.mark.parametrize("protocol", sorted(ENDPOINTS))
def test_a_subscription_sns_would_deliver_and_lambdaperm_does_not_is_refused(
    account: dict[str, Any], protocol: str
) -> None:
    """Subscribe with a protocol SNS delivers to and lambdaperm does not (http, https, email, email-json, sms,
    application, firehose): 501 NotImplemented naming the protocol, after authorization; no subscription stored
    (it was stored, answered confirmed, and never delivered). Firehose's `SubscriptionRoleArn` — the role SNS
    assumes to PutRecord (https://docs.aws.amazon.com/sns/latest/dg/prereqs-kinesis-data-firehose.html) — goes
    with it. AWS: https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html."""
    endpoint = ENDPOINTS[protocol] or account["endpoint"]
    extra: dict[str, Any] = {}
    if protocol == "firehose":
        extra["Attributes"] = {"SubscriptionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/r11-firehose"}
    _refused(
        lambda: account["user_sns"].subscribe(
            TopicArn=TOPIC, Protocol=protocol, Endpoint=endpoint, ReturnSubscriptionArn=True, **extra
        ),
        f"Protocol {protocol}",
    )
    assert [s for s in _subscriptions(account["sns"]) if s["Protocol"].lower() == protocol] == []


def test_the_refusal_comes_after_authorization(server: Endpoint, account: dict[str, Any]) -> None:
    """A caller not allowed sns:Subscribe on the topic is denied (403), not answered 501: the refusal tells nothing
    to a caller the decision refuses. (SNS's code is AuthorizationError; lambdaperm's SNS denials answer
    AccessDenied, as test_tag_on_create notes.)"""
    denied = clients_of(
        server, user_keys(server, ACCOUNT, "r11-denied", {"Effect": "Allow", "Action": "sns:List*", "Resource": "*"})
    )("sns")
    with pytest.raises(ClientError) as refused:
        denied.subscribe(TopicArn=TOPIC, Protocol="sms", Endpoint=ENDPOINTS["sms"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, refused.value.response
    assert refused.value.response["Error"]["Code"] in ("AccessDenied", "AuthorizationError"), refused.value.response


@pytest.mark.parametrize("protocol", ["SQS", "Lambda", "HTTP", "ftp", "sqs "])
def test_a_protocol_sns_does_not_support_is_invalid(account: dict[str, Any], protocol: str) -> None:
    """A protocol string outside SNS's list (as written: `SQS`, `Lambda`, `ftp`) is 400 InvalidParameter; moto
    stored it as given, answered it confirmed and delivered nothing (lambdaperm and moto deliver the lower-case
    `sqs` and `lambda` only)."""
    endpoint = (
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:r11-queue"
        if protocol != "Lambda"
        else (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:r11-fn")
    )
    with pytest.raises(ClientError) as refused:
        account["user_sns"].subscribe(TopicArn=TOPIC, Protocol=protocol, Endpoint=endpoint)
    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error
    assert error["Code"] == "InvalidParameter", error
    assert [s for s in _subscriptions(account["sns"]) if s["Protocol"] == protocol] == []


def test_publish_to_a_phone_number_is_refused(account: dict[str, Any]) -> None:
    """Publish with `PhoneNumber` sends an SMS (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html);
    lambdaperm sends none: 501 naming PhoneNumber (it answered a MessageId)."""
    _refused(lambda: account["user_sns"].publish(PhoneNumber="+15555550100", Message="code 1234"), "PhoneNumber")


def test_publish_to_a_platform_endpoint_is_refused(account: dict[str, Any]) -> None:
    """Publish with a platform endpoint `TargetArn` sends a mobile push through the platform application's
    credentials (https://docs.aws.amazon.com/sns/latest/dg/mobile-push-send-directmobile.html); lambdaperm sends
    none: 501 naming TargetArn (it answered a MessageId)."""
    _refused(lambda: account["user_sns"].publish(TargetArn=account["endpoint"], Message="hi"), "TargetArn")


def test_sqs_subscriptions_are_still_served_and_delivered(server: Endpoint, account: dict[str, Any]) -> None:
    """Control: an `sqs` subscription in the topic's account is created and delivered to (the refusal above is
    by protocol, not a blanket one)."""
    sqs = server.client("sqs", key=ACCOUNT)
    url = sqs.create_queue(QueueName="r11-queue")["QueueUrl"]
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:r11-queue"
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue,
                            "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
                        }
                    ],
                }
            )
        },
    )
    account["user_sns"].subscribe(
        TopicArn=TOPIC, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"}
    )
    account["user_sns"].publish(TopicArn=TOPIC, Message="r11-delivered")
    deadline = time.monotonic() + 10
    bodies: list[str] = []
    while time.monotonic() < deadline and not bodies:
        bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])]
    assert bodies == ["r11-delivered"]


@pytest.mark.parametrize(
    "request_",
    [
        {"Type": "SELECT", "OutputLocation": {"S3": {"BucketName": "r11-output", "Prefix": "out"}}},
        {"OutputLocation": {"S3": {"BucketName": "r11-output", "Prefix": "out"}}},
        {"Type": "SELECT"},
    ],
    ids=["select-with-output", "output-location", "select"],
)
def test_a_select_restore_is_refused(server: Endpoint, request_: dict[str, Any]) -> None:
    """RestoreObject of Type SELECT runs a query on the archived object and writes its result into the
    `OutputLocation` bucket: "The AWS account that initiates the job must have permissions to write to the S3
    bucket" (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOSTrestore.html) — a write the decision
    (s3:RestoreObject on the source object) never looked at. moto answered 202 and wrote nothing (it read only Days
    and Type). Now 501 naming the member, after authorization; the output bucket stays empty. A plain restore
    (Days) is served."""
    s3 = server.client("s3", key=ACCOUNT)
    for bucket in ("r11-archive", "r11-output"):
        if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
            s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket="r11-archive", Key="k.csv", Body=b"a,b\n1,2\n", StorageClass="GLACIER")
    select = {
        "InputSerialization": {"CSV": {}},
        "ExpressionType": "SQL",
        "Expression": "select * from object",
        "OutputSerialization": {"CSV": {}},
    }
    body = {**request_, **({"SelectParameters": select} if request_.get("Type") == "SELECT" else {})}
    member = "OutputLocation" if "OutputLocation" in request_ else "Type SELECT"
    _refused(lambda: s3.restore_object(Bucket="r11-archive", Key="k.csv", RestoreRequest=body), member)
    assert s3.list_objects_v2(Bucket="r11-output").get("KeyCount") == 0
    s3.restore_object(Bucket="r11-archive", Key="k.csv", RestoreRequest={"Days": 1})  # control: served


@pytest.mark.parametrize(
    "sse",
    [
        {
            "S3SseAlgorithm": "KMS",
            "S3SseKmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        },
        {"S3SseAlgorithm": "KMS"},
        {"S3SseKmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
    ],
    ids=["kms-with-key", "kms-aws-managed", "key-alone"],
)
def test_a_table_export_encrypted_with_kms_is_refused(server: Endpoint, sse: dict[str, str]) -> None:
    """ExportTableToPointInTime with `S3SseAlgorithm` KMS writes the export objects encrypted with the key: the
    exporter needs the key's permissions and every reader of the objects `kms:Decrypt`
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html). lambdaperm serves no KMS
    (round 9 refused SSE-KMS on PutObject for this reason); moto does not read the members and the export was
    written unencrypted, readable by anyone allowed s3:GetObject. Now 501 after authorization, nothing written.
    AES256 exports are served (the control)."""
    ddb = server.client("dynamodb", key=ACCOUNT)
    s3 = server.client("s3", key=ACCOUNT)
    table = "r11-exported"
    if table not in ddb.list_tables()["TableNames"]:
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        ddb.put_item(TableName=table, Item={"k": {"S": "secret"}})
        s3.create_bucket(Bucket="r11-exports")
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    before = s3.list_objects_v2(Bucket="r11-exports").get("KeyCount")
    _refused(
        lambda: ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="r11-exports", S3Prefix="kms", **sse),
        "S3Sse",
    )
    assert s3.list_objects_v2(Bucket="r11-exports").get("KeyCount") == before
    served = ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket="r11-exports", S3Prefix="aes", S3SseAlgorithm="AES256"
    )
    assert served["ExportDescription"]["ExportArn"]
