"""DynamoDB GetItem / Query / Scan answer only what their AttributesToGet and Select ask for.

- AttributesToGet (the legacy projection): "One or more attributes to retrieve from the table ... If
  AttributesToGet is not specified, then all attributes are returned"
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.AttributesToGet.html);
  it cannot be mixed with an expression parameter ("Can not use both expression and non-expression parameters in
  the same request", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.html).
- `Select: COUNT` "returns the number of matching items, rather than the matching items themselves"
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html#DDB-Scan-request-Select).

The authorizer decides these reads on `dynamodb:Attributes` = the names AttributesToGet lists, and a COUNT as
naming no attribute (the guide's attribute-restricting policies,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html). moto 5.2.1 ignores
AttributesToGet in GetItem, Query and Scan (BatchGetItem applies it) and its Scan ignores Select, so a caller
allowed `pk` only read whole items (review round 9). The embedded data plane therefore keeps, in each returned
item, only the attributes AttributesToGet lists (top-level names, as the legacy parameter takes), and drops the
items of a COUNT. Through `--upstream`, whose answer is forwarded as it comes, both shapes are refused (501).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_READS = frozenset({"GetItem", "Query", "Scan"})


def _attributes_to_get(params: Mapping[str, Any]) -> set[str] | None:
    listed = params.get("AttributesToGet")
    if listed is None:
        return None
    return {str(name) for name in listed} if isinstance(listed, list | tuple) else set()


def _count(operation: str, params: Mapping[str, Any]) -> bool:
    return operation in ("Query", "Scan") and params.get("Select") == "COUNT"


def check(service: str, operation: str, params: Mapping[str, Any], embedded: bool) -> None:
    """DynamoDB's ValidationException for AttributesToGet beside ProjectionExpression; 501 through
    `--upstream` for the two shapes the upstream's answer could carry wider than authorized."""
    if service != "dynamodb" or operation not in _READS:
        return
    listed = _attributes_to_get(params)
    if listed is not None and params.get("ProjectionExpression") is not None:
        raise ServiceError(
            "ValidationException",
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}",
            400,
        )
    if embedded:
        return
    if listed is not None:
        raise _not_served(f"AttributesToGet in {operation} through --upstream")
    if _count(operation, params):
        raise _not_served(f"Select COUNT in {operation} through --upstream")


def project(service: str, operation: str, params: Mapping[str, Any], output: dict[str, Any]) -> None:
    """Keep only the listed attributes of each returned item; no items for a COUNT."""
    if service != "dynamodb" or operation not in _READS:
        return
    if _count(operation, params):
        output.pop("Items", None)
        return
    listed = _attributes_to_get(params)
    if listed is None:
        return
    item = output.get("Item")
    if isinstance(item, dict):
        output["Item"] = {name: value for name, value in item.items() if name in listed}
    items = output.get("Items")
    if isinstance(items, list):
        output["Items"] = [
            {name: value for name, value in entry.items() if name in listed}
            for entry in items
            if isinstance(entry, dict)
        ]


def _not_served(what: str) -> ServiceError:
    return ServiceError("NotImplemented", f"lambdaperm does not serve {what}", 501)
