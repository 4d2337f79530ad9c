"""dynamodb:LeadingKeys: the partition-key values of the items a DynamoDB request touches, read from the request
(the authorizer knows which attribute is the partition key, from the table or the queried index), and their
encoding as context values."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence

from . import dynamodb_numbers
from .params import lookup

# --- dynamodb:LeadingKeys: the key attributes of the items a request touches -------------------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
# "dynamodb:LeadingKeys – Represents the first key attribute of a table—in other words, the partition key."
# An item is read from Key/Item (Get/Put/Update/DeleteItem), Keys[] (a BatchGetItem table entry),
# WriteRequests[] (a BatchWriteItem table entry), a transaction element (Get/Put/Update/Delete/
# ConditionCheck), and a Query's key conditions (the equality terms of KeyConditionExpression, or EQ entries
# of the legacy KeyConditions). Which attribute is the partition key is known only from the table (or the
# queried index): the authorizer picks it.

KeyItem = dict[str, str]
_ITEM_PATHS = (
    "Key",
    "Item",
    "Keys[]",
    "WriteRequests[].PutRequest.Item",
    "WriteRequests[].DeleteRequest.Key",
    "Get.Key",
    "Put.Item",
    "Update.Key",
    "Delete.Key",
    "ConditionCheck.Key",
)
_OPERAND = r"(#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)"
_EQUALITY = re.compile(rf"^\(*\s*{_OPERAND}\s*=\s*{_OPERAND}\s*\)*$", re.ASCII)
_AND = re.compile(r"\s+AND\s+", re.I | re.ASCII)


def _scalar(value: object) -> str | None:
    """A key attribute value as IAM compares it: S as written, N only in its canonical writing
    (`dynamodb_numbers`), B as base64 text."""
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    kind, raw = next(iter(value.items()))
    if kind == "S" and isinstance(raw, str):
        return raw
    if kind == "N" and isinstance(raw, str):
        return dynamodb_numbers.canonical(raw)
    if kind == "B" and isinstance(raw, bytes | bytearray):
        return base64.b64encode(bytes(raw)).decode("ascii")
    if kind == "B" and isinstance(raw, str):
        return raw
    return None


def _item(found: object) -> KeyItem | None:
    if not isinstance(found, Mapping):
        return None
    out: KeyItem = {}
    for name, value in found.items():
        scalar = _scalar(value)
        if isinstance(name, str) and scalar is not None:
            out[name] = scalar
    return out


def _key_condition_item(scope: Mapping[str, object]) -> KeyItem | None:
    """The equality terms of a Query's key conditions, or None when the request has none to read (or gives
    both forms, which DynamoDB refuses and a backend could read either way)."""
    if "KeyConditionExpression" in scope and "KeyConditions" in scope:
        return None
    expression = scope.get("KeyConditionExpression")
    if isinstance(expression, str):
        names = scope.get("ExpressionAttributeNames")
        values = scope.get("ExpressionAttributeValues")
        names = names if isinstance(names, Mapping) else {}
        values = values if isinstance(values, Mapping) else {}
        out: KeyItem = {}
        for clause in _AND.split(expression.strip()):
            match = _EQUALITY.match(clause.strip())
            if match is None:
                continue
            left, right = match.group(1), match.group(2)
            if left.startswith(":") and not right.startswith(":"):
                left, right = right, left
            if left.startswith(":") or not right.startswith(":"):
                continue
            name = names.get(left) if left.startswith("#") else left
            value = _scalar(values.get(right))
            if isinstance(name, str) and value is not None:
                if out.get(name, value) != value:
                    return None  # one attribute equal to two values: not a key condition this reader trusts
                out[name] = value
        return out
    conditions = scope.get("KeyConditions")
    if isinstance(conditions, Mapping):
        out = {}
        for name, condition in conditions.items():
            if not isinstance(condition, Mapping) or condition.get("ComparisonOperator") != "EQ":
                continue
            listed = condition.get("AttributeValueList")
            if isinstance(listed, Sequence) and len(listed) == 1:
                value = _scalar(listed[0])
                if isinstance(name, str) and value is not None:
                    out[name] = value
        return out
    return None


def dynamodb_key_items(scope: object) -> list[KeyItem] | None:
    """The key attributes of every item the request (or one of its items) touches; None when the request
    names no item in a form this reader knows (its partition keys cannot be told)."""
    if not isinstance(scope, Mapping):
        return None
    items: list[KeyItem] = []
    seen = False
    for path in _ITEM_PATHS:
        for found in lookup(scope, path):
            seen = True
            item = _item(found)
            if item is None:
                return None
            items.append(item)
    if "KeyConditionExpression" in scope or "KeyConditions" in scope:
        condition = _key_condition_item(scope)
        if condition is None:
            return None
        seen = True
        items.append(condition)
    return items if seen else None


def encode_key_items(items: Sequence[KeyItem]) -> tuple[str, ...]:
    """Key items as context values (JSON objects, sorted keys)."""
    return tuple(json.dumps(item, sort_keys=True, separators=(",", ":")) for item in items)


def decode_key_items(values: Sequence[str]) -> list[KeyItem] | None:
    out: list[KeyItem] = []
    for value in values:
        try:
            item = json.loads(value)
        except ValueError:
            return None
        if not isinstance(item, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in item.items()):
            return None
        out.append(item)
    return out
