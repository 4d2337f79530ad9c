"""GetLogEvents with a log group ARN as `logGroupIdentifier`: decided on the stream of the group the ARN names.

GetLogEvents takes the group as `logGroupName` or `logGroupIdentifier` ("the name or ARN of the log group":
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html) and logs:GetLogEvents is
authorized on the log stream (`log-stream`,
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html). An ARN
identifier resolved to the group's ARN, not a stream's, so the call was denied as unmapped even for the group's
owner (review round 8 noted it, round 9 fixed it). When the ARN names the acting account and the signed region
— the only group `logs_groups.by_name` lets the backend read — the decision gets the group's name, and the stream
`arn:aws:logs:R:A:log-group:G:log-stream:S` is decided on, exactly as for the name. Any other ARN is left as it
is (still denied: fail closed).
"""

from __future__ import annotations

import re
from typing import Any

_GROUP_ARN = re.compile(
    r"^arn:aws:logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+)(?::\*)?$", re.ASCII
)


def for_decision(operation: str, params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """`params` of a GetLogEvents naming its own group by ARN, with the group's name instead; others unchanged."""
    identifier = params.get("logGroupIdentifier")
    if operation != "GetLogEvents" or not isinstance(identifier, str) or "logGroupName" in params:
        return params
    m = _GROUP_ARN.fullmatch(identifier)
    if m is None or m.group("account") != account or m.group("region") != region:
        return params
    return {**params, "logGroupIdentifier": m.group("name")}
