"""A data-plane policy read back shows a deleted or re-created user or role as the unique id it was saved with.

AWS stores the unique id of every IAM user and role a resource-based policy names; once that principal is
deleted, GetBucketPolicy, GetQueueAttributes and GetTopicAttributes show the id in place of the ARN
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
That matters beyond display: an owner who edits a policy by reading it, changing it and writing it back must
write the id back, not the ARN — otherwise the write would name whoever holds the name now (a role re-created by
someone else). The pins are `services.principal_pins`'s, recorded by `policy_writes`.
"""

from __future__ import annotations

from typing import Any

from lambdaperm.dataplane.canonical_params import queue_url_parts
from lambdaperm.protocol import ServiceError
from lambdaperm.services import principal_pins
from lambdaperm.state import Records


def _resource(service: str, operation: str, params: dict[str, Any], region: str) -> str | None:
    if (service, operation) == ("s3", "GetBucketPolicy"):
        return f"arn:aws:s3:::{params.get('Bucket')}"
    if (service, operation) == ("sqs", "GetQueueAttributes"):
        try:
            owner, name = queue_url_parts(str(params.get("QueueUrl")), region)
        except ServiceError:
            return None
        return f"arn:aws:sqs:{region}:{owner}:{name}"
    if (service, operation) == ("sns", "GetTopicAttributes"):
        return str(params.get("TopicArn"))
    if (service, operation) == ("dynamodb", "GetResourcePolicy"):
        return str(params.get("ResourceArn"))
    return None


def show(
    records: Records, service: str, operation: str, params: dict[str, Any], output: dict[str, Any], region: str
) -> None:
    """Replace, in the backend's reply to a policy read, each user or role ARN that is no longer the principal
    the policy was saved with by the unique id it had (in place)."""
    resource = _resource(service, operation, params, region)
    if resource is None:
        return
    if service in ("s3", "dynamodb"):
        if isinstance(output.get("Policy"), str):
            output["Policy"] = principal_pins.pinned_text(records, resource, output["Policy"])
        return
    attributes = output.get("Attributes")
    if isinstance(attributes, dict) and isinstance(attributes.get("Policy"), str):
        attributes["Policy"] = principal_pins.pinned_text(records, resource, attributes["Policy"])
