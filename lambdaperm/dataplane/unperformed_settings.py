"""Settings a data-plane service acts on later, which the embedded backend stores and never acts on: refused.

Implicit accesses review round 9 applied rounds 7–8's rule to every served create/update/put operation of the data
plane: a member that makes the service act later — encrypt or decrypt with a KMS key (as the caller, or checking
the caller's permission on the key), delete what expires, replicate or deliver to another resource with a role or
as the service, filter deliveries — is either performed as AWS performs it or answered 501 NotImplemented naming
the member, after authorization and before the backend sees the call. It is never stored and silently dropped.
Pure configuration (read back, acted on by nothing lambdaperm serves) is served as before.

Refused here (moto 5.2.1 stores each and acts on none):

- S3 SSE-KMS/DSSE-KMS (`ServerSideEncryption` aws:kms or aws:kms:dsse on PutObject, CopyObject,
  CreateMultipartUpload; a bucket default of aws:kms in PutBucketEncryption): S3 encrypts with the key using the
  caller's `kms:GenerateDataKey` and decrypts every later GetObject with the reader's `kms:Decrypt`; a reader
  without it is refused (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html). The
  object was stored in the clear and answered to anyone allowed s3:GetObject: a wrong allow.
- S3 lifecycle rules that are Enabled (expirations, transitions, noncurrent-version expirations, aborts of
  incomplete uploads run by S3,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html); replication rules that are
  Enabled (S3 replicates as the configuration's role,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html); an enabled inventory configuration (S3
  delivers reports into the destination bucket as `s3.amazonaws.com`,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html); an EventBridge notification
  configuration (S3 sends every event to EventBridge, not served,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html). Disabled rules are configuration.
- S3 RestoreObject of Type SELECT, with `SelectParameters` or an `OutputLocation` (implicit accesses review round
  11): S3 runs the query and writes its result into the output bucket, and "The AWS account that initiates the job
  must have permissions to write to the S3 bucket"
  (https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOSTrestore.html); moto reads Days and Type only,
  answered 202 and wrote nothing, and no write to the output bucket was decided. A plain restore is served.
- SQS `KmsMasterKeyId`: SendMessage then needs the sender's `kms:GenerateDataKey`, ReceiveMessage the receiver's
  `kms:Decrypt` (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
- SNS topics: `KmsMasterKeyId` (publishers need `kms:GenerateDataKey*` and `kms:Decrypt`,
  https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html), `<Protocol>SuccessFeedbackRoleArn` /
  `FailureFeedbackRoleArn` (SNS writes delivery status logs to CloudWatch Logs as that role,
  https://docs.aws.amazon.com/sns/latest/dg/sns-topic-attributes.html), `TracingConfig` Active (X-Ray segments),
  `ArchivePolicy` (messages archived and replayable, https://docs.aws.amazon.com/sns/latest/dg/message-archiving-and-replay-topic-owner.html).
  Subscriptions: `RedrivePolicy` (failed deliveries sent to an SQS dead-letter queue as `sns.amazonaws.com`,
  https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html); `FilterPolicy` on a `lambda`
  subscription (lambdaperm delivers to functions itself and did not filter: every message reached the function,
  https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html). moto filters its own SQS deliveries.
- CloudWatch Logs: `kmsKeyId` of CreateLogGroup (Logs encrypts with the key, and refuses when the key's policy
  does not let it, https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/logs/encrypt-log-data-kms.html);
  PutRetentionPolicy (Logs deletes events older than the retention,
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html);
  PutResourcePolicy / DeleteResourcePolicy with `resourceArn` (region/account review round 15): a resource-scoped
  policy is attached to that log group (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html);
  moto drops the member, so the policy became the account's, for every group, whatever group (or text) was named.
- DynamoDB: `SSESpecification` with a KMS key (Enabled true, SSEType KMS or left out: DynamoDB uses the key through
  a grant the caller's `kms:CreateGrant` makes, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html);
  UpdateTimeToLive enabling TTL (DynamoDB deletes expired items,
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html); `ReplicaUpdates` and global tables
  (DynamoDB replicates into other regions,
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GlobalTables.html).
- DynamoDB ExportTableToPointInTime with `S3SseAlgorithm` KMS or an `S3SseKmsKeyId` (review round 11): the export's
  objects are encrypted with the key, readable only with `kms:Decrypt`
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html); moto does not
  read the members and the export was written unencrypted. AES256 exports are served.
- DynamoDB CreateTable `ResourcePolicy` (review round 10): the policy is attached to the new table and decides every
  later call on it; "You need to specify the CreateTable and PutResourcePolicy IAM actions for authorizing a user to
  create a table with a resource-based policy"
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html). moto's CreateTable does not
  read it: the table was created with no policy (a Deny in it never applied: a wrong allow) and PutResourcePolicy was
  never decided. PutResourcePolicy, served, attaches a table's policy.
- (S3 Block Public Access, refused here in implicit accesses review round 12, is performed since its follow-up:
  `s3_public_policies`.)
- S3 Object Ownership ObjectWriter or BucketOwnerPreferred (CreateBucket's `ObjectOwnership`,
  PutBucketOwnershipControls; review round 12): the writing account owns what it uploads and the bucket owner
  reads it only through the object's ACL
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html); lambdaperm decides every
  object as the bucket owner's (BucketOwnerEnforced, served).
- DynamoDB multi-account global tables (review round 12): CreateTable `GlobalTableSourceArn` and
  `GlobalTableSettingsReplicationMode`, UpdateTable `GlobalTableWitnessUpdates`, `MultiRegionConsistency` and
  `GlobalTableSettingsReplicationMode`: DynamoDB replicates data and settings between accounts and regions as
  `replication.dynamodb.amazonaws.com` under each replica's resource policy
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/globaltables_MA_security.html); moto created a
  plain table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_KMS = frozenset({"aws:kms", "aws:kms:dsse"})
_FEEDBACK_SUFFIXES = ("SuccessFeedbackRoleArn", "FailureFeedbackRoleArn")

Reader = Callable[[Mapping[str, Any]], str | None]


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def _object_kms(p: Mapping[str, Any]) -> str | None:
    if p.get("ServerSideEncryption") in _KMS:
        return f"ServerSideEncryption {p['ServerSideEncryption']}"
    for member in ("SSEKMSKeyId", "SSEKMSEncryptionContext"):
        if _given(p.get(member)):
            return member
    return None


def _rules(p: Mapping[str, Any], config: str) -> list[Mapping[str, Any]]:
    rules = (p.get(config) or {}).get("Rules") if isinstance(p.get(config), Mapping) else None
    return [r for r in rules if isinstance(r, Mapping)] if isinstance(rules, list) else []


def _bucket_kms(p: Mapping[str, Any]) -> str | None:
    for rule in _rules(p, "ServerSideEncryptionConfiguration"):
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") in _KMS or _given(default.get("KMSMasterKeyID")):
            return f"SSEAlgorithm {default.get('SSEAlgorithm')}"
    return None


def _enabled_rule(config: str, what: str) -> Reader:
    def read(p: Mapping[str, Any]) -> str | None:
        if any(rule.get("Status") == "Enabled" for rule in _rules(p, config)):
            return f"an Enabled {what} rule"
        return None

    return read


def _inventory(p: Mapping[str, Any]) -> str | None:
    config = p.get("InventoryConfiguration")
    return "an enabled InventoryConfiguration" if isinstance(config, Mapping) and config.get("IsEnabled") else None


def _eventbridge(p: Mapping[str, Any]) -> str | None:
    config = p.get("NotificationConfiguration")
    present = isinstance(config, Mapping) and config.get("EventBridgeConfiguration") is not None
    return "EventBridgeConfiguration" if present else None


def _select_restore(p: Mapping[str, Any]) -> str | None:
    request = p.get("RestoreRequest")
    if not isinstance(request, Mapping):
        return None
    if _given(request.get("OutputLocation")):
        return "OutputLocation"
    if request.get("Type") is not None or _given(request.get("SelectParameters")):
        return f"Type {request.get('Type')}" if request.get("Type") is not None else "SelectParameters"
    return None


def _queue_kms(p: Mapping[str, Any]) -> str | None:
    attributes = p.get("Attributes")
    given = isinstance(attributes, Mapping) and _given(attributes.get("KmsMasterKeyId"))
    return "KmsMasterKeyId" if given else None


def _topic_attribute(name: Any, value: Any) -> str | None:
    if not isinstance(name, str) or not _given(value):
        return None
    if name in ("KmsMasterKeyId", "ArchivePolicy") or name.endswith(_FEEDBACK_SUFFIXES):
        return name
    if name == "TracingConfig" and value == "Active":
        return "TracingConfig Active"
    return None


def _create_topic(p: Mapping[str, Any]) -> str | None:
    attributes = p.get("Attributes")
    if not isinstance(attributes, Mapping):
        return None
    return next((found for n, v in attributes.items() if (found := _topic_attribute(n, v))), None)


def _set_topic(p: Mapping[str, Any]) -> str | None:
    return _topic_attribute(p.get("AttributeName"), p.get("AttributeValue"))


def _subscription_attribute(name: Any, value: Any, protocol: str | None) -> str | None:
    if name == "RedrivePolicy" and _given(value):
        return "RedrivePolicy"
    if name == "FilterPolicy" and _given(value) and protocol in (None, "lambda"):
        return "FilterPolicy on a lambda subscription"
    return None


def _subscribe(p: Mapping[str, Any]) -> str | None:
    attributes = p.get("Attributes")
    if not isinstance(attributes, Mapping):
        return None
    protocol = str(p.get("Protocol") or "").lower()
    return next((f for n, v in attributes.items() if (f := _subscription_attribute(n, v, protocol))), None)


def _log_group_kms(p: Mapping[str, Any]) -> str | None:
    return "kmsKeyId" if _given(p.get("kmsKeyId")) else None


def _retention(p: Mapping[str, Any]) -> str | None:
    return "retentionInDays"


def _sse(spec: Any, member: str) -> str | None:
    if not isinstance(spec, Mapping) or spec.get("Enabled") is not True:
        return None
    return member if spec.get("SSEType") in (None, "KMS") else None


def _table_sse(member: str) -> Reader:
    def read(p: Mapping[str, Any]) -> str | None:
        value: Any = p
        for name in member.split("."):
            value = value.get(name) if isinstance(value, Mapping) else None
        return _sse(value, member + " (KMS)")

    return read


def _table_policy(p: Mapping[str, Any]) -> str | None:
    return "ResourcePolicy" if _given(p.get("ResourcePolicy")) else None


def _update_table(p: Mapping[str, Any]) -> str | None:
    if _given(p.get("ReplicaUpdates")):
        return "ReplicaUpdates"
    return _multi_account_table(p) or _table_sse("SSESpecification")(p)


_WRITER_OWNED = frozenset({"ObjectWriter", "BucketOwnerPreferred"})
_GLOBAL_TABLE_MEMBERS = (
    "GlobalTableSourceArn",
    "GlobalTableSettingsReplicationMode",
    "GlobalTableWitnessUpdates",
    "MultiRegionConsistency",
)


def _ownership_controls(p: Mapping[str, Any]) -> str | None:
    for rule in _rules(p, "OwnershipControls"):
        if rule.get("ObjectOwnership") in _WRITER_OWNED:
            return f"ObjectOwnership {rule['ObjectOwnership']}"
    return None


def _bucket_ownership(p: Mapping[str, Any]) -> str | None:
    value = p.get("ObjectOwnership")
    return f"ObjectOwnership {value}" if value in _WRITER_OWNED else None


def _multi_account_table(p: Mapping[str, Any]) -> str | None:
    return next((member for member in _GLOBAL_TABLE_MEMBERS if _given(p.get(member))), None)


def _ttl(p: Mapping[str, Any]) -> str | None:
    spec = p.get("TimeToLiveSpecification")
    return "TimeToLiveSpecification Enabled" if isinstance(spec, Mapping) and spec.get("Enabled") is True else None


def _export_kms(p: Mapping[str, Any]) -> str | None:
    if p.get("S3SseAlgorithm") == "KMS":
        return "S3SseAlgorithm KMS"
    return "S3SseKmsKeyId" if _given(p.get("S3SseKmsKeyId")) else None


def _resource_scoped(p: Mapping[str, Any]) -> str | None:
    return "resourceArn (a resource-scoped policy)" if _given(p.get("resourceArn")) else None


def _global_table(p: Mapping[str, Any]) -> str | None:
    return "global table replication"


READERS: dict[tuple[str, str], tuple[Reader, ...]] = {
    ("s3", "PutObject"): (_object_kms,),
    ("s3", "CopyObject"): (_object_kms,),
    ("s3", "CreateMultipartUpload"): (_object_kms,),
    ("s3", "PutBucketEncryption"): (_bucket_kms,),
    ("s3", "PutBucketLifecycleConfiguration"): (_enabled_rule("LifecycleConfiguration", "lifecycle"),),
    ("s3", "PutBucketReplication"): (_enabled_rule("ReplicationConfiguration", "replication"),),
    ("s3", "PutBucketInventoryConfiguration"): (_inventory,),
    ("s3", "PutBucketNotificationConfiguration"): (_eventbridge,),
    ("s3", "RestoreObject"): (_select_restore,),
    ("s3", "PutBucketOwnershipControls"): (_ownership_controls,),
    ("s3", "CreateBucket"): (_bucket_ownership,),
    ("sqs", "CreateQueue"): (_queue_kms,),
    ("sqs", "SetQueueAttributes"): (_queue_kms,),
    ("sns", "CreateTopic"): (_create_topic,),
    ("sns", "SetTopicAttributes"): (_set_topic,),
    ("sns", "Subscribe"): (_subscribe,),
    ("logs", "CreateLogGroup"): (_log_group_kms,),
    ("logs", "PutRetentionPolicy"): (_retention,),
    ("logs", "PutResourcePolicy"): (_resource_scoped,),
    ("logs", "DeleteResourcePolicy"): (_resource_scoped,),
    ("dynamodb", "CreateTable"): (_table_sse("SSESpecification"), _table_policy, _multi_account_table),
    ("dynamodb", "UpdateTable"): (_update_table,),
    ("dynamodb", "RestoreTableFromBackup"): (_table_sse("SSESpecificationOverride"),),
    ("dynamodb", "RestoreTableToPointInTime"): (_table_sse("SSESpecificationOverride"),),
    ("dynamodb", "ImportTable"): (_table_sse("TableCreationParameters.SSESpecification"),),
    ("dynamodb", "UpdateTimeToLive"): (_ttl,),
    ("dynamodb", "ExportTableToPointInTime"): (_export_kms,),
    ("dynamodb", "CreateGlobalTable"): (_global_table,),
    ("dynamodb", "UpdateGlobalTable"): (_global_table,),
    ("dynamodb", "UpdateGlobalTableSettings"): (_global_table,),
}


def _protocol(arn: str, account: str, region: str) -> str | None:
    """The protocol of the embedded backend's subscription `arn`, None when there is none to read."""
    from moto.sns.models import sns_backends

    try:
        found = sns_backends[account][region].subscriptions.get(arn)
    except Exception:  # an unknown account/region: nothing to read, fail closed
        return None
    return str(found.protocol).lower() if found is not None else ""  # none: the backend answers NotFound


def check(service: str, operation: str, params: Mapping[str, Any], account: str, region: str, embedded: bool) -> None:
    """501 NotImplemented naming the first setting of the request the service would act on and lambdaperm drops.

    A SetSubscriptionAttributes FilterPolicy is refused unless the embedded backend's subscription is not `lambda`
    (moto filters its own deliveries; without the backend's record the protocol cannot be told: fail closed)."""
    found: str | None = None
    if (service, operation) == ("sns", "SetSubscriptionAttributes"):
        arn = params.get("SubscriptionArn")
        protocol = _protocol(arn, account, region) if embedded and isinstance(arn, str) else None
        found = _subscription_attribute(params.get("AttributeName"), params.get("AttributeValue"), protocol)
    else:
        found = next((f for read in READERS.get((service, operation), ()) if (f := read(params))), None)
    if found is not None:
        raise ServiceError(
            "NotImplemented",
            f"lambdaperm does not serve {operation} with {found}: the service would act on it and lambdaperm does not",
            501,
            sender_fault=False,
        )
