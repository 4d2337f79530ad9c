"""Direct reads and writes of the embedded moto backends that the control plane needs: a bucket's owner and
incarnation, a code archive from S3, the VPC of subnets and security groups, CloudWatch Logs for function output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdaperm.protocol.errors import ServiceError

from . import dynamodb_policies
from .journal import internal


@dataclass(frozen=True, slots=True)
class BucketIdentity:
    """Who owns a bucket, where, and which incarnation of the name it is: a bucket deleted and created again
    (by anyone) has another creation time, so state tied to the old bucket can tell it is not its own."""

    name: str
    owner: str
    region: str
    created: str


def bucket_identity(bucket: str) -> BucketIdentity | None:
    """The bucket of that name (bucket names are global), or None when no account has it."""
    found = _bucket(bucket)
    if found is None:
        return None
    return BucketIdentity(bucket, str(found.account_id), str(found.region_name), found.creation_date.isoformat())


def _bucket(bucket: str) -> Any:
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account = owner
    return s3_backends[account][partition].buckets.get(bucket)


def s3_object(bucket: str, key: str, version: str | None) -> bytes | None:
    """An object's bytes, read from its bucket's owner (not through any caller's account), or None when the
    bucket, the key or the version does not exist (a delete marker counts as absent)."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account = owner
    try:
        obj = s3_backends[account][partition].get_object(bucket, key, version_id=version)
    except Exception:  # moto raises its own MissingBucket/MissingKey types; absence is the answer
        return None
    return bytes(obj.value) if obj is not None else None


def vpc_of(account: str, region: str, subnet_ids: list[str], security_group_ids: list[str]) -> str:
    """The VPC of the subnets; Lambda's error text when a subnet or a security group does not exist."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    vpcs = set()
    for subnet_id in subnet_ids:
        found = [s for s in backend.describe_subnets() if s.id == subnet_id]
        if not found:
            raise _invalid(f"Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 "
                           f"Error Message: The subnet ID '{subnet_id}' does not exist")
        vpcs.add(found[0].vpc_id)
    known_groups = {g.id: g for g in _security_groups(backend)}
    for group_id in security_group_ids:
        if group_id not in known_groups:
            raise _invalid(f"Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
                           f"EC2 Error Message: The security group '{group_id}' does not exist")
        vpcs.add(known_groups[group_id].vpc_id)
    if len(vpcs) > 1:
        raise _invalid("Security Groups are required to be in the same VPC.")
    return vpcs.pop() if vpcs else ""


def _security_groups(backend: Any) -> list[Any]:
    return list(backend.describe_security_groups())


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message, 400, fields={"Type": "User"})


@internal("logs.put_logs")  # a write of lambdaperm's own: journaled (journal.py)
def put_logs(account: str, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    """Append (timestamp ms, message) events to a log stream, creating the group and stream if needed."""
    from moto.logs.models import logs_backends

    backend = logs_backends[account][region]
    if group not in backend.groups:
        backend.create_log_group(group, {})
    if stream not in backend.groups[group].streams:
        backend.create_log_stream(group, stream)
    events = [{"timestamp": ts, "message": msg} for ts, msg in lines]
    if events:
        backend.put_log_events(group, stream, events)


@internal("logs.put_logs_existing")  # journaled as put_logs is (implicit accesses review round 8)
def put_logs_existing(account: str, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    """Append events to a log stream of a group that exists (creating the stream if needed); nothing if the group
    does not exist: the write was decided without logs:CreateLogGroup."""
    from moto.logs.models import logs_backends

    if group in logs_backends[account][region].groups:
        put_logs(account, region, group, stream, lines)


def log_group_exists(account: str, region: str, group: str) -> bool:
    from moto.logs.models import logs_backends

    return group in logs_backends[account][region].groups


def lambda_subscriptions(account: str, region: str, topic_arn: str) -> list[tuple[str, str]]:
    """(subscription ARN, function ARN) of a topic's `lambda` subscriptions."""
    from moto.sns.models import sns_backends

    backend = sns_backends[account][region]
    subs, _next = backend.list_subscriptions_by_topic(topic_arn)
    return [(s.arn, s.endpoint) for s in subs if s.protocol == "lambda"]


@internal("sqs.receive")
def sqs_receive(account: str, region: str, queue: str, count: int) -> list[dict[str, Any]]:
    """Receive up to `count` messages (the poller's view: as Lambda's event records need them)."""
    from moto.sqs.models import sqs_backends

    backend = sqs_backends[account][region]
    messages = backend.receive_message(queue, count, 0, 30)
    return [{"messageId": m.id, "receiptHandle": m.receipt_handle, "body": m.body,
             "attributes": {"ApproximateReceiveCount": str(getattr(m, "approximate_receive_count", 1)),
                            "SentTimestamp": str(getattr(m, "sent_timestamp", 0)),
                            "SenderId": str(getattr(m, "sender_id", "")),
                            "ApproximateFirstReceiveTimestamp": str(getattr(m, "approximate_first_receive_timestamp",
                                                                            0))},
             "messageAttributes": {}, "md5OfBody": m.body_md5} for m in messages]


@internal("sqs.delete")
def sqs_delete(account: str, region: str, queue: str, receipt_handle: str) -> None:
    from moto.sqs.models import sqs_backends

    sqs_backends[account][region].delete_message(queue, receipt_handle)


def sqs_visible_count(account: str, region: str, queue: str) -> int:
    from moto.sqs.models import sqs_backends

    try:
        q = sqs_backends[account][region].get_queue(queue)
    except Exception:  # the queue was deleted: nothing to poll
        return 0
    return int(q.approximate_number_of_messages)


def resource_policy(arn: str) -> tuple[str, str | None] | None:
    """(owner account, policy text or None) of a data-plane resource that can carry a resource-based
    policy — an S3 bucket (or an object in it), an SQS queue, an SNS topic, a DynamoDB table (or one of its
    indexes: the table's policy governs them) or stream — or None when `arn` names none of these (or nothing that
    exists)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    service, region, account, resource = parts[2], parts[3], parts[4], parts[5]
    try:
        if service == "s3" and resource:
            from moto.s3.models import s3_backends

            bucket = resource.split("/", 1)[0]
            owner = s3_backends.bucket_accounts.get(bucket)
            if owner is None:
                return None
            found = s3_backends[owner[1]][owner[0]].buckets.get(bucket)
            policy = getattr(found, "policy", None)
            return owner[1], policy.decode() if isinstance(policy, bytes) else policy
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            queue = sqs_backends[account][region].queues.get(resource)
            return (account, queue.policy) if queue is not None else None
        if service == "sns":
            from moto.sns.models import sns_backends

            topic = sns_backends[account][region].topics.get(arn)
            return (account, topic.policy) if topic is not None else None
        if service == "dynamodb":
            return dynamodb_policies.policy(arn)
    except (KeyError, AttributeError, UnicodeDecodeError):
        return None
    return None
