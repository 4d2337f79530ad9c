"""SQS queue attribute values, as SQS reads them: integers in their documented ranges, booleans, and a
RedriveAllowPolicy in its one documented shape.

Queue attributes travel as a map of strings (`Attributes`), so the protocol layer cannot type them; SQS reads
each value by its attribute's rules and refuses any other value with InvalidAttributeValue
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html,
API_CreateQueue.html):

- DelaySeconds 0-900, MaximumMessageSize 1,024-1,048,576, MessageRetentionPeriod 60-1,209,600,
  ReceiveMessageWaitTimeSeconds 0-20, VisibilityTimeout 0-43,200, KmsDataKeyReusePeriodSeconds 60-86,400:
  "An integer from ... to ...". The embedded backend reads them with `int()`: `"5.0"`, `"0x10"`, `"1e3"` made
  it crash (500 InternalFailure), `" 5"` or `"99999"` were stored. Only decimal digits in the range are taken.
- FifoQueue, ContentBasedDeduplication, SqsManagedSseEnabled: `true` or `false` (the backend read any other
  text as false).
- RedriveAllowPolicy: a JSON object whose `redrivePermission` is `allowAll`, `denyAll` or `byQueue`, with
  `sourceQueueArns` ("up to 10 source queue ARNs") when, and only when, it is `byQueue`. SQS refuses any other
  shape ("Amazon SQS can't create the redrive allow policy, as it's in an unsupported format"). The embedded
  backend stored any text, and `sqs_redrive` — deciding whether a source queue may name this queue as its
  dead-letter queue — read a `sourceQueueArns` given as one string with `in`, a substring test: the DLQ of
  `byQueue` / `"…:orders-prod"` admitted a source queue named `orders` (review round 8).
  https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1_048_576),
    "MessageRetentionPeriod": (60, 1_209_600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43_200),
    "KmsDataKeyReusePeriodSeconds": (60, 86_400),
}
BOOLEANS = frozenset({"FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled"})
REDRIVE_PERMISSIONS = frozenset({"allowAll", "denyAll", "byQueue"})
MAX_SOURCE_QUEUES = 10
_DIGITS = re.compile(r"[0-9]{1,10}")
_UNSUPPORTED = "Amazon SQS can't create the redrive allow policy, as it's in an unsupported format."


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """InvalidAttributeValue for a CreateQueue / SetQueueAttributes attribute value SQS does not take."""
    attributes = params.get("Attributes")
    if service != "sqs" or operation not in ("CreateQueue", "SetQueueAttributes"):
        return
    if not isinstance(attributes, Mapping):
        return
    for name, value in attributes.items():
        if name in INTEGER_RANGES:
            low, high = INTEGER_RANGES[name]
            if not isinstance(value, str) or not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
                raise _invalid(name)
        elif name in BOOLEANS:
            if not isinstance(value, str) or value.lower() not in ("true", "false"):
                raise _invalid(name)
        elif name == "RedriveAllowPolicy" and not _redrive_allow_policy_ok(value):
            raise _invalid(name, _UNSUPPORTED)


def _redrive_allow_policy_ok(value: object) -> bool:
    """The one shape SQS documents (an empty value removes the policy)."""
    if value == "":
        return True
    if not isinstance(value, str):
        return False
    try:
        policy = json.loads(value)
    except ValueError:
        return False
    if not isinstance(policy, dict) or set(policy) - {"redrivePermission", "sourceQueueArns"}:
        return False
    permission = policy.get("redrivePermission", "allowAll")  # "allowAll (default)"
    if permission not in REDRIVE_PERMISSIONS:
        return False
    sources = policy.get("sourceQueueArns")
    if permission != "byQueue":
        return sources is None
    return (
        isinstance(sources, list)
        and 0 < len(sources) <= MAX_SOURCE_QUEUES
        and all(isinstance(arn, str) and arn.startswith("arn:") for arn in sources)
    )


def _invalid(name: str, reason: str | None = None) -> ServiceError:
    message = f"Invalid value for the parameter {name}."
    if reason is not None:
        message = f"Invalid value for the parameter {name}. Reason: {reason}"
    return ServiceError("InvalidAttributeValue", message, 400)
