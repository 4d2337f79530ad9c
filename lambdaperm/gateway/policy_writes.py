"""Resource-based policies written to the data plane are validated before moto stores them, as the
services validate them: a document the engine cannot read would otherwise sit unenforceable (and every
call to its resource is then denied, fail closed).

Every IAM user or role the policy names must exist, and its unique id is pinned once the backend has stored the
policy (`services.principal_pins`): S3 "Invalid principal in policy", SNS "PrincipalNotFound"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lambdaperm.dataplane import moto_state
from lambdaperm.dataplane.canonical_params import queue_url_parts
from lambdaperm.policy import PolicyError, PolicyType, parse_policy
from lambdaperm.protocol import ServiceError
from lambdaperm.services import principal_pins
from lambdaperm.state import Records


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
    if (service, operation) == ("dynamodb", "PutResourcePolicy"):
        return str(params.get("Policy", ""))
    return None


@dataclass(frozen=True, slots=True)
class Pins:
    """The unique ids of the users and roles a policy written to `resource` names, recorded once it is stored."""

    resource: str
    text: str
    ids: dict[str, str]


def check(
    service: str,
    operation: str,
    params: dict[str, Any],
    records: Records | None = None,
    account: str = "",
    region: str = "",
) -> Pins | None:
    """Refuse a policy the engine cannot read or that names a user or role that does not exist; with `records`,
    the pins to `record` once the backend has stored it."""
    text = _document(service, operation, params)
    if text is None:
        return None
    try:
        parse_policy(text, PolicyType.RESOURCE)
    except PolicyError as err:
        detail = f"{err.message}{f' ({err.detail})' if err.detail else ''}"
        if service == "s3":
            # S3 names a Resource it cannot take "Policy has invalid resource" (docs/fidelity.md, "Resource-policy
            # grammar"); the ARN grammar is IAM's (policy/resource_arns.py), reused by parse_policy
            raise ServiceError("MalformedPolicy", _s3_message(err, detail), 400) from None
        if service == "sqs":
            raise ServiceError(
                "InvalidAttributeValue", f"Invalid value for the parameter Policy. {detail}", 400
            ) from None
        if service == "dynamodb":
            raise ServiceError("ValidationException", f"Invalid policy document: {detail}", 400) from None
        raise ServiceError("InvalidParameter", f"Invalid parameter: Policy Error: {detail}", 400) from None
    if records is None:
        return None
    ids, missing = principal_pins.pins_of(records, json.loads(text))
    if missing:
        if service == "s3":
            raise ServiceError("MalformedPolicy", "Invalid principal in policy", 400)
        if service == "sqs":
            raise ServiceError(
                "InvalidAttributeValue",
                f'Invalid value for the parameter Policy. Invalid principal in policy: "AWS":"{missing[0]}"',
                400,
            )
        if service == "dynamodb":
            raise ServiceError("ValidationException", f"Invalid principal in policy: {missing[0]}", 400)
        raise ServiceError("InvalidParameter", "Invalid parameter: Policy Error: PrincipalNotFound", 400)
    resource = _resource(service, operation, params, account, region)
    return Pins(resource, text, ids) if resource is not None else None


def _s3_message(err: PolicyError, detail: str) -> str:
    """S3's message for `err`: "Policy has invalid resource" for a Resource/NotResource it refuses."""
    # Statement[0].Resource[1] -> Resource
    element = re.sub(r"\[\d+\]$", "", err.path, flags=re.ASCII).rsplit(".", 1)[-1]
    return "Policy has invalid resource" if element in ("Resource", "NotResource") else detail


def _resource(service: str, operation: str, params: dict[str, Any], account: str, region: str) -> str | None:
    """The ARN of the bucket, queue or topic whose policy a call writes; None for a Create* of one that exists
    (the backend keeps the policy it has: nothing is written)."""
    if service == "s3":
        return f"arn:aws:s3:::{params.get('Bucket')}"
    if service == "dynamodb":  # PutResourcePolicy: the table (or stream) ARN, checked by dynamodb_policies
        return str(params.get("ResourceArn"))
    if service == "sqs":
        if operation == "CreateQueue":
            arn = f"arn:aws:sqs:{region}:{account}:{params.get('QueueName')}"
            return arn if moto_state.resource_policy(arn) is None else None
        try:
            owner, name = queue_url_parts(str(params.get("QueueUrl")), region)
        except ServiceError:
            return None  # the call is refused before the backend
        return f"arn:aws:sqs:{region}:{owner}:{name}"
    if operation == "CreateTopic":
        arn = f"arn:aws:sns:{region}:{account}:{params.get('Name')}"
        return arn if moto_state.resource_policy(arn) is None else None
    return str(params.get("TopicArn"))


def record(records: Records, pins: Pins) -> None:
    """Pin the ids once the backend holds the policy written (a refused or ignored write pins nothing)."""
    found = moto_state.resource_policy(pins.resource)
    if found is None or found[1] is None:
        return
    if principal_pins.digest(found[1]) == principal_pins.digest(pins.text):
        principal_pins.record(records, pins.resource, pins.ids, pins.text)
