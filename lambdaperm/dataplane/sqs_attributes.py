"""SQS queue attributes, as SQS reads them: only the names it documents, and only the ones a call names.

- A name SQS does not know is refused with InvalidAttributeName ("The specified attribute doesn't exist";
  names are case-sensitive). The embedded backend instead set every name it was given as a field of its
  queue object (`AccountId`, `Name`, `QueueArn`…: a queue authorized as the caller's own was listed under
  another account's URL), and read `policy`/`POLICY` as the policy, past lambdaperm's policy checks.
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
- SetQueueAttributes "sets the value of one or more queue attributes"; the others keep theirs. moto 5.2.1's
  `Queue._set_attributes` ends with `self.policy = attributes.get("Policy")`, so a call that set only the
  VisibilityTimeout also removed the queue policy (and its Deny statements). `keep_queue_policies` makes
  the backend keep the policy when the call does not name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

# the attributes a caller may set (SetQueueAttributes); CreateQueue also takes FifoQueue
SETTABLE = frozenset(
    {
        "DelaySeconds",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "Policy",
        "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout",
        "RedrivePolicy",
        "RedriveAllowPolicy",
        "KmsMasterKeyId",
        "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
    }
)
_ON_CREATE = SETTABLE | {"FifoQueue"}
_OPERATIONS = {"SetQueueAttributes": SETTABLE, "CreateQueue": _ON_CREATE}


def check_names(operation: str, params: Mapping[str, Any]) -> None:
    """InvalidAttributeName for an attribute name the operation does not take."""
    allowed = _OPERATIONS.get(operation)
    attributes = params.get("Attributes")
    if allowed is None or not isinstance(attributes, Mapping):
        return
    for name in attributes:
        if name not in allowed:
            raise ServiceError("InvalidAttributeName", f"Unknown Attribute {name}.", 400)


_KEPT = False


def keep_queue_policies() -> None:
    """Make moto's queues keep their policy across an attribute update that does not name `Policy`
    (idempotent; called when the SQS backend is loaded)."""
    global _KEPT
    if _KEPT:
        return
    from moto.sqs.models import Queue

    original = Queue._set_attributes

    def _set_attributes(self: Any, attributes: dict[str, Any], now: float | None = None) -> None:
        kept = getattr(self, "_policy_json", None)
        original(self, attributes, now)
        if "Policy" not in attributes and kept is not None:
            self._policy_json = kept

    Queue._set_attributes = _set_attributes
    _KEPT = True
