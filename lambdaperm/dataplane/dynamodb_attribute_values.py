"""Every DynamoDB AttributeValue of a request holds exactly one datatype, wherever the request carries it.

AWS: "Each attribute value is described as a name-value pair. The name is the data type, and the value is the data
itself" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html); DynamoDB refuses
an AttributeValue with no datatype or more than one with 400 ValidationException "Supplied AttributeValue is empty,
must contain exactly one of the supported datatypes" / "Supplied AttributeValue has more than one datatypes set,
must contain exactly one of the supported datatypes".

The embedded backend takes such a value and picks one datatype (`{"S": "1", "N": "2"}` was stored as the string
`"1"`), so one request had two readings — whichever the backend picked, and whichever a condition or another reader
took (parameter confusion review round 20). `dynamodb_key_types` checked `Key` only; this check walks the
operation's input shape from botocore's model, so every member whose shape is `AttributeValue` is checked — an
Item, ExpressionAttributeValues, legacy Expected/AttributeUpdates/KeyConditions/filters, ExclusiveStartKey, PartiQL
Parameters, batch and transaction elements — and, through `M` and `L`, every nested value. A datatype member whose
value is null counts as not set, as the JSON protocol reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.models import operation_model, operation_names

_ATTRIBUTE_VALUE = "AttributeValue"
EMPTY = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
MORE_THAN_ONE = (
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
)


def _attribute_values(shape: Shape, value: Any) -> Iterator[Any]:
    """Every value of the request that the model types as an AttributeValue (outermost first)."""
    if shape.name == _ATTRIBUTE_VALUE and shape.type_name == "structure":
        yield value
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                yield from _attribute_values(member, value[name])
    elif shape.type_name == "list" and isinstance(value, list):
        for item in value:
            yield from _attribute_values(shape.member, item)
    elif shape.type_name == "map" and isinstance(value, dict):
        for item in value.values():
            yield from _attribute_values(shape.value, item)


def check(operation: str, params: dict[str, Any]) -> None:
    """400 ValidationException for an AttributeValue of the request with no datatype or more than one."""
    if operation not in operation_names("dynamodb"):
        return
    shape = operation_model("dynamodb", operation).input_shape
    if shape is None:
        return
    for value in _attribute_values(shape, params):
        if not isinstance(value, dict):
            continue  # not a structure: the parser's to refuse
        datatypes = sum(1 for v in value.values() if v is not None)
        if datatypes == 0:
            raise ServiceError("ValidationException", EMPTY, 400)
        if datatypes > 1:
            raise ServiceError("ValidationException", MORE_THAN_ONE, 400)
