"""A PartiQL UPDATE never sets or removes a primary key attribute.

A PartiQL UPDATE modifies "one or more attributes within an item"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.update.html); it is DynamoDB's
UpdateItem, and "You cannot use UpdateItem to update any primary key attributes"
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValueUpdate.html): DynamoDB answers 400
ValidationException "... Cannot update attribute pk. This attribute is part of the key".

The embedded backend's executor applied `SET pk = 'bob'` (or `REMOVE sk`) to the item its WHERE found, so the item
addressed by `alice` came to read `pk = bob` (rounds 22-24's note, settled in review round 25). Every path a SET or
REMOVE clause assigns (the first name of the path, at the clause's top level) is checked against the table's key
schema in the acting account and region, before the backend sees the call; a table that does not exist is left to
the backend. A BatchExecuteStatement with such a statement is refused whole (DynamoDB answers per statement, which
lambdaperm does not build — fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.partiql import Token, target, tokenize
from lambdaperm.dataplane.dynamodb_key_updates import key_attributes
from lambdaperm.dataplane.partiql_support import statements
from lambdaperm.protocol.errors import ServiceError

_MESSAGE = "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key"
_OPEN = ("(", "[", "{", "<<")
_CLOSE = (")", "]", "}", ">>")


def assigned(tokens: list[Token]) -> list[str]:
    """The first names of the paths an UPDATE's SET and REMOVE clauses assign, in order."""
    names: list[str] = []
    depth = 0
    in_clause = False
    expect = False
    for token in tokens[2:]:  # after UPDATE and the table
        if token.kind == "op" and token.text in _OPEN:
            depth += 1
        elif token.kind == "op" and token.text in _CLOSE:
            depth -= 1
        if depth:
            continue
        if token.keyword("SET", "REMOVE"):
            in_clause, expect = True, True
            continue
        if token.keyword("WHERE", "RETURNING"):
            in_clause = False
            continue
        if expect:
            name = token.identifier
            if name is not None:
                names.append(name)
            expect = False
        elif in_clause and token.kind == "op" and token.text == ",":
            expect = True
    return names


def check(operation: str, params: Mapping[str, Any], account: str, region: str) -> None:
    """ValidationException for a PartiQL UPDATE whose SET or REMOVE names a key attribute of its table."""
    for statement in statements(operation, params):
        if not isinstance(statement, str):
            continue
        try:
            tokens = tokenize(statement)
            if not tokens or not tokens[0].keyword("UPDATE"):
                continue
            table = target(statement, operation).table
        except InvalidRequest:
            continue  # left to partiql_support, which refuses what it cannot read
        keys = key_attributes(table, account, region)
        if not keys:
            continue
        for name in assigned(tokens):
            if name in keys:
                raise ServiceError("ValidationException", _MESSAGE.format(name), 400)
