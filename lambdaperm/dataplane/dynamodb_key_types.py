"""A DynamoDB key names scalar values only.

"Each primary key attribute must be a scalar (meaning that it can hold only a single value). The only data types
allowed for primary key attributes are string, number, or binary."
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html#HowItWorks.CoreComponents.PrimaryKey)
A `Key` whose attribute value is a set, a list, a map, a null or a boolean can match no table's key schema, and
DynamoDB answers 400 ValidationException "The provided key element does not match the schema"; an AttributeValue
with no type or two is DynamoDB's "Supplied AttributeValue is empty / has more than one datatypes set, must contain
exactly one of the supported datatypes"
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html). The embedded backend hashed
such a value and failed (500 InternalFailure; found by the fuzz campaign, docs/reliability.md), so every `Key` of a
request is checked before it runs: GetItem, UpdateItem, DeleteItem; BatchGetItem's `Keys`; BatchWriteItem's
`DeleteRequest.Key`; TransactGetItems' and TransactWriteItems' `Get`/`Update`/`Delete`/`ConditionCheck` `Key`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lambdaperm.protocol.errors import ServiceError

SCALAR_TYPES = frozenset({"S", "N", "B"})


def _keys(operation: str, params: dict[str, Any]) -> Iterator[Any]:
    """Every `Key` map the request names (whatever its shape: a malformed one is the parser's to refuse)."""
    if operation in ("GetItem", "UpdateItem", "DeleteItem") and "Key" in params:
        yield params["Key"]
    requests = params.get("RequestItems")
    if operation == "BatchGetItem" and isinstance(requests, dict):
        for entry in requests.values():
            if isinstance(entry, dict) and isinstance(entry.get("Keys"), list):
                yield from entry["Keys"]
    if operation == "BatchWriteItem" and isinstance(requests, dict):
        for writes in requests.values():
            for write in writes if isinstance(writes, list) else []:
                delete = write.get("DeleteRequest") if isinstance(write, dict) else None
                if isinstance(delete, dict) and "Key" in delete:
                    yield delete["Key"]
    if operation in ("TransactGetItems", "TransactWriteItems") and isinstance(params.get("TransactItems"), list):
        for item in params["TransactItems"]:
            for kind in ("Get", "Update", "Delete", "ConditionCheck"):
                body = item.get(kind) if isinstance(item, dict) else None
                if isinstance(body, dict) and "Key" in body:
                    yield body["Key"]


def check(operation: str, params: dict[str, Any]) -> None:
    """ValidationException for a `Key` attribute value that is not one AttributeValue of type S, N or B."""
    for key in _keys(operation, params):
        if not isinstance(key, dict):
            continue
        for value in key.values():
            if isinstance(value, dict) and not value:
                raise ServiceError(
                    "ValidationException",
                    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
                    400,
                )
            if isinstance(value, dict) and len(value) > 1:
                raise ServiceError(
                    "ValidationException",
                    "Supplied AttributeValue has more than one datatypes set, "
                    "must contain exactly one of the supported datatypes",
                    400,
                )
            if not isinstance(value, dict) or next(iter(value)) not in SCALAR_TYPES:
                raise ServiceError("ValidationException", "The provided key element does not match the schema", 400)
