"""Event source mapping settings Lambda acts on, and lambdaperm does not serve; the response types it does.

lambdaperm polls SQS event source mappings (`gateway/events.SqsPoller`): it receives a batch with the execution
role, invokes the function and deletes what the function processed. These settings change what Lambda does with a
batch, or make it reach another resource, and were accepted, stored or not, and silently dropped (implicit
accesses review round 8):

- `FilterCriteria`: Lambda invokes the function only with the messages that match, and for SQS deletes the others
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html); dropped, every message reached the
  function.
- `KMSKeyArn`: Lambda encrypts the filter criteria with the customer managed key, with the caller's permissions on
  the key (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html).
- `ScalingConfig.MaximumConcurrency`, `ProvisionedPollerConfig`: how many invocations and pollers Lambda runs.
- `DestinationConfig`: Lambda sends a record of a failed batch to an SQS queue, SNS topic, S3 bucket or function
  with the execution role (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
- `Tags` (CreateEventSourceMapping): tagging on create also needs lambda:TagResource
  (https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html), on an ARN Lambda makes; the tags were dropped
  (condition keys review round 8).

Such a request is refused with 501 NotImplemented naming the setting; an empty value is what lambdaperm does and
is accepted. `FunctionResponseTypes` has one valid value, `ReportBatchItemFailures`, which the poller serves
(`gateway/batch_item_failures.py`); any other is refused as Lambda's model refuses it (ValidationException).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

from .errors import validation

_UNSERVED = {
    "FilterCriteria": "event filtering",
    "KMSKeyArn": "customer managed KMS keys for filter criteria",
    "ScalingConfig": "maximum concurrency of an event source",
    "ProvisionedPollerConfig": "provisioned pollers",
    "DestinationConfig": "destinations of an event source mapping",
    # A tag on create is also lambda:TagResource on the mapping Lambda names (tags-esm.html); the tags were dropped
    # and the check not made (condition keys review round 8).
    "Tags": "tags on event source mappings",
}
RESPONSE_TYPES = ("ReportBatchItemFailures",)


def _given(value: object) -> bool:
    """Whether a setting asks for something: a non-empty value, or a structure with a non-empty member."""
    if isinstance(value, Mapping):
        return any(_given(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_given(v) for v in value)
    return value not in (None, "", 0, False)


def refuse_unserved_mapping_settings(params: Mapping[str, Any]) -> None:
    """501 NotImplemented for a Create/UpdateEventSourceMapping setting lambdaperm would not apply;
    ValidationException for a FunctionResponseTypes value Lambda does not know."""
    for setting, what in _UNSERVED.items():
        if _given(params.get(setting)):
            raise ServiceError(
                "NotImplemented",
                f"lambdaperm does not serve {what}: the event source mapping setting {setting} cannot be applied",
                501,
                sender_fault=False,
                fields={"Type": "Service"},
            )
    types = params.get("FunctionResponseTypes")
    if types is not None and (not isinstance(types, list) or any(t not in RESPONSE_TYPES for t in types)):
        raise validation(
            types,
            "functionResponseTypes",
            "Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]",
        )
