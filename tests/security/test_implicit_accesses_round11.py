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

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.botocore_members import served_members
from tests.security.iam_users import clients_of, user_keys
from tests.security.queue_policies import allow_sns_to_send

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
    allow_sns_to_send(sqs, url, queue, {"ArnEquals": {"aws:SourceArn": TOPIC}})
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


# --- structural: every member that names a role, a KMS key or a destination, in every served operation ---------

_ROLE = re.compile(r"(?i)(rolearn|^role$|invocationrole|executionrole)$")
_KMS = re.compile(r"(?i)kms.*(keyid|keyarn)$|^ssekms$")
_DESTINATION = re.compile(
    r"(?i)^(destination|destinationarn|destinationresourcearn|deliverydestinationarn|destinationidentifier|targetarn"
    r"|targetbucket|topic|topicarn|queue|queuearn|cloudfunction|lambdafunctionarn|endpoint|s3bucketdestination"
    r"|s3tablesdestination|bucket)$"
)
# Top-level names whose value is another resource the service uses (a top-level `Bucket`, `TopicArn`... is the
# operation's own resource, decided as such).
_TOP_LEVEL = frozenset(
    {"Endpoint", "TargetArn", "destinationArn", "targetArn", "destination", "DestinationArn", "deliveryDestinationArn"}
)

PASSROLE = "iam:PassRole on the member, a catalog need (checked below)"
READER = "a 501 reader of dataplane/unperformed_settings.py (checked below; e2e in rounds 9-11)"
S3_UNSERVED = "the operation is not served by the embedded S3 (s3_support, checked below): 501"
UNSERVED_OP = "the operation answers 501 NotImplemented (the embedded backend does not implement it; probed round 11)"
LAMBDA_REFUSED = "refused 501 by services/lambda_ (unserved_settings / unserved_mapping_settings, rounds 7-10)"
PURE = "names no resource the service acts on"

ROWS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("dynamodb", "CreateTable", "SSESpecification.KMSMasterKeyId"): (READER, "round 9"),
    ("dynamodb", "ExportTableToPointInTime", "S3SseKmsKeyId"): (READER, "round 11"),
    ("dynamodb", "ImportTable", "TableCreationParameters.SSESpecification.KMSMasterKeyId"): (READER, "round 9"),
    ("dynamodb", "RestoreTableFromBackup", "SSESpecificationOverride.KMSMasterKeyId"): (READER, "round 9"),
    ("dynamodb", "RestoreTableToPointInTime", "SSESpecificationOverride.KMSMasterKeyId"): (READER, "round 9"),
    **{
        ("dynamodb", "UpdateGlobalTableSettings", p): (READER, "global tables, round 9")
        for p in (
            "GlobalTableProvisionedWriteCapacityAutoScalingSettingsUpdate.AutoScalingRoleArn",
            "GlobalTableGlobalSecondaryIndexSettingsUpdate[].ProvisionedWriteCapacityAutoScalingSettingsUpdate."
            "AutoScalingRoleArn",
            "ReplicaSettingsUpdate[].ReplicaProvisionedReadCapacityAutoScalingSettingsUpdate.AutoScalingRoleArn",
            "ReplicaSettingsUpdate[].ReplicaGlobalSecondaryIndexSettingsUpdate[]."
            "ProvisionedReadCapacityAutoScalingSettingsUpdate.AutoScalingRoleArn",
        )
    },
    ("dynamodb", "UpdateTable", "SSESpecification.KMSMasterKeyId"): (READER, "round 9"),
    ("dynamodb", "UpdateTable", "ReplicaUpdates[].Create.KMSMasterKeyId"): (READER, "ReplicaUpdates, round 9"),
    ("dynamodb", "UpdateTable", "ReplicaUpdates[].Update.KMSMasterKeyId"): (READER, "ReplicaUpdates, round 9"),
    **{
        ("dynamodb", "UpdateTableReplicaAutoScaling", p): (UNSERVED_OP, "Application Auto Scaling's role")
        for p in (
            "GlobalSecondaryIndexUpdates[].ProvisionedWriteCapacityAutoScalingUpdate.AutoScalingRoleArn",
            "ProvisionedWriteCapacityAutoScalingUpdate.AutoScalingRoleArn",
            "ReplicaUpdates[].ReplicaGlobalSecondaryIndexUpdates[].ProvisionedReadCapacityAutoScalingUpdate."
            "AutoScalingRoleArn",
            "ReplicaUpdates[].ReplicaProvisionedReadCapacityAutoScalingUpdate.AutoScalingRoleArn",
        )
    },
    ("ec2", "RunInstances", "BlockDeviceMappings[].Ebs.KmsKeyId"): (UNSERVED_OP, "decided, then 501 (issue 8)"),
    **{
        ("lambda", op, p): (LAMBDA_REFUSED, "round 8: DestinationConfig; KMSKeyArn for filter criteria")
        for op in ("CreateEventSourceMapping", "UpdateEventSourceMapping")
        for p in ("DestinationConfig.OnSuccess.Destination", "DestinationConfig.OnFailure.Destination", "KMSKeyArn")
    },
    ("lambda", "CreateFunction", "Role"): (PASSROLE, "iam:PassedToService lambda.amazonaws.com"),
    ("lambda", "UpdateFunctionConfiguration", "Role"): (PASSROLE, "iam:PassedToService lambda.amazonaws.com"),
    ("lambda", "CreateFunction", "Code.SourceKMSKeyArn"): (LAMBDA_REFUSED, "round 10"),
    ("lambda", "UpdateFunctionCode", "SourceKMSKeyArn"): (LAMBDA_REFUSED, "round 10"),
    ("lambda", "CreateFunction", "KMSKeyArn"): (LAMBDA_REFUSED, "round 7"),
    ("lambda", "UpdateFunctionConfiguration", "KMSKeyArn"): (LAMBDA_REFUSED, "round 7"),
    ("lambda", "CreateFunction", "DeadLetterConfig.TargetArn"): (LAMBDA_REFUSED, "the role's write decided, then 501"),
    ("lambda", "UpdateFunctionConfiguration", "DeadLetterConfig.TargetArn"): (LAMBDA_REFUSED, "as CreateFunction"),
    ("logs", "AssociateKmsKey", "kmsKeyId"): (UNSERVED_OP, "refused by earlier rounds"),
    ("logs", "CreateDelivery", "deliveryDestinationArn"): (
        PURE,
        "no delivery source can exist (PutDeliverySource is 501, round 8): CreateDelivery finds none",
    ),
    ("logs", "CreateExportTask", "destination"): (
        "delivered",
        "the bucket policy decides logs.amazonaws.com's writes (logs_exports; region/account round 8)",
    ),
    ("logs", "CreateImportTask", "importRoleArn"): (UNSERVED_OP, "round 10"),
    ("logs", "CreateLogAnomalyDetector", "kmsKeyId"): (UNSERVED_OP, "probed round 11"),
    ("logs", "CreateLogGroup", "kmsKeyId"): (READER, "round 9"),
    ("logs", "CreateLookupTable", "kmsKeyId"): (UNSERVED_OP, "probed round 11"),
    ("logs", "UpdateLookupTable", "kmsKeyId"): (UNSERVED_OP, "no lookup table can exist"),
    **{
        ("logs", op, p): (UNSERVED_OP, "round 10")
        for op in ("CreateScheduledQuery", "UpdateScheduledQuery")
        for p in (
            "destinationConfiguration.s3Configuration.destinationIdentifier",
            "destinationConfiguration.s3Configuration.roleArn",
            "destinationConfiguration.s3Configuration.kmsKeyId",
            "executionRoleArn",
        )
    },
    ("logs", "PutDeliveryDestination", "deliveryDestinationConfiguration.destinationResourceArn"): (
        PURE,
        "stored; nothing is delivered without a delivery source (501, round 8)",
    ),
    ("logs", "PutDestination", "roleArn"): (PASSROLE, "iam:PassedToService logs.amazonaws.com (region round 10)"),
    ("logs", "PutDestination", "targetArn"): (
        PURE,
        "a Kinesis stream written only through subscription filters to the destination, which are refused",
    ),
    ("logs", "PutIntegration", "resourceConfig.openSearchResourceConfig.kmsKeyArn"): (UNSERVED_OP, "round 10"),
    ("logs", "PutIntegration", "resourceConfig.openSearchResourceConfig.dataSourceRoleArn"): (UNSERVED_OP, "round 10"),
    ("logs", "PutSubscriptionFilter", "destinationArn"): (
        "refused",
        "Kinesis/Firehose refused by the backend, Logs destinations 501 (logs_subscriptions), Lambda 400",
    ),
    ("logs", "PutSubscriptionFilter", "roleArn"): ("refused", "as destinationArn: no filter with a role is created"),
    **{
        ("logs", op, f"transformerConfig[].{p}.destination"): (PURE, "a field name in the log event")
        for op in ("PutTransformer", "TestTransformer")
        for p in ("csv", "parseJSON", "parseKeyValue")
    },
    ("s3", "CopyObject", "SSEKMSKeyId"): (READER, "round 9"),
    ("s3", "CreateMultipartUpload", "SSEKMSKeyId"): (READER, "round 9"),
    ("s3", "PutObject", "SSEKMSKeyId"): (READER, "round 9"),
    ("s3", "CreateBucket", "CreateBucketConfiguration.Bucket"): (PURE, "the new bucket's own type (BucketInfo)"),
    **{
        ("s3", op, p): (S3_UNSERVED, "")
        for op, p in (
            (
                "CreateBucketMetadataConfiguration",
                "MetadataConfiguration.JournalTableConfiguration.EncryptionConfiguration.KmsKeyArn",
            ),
            (
                "CreateBucketMetadataConfiguration",
                "MetadataConfiguration.InventoryTableConfiguration.EncryptionConfiguration.KmsKeyArn",
            ),
            ("CreateBucketMetadataTableConfiguration", "MetadataTableConfiguration.S3TablesDestination"),
            ("CreateSession", "SSEKMSKeyId"),
            ("PutBucketAnalyticsConfiguration", "AnalyticsConfiguration.StorageClassAnalysis.DataExport.Destination"),
            (
                "PutBucketAnalyticsConfiguration",
                "AnalyticsConfiguration.StorageClassAnalysis.DataExport.Destination.S3BucketDestination",
            ),
            (
                "PutBucketAnalyticsConfiguration",
                "AnalyticsConfiguration.StorageClassAnalysis.DataExport.Destination.S3BucketDestination.Bucket",
            ),
            (
                "UpdateBucketMetadataInventoryTableConfiguration",
                "InventoryTableConfiguration.EncryptionConfiguration.KmsKeyArn",
            ),
            ("UpdateObjectEncryption", "ObjectEncryption.SSEKMS"),
            ("UpdateObjectEncryption", "ObjectEncryption.SSEKMS.KMSKeyArn"),
            ("PutBucketNotification", "NotificationConfiguration.TopicConfiguration.Topic"),
            ("PutBucketNotification", "NotificationConfiguration.QueueConfiguration.Queue"),
            ("PutBucketNotification", "NotificationConfiguration.CloudFunctionConfiguration.CloudFunction"),
            ("PutBucketNotification", "NotificationConfiguration.CloudFunctionConfiguration.InvocationRole"),
        )
    },
    (
        "s3",
        "PutBucketEncryption",
        "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.KMSMasterKeyID",
    ): (READER, "r9"),
    **{
        ("s3", "PutBucketInventoryConfiguration", f"InventoryConfiguration.Destination{p}"): (READER, "enabled, r9")
        for p in ("", ".S3BucketDestination", ".S3BucketDestination.Bucket", ".S3BucketDestination.Encryption.SSEKMS")
    },
    ("s3", "PutBucketLogging", "BucketLoggingStatus.LoggingEnabled.TargetBucket"): (
        "delivered",
        "each log object decided against the target bucket's policy for logging.s3.amazonaws.com (deliveries.py)",
    ),
    **{
        ("s3", "PutBucketNotificationConfiguration", f"NotificationConfiguration.{p}"): (
            "delivered",
            "decided at configuration and at every delivery against the destination's policy (push deliveries)",
        )
        for p in (
            "TopicConfigurations[].TopicArn",
            "QueueConfigurations[].QueueArn",
            "LambdaFunctionConfigurations[].LambdaFunctionArn",
        )
    },
    ("s3", "PutBucketReplication", "ReplicationConfiguration.Role"): (PASSROLE, "iam:PassedToService s3"),
    **{
        ("s3", "PutBucketReplication", f"ReplicationConfiguration.Rules[].Destination{p}"): (READER, "enabled, r9")
        for p in ("", ".Bucket", ".EncryptionConfiguration.ReplicaKmsKeyID")
    },
    ("s3", "RestoreObject", "RestoreRequest.OutputLocation.S3.Encryption.KMSKeyId"): (READER, "round 11"),
    ("sns", "Publish", "TargetArn"): (
        "refused",
        "a topic is decided as sns:Publish on it; a platform endpoint is 501 (sns_protocols, round 11)",
    ),
    ("sns", "Subscribe", "Endpoint"): (
        "delivered",
        "sqs/lambda delivered against the queue/function policy; every other protocol 501 (sns_protocols, round 11)",
    ),
    ("sqs", "StartMessageMoveTask", "DestinationArn"): (UNSERVED_OP, "probed round 11"),
    ("sts", "AssumeRole", "RoleArn"): (PURE, "the operation's own resource: decided by the trust policy"),
}


def _picked(name: str, parent: str) -> bool:
    """A member naming a role or a KMS key anywhere, a destination below the top level, or a top-level member of
    `_TOP_LEVEL`."""
    return bool(
        _ROLE.search(name)
        or _KMS.search(name)
        or (parent and _DESTINATION.search(name))
        or (not parent and name in _TOP_LEVEL)
    )


def _inventory() -> set[tuple[str, str, str]]:
    return served_members(_picked)


def test_every_role_key_or_destination_member_of_a_served_operation_is_classified() -> None:
    """Every member of a served operation's input that names a role, a KMS key or a destination (botocore's models,
    nested members included) is in `ROWS`: decided with the implicit action AWS requires (iam:PassRole — checked
    against the catalog), delivered under the destination's resource policy, refused 501 (a reader of
    `unperformed_settings` or an unserved S3 operation — checked), or naming nothing the service acts on. A member a
    later botocore adds fails here until it is classified."""
    from lambdaperm.catalog.rules import rule
    from lambdaperm.dataplane.s3_support import MOTO_S3_OPERATIONS
    from lambdaperm.dataplane.unperformed_settings import READERS

    found = _inventory()
    assert found - set(ROWS) == set(), sorted(found - set(ROWS))
    assert set(ROWS) - found == set(), sorted(set(ROWS) - found)  # a stale row
    for (service, operation, path), (kind, _why) in ROWS.items():
        if kind == PASSROLE:
            row = rule(service, operation)
            assert row is not None and any(n.action == "iam:PassRole" and path in n.arn for n in row.needs), path
        elif kind == READER:
            assert (service, operation) in READERS, (service, operation)
        elif kind == S3_UNSERVED:
            assert operation not in MOTO_S3_OPERATIONS, operation
