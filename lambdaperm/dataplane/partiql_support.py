"""PartiQL statements reach the embedded backend only when its executor reads them as DynamoDB does.

Every statement of ExecuteStatement, BatchExecuteStatement and ExecuteTransaction was authorized on the
table (or index) DynamoDB's reading names (catalog/partiql.py); moto executes the statement text with its
own parser (py-partiql-parser). A statement that parser would read as another table or index, or cannot
read at all, is refused with DynamoDB's ValidationException before moto sees it.
"""

from __future__ import annotations

from collections.abc import Mapping

from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.partiql import confirm_executor
from lambdaperm.protocol.errors import ServiceError

# operation -> (list member or None, statement member)
_STATEMENTS: Mapping[str, tuple[str | None, str]] = {
    "ExecuteStatement": (None, "Statement"),
    "BatchExecuteStatement": ("Statements", "Statement"),
    "ExecuteTransaction": ("TransactStatements", "Statement"),
}


def statements(operation: str, params: Mapping[str, object]) -> list[object]:
    """The PartiQL statements of a DynamoDB request, in order (none for other operations)."""
    where = _STATEMENTS.get(operation)
    if where is None:
        return []
    listed, member = where
    if listed is None:
        return [params.get(member)]
    items = params.get(listed)
    if not isinstance(items, list):
        return [None]
    return [item.get(member) if isinstance(item, Mapping) else None for item in items]


def check(operation: str, params: Mapping[str, object]) -> None:
    """Raise DynamoDB's ValidationException unless the executor reads every statement as authorized."""
    for statement in statements(operation, params):
        try:
            confirm_executor(statement, operation)
        except InvalidRequest as err:
            raise ServiceError(err.code, err.message, err.status, fields=err.fields) from None
