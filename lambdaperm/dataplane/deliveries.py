"""Push deliveries the embedded moto backend makes on its own — S3 → SQS, S3 → SNS, SNS → SQS — each made only
when the destination's resource policy allows it.

AWS delivers these as the source's service principal (`s3.amazonaws.com`, `sns.amazonaws.com`) with
`aws:SourceArn` (the bucket's or the topic's ARN) and `aws:SourceAccount` (its owner), and drops a delivery its
destination's policy does not allow (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
grant-destinations-permissions-to-s3.html, https://docs.aws.amazon.com/sns/latest/dg/
subscribe-sqs-queue-to-sns-topic.html). moto delivers without asking, and into the source owner's account
whatever account the destination ARN names. `install(guard)` replaces moto's delivery points so that every
delivery first asks `guard(service_principal, action, destination_arn, source_arn, source_account, region)`
and goes to the account the destination ARN names:

- S3 notifications (`moto.s3.notifications.send_event`, and the `s3:TestEvent` sent when a configuration is
  written): queues need `sqs:SendMessage`, topics `sns:Publish`. Lambda destinations are lambdaperm's own
  (`gateway/events.py` delivers them through the function policy); EventBridge is not served: neither is
  delivered here.
- SNS subscriptions (`moto.sns.models.Subscription.publish`): `sqs` endpoints need `sqs:SendMessage`, and a
  queue of another account than the topic's only once the subscription is confirmed (`sns_confirmation`; the
  SubscriptionConfirmation message itself is sent by `sns_to_queue`, authorized the same way). `lambda`
  endpoints are lambdaperm's own. Nothing else is delivered: moto would POST to any `http(s)` endpoint without
  the subscription confirmation SNS requires (https://docs.aws.amazon.com/sns/latest/dg/
  SendMessageToHttp.prepare.html) — the server would make requests to any address a caller names.
- S3 server access logs (`moto.s3.models.S3Backend.log_incoming_request`, which moto runs for every request to
  a bucket with logging enabled): each log object needs `s3:PutObject` on that object for
  `logging.s3.amazonaws.com` from the destination bucket's policy, with `aws:SourceArn` the logged bucket and
  `aws:SourceAccount` its owner (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
  enable-server-access-logging.html). moto checked only, at PutBucketLogging, that some Allow statement names
  the service (conditions and Deny statements ignored). Log-delivery group ACL grants are not honoured: without
  a policy allowing the service, no log is written.

`bucket_deleted(bucket, owner, created)` is called after moto deletes a bucket, so that state tied to that
bucket (lambdaperm's S3 → Lambda targets) goes with it.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from . import sns_confirmation, sns_queue_endpoints
from .s3_event_keys import with_event_key  # S3's key encoding, not moto's

log = logging.getLogger("lambdaperm.deliveries")

# (service principal, action, destination ARN, source ARN, source account, region) -> allowed
Guard = Callable[[str, str, str, str, str, str], bool]
# (bucket name, owner account, creation time ISO) of a bucket moto deleted
BucketDeleted = Callable[[str, str, str], None]

S3 = "s3.amazonaws.com"
SNS = "sns.amazonaws.com"
S3_LOGGING = "logging.s3.amazonaws.com"


def _deny_all(*_args: str) -> bool:
    return False


_hooks: dict[str, Any] = {"guard": _deny_all, "bucket_deleted": None, "installed": False}


def install(guard: Guard, bucket_deleted: BucketDeleted | None = None) -> None:
    """Route moto's deliveries through `guard` (the latest guard installed is the one asked)."""
    _hooks["guard"] = guard
    _hooks["bucket_deleted"] = bucket_deleted
    if _hooks["installed"]:
        return
    from moto.s3 import notifications
    from moto.s3.models import S3Backend
    from moto.sns.models import Subscription

    notifications.send_event = _send_event
    notifications.send_test_event = _send_test_event
    original_publish = Subscription.publish
    original_delete = S3Backend.delete_bucket
    original_log = S3Backend.log_incoming_request

    def publish(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> None:
        _sns_delivery(original_publish, self, message, message_id, *args, **kwargs)

    def delete_bucket(self: Any, bucket_name: str) -> Any:
        deleted = original_delete(self, bucket_name)
        callback = _hooks["bucket_deleted"]
        if deleted is not None and callback is not None:
            callback(bucket_name, str(deleted.account_id), deleted.creation_date.isoformat())
        return deleted

    def log_incoming_request(self: Any, request: Any, bucket_name: str) -> None:
        original_log(_LogWriter(self, bucket_name), request, bucket_name)  # type: ignore[arg-type]  # duck-typed

    Subscription.publish = publish  # type: ignore[method-assign]
    S3Backend.log_incoming_request = log_incoming_request  # type: ignore[method-assign]
    S3Backend.delete_bucket = delete_bucket  # type: ignore[method-assign]
    _hooks["installed"] = True


def _allowed(principal: str, action: str, destination: str, source_arn: str, source_account: str) -> bool:
    parts = destination.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return False
    return _allowed_in(principal, action, destination, source_arn, source_account, parts[3])


def _allowed_in(
    principal: str, action: str, destination: str, source_arn: str, source_account: str, region: str
) -> bool:
    """`_allowed` for a destination whose ARN names no region (an S3 object): decided in `region`."""
    try:
        allowed = bool(_hooks["guard"](principal, action, destination, source_arn, source_account, region))
    except Exception:  # a guard that fails cannot have allowed anything
        log.exception("authorizing a delivery to %s failed", destination)
        return False
    if not allowed:
        log.warning("%s delivery from %s to %s denied by the destination's policy", principal, source_arn, destination)
    return allowed


def _arn_parts(arn: str) -> tuple[str, str, str]:
    """(region, account, resource name) of an SQS queue or SNS topic ARN."""
    parts = arn.split(":")
    return parts[3], parts[4], parts[-1]


# ---- S3 → SQS / SNS -----------------------------------------------------------------------------------------


def _send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
    from moto.s3 import notifications

    config = bucket.notification_configuration
    if config is None:
        return
    source, owner = f"arn:aws:s3:::{bucket.name}", str(bucket.account_id)
    for target in config.queue:
        if target.matches(event_name, key.name) and _allowed(S3, "sqs:SendMessage", target.arn, source, owner):
            region, account, name = _arn_parts(target.arn)
            body = with_event_key(notifications._get_s3_event(event_name, bucket, key, target.id), key.name)
            notifications._send_sqs_message(account, body, name, region)
    for target in config.topic:
        if target.matches(event_name, key.name) and _allowed(S3, "sns:Publish", target.arn, source, owner):
            region, account, _name = _arn_parts(target.arn)
            body = with_event_key(notifications._get_s3_event(event_name, bucket, key, target.id), key.name)
            notifications._send_sns_message(account, body, target.arn, region)


def _send_test_event(account_id: str, bucket: Any) -> None:
    from moto.s3 import notifications

    config = bucket.notification_configuration
    source, owner = f"arn:aws:s3:::{bucket.name}", str(bucket.account_id)
    for arn in dict.fromkeys(t.arn for t in config.queue):
        if _allowed(S3, "sqs:SendMessage", arn, source, owner):
            region, account, name = _arn_parts(arn)
            notifications._send_sqs_message(account, notifications._get_test_event(bucket.name), name, region)
    for arn in dict.fromkeys(t.arn for t in config.topic):
        if _allowed(S3, "sns:Publish", arn, source, owner):
            region, account, _name = _arn_parts(arn)
            notifications._send_sns_message(account, notifications._get_test_event(bucket.name), arn, region)


# ---- SNS → SQS ----------------------------------------------------------------------------------------------


def _sns_delivery(
    original: Callable[..., Any], subscription: Any, message: str, message_id: str, *args: Any, **kwargs: Any
) -> None:
    if subscription.protocol != "sqs":
        return  # lambda: delivered by lambdaperm; http(s) and the rest: never from this server
    if not sns_confirmation.deliverable(subscription):
        return  # pending the queue owner's confirmation
    topic = str(subscription.topic.arn)
    endpoint = str(subscription.endpoint)
    if not sns_queue_endpoints.is_queue_arn(endpoint):
        return  # stored before Subscribe checked it: decided as written, moto would send by its parts (round 13)
    if not _allowed(SNS, "sqs:SendMessage", endpoint, topic, topic.split(":")[4]):
        return
    delivering = copy.copy(subscription)
    delivering.account_id = _arn_parts(endpoint)[1]  # the queue's account, as the endpoint ARN names it
    original(delivering, message, message_id, *args, **kwargs)


def sns_to_queue(topic: str, queue: str, body: str) -> bool:
    """Send `body` to the queue as the topic's SNS delivery (a SubscriptionConfirmation): only when the queue's
    policy lets `sns.amazonaws.com` send from this topic; into the queue's own account. Whether it was sent."""
    if not _allowed(SNS, "sqs:SendMessage", queue, topic, topic.split(":")[4]):
        return False
    from moto.sqs.models import sqs_backends

    region, account, name = _arn_parts(queue)
    try:
        sqs_backends[account][region].send_message(name, body)
    except Exception:  # the queue does not exist (Subscribe accepts any queue ARN): nothing to deliver to
        log.warning("SubscriptionConfirmation from %s to %s not delivered: no such queue", topic, queue)
        return False
    return True


# ---- S3 server access logs ----------------------------------------------------------------------------------


class _LogWriter:
    """What moto's `log_incoming_request` is given instead of its backend: the logged bucket's lookup, and a
    `put_object` that writes a log object only when the destination's policy lets the logging service write
    it for this source bucket."""

    def __init__(self, backend: Any, bucket_name: str) -> None:
        self._backend = backend
        self._source = bucket_name

    def get_bucket(self, bucket_name: str) -> Any:
        return self._backend.get_bucket(bucket_name)

    def put_object(self, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        source = self._backend.get_bucket(self._source)
        destination = f"arn:aws:s3:::{bucket_name}/{key_name}"
        owner, region = str(source.account_id), str(source.region_name)
        if not _allowed_in(S3_LOGGING, "s3:PutObject", destination, f"arn:aws:s3:::{self._source}", owner, region):
            return None
        return self._backend.put_object(bucket_name, key_name, *args, **kwargs)
