"""The tables a DynamoDB restore (or import) reads and creates, in the one form the backend executes.

`TableName` given as an ARN is read in `canonical_params._table`; the other members that name a table were
passed to the backend as given (region and account review round 7):

- `TargetTableName` (RestoreTableToPointInTime, RestoreTableFromBackup) and ImportTable's
  `TableCreationParameters.TableName` given as an ARN: the catalog decided the call on that ARN's region and
  account — and the source named by `SourceTableName` in the same region — while the backend, acting in the
  signed region, read the signed region's source table and created a table *named* by the ARN text. A user
  denied everything on a table copied it into a new table past the Deny. An ARN naming another region or
  account than the signed one is refused as `TableName`'s is (ValidationException); one naming them becomes
  the plain name.
- `SourceTableName` given as an ARN: the same rule.
- `SourceTableArn`: moto reads only `SourceTableName`, so the ARN was authorized and then ignored (a non-table
  ARN — an index, a stream, a global table — was authorized on nothing and the source looked up by its
  text). It must be a table ARN of the signed region and acting account; the backend gets its name as
  `SourceTableName`. Both members given: refused (the request names one source).

https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableToPointInTime.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-cross-account-access.html (a table ARN
names its region and account)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_NAMES = ("TargetTableName", "SourceTableName")


def canonical(params: dict[str, Any], table: Callable[[Any], Any]) -> dict[str, Any]:
    """`params` with each restore/import table member as a plain name (`table` reads a name or a table ARN of
    the signed region and acting account, and refuses any other ARN)."""
    fixed = dict(params)
    for member in _NAMES:
        if member in fixed:
            fixed[member] = table(fixed[member])
    if "SourceTableArn" in fixed:
        arn = fixed.pop("SourceTableArn")
        if "SourceTableName" in fixed:
            raise ServiceError(
                "ValidationException", "Only one of SourceTableArn or SourceTableName may be specified", 400
            )
        name = table(arn) if isinstance(arn, str) and arn.startswith("arn:") else None
        if name is None or name == arn:
            raise ServiceError("ValidationException", f"Invalid SourceTableArn: {arn}", 400)
        fixed["SourceTableName"] = name
    creation = fixed.get("TableCreationParameters")
    if isinstance(creation, dict) and "TableName" in creation:
        fixed["TableCreationParameters"] = {**creation, "TableName": table(creation["TableName"])}
    return fixed
