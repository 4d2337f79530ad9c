"""DynamoDB tags name each key once.

A tag is a key-value pair and "each tag key must be unique" for a resource
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Tagging.html). A request that gives a key
twice (CreateTable, TagResource) has two readings: `aws:RequestTag/<key>` took the last value, while the
backend stores every pair, so a policy allowing only `env=dev` let a table be tagged `env=prod` too. Such a
request is refused with DynamoDB's ValidationException (the wording is lambdaperm's; AWS's is not documented).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_OPERATIONS = frozenset({"CreateTable", "TagResource"})


def check_tag_keys(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Raises ValidationException for a DynamoDB tag key given twice in one request."""
    if service != "dynamodb" or operation not in _OPERATIONS:
        return
    seen: set[str] = set()
    for tag in params.get("Tags") or []:
        key = tag.get("Key") if isinstance(tag, Mapping) else None
        if not isinstance(key, str):
            continue
        if key in seen:
            raise ServiceError("ValidationException", f"The tag key '{key}' is given more than once.", 400)
        seen.add(key)
