"""The SQS event source mapping a poll acts on: the mapping as it is when the poll begins, not as the poller's
pass read it.

AWS: "If you disable the event source mapping, Lambda stops polling"; a deleted mapping stops processing; a mapping
updated to another function invokes that function
(https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html,
https://docs.aws.amazon.com/lambda/latest/api/API_DeleteEventSourceMapping.html). The poller reads every mapping at
the start of a pass and polls them one after the other; a pass may take as long as the functions it runs, so the
record read then is stale by the time a later mapping's turn comes. A poll of a mapping disabled, deleted or moved to
another function before the poll began — the change acknowledged, the mapping reported Disabled, gone or feeding the
other function — received and ran a batch under the old mapping (races review round 13). So a poll starts from the
mapping as it is now. A poll already begun when the change is acknowledged may still run its batch (AWS reports such
a mapping Disabling, Deleting or Updating until its pollers are done).
"""

from __future__ import annotations

from typing import Any

from lambdaperm.services.lambda_.mappings import MAPPING
from lambdaperm.state.records import Records


def current(records: Records, mapping: dict[str, Any]) -> dict[str, Any] | None:
    """The mapping with `mapping`'s UUID as it is now, or None when it is gone or not Enabled."""
    now = records.get(MAPPING, "", str(mapping["UUID"]))
    if now is None or now.get("State") != "Enabled":
        return None
    return now
