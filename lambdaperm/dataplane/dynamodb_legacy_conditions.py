"""DynamoDB legacy conditions the embedded backend would not apply: refused rather than ignored.

- `Expected` makes a DeleteItem conditional ("If the conditional expression evaluates to false, the delete fails",
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.Expected.html).
  moto 5.2.1's DeleteItem never reads it (PutItem and UpdateItem do) and deleted the item whatever its attributes:
  an unconditional delete where a conditional one was authorized and recorded (review round 9).
- `ConditionalOperator: OR` joins the Expected / QueryFilter / ScanFilter conditions by OR
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.ConditionalOperator.html);
  moto 5.2.1 always joins them by AND ("NOTE: Ignore ConditionalOperator", moto/dynamodb/comparisons.py), so
  it answered other items and refused writes DynamoDB makes.

Both are answered 501 NotImplemented naming the parameter, in both modes (an upstream moto reads them alike);
`ConditionalOperator: AND` is what moto does and is served.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def _not_served(what: str) -> ServiceError:
    return ServiceError("NotImplemented", f"lambdaperm does not serve {what}", 501)


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """501 for a DeleteItem with Expected, and for ConditionalOperator OR."""
    if service != "dynamodb":
        return
    if operation == "DeleteItem" and params.get("Expected") is not None:
        raise _not_served("Expected in DeleteItem (use ConditionExpression)")
    if params.get("ConditionalOperator") not in (None, "AND"):
        raise _not_served(f"ConditionalOperator {params.get('ConditionalOperator')!s} in {operation}")
