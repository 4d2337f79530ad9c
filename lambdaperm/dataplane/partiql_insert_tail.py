"""A PartiQL INSERT ends with its item: `INSERT INTO table VALUE item`, nothing after it.

DynamoDB's INSERT grammar is `INSERT INTO table VALUE item`, one item, and "This statement does not return any
values" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html); RETURNING is a
clause of UPDATE and DELETE only (ql-reference.update.html, ql-reference.delete.html). The embedded backend's
executor (py-partiql-parser) read the item and ignored whatever followed it, so `INSERT INTO t VALUE {...} RETURNING
ALL OLD *` (or `... WHERE ...`) wrote the item (review round 24). A token after the item is refused with DynamoDB's
ValidationException for a statement it cannot read, before the backend sees the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.partiql import tokenize
from lambdaperm.dataplane.partiql_support import statements
from lambdaperm.protocol.errors import ServiceError

_OPEN = ("(", "[", "{", "<<")
_CLOSE = (")", "]", "}", ">>")


def trailing(statement: object) -> str | None:
    """The first token after an INSERT's item, or None (no INSERT, nothing after the item, or unreadable)."""
    if not isinstance(statement, str):
        return None
    try:
        tokens = tokenize(statement)
    except InvalidRequest:
        return None
    if not tokens or not tokens[0].keyword("INSERT"):
        return None
    value = next((i for i, t in enumerate(tokens) if t.keyword("VALUE")), None)
    if value is None or value + 1 >= len(tokens):
        return None
    depth = 0
    for at in range(value + 1, len(tokens)):
        token = tokens[at]
        if token.kind == "op" and token.text in _OPEN:
            depth += 1
        elif token.kind == "op" and token.text in _CLOSE:
            depth -= 1
        if depth == 0:  # the item ends here (a tuple closed, or a single token such as `?`)
            return tokens[at + 1].text if at + 1 < len(tokens) else None
    return None


def check(operation: str, params: Mapping[str, Any]) -> None:
    """ValidationException for an INSERT with anything after its item."""
    for statement in statements(operation, params):
        extra = trailing(statement)
        if extra is not None:
            raise ServiceError(
                "ValidationException",
                f"Statement wasn't well formed, can't be processed: Unexpected {extra!r} after the INSERT's item",
                400,
            )
