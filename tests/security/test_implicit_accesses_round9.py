"""Attack class: implicit accesses, review round 9 — rounds 7–8's rule ("refuse with 501 what the service would act on
and lambdaperm drops; serve faithfully pure configuration") applied systematically to every served create, update and
put operation of the data plane (S3, SQS, SNS, CloudWatch Logs, DynamoDB, EC2) and of Lambda.

For each input member that configures a later action by the service (an encryption with a KMS key, a deletion, a
replication, a delivery, a filter, a dead-letter target) the table below says what lambdaperm does:

- "refused": 501 NotImplemented naming the member, nothing stored (`dataplane/unperformed_settings.py`);
- "performed": lambdaperm (or its backend) carries it out, authorized as AWS authorizes it (test named);
- "pure": configuration no served path acts on, served as stored (why, in the table).

Each test plays against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The structural oracle
(tests/structural) also checks *acted-on ⊆ authorized* when the server stops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of

REGION = "us-east-1"
ACCOUNT = "790900000001"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r9-service-role"
BUCKET = "r9-bucket"
DEST = "r9-dest"
CODE = zip_of({"app.py": "def handler(event, context):\n    raise RuntimeError('always fails')\n"})
BASIC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _until(what: str, check: Callable[[], Any], seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class World:
    """The account's resources the table's calls act on (made once per module)."""

    def __init__(self, server: Endpoint) -> None:
        self.s3 = server.client("s3", key=ACCOUNT)
        self.sqs = server.client("sqs", key=ACCOUNT)
        self.sns = server.client("sns", key=ACCOUNT)
        self.logs = server.client("logs", key=ACCOUNT)
        self.ddb = server.client("dynamodb", key=ACCOUNT)
        for bucket in (BUCKET, DEST):
            self.s3.create_bucket(Bucket=bucket)
            self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.logs.create_log_group(logGroupName="r9-group")
        self.ddb.create_table(
            TableName="r9-table",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.topic = self.sns.create_topic(Name="r9-topic")["TopicArn"]
        self.queue = self.sqs.create_queue(QueueName="r9-queue")["QueueUrl"]
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])
        self.queue_arn = attrs["Attributes"]["QueueArn"]
        self.sqs.set_queue_attributes(
            QueueUrl=self.queue,
            Attributes={
                "Policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "sns.amazonaws.com"},
                                "Action": "sqs:SendMessage",
                                "Resource": self.queue_arn,
                            }
                        ],
                    }
                )
            },
        )
        self.sqs_sub = self.sns.subscribe(
            TopicArn=self.topic, Protocol="sqs", Endpoint=self.queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
        self.function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:r9-fn"


@pytest.fixture(scope="module")
def world(server: Endpoint) -> World:
    return World(server)


def _lifecycle(status: str) -> dict[str, Any]:
    rule = {"ID": "x", "Status": status, "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}
    return {"LifecycleConfiguration": {"Rules": [rule]}}


def _replication(status: str) -> dict[str, Any]:
    rule = {
        "ID": "r",
        "Priority": 1,
        "Status": status,
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Disabled"},
        "Destination": {"Bucket": f"arn:aws:s3:::{DEST}"},
    }
    return {"ReplicationConfiguration": {"Role": ROLE, "Rules": [rule]}}


def _inventory(enabled: bool) -> dict[str, Any]:
    return {
        "Id": "inv",
        "InventoryConfiguration": {
            "Id": "inv",
            "IsEnabled": enabled,
            "IncludedObjectVersions": "All",
            "Schedule": {"Frequency": "Daily"},
            "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{DEST}", "Format": "CSV"}},
        },
    }


def _encryption(algorithm: str, key: str | None = None) -> dict[str, Any]:
    default: dict[str, Any] = {"SSEAlgorithm": algorithm}
    if key:
        default["KMSMasterKeyID"] = key
    return {"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}}


def _filter_policy() -> str:
    return json.dumps({"kind": ["wanted"]})


# (id, call on the world, member the 501 names) — each a setting the service acts on and lambdaperm does not
REFUSED: list[tuple[str, Callable[[World], Any], str]] = [
    (
        "s3-PutObject-aws:kms",
        lambda w: w.s3.put_object(Bucket=BUCKET, Key="kms", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=KEY),
        "aws:kms",
    ),
    (
        "s3-PutObject-aws:kms:dsse",
        lambda w: w.s3.put_object(Bucket=BUCKET, Key="dsse", Body=b"x", ServerSideEncryption="aws:kms:dsse"),
        "aws:kms:dsse",
    ),
    (
        "s3-CreateMultipartUpload-aws:kms",
        lambda w: w.s3.create_multipart_upload(Bucket=BUCKET, Key="mpu", ServerSideEncryption="aws:kms"),
        "aws:kms",
    ),
    (
        "s3-CopyObject-aws:kms",
        lambda w: w.s3.copy_object(
            Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "plain"}, ServerSideEncryption="aws:kms"
        ),
        "aws:kms",
    ),
    (
        "s3-PutBucketEncryption-aws:kms",
        lambda w: w.s3.put_bucket_encryption(Bucket=BUCKET, **_encryption("aws:kms", KEY)),
        "aws:kms",
    ),
    (
        "s3-PutBucketLifecycleConfiguration-Enabled",
        lambda w: w.s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, **_lifecycle("Enabled")),
        "lifecycle",
    ),
    (
        "s3-PutBucketReplication-Enabled",
        lambda w: w.s3.put_bucket_replication(Bucket=BUCKET, **_replication("Enabled")),
        "replication",
    ),
    (
        "s3-PutBucketInventoryConfiguration-enabled",
        lambda w: w.s3.put_bucket_inventory_configuration(Bucket=BUCKET, **_inventory(True)),
        "InventoryConfiguration",
    ),
    (
        "s3-PutBucketNotificationConfiguration-EventBridge",
        lambda w: w.s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
        ),
        "EventBridgeConfiguration",
    ),
    (
        "sqs-CreateQueue-KmsMasterKeyId",
        lambda w: w.sqs.create_queue(QueueName="r9-kms", Attributes={"KmsMasterKeyId": KEY}),
        "KmsMasterKeyId",
    ),
    (
        "sqs-SetQueueAttributes-KmsMasterKeyId",
        lambda w: w.sqs.set_queue_attributes(QueueUrl=w.queue, Attributes={"KmsMasterKeyId": "alias/aws/sqs"}),
        "KmsMasterKeyId",
    ),
    (
        "sns-CreateTopic-KmsMasterKeyId",
        lambda w: w.sns.create_topic(Name="r9-kms", Attributes={"KmsMasterKeyId": KEY}),
        "KmsMasterKeyId",
    ),
    (
        "sns-SetTopicAttributes-KmsMasterKeyId",
        lambda w: w.sns.set_topic_attributes(TopicArn=w.topic, AttributeName="KmsMasterKeyId", AttributeValue=KEY),
        "KmsMasterKeyId",
    ),
    (
        "sns-SetTopicAttributes-SQSFailureFeedbackRoleArn",
        lambda w: w.sns.set_topic_attributes(
            TopicArn=w.topic, AttributeName="SQSFailureFeedbackRoleArn", AttributeValue=ROLE
        ),
        "SQSFailureFeedbackRoleArn",
    ),
    (
        "sns-CreateTopic-LambdaSuccessFeedbackRoleArn",
        lambda w: w.sns.create_topic(Name="r9-feedback", Attributes={"LambdaSuccessFeedbackRoleArn": ROLE}),
        "LambdaSuccessFeedbackRoleArn",
    ),
    (
        "sns-SetTopicAttributes-TracingConfig-Active",
        lambda w: w.sns.set_topic_attributes(TopicArn=w.topic, AttributeName="TracingConfig", AttributeValue="Active"),
        "TracingConfig",
    ),
    (
        "sns-CreateTopic-ArchivePolicy",
        lambda w: w.sns.create_topic(
            Name="r9-archive.fifo",
            Attributes={"FifoTopic": "true", "ArchivePolicy": json.dumps({"MessageRetentionPeriod": "30"})},
        ),
        "ArchivePolicy",
    ),
    (
        "sns-Subscribe-RedrivePolicy",
        lambda w: w.sns.subscribe(
            TopicArn=w.topic,
            Protocol="sqs",
            Endpoint=w.queue_arn,
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": w.queue_arn})},
        ),
        "RedrivePolicy",
    ),
    (
        "sns-SetSubscriptionAttributes-RedrivePolicy",
        lambda w: w.sns.set_subscription_attributes(
            SubscriptionArn=w.sqs_sub,
            AttributeName="RedrivePolicy",
            AttributeValue=json.dumps({"deadLetterTargetArn": w.queue_arn}),
        ),
        "RedrivePolicy",
    ),
    (
        "sns-Subscribe-lambda-FilterPolicy",
        lambda w: w.sns.subscribe(
            TopicArn=w.topic, Protocol="lambda", Endpoint=w.function_arn, Attributes={"FilterPolicy": _filter_policy()}
        ),
        "FilterPolicy",
    ),
    (
        "logs-CreateLogGroup-kmsKeyId",
        lambda w: w.logs.create_log_group(logGroupName="r9-kms", kmsKeyId=KEY),
        "kmsKeyId",
    ),
    (
        "logs-PutRetentionPolicy",
        lambda w: w.logs.put_retention_policy(logGroupName="r9-group", retentionInDays=1),
        "retentionInDays",
    ),
    (
        "dynamodb-CreateTable-SSESpecification-KMS",
        lambda w: w.ddb.create_table(
            TableName="r9-kms",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY},
        ),
        "SSESpecification",
    ),
    (
        "dynamodb-UpdateTable-SSESpecification-KMS",
        lambda w: w.ddb.update_table(TableName="r9-table", SSESpecification={"Enabled": True, "KMSMasterKeyId": KEY}),
        "SSESpecification",
    ),
    (
        "dynamodb-UpdateTable-ReplicaUpdates",
        lambda w: w.ddb.update_table(TableName="r9-table", ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}]),
        "ReplicaUpdates",
    ),
    (
        "dynamodb-UpdateTimeToLive-Enabled",
        lambda w: w.ddb.update_time_to_live(
            TableName="r9-table", TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
        ),
        "TimeToLiveSpecification",
    ),
    (
        "dynamodb-CreateGlobalTable",
        lambda w: w.ddb.create_global_table(
            GlobalTableName="r9-table", ReplicationGroup=[{"RegionName": REGION}, {"RegionName": "us-west-2"}]
        ),
        "global table",
    ),
]


@pytest.mark.parametrize(("call", "member"), [(c, m) for _, c, m in REFUSED], ids=[i for i, _, _ in REFUSED])
def test_settings_the_service_acts_on_are_refused_not_dropped(
    world: World, call: Callable[[World], Any], member: str
) -> None:
    """Attack: each of these settings was accepted and stored by the embedded backend, which never acts on it:
    an object "encrypted" with a KMS key was stored in the clear and answered to a reader without `kms:Decrypt`
    (a wrong allow: S3, SQS and SNS decrypt with the reader's or publisher's KMS permissions); lifecycle
    expirations, TTL deletions and log retention never ran (data AWS deletes stayed); replication, inventory
    reports, EventBridge events, SNS delivery-status logs and dead-letter redrives were never delivered; an SNS
    `lambda` subscription's FilterPolicy was ignored (every message reached the function).
    AWS rule: the service acts on each setting later, with the caller's KMS permissions, a role, or as its own
    principal (each member's AWS page is in `lambdaperm/dataplane/unperformed_settings.py`). lambdaperm does not:
    501 NotImplemented naming the member, after authorization, before anything is stored."""
    with pytest.raises(ClientError) as refused:
        call(world)
    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501, error
    assert error["Code"] == "NotImplemented"
    assert member in error["Message"]


def test_nothing_refused_was_stored(world: World) -> None:
    """The refused settings leave no trace: the bucket has no lifecycle, replication, inventory or KMS default, the
    queue and the topic no key, the table no TTL and no replica, the log group no retention, no object was written.
    (Run after the table: each read asserts what AWS would answer had the call never been made.)"""
    for refused_call, code in (
        (lambda: world.s3.get_bucket_lifecycle_configuration(Bucket=BUCKET), "NoSuchLifecycleConfiguration"),
        (lambda: world.s3.get_bucket_replication(Bucket=BUCKET), "ReplicationConfigurationNotFoundError"),
        (lambda: world.s3.head_object(Bucket=BUCKET, Key="kms"), "404"),
    ):
        with pytest.raises(ClientError) as absent:
            refused_call()
        assert absent.value.response["Error"]["Code"] == code
    assert "InventoryConfigurationList" not in world.s3.list_bucket_inventory_configurations(Bucket=BUCKET)
    attributes = world.sqs.get_queue_attributes(QueueUrl=world.queue, AttributeNames=["All"])["Attributes"]
    assert "KmsMasterKeyId" not in attributes
    assert "KmsMasterKeyId" not in world.sns.get_topic_attributes(TopicArn=world.topic)["Attributes"]
    ttl = world.ddb.describe_time_to_live(TableName="r9-table")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "DISABLED"
    assert "Replicas" not in world.ddb.describe_table(TableName="r9-table")["Table"]
    group = world.logs.describe_log_groups(logGroupNamePrefix="r9-group")["logGroups"][0]
    assert "retentionInDays" not in group


# (id, call, why it is served): the same operations with values no served path acts on
PURE: list[tuple[str, Callable[[World], Any], str]] = [
    (
        "s3-PutObject-AES256",
        lambda w: w.s3.put_object(Bucket=BUCKET, Key="plain", Body=b"x", ServerSideEncryption="AES256"),
        "SSE-S3 needs no permission of the caller; the object is served to whoever may read it, as S3 does",
    ),
    (
        "s3-PutBucketEncryption-AES256",
        lambda w: w.s3.put_bucket_encryption(Bucket=DEST, **_encryption("AES256")),
        "as above",
    ),
    (
        "s3-PutBucketLifecycleConfiguration-Disabled",
        lambda w: w.s3.put_bucket_lifecycle_configuration(Bucket=DEST, **_lifecycle("Disabled")),
        "a disabled rule is not run by S3",
    ),
    (
        "s3-PutBucketReplication-Disabled",
        lambda w: w.s3.put_bucket_replication(Bucket=DEST, **_replication("Disabled")),
        "a disabled rule replicates nothing",
    ),
    (
        "s3-PutBucketInventoryConfiguration-disabled",
        lambda w: w.s3.put_bucket_inventory_configuration(Bucket=DEST, **_inventory(False)),
        "a disabled inventory delivers nothing",
    ),
    (
        "s3-PutBucketAccelerateConfiguration",
        lambda w: w.s3.put_bucket_accelerate_configuration(Bucket=DEST, AccelerateConfiguration={"Status": "Enabled"}),
        "an edge route to the same REST API, authorized alike; no action of S3's",
    ),
    (
        "s3-PutBucketWebsite",
        lambda w: w.s3.put_bucket_website(
            Bucket=DEST, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
        ),
        "read only by the website endpoint, which is 501 (round 8)",
    ),
    (
        "sqs-DelaySeconds-MessageRetentionPeriod",
        lambda w: w.sqs.create_queue(
            QueueName="r9-delay", Attributes={"DelaySeconds": "5", "MessageRetentionPeriod": "60"}
        ),
        "performed by the backend (moto delays and expires messages), no permission involved",
    ),
    (
        "sqs-SqsManagedSseEnabled",
        lambda w: w.sqs.create_queue(QueueName="r9-sse", Attributes={"SqsManagedSseEnabled": "true"}),
        "SSE-SQS needs no permission",
    ),
    (
        "sns-DeliveryPolicy",
        lambda w: w.sns.set_topic_attributes(
            TopicArn=w.topic,
            AttributeName="DeliveryPolicy",
            AttributeValue=json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 3}}}),
        ),
        "retries of HTTP/S deliveries, which lambdaperm never makes",
    ),
    (
        "sns-SetSubscriptionAttributes-sqs-FilterPolicy",
        lambda w: w.sns.set_subscription_attributes(
            SubscriptionArn=w.sqs_sub, AttributeName="FilterPolicy", AttributeValue=_filter_policy()
        ),
        "performed: moto filters its SQS deliveries (test_sqs_filter_policy_is_performed)",
    ),
    (
        "logs-PutMetricFilter",
        lambda w: w.logs.put_metric_filter(
            logGroupName="r9-group",
            filterName="f",
            filterPattern="ERROR",
            metricTransformations=[{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}],
        ),
        "metrics go to CloudWatch, not served: no observable action, no permission (Logs publishes as itself)",
    ),
    (
        "dynamodb-UpdateTable-StreamSpecification",
        lambda w: w.ddb.update_table(
            TableName="r9-table", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
        ),
        "the stream is read only by DynamoDB Streams (not served) and stream mappings (501, below)",
    ),
    (
        "dynamodb-UpdateTable-SSESpecification-owned",
        lambda w: w.ddb.update_table(TableName="r9-table", SSESpecification={"Enabled": False}),
        "an AWS owned key needs no permission",
    ),
]


@pytest.mark.parametrize("call", [c for _, c, _ in PURE], ids=[i for i, _, _ in PURE])
def test_pure_configuration_is_served(world: World, call: Callable[[World], Any]) -> None:
    """The values no served path acts on stay served (a refusal here would be a wrong deny); the reason for each
    is the table's third column."""
    call(world)


def test_sqs_filter_policy_is_performed(server: Endpoint, world: World) -> None:
    """Held: an SQS subscription's FilterPolicy is applied by the backend's SNS → SQS delivery — a message whose
    attributes do not match is not delivered, one that matches is (https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html)."""
    sns, sqs = world.sns, world.sqs
    queue = sqs.create_queue(QueueName="r9-filtered")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
    }
    sqs.set_queue_attributes(
        QueueUrl=queue, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}
    )
    topic = sns.create_topic(Name="r9-filtered")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": _filter_policy(), "RawMessageDelivery": "true"},
    )

    def attr(kind: str) -> dict[str, Any]:
        return {"kind": {"DataType": "String", "StringValue": kind}}

    sns.publish(TopicArn=topic, Message="unwanted", MessageAttributes=attr("other"))
    sns.publish(TopicArn=topic, Message="wanted", MessageAttributes=attr("wanted"))
    received = _until(
        "the matching message",
        lambda: sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"),
    )
    assert [m["Body"] for m in received] == ["wanted"]  # published after the unwanted one: in FIFO-free order too
    again = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    assert all(m["Body"] != "unwanted" for m in again)


def test_a_lambda_subscription_filter_policy_set_later_is_refused(server: Endpoint, world: World) -> None:
    """Attack: a `lambda` subscription made without a filter, then SetSubscriptionAttributes FilterPolicy: the
    policy was stored, and lambdaperm's own SNS → Lambda delivery (gateway/events.sns_publish_event) ignored it —
    every message reached the function, including those the topic owner filtered out.
    AWS rule: "By default, an Amazon SNS topic subscriber receives every message published to the topic. To
    receive a subset of the messages, a subscriber must assign a filter policy to the topic subscription"
    (https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html). lambdaperm does not filter Lambda
    deliveries: 501 NotImplemented, and the subscription keeps no FilterPolicy."""
    lam = server.client("lambda", key=ACCOUNT)
    role = make_role(server.client("iam", key=ACCOUNT), "r9-filter-role", managed=[BASIC_ROLE])
    fn = lam.create_function(
        FunctionName="r9-fn", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )["FunctionArn"]
    lam.add_permission(
        FunctionName="r9-fn",
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=world.topic,
    )
    sub = world.sns.subscribe(TopicArn=world.topic, Protocol="lambda", Endpoint=fn, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]
    with pytest.raises(ClientError) as refused:
        world.sns.set_subscription_attributes(
            SubscriptionArn=sub, AttributeName="FilterPolicy", AttributeValue=_filter_policy()
        )
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert "FilterPolicy" not in world.sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]


# ---- Lambda: settings Lambda acts on, found stored and never acted on -------------------------------------------


def test_dead_letter_config_is_refused_or_delivered(server: Endpoint) -> None:
    """Attack: a function with `DeadLetterConfig.TargetArn` (an SQS queue its role may send to) is invoked
    asynchronously and fails: Lambda retries twice and then sends the event to the dead-letter queue with the
    execution role (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq).
    lambdaperm runs an Event invocation once (invoke.invoke → env.submit(run)) and drops the failure: the setting,
    decided at CreateFunction as the role's `sqs:SendMessage` (functions._dead_letter), is never acted on. The fail
    closed answer until delivery is implemented: 501 NotImplemented naming DeadLetterConfig at CreateFunction and
    UpdateFunctionConfiguration (after the role's checks); nothing is created or stored. An empty TargetArn (no
    target: what lambdaperm does) is accepted."""
    account = "790900000002"
    lam = server.client("lambda", key=account)
    sqs = server.client("sqs", key=account)
    dlq = sqs.create_queue(QueueName="r9-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}]}
    role = make_role(server.client("iam", key=account), "r9-dlq-role", policy=policy, managed=[BASIC_ROLE])
    with pytest.raises(ClientError) as refused:
        lam.create_function(
            FunctionName="r9-dlq-fn",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": CODE},
            DeadLetterConfig={"TargetArn": arn},
        )
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert "DeadLetterConfig" in refused.value.response["Error"]["Message"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == []
    lam.create_function(
        FunctionName="r9-dlq-fn", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    with pytest.raises(ClientError) as updated:
        lam.update_function_configuration(FunctionName="r9-dlq-fn", DeadLetterConfig={"TargetArn": arn})
    assert updated.value.response["Error"]["Code"] == "NotImplemented"
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName="r9-dlq-fn")
    # no target is what lambdaperm does: accepted (positive control)
    cleared = lam.update_function_configuration(FunctionName="r9-dlq-fn", DeadLetterConfig={"TargetArn": ""})
    assert "DeadLetterConfig" not in cleared


def test_stream_event_source_mapping_is_refused_or_polled(server: Endpoint, world: World) -> None:
    """Attack: CreateEventSourceMapping on a DynamoDB stream ARN is accepted and reports State Enabled, but nothing
    polls the stream: items written never reach the function (round 8 noted it). Lambda polls the stream with the
    execution role and invokes the function with each batch
    (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html). Fail closed: 501 NotImplemented naming the source
    at CreateEventSourceMapping for a source lambdaperm does not poll (only SQS is), after the region and role checks
    (a role that may not read the stream is still InvalidParameterValueException); no mapping is created."""
    account = "790900000003"
    lam = server.client("lambda", key=account)
    ddb = server.client("dynamodb", key=account)
    stream = ddb.create_table(
        TableName="r9-streamed",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
    role = make_role(server.client("iam", key=account), "r9-stream-role", policy=policy, managed=[BASIC_ROLE])
    lam.create_function(
        FunctionName="r9-stream-fn", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    with pytest.raises(ClientError) as refused:
        lam.create_event_source_mapping(FunctionName="r9-stream-fn", EventSourceArn=stream, StartingPosition="LATEST")
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert stream in refused.value.response["Error"]["Message"]
    assert lam.list_event_source_mappings(FunctionName="r9-stream-fn")["EventSourceMappings"] == []
