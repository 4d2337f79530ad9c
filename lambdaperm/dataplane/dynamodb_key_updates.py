"""UpdateItem's legacy `AttributeUpdates` never names a primary key attribute.

"You cannot use UpdateItem to update any primary key attributes. Instead, you will need to delete the item, and then
use PutItem to create a new item with new attributes."
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValueUpdate.html). DynamoDB answers 400
ValidationException "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of
the key", as it does for an `UpdateExpression` that sets or removes a key attribute.

The embedded backend checks `UpdateExpression` only: an `AttributeUpdates` entry PUT or DELETE on the partition or
sort key was applied to the item found by `Key`, so the item addressed by `alice` stored `pk = bob` (or lost its sort
key) — a caller held to `dynamodb:LeadingKeys` `alice` wrote an item that reads, to every Scan, export and stream, as
another partition's (review round 22). Checked here, before the backend sees the call, against the table's key
schema in the acting account and region; a table that does not exist is left to the backend (ResourceNotFound).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_MESSAGE = "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key"


def key_attributes(table: str, account: str, region: str) -> frozenset[str] | None:
    """The table's partition and sort key attribute names; None when the table does not exist."""
    from moto.dynamodb.models import dynamodb_backends

    try:
        found = dynamodb_backends[account][region].tables.get(table)
    except (KeyError, TypeError):
        return None
    if found is None:
        return None
    names = (getattr(found, "hash_key_attr", None), getattr(found, "range_key_attr", None))
    return frozenset(name for name in names if isinstance(name, str) and name)


def check(operation: str, params: Mapping[str, Any], account: str, region: str) -> None:
    """ValidationException when UpdateItem's `AttributeUpdates` names a key attribute of its (plain-named) table."""
    if operation != "UpdateItem":
        return
    updates, table = params.get("AttributeUpdates"), params.get("TableName")
    if not isinstance(updates, Mapping) or not updates or not isinstance(table, str):
        return
    keys = key_attributes(table, account, region)
    if not keys:
        return
    for name in updates:
        if name in keys:
            raise ServiceError("ValidationException", _MESSAGE.format(name), 400)
