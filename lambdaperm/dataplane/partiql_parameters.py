"""A PartiQL statement's `?` placeholders and its `Parameters` are read as DynamoDB reads them.

Each `?` of a PartiQL statement takes the next value of `Parameters`, in order
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ExecuteStatement.html). A statement with more
placeholders than values is refused: 400 ValidationException "Number of parameters in request and statement don't
match." (DynamoDB's answer; DynamoDB Local gives the same). Values beyond the last placeholder are not read.

The embedded backend (moto 5.2.1) read a missing value as nothing and ran the statement (a SELECT whose `sk = ?`
had no value answered an empty result; a BatchExecuteStatement entry likewise), and failed with a 500 on an
UPDATE or a transaction statement given more values than placeholders (review round 24). `check` refuses a
statement with too few values (ExecuteStatement, and ExecuteTransaction as a whole); BatchExecuteStatement answers
per statement, which lambdaperm does not build, so an entry with too few values refuses the request with the same
error (fail closed). `canonical` gives the backend only the values the placeholders read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.partiql import tokenize
from lambdaperm.protocol.errors import ServiceError

MISMATCH = "Number of parameters in request and statement don't match."

# operation -> list member holding {Statement, Parameters} entries, or None for the request itself
_ENTRIES: Mapping[str, str | None] = {
    "ExecuteStatement": None,
    "BatchExecuteStatement": "Statements",
    "ExecuteTransaction": "TransactStatements",
}


def _entries(operation: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    if operation not in _ENTRIES:
        return []
    member = _ENTRIES[operation]
    if member is None:
        return [params]
    listed = params.get(member)
    return [entry for entry in listed if isinstance(entry, Mapping)] if isinstance(listed, list) else []


def placeholders(statement: object) -> int | None:
    """How many `?` placeholders the statement has (string literals and quoted names excluded); None when the
    statement cannot be read (the PartiQL check refuses it)."""
    if not isinstance(statement, str):
        return None
    try:
        return sum(1 for token in tokenize(statement) if token.kind == "op" and token.text == "?")
    except InvalidRequest:
        return None


def check(operation: str, params: Mapping[str, Any]) -> None:
    """ValidationException for a statement with more `?` placeholders than `Parameters` values."""
    for entry in _entries(operation, params):
        wanted = placeholders(entry.get("Statement"))
        values = entry.get("Parameters")
        given = len(values) if isinstance(values, list) else 0
        if wanted is not None and given < wanted:
            raise ServiceError("ValidationException", MISMATCH, 400)


def _trimmed(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    wanted = placeholders(entry.get("Statement"))
    values = entry.get("Parameters")
    if wanted is None or not isinstance(values, list) or len(values) <= wanted:
        return entry
    trimmed = {**entry, "Parameters": values[:wanted]}
    if not wanted:
        del trimmed["Parameters"]
    return trimmed


def canonical(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with each statement's `Parameters` cut to the values its placeholders read."""
    if operation not in _ENTRIES:
        return params
    member = _ENTRIES[operation]
    if member is None:
        return dict(_trimmed(params))
    listed = params.get(member)
    if not isinstance(listed, list):
        return params
    return {**params, member: [_trimmed(e) if isinstance(e, Mapping) else e for e in listed]}
