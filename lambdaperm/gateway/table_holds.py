"""Every DynamoDB table a call names is held from the call's authorization to its execution.

A table's name is reused (DeleteTable, then CreateTable: a new table with its own tags, items and resource policy,
at the same ARN). A call decided on the old table — its `aws:ResourceTag`
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html) or its
resource policy (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html)
— must not act on the new one: a deleted table's items and tags go with it
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html). Round 5 held the table named
by `TableName`; a BatchGetItem, a TransactWriteItems, a PartiQL statement or a TagResource by `ResourceArn` decided
on a table's dev tags still read, wrote or tagged the prod table created since under its name (races review
round 6).

So a DynamoDB call holds every table it names, in any of the forms the API has: `TableName` and the other name
parameters (`TargetTableName`, `SourceTableName`, `GlobalTableName`, ImportTable's
`TableCreationParameters.TableName`), each table ARN at a top-level parameter (`TableArn`, `SourceTableArn`,
`ResourceArn`, `BackupArn`, `ExportArn`, `ImportArn`, `StreamArn`, ... — an index, stream, backup, export or import
ARN names its table), the keys of `RequestItems`, the tables of `TransactItems`, and the table of each PartiQL
statement. The calls that create, delete or re-create a table (CreateTable, DeleteTable, ImportTable, the restores,
UpdateTable and the global-table calls, which create replicas) and those that change what a decision reads of it
(TagResource, UntagResource, PutResourcePolicy, DeleteResourcePolicy) hold exclusively, every other call shared.

One call's locks are taken in ascending stripe order, and before any S3 bucket name or object (ImportTable then
holds the bucket it reads: `import_holds`), so two calls never wait for each other in a cycle. Tables have stripes
of their own: a bucket's or role's stripe is never taken before a table's. And what the decision read is covered
by construction: after the decision, `HeldTables.check` refuses (501) a call authorized on a table it does not hold,
before anything executes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.partiql import target as partiql_target
from lambdaperm.protocol import ServiceError

from .ordered_locks import StripedLocks

_NAMES = ("TableName", "TargetTableName", "SourceTableName", "GlobalTableName")
_EXCLUSIVE = frozenset(
    {
        "CreateTable",
        "DeleteTable",
        "ImportTable",
        "RestoreTableFromBackup",
        "RestoreTableToPointInTime",
        "UpdateTable",
        "CreateGlobalTable",
        "UpdateGlobalTable",
        "UpdateGlobalTableSettings",
        "TagResource",
        "UntagResource",
        "PutResourcePolicy",
        "DeleteResourcePolicy",
    }
)
_TRANSACT_KINDS = ("Get", "Put", "Update", "Delete", "ConditionCheck")
_STATEMENTS = {
    "ExecuteStatement": (),
    "BatchExecuteStatement": ("Statements",),
    "ExecuteTransaction": ("TransactStatements",),
}


_LOCKS = StripedLocks(64)


def table_of_arn(value: str) -> str | None:
    """The table a DynamoDB ARN names (`arn:aws:dynamodb:<region>:<account>:table/<name>[/index|stream|backup|
    export|import/...]`), None for any other ARN (a Kinesis stream, a global table)."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "dynamodb" or not parts[5].startswith("table/"):
        return None
    return parts[5].split("/", 2)[1]


def _name(value: object) -> str | None:
    """A table's name given as a name or as a table ARN (DynamoDB accepts one as `TableName`)."""
    if not isinstance(value, str):
        return None
    return table_of_arn(value) if value.startswith("arn:") else value


def _statements(operation: str, params: Mapping[str, Any]) -> list[object]:
    if operation == "ExecuteStatement":
        return [params.get("Statement")]
    found: list[object] = []
    for key in _STATEMENTS.get(operation, ()):
        entries = params.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping):
                found.append(entry.get("Statement"))
    return found


def tables(operation: str, params: Mapping[str, Any] | None) -> set[str]:
    """The name of every table a DynamoDB call names (see the module)."""
    if params is None:
        return set()
    found: set[str | None] = {_name(params.get(key)) for key in _NAMES}
    for key, value in params.items():
        if key.endswith("Arn") and isinstance(value, str):
            found.add(table_of_arn(value))
    creation = params.get("TableCreationParameters")
    if isinstance(creation, Mapping):
        found.add(_name(creation.get("TableName")))
    items = params.get("RequestItems")
    if isinstance(items, Mapping):
        found.update(_name(name) for name in items)
    transact = params.get("TransactItems")
    for entry in transact if isinstance(transact, list) else []:
        for kind in _TRANSACT_KINDS:
            part = entry.get(kind) if isinstance(entry, Mapping) else None
            if isinstance(part, Mapping):
                found.add(_name(part.get("TableName")))
    for statement in _statements(operation, params):
        with suppress(InvalidRequest):  # refused by the authorization (DynamoDB's ValidationException)
            found.add(partiql_target(statement, operation).table)
    return {name for name in found if name}


class HeldTables:
    """The tables one call holds."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def check(self, resources: list[str]) -> None:
        """501 NotImplemented when the call was authorized on a table it does not hold (its decision may have read
        that table's tags or policy): it is not executed."""
        for resource in resources:
            table = table_of_arn(resource)
            if table is not None and table not in self.names:
                raise ServiceError(
                    "NotImplemented",
                    f"lambdaperm does not hold the table {resource} this call was authorized on until the call "
                    "executes, so it cannot execute it as authorized",
                    501,
                    sender_fault=False,
                )


@contextmanager
def held(operation: str, params: Mapping[str, Any] | None) -> Iterator[HeldTables]:
    """Hold every table a DynamoDB call names (exclusively for the calls that create, delete or re-tag one) while
    it is authorized and executed."""
    names = tables(operation, params)
    with _LOCKS.held(names, operation in _EXCLUSIVE):
        yield HeldTables(frozenset(names))
