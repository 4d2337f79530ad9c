"""Resource-based policies written to the data plane are validated before moto stores them, as the
services validate them: a document the engine cannot read would otherwise sit unenforceable (and every
call to its resource is then denied, fail closed)."""

from __future__ import annotations

from typing import Any

from lambdaperm.policy import PolicyError, PolicyType, parse_policy
from lambdaperm.protocol import ServiceError


def _document(service: str, operation: str, params: dict[str, Any]) -> str | None:
    if (service, operation) == ("s3", "PutBucketPolicy"):
        return str(params.get("Policy", ""))
    if (service, operation) in (("sqs", "SetQueueAttributes"), ("sqs", "CreateQueue")):
        policy = (params.get("Attributes") or {}).get("Policy")
        return None if policy is None else str(policy)
    if (service, operation) == ("sns", "SetTopicAttributes") and params.get("AttributeName") == "Policy":
        return str(params.get("AttributeValue", ""))
    if (service, operation) == ("sns", "CreateTopic"):
        policy = (params.get("Attributes") or {}).get("Policy")
        return None if policy is None else str(policy)
    return None


def check(service: str, operation: str, params: dict[str, Any]) -> None:
    text = _document(service, operation, params)
    if text is None:
        return
    try:
        parse_policy(text, PolicyType.RESOURCE)
    except PolicyError as err:
        detail = f"{err.message}{f' ({err.detail})' if err.detail else ''}"
        if service == "s3":
            raise ServiceError("MalformedPolicy", detail, 400) from None
        if service == "sqs":
            raise ServiceError("InvalidAttributeValue", f"Invalid value for the parameter Policy. {detail}",
                               400) from None
        raise ServiceError("InvalidParameter", f"Invalid parameter: Policy Error: {detail}", 400) from None
