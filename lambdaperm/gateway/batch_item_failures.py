"""Which messages of an SQS batch Lambda deletes after the function returned: partial batch responses.

With `ReportBatchItemFailures` in an event source mapping's `FunctionResponseTypes`, the function answers
`{"batchItemFailures": [{"itemIdentifier": "<messageId>"}, ...]}` and Lambda deletes only the messages it did not
report; the reported ones become visible again after the visibility timeout
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html, "Implementing partial batch
responses"). The documented conditions:

- a complete success (every message deleted): an empty or null `batchItemFailures` list, an empty or null response;
- a complete failure (no message deleted): a response that is not valid JSON, an empty or null `itemIdentifier`, an
  item with a wrong key name, an `itemIdentifier` that is no message ID of the batch.

A response that is JSON but not an object cannot be read as the response either and is a complete failure here
(fail closed: no delete). Without `ReportBatchItemFailures` the response is not read and a batch the function did
not fail is deleted whole. lambdaperm stored the setting and ignored it, deleting with the role's
`sqs:DeleteMessage` the messages the function reported failed (implicit accesses review round 8).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

REPORT = "ReportBatchItemFailures"


def to_delete(
    messages: Sequence[dict[str, Any]], payload: bytes, response_types: Sequence[str]
) -> list[dict[str, Any]]:
    """The messages of a batch the function did not fail, to be deleted (see the module docstring)."""
    if REPORT not in response_types:
        return list(messages)
    failed = _failed_ids(payload, {str(m["messageId"]) for m in messages})
    if failed is None:
        return []
    return [m for m in messages if str(m["messageId"]) not in failed]


def _failed_ids(payload: bytes, batch: set[str]) -> set[str] | None:
    """The reported message IDs, or None for a complete failure."""
    if not payload.strip():
        return set()  # an empty response
    try:
        response = json.loads(payload)
    except ValueError:
        return None
    if response is None:
        return set()
    if not isinstance(response, dict):
        return None
    items = response.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    failed: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or set(item) != {"itemIdentifier"}:
            return None
        identifier = item["itemIdentifier"]
        if not isinstance(identifier, str) or not identifier or identifier not in batch:
            return None
        failed.add(identifier)
    return failed
