"""DynamoDB's legacy conditional parameters and its expression parameters are never mixed in one call.

"DynamoDB does not allow mixing legacy conditional parameters and expression parameters in a single call. For
example, calling the Query operation with AttributesToGet and ConditionExpression will result in an error."
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.html). DynamoDB answers
400 ValidationException "Can not use both expression and non-expression parameters in the same request:
Non-expression parameters: {...} Expression parameters: {...}". And `ExpressionAttributeNames` /
`ExpressionAttributeValues` exist only for expressions: given without any, ValidationException
"ExpressionAttributeValues can only be specified when using expressions"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeValues.html).

The embedded backend (moto 5.2.1) checks two pairs only (GetItem's AttributesToGet/ProjectionExpression, UpdateItem's
AttributeUpdates/UpdateExpression) and otherwise executed the call, reading one family and ignoring the other:
a Query with KeyConditions and a FilterExpression, a PutItem with ConditionExpression and ConditionalOperator (the
item was written), an UpdateItem with AttributeUpdates and a ConditionExpression, a Query ignoring the QueryFilter
given beside its KeyConditionExpression (review round 23). The table below is the guide's, per operation (and per
RequestItems entry of BatchGetItem); the transaction elements have no legacy member. Checked before the backend sees
the call, in both modes (gateway/data_plane.py).

And an UpdateItem with neither `UpdateExpression` nor `AttributeUpdates` (a Key alone, or with a condition) is valid:
UpdateItem "Edits an existing item's attributes, or adds a new item to the table if it does not already exist"
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html). The embedded backend created the
item and then failed on the missing member (500 InternalFailure, the item stored); it is given an empty
`AttributeUpdates`, which it reads as no update (`canonical`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_CONDITIONAL_OPERATOR = "ConditionalOperator"

# operation -> (legacy members, expression members), LegacyConditionalParameters.html's table; ConditionalOperator
# is the legacy joiner of Expected / QueryFilter / ScanFilter, a non-expression parameter too
FAMILIES: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "GetItem": (("AttributesToGet",), ("ProjectionExpression",)),
    "PutItem": (("Expected", _CONDITIONAL_OPERATOR), ("ConditionExpression",)),
    "DeleteItem": (("Expected", _CONDITIONAL_OPERATOR), ("ConditionExpression",)),
    "UpdateItem": (
        ("AttributeUpdates", "Expected", _CONDITIONAL_OPERATOR),
        ("UpdateExpression", "ConditionExpression"),
    ),
    "Query": (
        ("AttributesToGet", "KeyConditions", "QueryFilter", _CONDITIONAL_OPERATOR),
        ("ProjectionExpression", "KeyConditionExpression", "FilterExpression"),
    ),
    "Scan": (
        ("AttributesToGet", "ScanFilter", _CONDITIONAL_OPERATOR),
        ("ProjectionExpression", "FilterExpression"),
    ),
}
# BatchGetItem's RequestItems entries (KeysAndAttributes)
_BATCH_GET_ENTRY: tuple[tuple[str, ...], tuple[str, ...]] = (("AttributesToGet",), ("ProjectionExpression",))
_PLACEHOLDERS = ("ExpressionAttributeNames", "ExpressionAttributeValues")


def _invalid(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def _check_scope(scope: Mapping[str, Any], family: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    legacy_members, expression_members = family
    legacy = sorted(m for m in legacy_members if scope.get(m) is not None)
    expressions = sorted(m for m in expression_members if scope.get(m) is not None)
    if legacy and expressions:
        raise _invalid(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(legacy)}}} Expression parameters: {{{', '.join(expressions)}}}"
        )
    if not expressions:
        for member in _PLACEHOLDERS:
            if scope.get(member) is not None:
                raise _invalid(f"{member} can only be specified when using expressions")


def check(operation: str, params: Mapping[str, Any]) -> None:
    """ValidationException for a legacy parameter beside an expression parameter, or placeholders without one."""
    family = FAMILIES.get(operation)
    if family is not None:
        _check_scope(params, family)
    if operation == "BatchGetItem":
        entries = params.get("RequestItems")
        if isinstance(entries, Mapping):
            for entry in entries.values():
                if isinstance(entry, Mapping):
                    _check_scope(entry, _BATCH_GET_ENTRY)


def canonical(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params`, or for an UpdateItem with no update member a copy with an empty AttributeUpdates."""
    if operation != "UpdateItem" or params.get("UpdateExpression") is not None:
        return params
    if params.get("AttributeUpdates") is not None:
        return params
    return {**params, "AttributeUpdates": {}}
