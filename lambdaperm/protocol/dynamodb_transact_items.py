"""DynamoDB TransactWriteItems: each of `TransactItems` holds exactly one of ConditionCheck, Put, Update or Delete.

The four members are optional in the model (`TransactWriteItem`), so the model's constraints (`constraints.py`) let
an item that is null, empty or that names none of them (`[null]`, `[{}]`, `[{"Put": null}]`) through; the
authorizer then found no table to decide on. DynamoDB refuses such a request with 400 ValidationException "Invalid
Request: TransactWriteRequest should contain Delete or Put or Update request", and one naming two operations with
"TransactItems can only contain one of Check, Put, Update or Delete"
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItem.html: "TransactWriteItem …
Contents: ConditionCheck, Put, Update, Delete" — one per item). Found by the fuzz campaign (docs/reliability.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from lambdaperm.protocol.errors import ServiceError

_OPERATIONS = ("ConditionCheck", "Put", "Update", "Delete")


def check(params: Mapping[str, object]) -> None:
    """Raise DynamoDB's ValidationException when an item of `params["TransactItems"]` has not exactly one
    operation (a list that is missing or not a list is the model's constraints' to refuse)."""
    items = params.get("TransactItems")
    if not isinstance(items, list):
        return
    for item in items:
        named = sum(1 for op in _OPERATIONS if isinstance(item, Mapping) and item.get(op) is not None)
        if named == 0:
            raise ServiceError(
                "ValidationException",
                "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request",
                400,
            )
        if named > 1:
            raise ServiceError(
                "ValidationException", "TransactItems can only contain one of Check, Put, Update or Delete", 400
            )
