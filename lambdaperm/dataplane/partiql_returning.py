"""A PartiQL UPDATE or DELETE with a RETURNING clause is not served: 501 NotImplemented naming the clause.

DynamoDB documents `UPDATE table [SET | REMOVE] path [= data] […] WHERE condition [RETURNING returnvalues]`, with
`ALL OLD | MODIFIED OLD | ALL NEW | MODIFIED NEW` `*`
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.update.html), and `DELETE FROM table
WHERE condition [RETURNING returnvalues]`, `ALL OLD *`
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.delete.html). The embedded backend's
executor cannot read the clause, so the statement was refused as one that "wasn't well formed" — a 400 telling the
caller a documented statement is wrong (review round 25). lambdaperm does not build the returned values: the
statement is answered 501 before the backend sees it, naming what is not served. (An INSERT's RETURNING is no
documented form: `partiql_insert_tail` refuses it as malformed.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.partiql import tokenize
from lambdaperm.dataplane.partiql_support import statements
from lambdaperm.protocol.errors import ServiceError


def returning(statement: object) -> bool:
    """Whether the statement is an UPDATE or DELETE with a RETURNING keyword (outside any literal)."""
    if not isinstance(statement, str):
        return False
    try:
        tokens = tokenize(statement)
    except InvalidRequest:
        return False
    return bool(tokens) and tokens[0].keyword("UPDATE", "DELETE") and any(t.keyword("RETURNING") for t in tokens)


def check(operation: str, params: Mapping[str, Any]) -> None:
    """501 NotImplemented for an UPDATE or DELETE statement with a RETURNING clause."""
    for statement in statements(operation, params):
        if returning(statement):
            raise ServiceError(
                "NotImplemented",
                "lambdaperm does not serve the RETURNING clause of a PartiQL UPDATE or DELETE; run the statement "
                "without it (or use UpdateItem/DeleteItem with ReturnValues)",
                501,
                sender_fault=False,
            )
