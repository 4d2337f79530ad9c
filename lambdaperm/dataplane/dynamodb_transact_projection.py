"""DynamoDB TransactGetItems returns, for each `Get`, only the attributes its ProjectionExpression names.

"ProjectionExpression: A string that identifies one or more attributes of the specified item to retrieve
from the table. ... If no attribute names are specified, then all attributes of the specified item are
returned" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Get.html). The authorizer
decides each `Get` as dynamodb:GetItem with `dynamodb:Attributes` = the attributes its projection names
(the guide's attribute-restricting policies,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html). moto 5.2.1's
TransactGetItems ignores ProjectionExpression and returns whole items, so a caller allowed `pk` only read every
attribute of the item by projecting `pk` (review round 8).

The embedded data plane therefore keeps, in each returned item, only the top-level attributes the entry's
projection names (a name, or a `#placeholder` standing for one); a projection with a nested document path
(`a.b`, `a[0]`) is not served (501 NotImplemented, before the backend). Through `--upstream`, whose answer is
forwarded as it comes, a TransactGetItems with any ProjectionExpression is refused the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|#[A-Za-z0-9_]+")


def _gets(params: Mapping[str, Any]) -> list[Mapping[str, Any] | None]:
    items = params.get("TransactItems")
    if not isinstance(items, list):
        return []
    out: list[Mapping[str, Any] | None] = []
    for item in items:
        get = item.get("Get") if isinstance(item, Mapping) else None
        out.append(get if isinstance(get, Mapping) else None)
    return out


def _names(get: Mapping[str, Any]) -> set[str] | None:
    """The top-level attribute names the entry projects; None when it projects nothing (the whole item)."""
    expression = get.get("ProjectionExpression")
    if expression is None:
        return None
    placeholders = get.get("ExpressionAttributeNames") or {}
    names: set[str] = set()
    for token in str(expression).split(","):
        token = token.strip()
        if not _NAME.fullmatch(token):
            raise _not_served(f"the ProjectionExpression path {token!r} (only top-level attributes are served)")
        name = placeholders.get(token) if token.startswith("#") else token
        if not isinstance(name, str):
            return set()  # an undefined placeholder: DynamoDB's ValidationException comes from the backend
        names.add(name)
    return names


def check(service: str, operation: str, params: Mapping[str, Any], embedded: bool) -> None:
    """501 for a TransactGetItems projection the data plane cannot apply (see the module docstring)."""
    if (service, operation) != ("dynamodb", "TransactGetItems"):
        return
    for get in _gets(params):
        if get is None or get.get("ProjectionExpression") is None:
            continue
        if not embedded:
            raise _not_served("ProjectionExpression in TransactGetItems through --upstream")
        _names(get)


def project(service: str, operation: str, params: Mapping[str, Any], output: dict[str, Any]) -> None:
    """Keep, in each TransactGetItems response item, only the attributes its entry projects."""
    if (service, operation) != ("dynamodb", "TransactGetItems"):
        return
    responses = output.get("Responses")
    gets = _gets(params)
    if not isinstance(responses, list) or len(responses) != len(gets):
        if any(get is not None and get.get("ProjectionExpression") is not None for get in gets):
            raise _not_served("a TransactGetItems answer that does not match its entries")
        return
    for get, response in zip(gets, responses, strict=True):
        names = _names(get) if get is not None else None
        if names is None or not isinstance(response, dict):
            continue
        item = response.get("Item")
        if isinstance(item, dict):
            response["Item"] = {name: value for name, value in item.items() if name in names}


def _not_served(what: str) -> ServiceError:
    return ServiceError("NotImplemented", f"lambdaperm does not serve {what}", 501)
