"""Resource tags of the data plane, read from the embedded moto backends at decision time.

`aws:ResourceTag/<key>` is the tag the resource carries when the request is made
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-resourcetag),
so it is read where the resource lives, never from the request. Every reader answers the resource's tags
({} when it has none, or does not exist — a key of a resource that does not exist is absent), or None
when it cannot tell (an ARN it does not understand, a resource kind whose tags moto does not keep): the
authorizer then treats the tag keys as unsupplied.

- SQS queues, SNS topics, CloudWatch Logs log groups, EC2 resources: their tags.
- DynamoDB tables and their indexes: the table's tags (an index cannot be tagged; tag-based conditions on it
  read its table's, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/attribute-based-access-control.html).
  Streams are tagged on their own (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/abac-streams.html)
  and moto keeps no stream tags: None.
- S3 buckets (and their objects, for `aws:ResourceTag`/`s3:BucketTag`): a bucket's tags count for access
  control only when its ABAC status is Enabled (PutBucketAbac); with ABAC Disabled, the default, "you can
  only use tags for cost tracking purposes"
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbacStatus.html). The embedded backend has no ABAC
  (moto does not implement PutBucketAbac), so every bucket is Disabled: {}.
- S3 objects (`s3:ExistingObjectTag/<key>`): the object's tags, of the version asked for when there is one
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Tags = dict[str, str]


def _arn(resource: str) -> tuple[str, str, str, str] | None:
    """(service, region, account, resource part) of an ARN."""
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[2], parts[3], parts[4], parts[5]


def _pairs(tags: object) -> Tags | None:
    """{k: v} from moto's dict or [{Key, Value}] forms."""
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    if isinstance(tags, list):
        out: Tags = {}
        for tag in tags:
            if not isinstance(tag, Mapping) or "Key" not in tag:
                return None
            out[str(tag["Key"])] = str(tag.get("Value", ""))
        return out
    return None


def resource_tags(resource: str) -> Tags | None:
    """The tags of a data-plane resource (see the module), or None when they cannot be told."""
    parsed = _arn(resource)
    if parsed is None:
        return None
    service, region, account, rest = parsed
    reader = _READERS.get(service)
    if reader is None:
        return None
    try:
        return reader(region, account, rest, resource)
    except (KeyError, AttributeError, TypeError, ValueError):
        return None


def _sqs(region: str, account: str, rest: str, arn: str) -> Tags | None:
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[account][region].queues.get(rest)
    return {} if queue is None else _pairs(queue.tags)


def _sns(region: str, account: str, rest: str, arn: str) -> Tags | None:
    from moto.sns.models import sns_backends

    topic = sns_backends[account][region].topics.get(arn)
    return {} if topic is None else _pairs(topic._tags)


def _dynamodb(region: str, account: str, rest: str, arn: str) -> Tags | None:
    from moto.dynamodb.models import dynamodb_backends

    parts = rest.split("/")
    if len(parts) < 2 or parts[0] != "table" or (len(parts) > 2 and parts[2] != "index"):
        return None  # a stream (tagged on its own, not kept by moto), a backup, an export...
    table = dynamodb_backends[account][region].tables.get(parts[1])
    return {} if table is None else _pairs(table.tags)


def _logs(region: str, account: str, rest: str, arn: str) -> Tags | None:
    from moto.logs.models import logs_backends

    if not rest.startswith("log-group:"):
        return None
    name, _, stream = rest.removeprefix("log-group:").partition(":")
    if stream not in ("", "*", "log-stream:"):
        return None  # a log stream: its tags are not kept apart from the group's
    backend = logs_backends[account][region]
    group = backend.groups.get(name)
    return {} if group is None else _pairs(backend.list_tags_for_resource(group.arn))


def _ec2(region: str, account: str, rest: str, arn: str) -> Tags | None:
    from moto.ec2.models import ec2_backends

    kind, _, resource_id = rest.partition("/")
    if not kind or not resource_id or "/" in resource_id:
        return None
    return _pairs(ec2_backends[account][region].tags.get(resource_id, {}))


def _s3(region: str, account: str, rest: str, arn: str) -> Tags | None:
    return {}  # ABAC Disabled on every bucket of the embedded backend (see the module)


_READERS: dict[str, Callable[[str, str, str, str], Tags | None]] = {
    "sqs": _sqs,
    "sns": _sns,
    "dynamodb": _dynamodb,
    "logs": _logs,
    "ec2": _ec2,
    "s3": _s3,
}


def s3_object_tags(resource: str, version: str | None) -> Tags | None:
    """`s3:ExistingObjectTag/*`: the tags of the object `arn:aws:s3:::bucket/key` (of `version` if given);
    {} when the object does not exist; None when it cannot be told."""
    if not resource.startswith("arn:aws:s3:::") or "/" not in resource:
        return None
    bucket, key = resource.removeprefix("arn:aws:s3:::").split("/", 1)
    try:
        from moto.s3.models import FakeKey, s3_backends

        owner = s3_backends.bucket_accounts.get(bucket)
        if owner is None:
            return {}
        found = s3_backends[owner[1]][owner[0]].buckets.get(bucket)
        if found is None:
            return {}
        if version is None:
            obj = found.keys.get(key)
        else:
            obj = next((v for v in found.keys.getlist(key, default=[]) if str(v.version_id) == version), None)
        if not isinstance(obj, FakeKey):
            return {}  # no such object (or a delete marker): no tags
        tagging = s3_backends[owner[1]][owner[0]].tagger.list_tags_for_resource(obj.arn)
        return _pairs(tagging.get("Tags", []))
    except (KeyError, AttributeError, TypeError, ValueError):
        return None
