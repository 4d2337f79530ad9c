"""S3 bucket names are global: a call on a bucket holds its name from authorization to execution.

Between the authorization of a call on bucket `b` (decided with b's owner as the resource account and b's
policy) and its execution, another request could delete `b` and another account re-create the name; the
call would then act on a bucket nobody authorized it for. So every S3 call naming a bucket holds the
name shared for its whole life (authorize → execute), and CreateBucket / DeleteBucket hold it exclusively:
a bucket cannot change hands while a call on it is between its two halves. Calls on different buckets
never wait for each other beyond a striped lock's chance collision.

SNS topic ARNs are reused the same way (DeleteTopic, then CreateTopic of the name: a new topic with the
default policy, at the same ARN), and a Publish decided on the old topic's policy executed on the new one,
delivered to its subscribers (races review round 2). So the topic named by an SNS call (`TopicArn`, the tagging
calls' `ResourceArn`, or CreateTopic's `Name`) is held the same way, CreateTopic / DeleteTopic and the tagging
calls exclusively (a TagResource by `ResourceArn` decided on a topic's dev tags tagged the prod topic created
since at its ARN: races review round 6). So is an IAM role's name
from AssumeRole's decision on its trust policy to the session's issue (CreateRole, DeleteRole and
UpdateAssumeRolePolicy exclusively): a role deleted and created again in between issued a session of the new
role, whose trust policy never allowed the caller — since races review round 7 with every IAM user, group, role
and managed policy an IAM or STS call names (`iam_holds`). SQS queue names need no hold: SQS itself refuses a name
deleted less than 60 s ago (dataplane/sqs_deletions.py).

A DynamoDB table's name is reused the same way (DeleteTable, then CreateTable: a new table, its own tags and
items, at the same ARN): a GetItem decided on the old table's `aws:ResourceTag` read the new table's items
(races review round 5). So every table a DynamoDB call names — by `TableName`, by ARN, several at once (batch,
transaction and PartiQL calls) — is held the same way, on stripes of its own taken in one order
(`table_holds`, races review round 6), and so is every log group a Logs call names (`log_group_holds`).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import iam_holds, log_group_holds, table_holds

_LIFECYCLE = frozenset(
    {
        "CreateBucket",
        "DeleteBucket",
        "CreateTopic",
        "DeleteTopic",
        "TagResource",  # an SNS topic's tags: what a decision on it reads (races review round 6)
        "UntagResource",
        # what a decision on a bucket reads of it: its policy, then its Block Public Access (RestrictPublicBuckets);
        # a decision read the old public policy and the block deleted after it (races review round 10)
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "PutPublicAccessBlock",
        "DeletePublicAccessBlock",
    }
)
_STRIPES = 64


class _SharedExclusive:
    """A readers–writer lock (writers preferred, so a delete is not starved by a stream of reads)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


_LOCKS = [_SharedExclusive() for _ in range(_STRIPES)]


class HeldNames:
    """The names one call holds; for a DynamoDB call, its tables (`table_holds.HeldTables`)."""

    def __init__(
        self,
        tables: table_holds.HeldTables | None = None,
        groups: log_group_holds.HeldLogGroups | None = None,
        entities: iam_holds.HeldEntities | None = None,
    ) -> None:
        self._tables, self._groups, self._entities = tables, groups, entities

    def check(self, service: str, resources: list[str]) -> None:
        """501 NotImplemented when a DynamoDB call was authorized on a table (a Logs call on a log group) it does
        not hold."""
        if service == "dynamodb" and self._tables is not None:
            self._tables.check(resources)
        if service == "logs" and self._groups is not None:
            self._groups.check(resources)
        if service in ("iam", "sts") and self._entities is not None:  # races review round 7
            self._entities.check(resources)


@contextmanager
def held(service: str, operation: str, params: dict[str, Any] | None, caller: str | None = None) -> Iterator[HeldNames]:
    """Hold the bucket name of an S3 call, the topic name of an SNS call (exclusively for the operations that
    create, delete or re-tag them), every IAM entity of an IAM or STS call (`iam_holds`), every table of a DynamoDB call
    (`table_holds`), every log group of a Logs call (`log_group_holds`) while it runs."""
    if service == "dynamodb":
        with table_holds.held(operation, params) as tables:
            yield HeldNames(tables)
        return
    if service == "logs":
        with log_group_holds.held(operation, params) as groups:
            yield HeldNames(groups=groups)
        return
    if service in ("iam", "sts"):  # `caller`: the calling IAM user's name, which IAM acts on without UserName
        with iam_holds.held(operation, params, caller) as entities:
            yield HeldNames(entities=entities)
        return
    name = _held_name(service, operation, params)
    if name is None:
        yield HeldNames()
        return
    lock = _LOCKS[zlib.crc32(name.encode("utf-8", "surrogatepass")) % _STRIPES]
    with lock.exclusive() if operation in _LIFECYCLE else lock.shared():
        yield HeldNames()


def _held_name(service: str, operation: str, params: dict[str, Any] | None) -> str | None:
    """The name a call holds: an S3 bucket or an SNS topic's name (an ARN's last part: a stripe, not an identity,
    so the resource's account and region need not be known here)."""
    if params is None:
        return None
    if service == "s3":
        bucket = params.get("Bucket")
        return bucket if isinstance(bucket, str) else None
    if service == "sns":  # TagResource, UntagResource, ListTagsForResource: `ResourceArn` (races review round 6)
        topic = params.get("Name") if operation == "CreateTopic" else params.get("TopicArn", params.get("ResourceArn"))
        subscription = params.get("SubscriptionArn")  # topic:id, decided on the topic (races review round 7)
        if topic is None and isinstance(subscription, str) and subscription.count(":") >= 6:
            topic = subscription.rsplit(":", 1)[0]
        return "sns:" + topic.rsplit(":", 1)[-1] if isinstance(topic, str) else None
    return None
