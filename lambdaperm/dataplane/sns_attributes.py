"""SNS topic attributes, as SNS reads them: only the names it documents.

SetTopicAttributes and CreateTopic take a documented set of attribute names and answer InvalidParameter for
any other (https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html,
https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html). The embedded backend instead set any name
it was given as a field of its topic object: `Arn` rewrote the topic's ARN (a topic then delivered to SQS
as another account's topic, the aws:SourceArn queue policies trust), `policy` stored a policy past
lambdaperm's policy checks (`gateway/policy_writes.py` reads `Policy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_FEEDBACK = frozenset(
    f"{protocol}{outcome}"
    for protocol in ("Application", "HTTP", "Lambda", "SQS", "Firehose")
    for outcome in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
)
SETTABLE = _FEEDBACK | {
    "DeliveryPolicy",
    "DisplayName",
    "Policy",
    "TracingConfig",
    "KmsMasterKeyId",
    "SignatureVersion",
    "ArchivePolicy",
    "ContentBasedDeduplication",
    "FifoThroughputScope",
}
_ON_CREATE = SETTABLE | {"FifoTopic"}


def check_names(operation: str, params: Mapping[str, Any]) -> None:
    """InvalidParameter for a topic attribute name SNS does not take."""
    if operation == "SetTopicAttributes":
        names: list[Any] = [params.get("AttributeName")]
        allowed = SETTABLE
    elif operation == "CreateTopic" and isinstance(params.get("Attributes"), Mapping):
        names, allowed = list(params["Attributes"]), _ON_CREATE
    else:
        return
    if any(name not in allowed for name in names):
        raise ServiceError("InvalidParameter", "Invalid parameter: AttributeName", 400)
