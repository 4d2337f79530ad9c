"""FilterLogEvents' `logStreamNamePrefix` is not served: the embedded backend ignores it.

FilterLogEvents "logStreamNamePrefix: Filters the results to include only events from log streams that have names
starting with this prefix." (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html).
The embedded backend (moto 5.2.1) reads `logStreamNames` only and answered the events of every stream of the group
(review round 24): no wrong allow — FilterLogEvents is authorized on the log group — but a filter asked for and not
applied. Until the prefix is performed, the call is 501 NotImplemented naming it (fail closed), after authorization
and before the backend sees it; the prefix with `logStreamNames` is the caller's error (exclusive_members).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """501 NotImplemented for a FilterLogEvents with a logStreamNamePrefix."""
    if (service, operation) != ("logs", "FilterLogEvents") or params.get("logStreamNamePrefix") is None:
        return
    raise ServiceError(
        "NotImplemented",
        "lambdaperm does not serve FilterLogEvents with logStreamNamePrefix: the embedded backend would answer the "
        "events of every stream of the group; name the streams with logStreamNames",
        501,
        sender_fault=False,
    )
