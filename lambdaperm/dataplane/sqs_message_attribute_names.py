"""SQS message attribute names follow the developer guide's rules, not only its characters.

"Name – The message attribute name can contain the following characters: A-Z, a-z, 0-9, underscore (_), hyphen (-),
and period (.). The following restrictions apply: Can be up to 256 characters long; Can't start with AWS. or Amazon.
(or any casing variations); Is case-sensitive; Must be unique among all attribute names for the message; Must not
start or end with a period; Can't have periods in a sequence."
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html)

The embedded backend checks the characters only (InvalidParameterValue), so `AWS.x` — a name a consumer reads as
AWS's own metadata — `.x`, `a..b` and 257-character names were queued (review round 25). SendMessage and
SendMessageBatch are refused here with the same code before the backend sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

MAX_LENGTH = 256
_RESERVED = ("aws.", "amazon.")


def problem(name: str) -> str | None:
    """What is wrong with a message attribute name beyond its characters, or None."""
    if len(name) > MAX_LENGTH:
        return f"is longer than {MAX_LENGTH} characters"
    if name.lower().startswith(_RESERVED):
        return "starts with a prefix reserved for AWS (AWS. or Amazon., in any casing)"
    if name.startswith(".") or name.endswith("."):
        return "starts or ends with a period"
    if ".." in name:
        return "has periods in a sequence"
    return None


def _holders(operation: str, params: Mapping[str, Any]) -> list[object]:
    if operation == "SendMessage":
        return [params]
    if operation == "SendMessageBatch":
        entries = params.get("Entries")
        return list(entries) if isinstance(entries, list) else []
    return []


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """InvalidParameterValue for a SendMessage / SendMessageBatch message attribute name SQS does not take."""
    if service != "sqs":
        return
    for holder in _holders(operation, params):
        attributes = holder.get("MessageAttributes") if isinstance(holder, Mapping) else None
        if not isinstance(attributes, Mapping):
            continue
        for name in attributes:
            wrong = problem(name) if isinstance(name, str) else None
            if wrong is not None:
                raise ServiceError("InvalidParameterValue", f"The message attribute name '{name}' {wrong}.", 400)
