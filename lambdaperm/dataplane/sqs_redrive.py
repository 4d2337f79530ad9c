"""SQS dead-letter queues as SQS allows them: the dead-letter queue's RedriveAllowPolicy decides which
source queues may name it in their RedrivePolicy — `allowAll` (the default), `denyAll` ("No source queues can
specify this queue as the dead-letter queue") or `byQueue` (only its `sourceQueueArns`).
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
The embedded backend ignores RedriveAllowPolicy: a caller allowed only its own queue named a guarded queue as
its dead-letter queue, and the backend moved its messages there — writes to a queue authorized for no one.
Such a RedrivePolicy is refused (InvalidParameterValue) before the backend sees it.
The dead-letter queue "must be in the same AWS account and Region as the source queue"
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html); the backend
refused another account's or a missing queue only after writing the RedrivePolicy onto the source queue (a refused
call that changed the queue, implicit accesses review round 12): such a target is refused before the backend, with
the backend's own answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def check_redrive(operation: str, params: Mapping[str, Any], account: str, region: str, embedded: bool = False) -> None:
    """InvalidParameterValue for a RedrivePolicy whose dead-letter queue does not allow the source queue;
    NonExistentQueue for a dead-letter queue of another account or region, or (embedded: the backend's queues are
    the ones served) for a missing one. Runs on the canonical parameters (QueueUrl
    `https://sqs.R.amazonaws.com/ACCOUNT/NAME`)."""
    attributes = params.get("Attributes")
    if operation not in ("CreateQueue", "SetQueueAttributes") or not isinstance(attributes, Mapping):
        return
    policy = attributes.get("RedrivePolicy")
    if not isinstance(policy, str) or not policy.strip():
        return
    try:
        target = json.loads(policy).get("deadLetterTargetArn")
    except (ValueError, AttributeError):
        return  # the backend answers an unreadable policy itself
    if not isinstance(target, str):
        return
    name = params.get("QueueName") if operation == "CreateQueue" else str(params.get("QueueUrl", "")).rsplit("/", 1)[-1]
    source = f"arn:aws:sqs:{region}:{account}:{name}"
    elsewhere = target.split(":")[3:5] != [region, account]
    allow = None if elsewhere else _redrive_allow_policy(target)
    if elsewhere or (allow is None and embedded):
        # The dead-letter queue must be a queue of the source's account and region. The backend refused another
        # account's (or a missing) queue only after storing the RedrivePolicy on the source queue (review round 12).
        raise ServiceError("AWS.SimpleQueueService.NonExistentQueue", f"Could not find DLQ for {target}", 400)
    if allow is None:
        return  # upstream: the upstream answers a missing queue itself
    permission = allow.get("redrivePermission", "allowAll")
    if permission == "allowAll" or (permission == "byQueue" and source in allow.get("sourceQueueArns", ())):
        return
    raise ServiceError(
        "InvalidParameterValue",
        f"Value {policy} for parameter RedrivePolicy is invalid. Reason: "
        f"The dead-letter queue {target} does not allow {source} as a source queue.",
        400,
    )


def _redrive_allow_policy(target: str) -> dict[str, Any] | None:
    """The RedriveAllowPolicy of the queue an ARN names ({} when it has none), None when there is no such queue."""
    from moto.sqs.models import sqs_backends

    parts = target.split(":")
    if len(parts) != 6:
        return None
    _, _, _, region, account, name = parts
    if account not in sqs_backends or region not in sqs_backends[account].regions:
        return None
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return None
    raw = getattr(queue, "redrive_allow_policy", None) or queue.attributes.get("RedriveAllowPolicy")
    if not raw:
        return {}
    try:
        loaded = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {"redrivePermission": "denyAll"}  # unreadable: fail closed
    return loaded if isinstance(loaded, dict) else {"redrivePermission": "denyAll"}
