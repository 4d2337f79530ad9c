"""SQS message system attributes a sender may set: the names of the model's enum, of type String.

"MessageSystemAttributes: The message system attribute to send. [...] Currently, the only supported message system
attribute is AWSTraceHeader. Its type must be String and its value must be a correctly formatted AWS X-Ray trace
header string." (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html; the
same for a SendMessageBatch entry, API_SendMessageBatchRequestEntry.html). The service model says so too: the map's
key shape is the enum `MessageSystemAttributeNameForSends` = [AWSTraceHeader].

The embedded backend stores any name with any type (`SenderId`, `awstraceheader`, an `AWSTraceHeader` of type Number
or Binary were queued; review round 26). The names allowed are read from the operation's input shape, so the check
follows the model: SendMessage and SendMessageBatch are refused with SQS's InvalidParameterValue before the backend
sees them (the message is lambdaperm's). A `String.<custom>` type is left to the backend: the documentation names
the type String and does not say whether its custom suffixes are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.errors import ServiceError

_MEMBER = "MessageSystemAttributes"
_TYPE = "String"


def _allowed(holder: Shape) -> frozenset[str] | None:
    """The enum of the key shape of `holder`'s MessageSystemAttributes map, or None if it has no such member."""
    member = holder.members.get(_MEMBER) if holder.type_name == "structure" else None
    if member is None or member.type_name != "map":
        return None
    return frozenset(member.key.enum or ())


def _holders(operation: OperationModel, params: Mapping[str, Any]) -> list[tuple[Shape, object]]:
    shape = operation.input_shape
    if shape is None:
        return []
    if _MEMBER in shape.members:
        return [(shape, params)]
    entries = shape.members.get("Entries")
    value = params.get("Entries")
    if entries is not None and entries.type_name == "list" and isinstance(value, list):
        return [(entries.member, entry) for entry in value]
    return []


def check(service: str, operation: OperationModel, params: Mapping[str, Any]) -> None:
    """InvalidParameterValue for a message system attribute SQS does not take from a sender."""
    if service != "sqs":
        return
    for shape, holder in _holders(operation, params):
        allowed = _allowed(shape)
        attributes = holder.get(_MEMBER) if isinstance(holder, Mapping) else None
        if allowed is None or not isinstance(attributes, Mapping):
            continue
        for name, value in attributes.items():
            if name not in allowed:
                raise ServiceError(
                    "InvalidParameterValue",
                    f"The message system attribute name '{name}' is not supported: only "
                    f"{', '.join(sorted(allowed))} can be sent.",
                    400,
                )
            data_type = value.get("DataType") if isinstance(value, Mapping) else None
            if not isinstance(data_type, str) or data_type.split(".", 1)[0] != _TYPE:
                raise ServiceError(
                    "InvalidParameterValue",
                    f"The message system attribute '{name}' must be of type {_TYPE}, not '{data_type}'.",
                    400,
                )
