"""DynamoDB reads and expressions DynamoDB refuses, which the embedded backend would serve with more
attributes than the authorizer's `dynamodb:Attributes` named.

- `Select: SPECIFIC_ATTRIBUTES` "returns only the attributes listed in ProjectionExpression"
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html#DDB-Query-request-Select);
  without ProjectionExpression or AttributesToGet DynamoDB answers ValidationException "Must specify the
  AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES". The authorizer reads such
  a request as naming no attribute (`dynamodb:Attributes` empty, so `ForAllValues` conditions hold) while
  moto 5.2.1 returns whole items.
- A `#name` placeholder an expression uses must be defined in ExpressionAttributeNames; otherwise DynamoDB
  answers ValidationException "Invalid <Member>: An expression attribute name used in the document path is not
  defined; attribute name: #name"
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html).
  The authorizer skips an undefined placeholder; moto reads it as the literal attribute name `#name` and
  returns (or writes) that attribute.

Review round 6 (parameter confusion). Both are refused before the backend, as DynamoDB does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_PLACEHOLDER = re.compile(r"#[A-Za-z0-9_]+")
_SELECTS = frozenset({"Query", "Scan"})


def _invalid(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def _check_placeholders(value: object) -> None:
    """Every `#name` of every `...Expression` member, at any depth, is defined beside it."""
    if isinstance(value, Mapping):
        names = value.get("ExpressionAttributeNames")
        defined = names if isinstance(names, Mapping) else {}
        for member, item in value.items():
            if isinstance(member, str) and member.endswith("Expression") and isinstance(item, str):
                for placeholder in _PLACEHOLDER.findall(item):
                    if placeholder not in defined:
                        raise _invalid(
                            f"Invalid {member}: An expression attribute name used in the document path is not "
                            f"defined; attribute name: {placeholder}"
                        )
            else:
                _check_placeholders(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_placeholders(item)


def check_expressions(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Raises DynamoDB's ValidationException for the two shapes above."""
    if service != "dynamodb":
        return
    if (
        operation in _SELECTS
        and params.get("Select") == "SPECIFIC_ATTRIBUTES"
        and not params.get("ProjectionExpression")
        and not params.get("AttributesToGet")
    ):
        raise _invalid(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"
        )
    _check_placeholders(params)
