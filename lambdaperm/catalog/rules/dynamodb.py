"""DynamoDB operations whose authorization differs from the IAM action of the same name."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .. import identifiers as ids
from ..arns import Bindings
from ..bindings import Param, Parsed
from ..partiql import ACTIONS as PARTIQL_ACTIONS
from ..partiql import target as partiql_target
from .model import Derived, Need, Rule, When

_TX = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html"
_PARTIQL = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html"
_BACKUP = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html"


def _tables(*paths: str) -> Parsed:
    return Parsed(ids.dynamodb_tables(*paths), paths, ("TableName",))


def partiql(statement: object) -> list[Derived]:
    """A PartiQL statement's verb decides the action (PartiQLSelect/Insert/Update/Delete), the table it names
    the resource, `SELECT ... FROM "T"."I"` the index; read by DynamoDB's rules and confirmed by the
    embedded executor's (catalog/partiql.py). A statement either cannot read, or that they read differently,
    raises DynamoDB's ValidationException."""
    found = partiql_target(statement)
    bindings: Bindings = {"TableName": (found.table,)}
    if found.index is not None:
        bindings["IndexName"] = (found.index,)
    return [Derived(found.action, bindings)]


_PARTIQL_ACTIONS = tuple(PARTIQL_ACTIONS.values())


def _table_entry(name: object) -> list[Derived]:
    """A table of RequestItems (a name or an ARN) → its bindings."""
    if not isinstance(name, str):
        return []
    bound = ids.dynamodb_tables("Name")({"Name": name})
    return [Derived(None, bound)] if bound else []


def _batch_get_entry(params: Mapping[str, object], name: object) -> object:
    """The RequestItems entry of one table: its item-level keys (Keys, ProjectionExpression...)."""
    items = params.get("RequestItems")
    return items.get(name) if isinstance(items, Mapping) and isinstance(name, str) else None


def _batch_write_entry(params: Mapping[str, object], name: object) -> object:
    entry = _batch_get_entry(params, name)
    return {"WriteRequests": entry} if entry is not None else None


def _batch(action: str, item: Callable[[Mapping[str, object], object], object]) -> Need:
    """BatchGetItem/BatchWriteItem: the action on each table of RequestItems, each with its own item-level
    condition keys (the partition keys and attributes of that table's items)."""
    return Need(action, each="RequestItems{}", derive=_table_entry, isolate=True, item=item)


def _transact_write(kind: str, action: str) -> Need:
    return Need(action, each="TransactItems[]", when=(When(kind),), sources=(_tables(f"{kind}.TableName"),),
                isolate=True, context={"dynamodb:EnclosingOperation": "TransactWriteItems"})


# The guide's read and write actions a restore needs on its target table (backuprestore_IAM.html, example 1)
_RESTORE_TARGET_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem",
                           "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem")


def _restore_target() -> tuple[Need, ...]:
    """The restore writes every attribute of the backup (or source table) into the target: the request names
    none, so dynamodb:Attributes is unsupplied on these checks, as on a read that names none (absent, the
    guide's `ForAllValues` attribute-restricting Allow was vacuously true for a restore; review round 6)."""
    return tuple(Need(action, sources=(_tables("TargetTableName"),), isolate=True, types=("table",),
                      unsupplied=("dynamodb:Attributes",))
                 for action in _RESTORE_TARGET_ACTIONS)


RULES: tuple[Rule, ...] = (
    # Tags given to CreateTable need dynamodb:TagResource on the new table too (tag on create; review round 1).
    Rule("dynamodb", "CreateTable",
         (Need("dynamodb:CreateTable"), Need("dynamodb:TagResource", when=(When("Tags[]"),), types=("table",))),
         "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Tagging.Operations.html"),
    # Batch operations are authorized as dynamodb:BatchGetItem/BatchWriteItem on every table named
    # (observed AccessDenied text: "not authorized to perform: dynamodb:BatchWriteItem on resource:
    # arn:aws:dynamodb:...:table/..." — aws-samples/aws-serverless-workshops#36, stelviodev/stelvio#136).
    Rule("dynamodb", "BatchGetItem", (_batch("dynamodb:BatchGetItem", _batch_get_entry),),
         "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html"),
    Rule("dynamodb", "BatchWriteItem", (_batch("dynamodb:BatchWriteItem", _batch_write_entry),),
         "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html"),
    # "Permissions for Put, Update, Delete, and Get actions are governed by the permissions used for the
    # underlying PutItem, UpdateItem, DeleteItem, and GetItem operations"; ConditionCheck →
    # dynamodb:ConditionCheckItem; dynamodb:EnclosingOperation names the transaction.
    Rule("dynamodb", "TransactGetItems",
         (Need("dynamodb:GetItem", each="TransactItems[]", sources=(_tables("Get.TableName"),), isolate=True,
               context={"dynamodb:EnclosingOperation": "TransactGetItems"}),), _TX),
    Rule("dynamodb", "TransactWriteItems",
         (_transact_write("ConditionCheck", "dynamodb:ConditionCheckItem"),
          _transact_write("Put", "dynamodb:PutItem"),
          _transact_write("Update", "dynamodb:UpdateItem"),
          _transact_write("Delete", "dynamodb:DeleteItem")), _TX),
    Rule("dynamodb", "ExecuteStatement",
         (Need("", each="Statement", derive=partiql, actions=_PARTIQL_ACTIONS, isolate=True),), _PARTIQL),
    Rule("dynamodb", "BatchExecuteStatement",
         (Need("", each="Statements[].Statement", derive=partiql, actions=_PARTIQL_ACTIONS,
               isolate=True),), _PARTIQL),
    Rule("dynamodb", "ExecuteTransaction",
         (Need("", each="TransactStatements[].Statement", derive=partiql, actions=_PARTIQL_ACTIONS,
               isolate=True, context={"dynamodb:EnclosingOperation": "ExecuteTransaction"}),), _PARTIQL),
    # Restores are authorized on the source (backup or table) and on the target table; "DynamoDB read and write
    # permissions on the target table are necessary for restore functionality" (review round 4: the guide's
    # item actions on the target table, which the restore fills).
    Rule("dynamodb", "RestoreTableFromBackup",
         (Need("dynamodb:RestoreTableFromBackup", sources=(_tables("TargetTableName"),)),
          *_restore_target()), _BACKUP),
    Rule("dynamodb", "RestoreTableToPointInTime",
         (Need("dynamodb:RestoreTableToPointInTime",
               sources=(_tables("SourceTableName", "TargetTableName"),)),
          *_restore_target()),
         "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html; "
         + _BACKUP),
    # Global tables (version 2017.11.29): the global table and the table in every replica Region.
    Rule("dynamodb", "CreateGlobalTable",
         (Need("dynamodb:CreateGlobalTable",
               sources=(_tables("GlobalTableName"), Param("Region", ("ReplicationGroup[].RegionName",)))),),
         "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html"),
    Rule("dynamodb", "UpdateGlobalTable",
         (Need("dynamodb:UpdateGlobalTable",
               sources=(_tables("GlobalTableName"),
                        Param("Region", ("ReplicaUpdates[].Create.RegionName",
                                         "ReplicaUpdates[].Delete.RegionName")))),),
         "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html"),
    Rule("dynamodb", "UpdateGlobalTableSettings",
         (Need("dynamodb:UpdateGlobalTableSettings", sources=(_tables("GlobalTableName"),)),),
         "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_reqs_bestpractices.html"),
)
