"""An SNS message published with `MessageStructure=json` is a JSON object with a string `default`.

"If you set MessageStructure to json, the value of the Message parameter must: be a syntactically valid JSON object;
and contain at least a top-level JSON key of "default" with a value that is a string."
(https://docs.aws.amazon.com/sns/latest/api/API_Publish.html; PublishBatchRequestEntry alike,
https://docs.aws.amazon.com/sns/latest/api/API_PublishBatchRequestEntry.html). SNS refuses the Publish with 400
InvalidParameter. The embedded backend (moto 5.2.1) accepts any Message and parses it only when it delivers, per
subscription, so a Publish AWS refuses was acknowledged with a MessageId (review round 24). Checked before the
backend sees the call, in both modes (gateway/data_plane.py): a Publish is refused; a PublishBatch entry is refused
as a whole request too (the batch's entries are validated before any is published).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def _refused(message: str) -> ServiceError:
    return ServiceError("InvalidParameter", f"Invalid parameter: Message Structure - {message}", 400)


def _check_message(message: Any) -> None:
    if not isinstance(message, str):
        return  # a missing Message is the required-member check's
    try:
        document = json.loads(message)
    except ValueError:
        raise _refused("JSON message body failed to parse") from None
    if not isinstance(document, dict):
        raise _refused("JSON message body failed to parse")
    if not isinstance(document.get("default"), str):
        raise _refused("No default entry in JSON message body")


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """InvalidParameter for a `MessageStructure=json` message that is no JSON object with a string `default`."""
    if service != "sns":
        return
    if operation == "Publish" and params.get("MessageStructure") == "json":
        _check_message(params.get("Message"))
    if operation == "PublishBatch":
        entries = params.get("PublishBatchRequestEntries")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and entry.get("MessageStructure") == "json":
                _check_message(entry.get("Message"))
