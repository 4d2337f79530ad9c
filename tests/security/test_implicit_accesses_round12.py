"""Attack class: implicit accesses, review round 12 — settings carried in attribute maps and bucket sub-resources.

A stored setting is an implicit access when the service acts on it later: it blocks or restricts access (S3 Block
Public Access), decides who owns what another account writes (S3 Object Ownership), replicates into or out of
another account (DynamoDB multi-account global tables), encrypts, expires, redrives or delivers. Rounds 7–11's rule:
such a setting is performed as AWS performs it, or refused with 501 NotImplemented naming it after authorization —
never stored and dropped. Rounds 9 and 11 walked members; map keys (SQS and SNS attributes) and bucket
sub-resources were covered only where a reader existed. This round classifies every key and sub-resource
(performed, refused or inert, with the reason), read from botocore so that a new one fails until classified, and
plays each probe against a real `lambdaperm serve` with real boto3.

Found (moto 5.2.1 stored each and acted on none; all fixed in `dataplane/unperformed_settings.py`):

- PutPublicAccessBlock with BlockPublicPolicy: a `Principal: *` bucket policy was then accepted (S3 refuses it,
  403); with RestrictPublicBuckets another account read the bucket through that public policy (S3 lets only AWS
  service principals and the bucket owner's account through); with BlockPublicAcls a public ACL was stored.
- ObjectOwnership ObjectWriter / BucketOwnerPreferred (CreateBucket, PutBucketOwnershipControls): S3 makes the
  writing account the object's owner, and the bucket owner then needs the object's ACL to read it; lambdaperm
  always decides as the bucket owner's object (BucketOwnerEnforced), so the bucket owner's users read another
  account's object AWS denies them.
- DynamoDB multi-account global tables: CreateTable `GlobalTableSourceArn` (another account's table) and
  `GlobalTableSettingsReplicationMode`, UpdateTable `GlobalTableWitnessUpdates`, `MultiRegionConsistency` and
  `GlobalTableSettingsReplicationMode` were accepted; DynamoDB replicates data and settings across accounts as
  `replication.dynamodb.amazonaws.com` under each replica's resource policy, and moto created a plain table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
A = "121200000012"  # the owner
B = "343400000012"  # another account

KEYS = {
    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _error(call: Callable[[], Any]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["ResponseMetadata"]["HTTPStatusCode"], refused.value.response["Error"]


def _not_implemented(call: Callable[[], Any], word: str) -> None:
    status, error = _error(call)
    assert (status, error["Code"]) == (501, "NotImplemented"), error
    assert word in error["Message"], error


@pytest.fixture(scope="module")
def owner(server: Endpoint) -> Iterator[dict[str, Any]]:
    """Account A's root clients and account B's user allowed every S3 and DynamoDB action (identity policy)."""
    b = clients_of(
        server, user_keys(server, B, "r12-b", {"Effect": "Allow", "Action": ["s3:*", "dynamodb:*"], "Resource": "*"})
    )
    yield {
        "s3": server.client("s3", key=A),
        "ddb": server.client("dynamodb", key=A),
        "b_s3": b("s3"),
        "b_ddb": b("dynamodb"),
    }


# --- S3 Block Public Access -------------------------------------------------------------------------------------

# BlockPublicAcls, BlockPublicPolicy and RestrictPublicBuckets, refused (501) in this round, are performed since its
# follow-up: tests/security/test_implicit_accesses_round12_followup.py.


def test_a_public_access_block_is_refused_after_authorization(server: Endpoint) -> None:
    """A caller denied s3:PutBucketPublicAccessBlock gets AccessDenied."""
    s3 = server.client("s3", key=A)
    s3.create_bucket(Bucket="r12-pab-denied")
    user = clients_of(
        server, user_keys(server, A, "r12-nopab", {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})
    )
    config = {"BlockPublicPolicy": True}
    status, error = _error(
        lambda: user("s3").put_public_access_block(Bucket="r12-pab-denied", PublicAccessBlockConfiguration=config)
    )
    assert (status, error["Code"]) == (403, "AccessDenied"), error


def test_ignore_public_acls_and_an_all_false_block_are_served(owner: dict[str, Any]) -> None:
    """IgnorePublicAcls makes S3 ignore public ACLs; lambdaperm grants nothing by ACL whatever the block says, so
    the setting is performed already. An all-false block restricts nothing. Both are stored and read back."""
    s3 = owner["s3"]
    s3.create_bucket(Bucket="r12-pab-served")
    for flags in ({"IgnorePublicAcls": True}, {}):
        config = dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), False
        )
        config.update(flags)
        s3.put_public_access_block(Bucket="r12-pab-served", PublicAccessBlockConfiguration=config)
        assert s3.get_public_access_block(Bucket="r12-pab-served")["PublicAccessBlockConfiguration"] == config


def test_a_new_bucket_refuses_a_public_policy(owner: dict[str, Any]) -> None:
    """The attack: A (or a user allowed s3:PutBucketPolicy) puts a `Principal: *` policy on a bucket just created;
    account B reads through it. S3: "By default, new buckets ... don't allow public access" — every new bucket starts
    with BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets on
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html,
    https://aws.amazon.com/blogs/aws/heads-up-amazon-s3-security-changes-are-coming-in-april-of-2023/), so the policy
    is refused (403 AccessDenied) until the owner removes the block. lambdaperm's buckets started with none: the policy
    was stored and B's read allowed (strict xfail this round; fixed in its follow-up, `s3_public_policies`)."""
    s3 = owner["s3"]
    s3.create_bucket(Bucket="r12-fresh")
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::r12-fresh/*"}
        ],
    }
    status, error = _error(lambda: s3.put_bucket_policy(Bucket="r12-fresh", Policy=json.dumps(public)))
    assert (status, error["Code"]) == (403, "AccessDenied"), error


# --- S3 Object Ownership ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ownership", ["ObjectWriter", "BucketOwnerPreferred"])
def test_an_ownership_that_leaves_objects_to_their_writer_is_refused(owner: dict[str, Any], ownership: str) -> None:
    """The attack: A creates a bucket with ObjectOwnership ObjectWriter and lets B put objects; B writes an object;
    a user of A allowed s3:GetObject reads it. S3: with ObjectWriter "the account that uploads an object owns the
    object" and with BucketOwnerPreferred the writer owns it unless it sends bucket-owner-full-control

    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html); an object owned by another
    account is readable only if its ACL grants it ("Object context",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-auth-workflow-object-operation.html). moto
    stored the setting and lambdaperm decided on the bucket owner's object: A's user read B's object. Now 501 at
    CreateBucket (no bucket) and at PutBucketOwnershipControls (nothing stored)."""
    s3 = owner["s3"]
    bucket = f"r12-own-{ownership.lower()}"
    _not_implemented(lambda: s3.create_bucket(Bucket=bucket, ObjectOwnership=ownership), ownership)
    status, _ = _error(lambda: s3.head_bucket(Bucket=bucket))
    assert status == 404
    s3.create_bucket(Bucket=bucket)
    rules = {"Rules": [{"ObjectOwnership": ownership}]}
    _not_implemented(lambda: s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls=rules), ownership)
    stored = (
        s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        if _has_controls(s3, bucket)
        else []
    )
    assert all(rule["ObjectOwnership"] == "BucketOwnerEnforced" for rule in stored), stored


def _has_controls(s3: Any, bucket: str) -> bool:
    try:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    except ClientError as absent:
        assert absent.response["Error"]["Code"] == "OwnershipControlsNotFoundError", absent.response["Error"]
        return False
    return True


def test_bucket_owner_enforced_is_served(owner: dict[str, Any]) -> None:
    """BucketOwnerEnforced — the bucket owner owns every object, ACLs grant nothing — is how lambdaperm decides:
    served at CreateBucket and PutBucketOwnershipControls (the control)."""
    s3 = owner["s3"]
    s3.create_bucket(Bucket="r12-own-enforced", ObjectOwnership="BucketOwnerEnforced")
    rules = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    s3.put_bucket_ownership_controls(Bucket="r12-own-enforced", OwnershipControls=rules)
    assert s3.get_bucket_ownership_controls(Bucket="r12-own-enforced")["OwnershipControls"] == rules


# --- DynamoDB multi-account global tables -----------------------------------------------------------------------

GLOBAL_TABLE_MEMBERS: list[tuple[str, str, Any]] = [
    ("CreateTable", "GlobalTableSourceArn", f"arn:aws:dynamodb:{REGION}:{B}:table/r12-source"),
    ("CreateTable", "GlobalTableSettingsReplicationMode", "ENABLED"),
    ("UpdateTable", "GlobalTableWitnessUpdates", [{"Create": {"RegionName": "us-west-2"}}]),
    ("UpdateTable", "MultiRegionConsistency", "STRONG"),
    ("UpdateTable", "GlobalTableSettingsReplicationMode", "ENABLED"),
]


@pytest.mark.parametrize(("operation", "member", "value"), GLOBAL_TABLE_MEMBERS, ids=lambda v: str(v)[:40])
def test_a_multi_account_global_table_member_is_refused(
    owner: dict[str, Any], operation: str, member: str, value: Any
) -> None:
    """The attack: B's table `r12-source` holds an item; A calls CreateTable with `GlobalTableSourceArn` naming it.
    DynamoDB creates A's table as a replica of B's and replicates data and settings between them as
    `replication.dynamodb.amazonaws.com`, each replica's resource policy allowing dynamodb:ReadDataForReplication,
    WriteDataForReplication and ReplicateSettings
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_MA_security.html); a witness
    (GlobalTableWitnessUpdates) keeps
    replicated change data in another region. moto created a plain empty table and stored nothing of it. Now 501
    naming the member, after authorization; no table is created."""
    ddb = owner["ddb"]
    if operation == "CreateTable":
        owner["b_ddb"].create_table(TableName="r12-source", **KEYS) if not _table(
            owner["b_ddb"], "r12-source"
        ) else None
        name = f"r12-gt-{member.lower()}"
        _not_implemented(lambda: ddb.create_table(TableName=name, **KEYS, **{member: value}), member)
        assert not _table(ddb, name)
    else:
        name = "r12-gt-update"
        if not _table(ddb, name):
            ddb.create_table(TableName=name, **KEYS)
        _not_implemented(lambda: ddb.update_table(TableName=name, **{member: value}), member)


def _table(ddb: Any, name: str) -> bool:
    try:
        ddb.describe_table(TableName=name)
    except ClientError as absent:
        assert absent.response["Error"]["Code"] == "ResourceNotFoundException", absent.response["Error"]
        return False
    return True


# --- What held (each asserting AWS's outcome) -------------------------------------------------------------------


def test_a_refused_dead_letter_queue_of_another_account_changes_nothing(server: Endpoint) -> None:
    """SQS moves a message to the dead-letter queue its RedrivePolicy names, which "must be in the same AWS account
    and Region as the source queue"
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html); a
    refused SetQueueAttributes changes nothing. Found: the embedded backend refused B's queue (400) only after writing
    the RedrivePolicy onto A's queue — GetQueueAttributes then named B's queue as A's dead-letter queue (messages
    still went to the old one). Now refused before the backend, with the backend's answer; a missing queue of A's
    too. B's RedriveAllowPolicy allowAll changes nothing."""
    b_sqs = server.client("sqs", key=B)
    allow_all = {"RedriveAllowPolicy": json.dumps({"redrivePermission": "allowAll"})}
    foreign = b_sqs.create_queue(QueueName="r12-dlq", Attributes=allow_all)["QueueUrl"]
    foreign_arn = b_sqs.get_queue_attributes(QueueUrl=foreign, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs = server.client("sqs", key=A)
    own = sqs.create_queue(QueueName="r12-dlq")["QueueUrl"]
    own_arn = sqs.get_queue_attributes(QueueUrl=own, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(QueueName="r12-source")["QueueUrl"]
    kept = json.dumps({"deadLetterTargetArn": own_arn, "maxReceiveCount": 1})
    sqs.set_queue_attributes(QueueUrl=source, Attributes={"RedrivePolicy": kept})
    for target in (foreign_arn, own_arn.replace("r12-dlq", "r12-missing")):
        attributes = {"RedrivePolicy": json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": 1})}
        status, error = _error(lambda a=attributes: sqs.set_queue_attributes(QueueUrl=source, Attributes=a))
        assert (status, error["Code"]) == (400, "AWS.SimpleQueueService.NonExistentQueue"), error
        stored = sqs.get_queue_attributes(QueueUrl=source, AttributeNames=["RedrivePolicy"])["Attributes"]
        assert json.loads(stored["RedrivePolicy"])["deadLetterTargetArn"] == own_arn, stored
    status, error = _error(lambda: sqs.create_queue(QueueName="r12-new", Attributes=attributes))
    assert status == 400, error
    assert "r12-new" not in " ".join(sqs.list_queues().get("QueueUrls", []))


def test_deletion_protection_is_performed(owner: dict[str, Any]) -> None:
    """DeletionProtectionEnabled: "the table cannot be deleted"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html). Held: DeleteTable is
    refused and the table stays."""
    ddb = owner["ddb"]
    ddb.create_table(TableName="r12-protected", DeletionProtectionEnabled=True, **KEYS)
    status, error = _error(lambda: ddb.delete_table(TableName="r12-protected"))
    assert (status, error["Code"]) == (400, "ValidationException"), error
    assert _table(ddb, "r12-protected")


def test_requester_pays_is_not_served(owner: dict[str, Any]) -> None:
    """Requester Pays: S3 refuses a non-owner's request without `x-amz-request-payer`
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ObjectsinRequesterPaysBuckets.html). Held: no bucket can
    be made requester-pays (PutBucketRequestPayment and GetBucketRequestPayment are 501), so a RequestPayer header —
    which only acknowledges the charge — grants and refuses nothing."""
    s3 = owner["s3"]
    s3.create_bucket(Bucket="r12-payer")
    config = {"Payer": "Requester"}
    _not_implemented(
        lambda: s3.put_bucket_request_payment(Bucket="r12-payer", RequestPaymentConfiguration=config), "RequestPayment"
    )
    _not_implemented(lambda: s3.get_bucket_request_payment(Bucket="r12-payer"), "RequestPayment")


# --- Every key and sub-resource, classified ----------------------------------------------------------------------

PERFORMED, REFUSED, INERT, DECIDED, READ_ONLY, UNSERVED = (
    "performed",
    "refused",
    "inert",
    "decided",
    "read-only",
    "unserved",
)

# SQS queue attributes: botocore's QueueAttributeName and what CreateQueue/SetQueueAttributes take.
SQS_ATTRIBUTES: dict[str, tuple[str, str, Any]] = {
    "Policy": (DECIDED, "the queue policy, read by the authorizer (gateway/policy_writes.py)", None),
    "VisibilityTimeout": (PERFORMED, "moto; no permission", None),
    "MaximumMessageSize": (PERFORMED, "moto; no permission", None),
    "MessageRetentionPeriod": (PERFORMED, "moto; no permission", None),
    "DelaySeconds": (PERFORMED, "moto; no permission", None),
    "ReceiveMessageWaitTimeSeconds": (PERFORMED, "moto; no permission", None),
    "RedrivePolicy": (PERFORMED, "moto moves within the account; another account's DLQ is 400 (test above)", None),
    "RedriveAllowPolicy": (PERFORMED, "checked at RedrivePolicy time (dataplane/sqs_redrive.py)", None),
    "FifoQueue": (PERFORMED, "moto", None),
    "ContentBasedDeduplication": (PERFORMED, "moto", None),
    "DeduplicationScope": (INERT, "throughput partitioning; no access", None),
    "FifoThroughputLimit": (INERT, "a throughput quota; no access", None),
    "KmsMasterKeyId": (REFUSED, "kms:GenerateDataKey/Decrypt of senders and receivers (round 9)", "alias/aws/sqs"),
    "KmsDataKeyReusePeriodSeconds": (INERT, "no KMS key can be set (KmsMasterKeyId is refused)", None),
    "SqsManagedSseEnabled": (INERT, "SSE-SQS: SQS-owned keys, no permission asked of anyone", None),
    **{
        name: (READ_ONLY, "not settable: InvalidAttributeName (dataplane/sqs_attributes.py)", None)
        for name in (
            "All",
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
            "CreatedTimestamp",
            "LastModifiedTimestamp",
            "QueueArn",
        )
    },
}

_FEEDBACK_ROLES = {
    f"{p}{o}FeedbackRoleArn": (REFUSED, "SNS logs delivery status as the role (round 9)", f"arn:aws:iam::{A}:role/r")
    for p in ("Application", "HTTP", "Lambda", "SQS", "Firehose")
    for o in ("Success", "Failure")
}
_SAMPLE_RATES = {
    f"{p}SuccessFeedbackSampleRate": (INERT, "no feedback role can be set", None)
    for p in ("Application", "HTTP", "Lambda", "SQS", "Firehose")
}
# SNS topic attributes: what CreateTopic/SetTopicAttributes take (dataplane/sns_attributes.py, itself read from
# the API reference).
SNS_TOPIC_ATTRIBUTES: dict[str, tuple[str, str, Any]] = {
    **_FEEDBACK_ROLES,
    **_SAMPLE_RATES,
    "Policy": (DECIDED, "the topic policy, read by the authorizer", None),
    "KmsMasterKeyId": (REFUSED, "publishers' kms:GenerateDataKey*/Decrypt (round 9)", "alias/aws/sns"),
    "ArchivePolicy": (REFUSED, "messages archived and replayed (round 9)", '{"MessageRetentionPeriod": "7"}'),
    "TracingConfig": (REFUSED, "Active: X-Ray segments (round 9); PassThrough is inert", "Active"),
    "DeliveryPolicy": (INERT, "HTTP/S retries; HTTP/S subscriptions are refused (round 11)", None),
    "DisplayName": (INERT, "the SMS/email sender name; those protocols are refused (round 11)", None),
    "SignatureVersion": (INERT, "the signature of HTTP/S/email notifications, refused (round 11)", None),
    "ContentBasedDeduplication": (PERFORMED, "moto (FIFO topics)", None),
    "FifoTopic": (PERFORMED, "moto", None),
    "FifoThroughputScope": (INERT, "a throughput quota; no access", None),
}

# SNS subscription attributes: botocore's documentation of Subscribe's and SetSubscriptionAttributes' names.
SNS_SUBSCRIPTION_ATTRIBUTES: dict[str, tuple[str, str, Any]] = {
    "DeliveryPolicy": (INERT, "HTTP/S retries; HTTP/S subscriptions are refused (round 11)", None),
    "FilterPolicy": (PERFORMED, "moto filters sqs deliveries; on a lambda subscription refused (round 9)", None),
    "FilterPolicyScope": (PERFORMED, "moto reads it with the FilterPolicy (sqs); lambda filters refused", None),
    "RawMessageDelivery": (PERFORMED, "moto (sqs)", None),
    "RedrivePolicy": (
        REFUSED,
        "SNS's dead-letter queue, written as sns.amazonaws.com (round 9)",
        '{"deadLetterTargetArn": "x"}',
    ),
    "SubscriptionRoleArn": (INERT, "read for firehose subscriptions only, refused (round 11)", None),
    "ReplayPolicy": (INERT, "replays a topic's archive; no topic can have one (ArchivePolicy refused)", None),
    "ReplayStatus": (READ_ONLY, "a status, not a setting", None),
}
# words the documentation puts in <code> that are values, not attribute names
SNS_SUBSCRIPTION_VALUES = {"MessageAttributes", "MessageBody", "Completed", "Pending", "Failed", "true", "Subscribe"}

# S3 bucket sub-resource writes (every Put*Bucket* operation of botocore's S3 model, and PutPublicAccessBlock).
S3_BUCKET_PUTS: dict[str, tuple[str, str]] = {
    "PutBucketAbac": (UNSERVED, "501 (s3_support)"),
    "PutBucketAccelerateConfiguration": (INERT, "another endpoint of the same API (round 9)"),
    "PutBucketAcl": (INERT, "lambdaperm grants nothing by ACL"),
    "PutBucketAnalyticsConfiguration": (UNSERVED, "501; would export reports to a bucket"),
    "PutBucketCors": (INERT, "read by browsers; no access (round 9)"),
    "PutBucketEncryption": (REFUSED, "aws:kms defaults refused (round 9); AES256 performed"),
    "PutBucketIntelligentTieringConfiguration": (UNSERVED, "501; would archive objects"),
    "PutBucketInventoryConfiguration": (REFUSED, "enabled inventories refused (round 9)"),
    "PutBucketLifecycle": (UNSERVED, "501 (deprecated form)"),
    "PutBucketLifecycleConfiguration": (REFUSED, "Enabled rules refused (round 9)"),
    "PutBucketLogging": (PERFORMED, "delivered under the target bucket's policy (dataplane/deliveries.py)"),
    "PutBucketMetricsConfiguration": (UNSERVED, "501; CloudWatch metrics"),
    "PutBucketNotification": (UNSERVED, "501 (deprecated form)"),
    "PutBucketNotificationConfiguration": (PERFORMED, "delivered under the destination's policy; EventBridge refused"),
    "PutBucketOwnershipControls": (REFUSED, "ObjectWriter/BucketOwnerPreferred refused (this round); Enforced served"),
    "PutBucketPolicy": (DECIDED, "read by the authorizer"),
    "PutBucketReplication": (REFUSED, "Enabled rules refused (round 9); iam:PassRole decided"),
    "PutBucketRequestPayment": (UNSERVED, "501 (test above)"),
    "PutBucketTagging": (DECIDED, "s3:ResourceTag keys"),
    "PutBucketVersioning": (PERFORMED, "moto"),
    "PutBucketWebsite": (INERT, "read only by the website endpoint, not served (round 9)"),
    "PutPublicAccessBlock": (PERFORMED, "Block Public Access enforced (round 12 follow-up, s3_public_policies)"),
}

# DynamoDB table settings: every member of CreateTable and UpdateTable.
DDB_TABLE_MEMBERS: dict[str, tuple[str, str]] = {
    "AttributeDefinitions": (PERFORMED, "moto"),
    "TableName": (PERFORMED, "the resource decided"),
    "KeySchema": (PERFORMED, "moto"),
    "LocalSecondaryIndexes": (PERFORMED, "moto; index ARNs decided under the table's policy"),
    "GlobalSecondaryIndexes": (PERFORMED, "moto"),
    "GlobalSecondaryIndexUpdates": (PERFORMED, "moto"),
    "BillingMode": (INERT, "capacity; no access"),
    "ProvisionedThroughput": (INERT, "capacity; no access"),
    "OnDemandThroughput": (INERT, "a throughput ceiling; no access"),
    "WarmThroughput": (INERT, "pre-warmed capacity; no access"),
    "TableClass": (INERT, "storage pricing; no access"),
    "StreamSpecification": (INERT, "read by DynamoDB Streams, not served; stream mappings 501 (round 9)"),
    "SSESpecification": (REFUSED, "a KMS key refused (round 9); the AWS owned key performed"),
    "Tags": (DECIDED, "tag-on-create"),
    "DeletionProtectionEnabled": (PERFORMED, "moto refuses DeleteTable (test above)"),
    "ResourcePolicy": (REFUSED, "CreateTable's policy refused (round 10); PutResourcePolicy decided"),
    "ReplicaUpdates": (REFUSED, "replication (round 9)"),
    "GlobalTableSourceArn": (REFUSED, "multi-account replica (this round)"),
    "GlobalTableSettingsReplicationMode": (REFUSED, "settings replication (this round)"),
    "GlobalTableWitnessUpdates": (REFUSED, "a witness region (this round)"),
    "MultiRegionConsistency": (REFUSED, "global tables only (this round)"),
}

# CloudWatch Logs settings: every Put* operation (probed against the server in round 12 unless noted).
LOGS_PUTS: dict[str, tuple[str, str]] = {
    "PutAccountPolicy": (UNSERVED, "501"),
    "PutBearerTokenAuthentication": (UNSERVED, "501"),
    "PutDataProtectionPolicy": (UNSERVED, "501 (earlier rounds)"),
    "PutDeliveryDestination": (INERT, "no delivery source can exist (round 11)"),
    "PutDeliveryDestinationPolicy": (INERT, "no delivery source can exist"),
    "PutDeliverySource": (UNSERVED, "501 (round 8)"),
    "PutDestination": (DECIDED, "iam:PassRole on roleArn (region/account round 10)"),
    "PutDestinationPolicy": (DECIDED, "the destination's policy"),
    "PutIndexPolicy": (UNSERVED, "501"),
    "PutIntegration": (UNSERVED, "501 (round 10)"),
    "PutLogEvents": (PERFORMED, "moto"),
    "PutLogGroupDeletionProtection": (UNSERVED, "501"),
    "PutMetricFilter": (INERT, "metrics go to CloudWatch, not served (round 9)"),
    "PutQueryDefinition": (UNSERVED, "501"),
    "PutResourcePolicy": (INERT, "grants AWS services lambdaperm does not serve (Route 53, EventBridge...)"),
    "PutRetentionPolicy": (REFUSED, "Logs deletes old events (round 9)"),
    "PutSubscriptionFilter": (INERT, "Kinesis/Firehose refused by moto, Lambda a wrong deny (round 9)"),
    "PutTransformer": (UNSERVED, "501"),
}


def _model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def test_every_sqs_queue_attribute_is_classified() -> None:
    """botocore's QueueAttributeName and the names CreateQueue takes are each classified; a read-only name is
    not settable, a settable one is not read-only; a refused one is refused by `unperformed_settings.check`."""
    from lambdaperm.dataplane import sqs_attributes
    from lambdaperm.dataplane.unperformed_settings import check

    names = set(_model("sqs").shape_for("QueueAttributeName").enum) | set(sqs_attributes._ON_CREATE)
    assert names == set(SQS_ATTRIBUTES), sorted(names ^ set(SQS_ATTRIBUTES))
    for name, (kind, _why, sample) in SQS_ATTRIBUTES.items():
        assert (kind == READ_ONLY) == (name not in sqs_attributes._ON_CREATE), name
        if kind == REFUSED:
            for operation in ("CreateQueue", "SetQueueAttributes"):
                with pytest.raises(Exception, match=name):
                    check("sqs", operation, {"Attributes": {name: sample}}, A, REGION, True)


def test_every_sns_topic_attribute_is_classified() -> None:
    """Every topic attribute CreateTopic takes (dataplane/sns_attributes.py; each also in botocore's documentation)
    is classified; a refused one is refused at CreateTopic and SetTopicAttributes."""
    from lambdaperm.dataplane import sns_attributes
    from lambdaperm.dataplane.unperformed_settings import check

    assert set(sns_attributes._ON_CREATE) == set(SNS_TOPIC_ATTRIBUTES)
    documented = "".join(
        _model("sns").operation_model(op).input_shape.members[member].documentation
        for op, member in (("CreateTopic", "Attributes"), ("SetTopicAttributes", "AttributeName"))
    )
    assert {n for n in SNS_TOPIC_ATTRIBUTES if f"<code>{n}</code>" not in documented} <= {"FifoTopic"}
    for name, (kind, _why, sample) in SNS_TOPIC_ATTRIBUTES.items():
        if kind == REFUSED:
            with pytest.raises(Exception, match=name):
                check("sns", "CreateTopic", {"Attributes": {name: sample}}, A, REGION, True)
            with pytest.raises(Exception, match=name):
                check("sns", "SetTopicAttributes", {"AttributeName": name, "AttributeValue": sample}, A, REGION, True)


def test_every_sns_subscription_attribute_is_classified() -> None:
    """Every name botocore documents for Subscribe's and SetSubscriptionAttributes' attributes is classified; a
    refused one is refused at Subscribe."""
    from lambdaperm.dataplane.unperformed_settings import check

    names: set[str] = set()
    for operation, member in (("Subscribe", "Attributes"), ("SetSubscriptionAttributes", "AttributeName")):
        doc = _model("sns").operation_model(operation).input_shape.members[member].documentation
        names |= set(re.findall(r"<code>(\w+)</code> –", doc)) - SNS_SUBSCRIPTION_VALUES
    assert names == set(SNS_SUBSCRIPTION_ATTRIBUTES), sorted(names ^ set(SNS_SUBSCRIPTION_ATTRIBUTES))
    for name, (kind, _why, sample) in SNS_SUBSCRIPTION_ATTRIBUTES.items():
        if kind == REFUSED:
            with pytest.raises(Exception, match=name):
                check("sns", "Subscribe", {"Protocol": "sqs", "Attributes": {name: sample}}, A, REGION, True)


def test_every_s3_bucket_sub_resource_write_is_classified() -> None:
    """Every bucket sub-resource write of botocore's S3 model is classified; an unserved one is not in the embedded
    backend's operations (501), a served one is, and a refused one has a reader in `unperformed_settings`."""
    from lambdaperm.dataplane.s3_support import MOTO_S3_OPERATIONS
    from lambdaperm.dataplane.unperformed_settings import READERS

    puts = {o for o in _model("s3").operation_names if o.startswith("PutBucket")} | {"PutPublicAccessBlock"}
    assert puts == set(S3_BUCKET_PUTS), sorted(puts ^ set(S3_BUCKET_PUTS))
    for operation, (kind, _why) in S3_BUCKET_PUTS.items():
        assert (kind == UNSERVED) == (operation not in MOTO_S3_OPERATIONS), operation
        if kind == REFUSED:
            assert ("s3", operation) in READERS, operation


def test_every_dynamodb_table_member_is_classified() -> None:
    """Every member of CreateTable and UpdateTable is classified; a refused one has a reader."""
    from lambdaperm.dataplane.unperformed_settings import READERS

    model = _model("dynamodb")
    members = set(model.operation_model("CreateTable").input_shape.members)
    members |= set(model.operation_model("UpdateTable").input_shape.members)
    assert members == set(DDB_TABLE_MEMBERS), sorted(members ^ set(DDB_TABLE_MEMBERS))
    assert ("dynamodb", "CreateTable") in READERS and ("dynamodb", "UpdateTable") in READERS


def test_every_logs_put_is_classified() -> None:
    """Every Put* operation of botocore's Logs model is classified (a new one fails until probed)."""
    from lambdaperm.dataplane.unperformed_settings import READERS

    puts = {o for o in _model("logs").operation_names if o.startswith("Put")}
    assert puts == set(LOGS_PUTS), sorted(puts ^ set(LOGS_PUTS))
    assert all(("logs", o) in READERS for o, (kind, _) in LOGS_PUTS.items() if kind == REFUSED)
