"""CloudWatch Logs `logGroupIdentifier`, as Logs reads it: the log group it names, by name or ARN.

DescribeLogStreams, GetLogEvents, FilterLogEvents and GetLogGroupFields take the log group as `logGroupName`
or as `logGroupIdentifier` ("the name or ARN of the log group"; "you must include either logGroupIdentifier or
logGroupName, but not both" — https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html,
API_DescribeLogStreams.html). The embedded backend's lookup by identifier ends on the last log group it
iterates whatever the identifier (review round 4: GetLogEvents on an allowed group returned another group's
events). The backend therefore gets the log group lambdaperm authorized as `logGroupName`: the identifier's
name, or the name in its ARN when that ARN names the acting account and the signed region (the catalog
authorized it there). Both parameters at once are InvalidParameterException, as AWS answers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

# The operations whose input has both members (botocore's logs model)
OPERATIONS = frozenset({"DescribeLogStreams", "GetLogEvents", "FilterLogEvents", "GetLogGroupFields"})

_GROUP_ARN = re.compile(
    r"^arn:aws:logs:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):log-group:(?P<name>[^:]+)(?::\*)?$", re.ASCII
)


def by_name(operation: str, params: Mapping[str, Any], account: str, region: str) -> dict[str, Any]:
    """`params` with a `logGroupIdentifier` replaced by the `logGroupName` it names."""
    fixed = dict(params)
    if operation not in OPERATIONS or "logGroupIdentifier" not in fixed:
        return fixed
    identifier = fixed.pop("logGroupIdentifier")
    if "logGroupName" in fixed:
        raise ServiceError(
            "InvalidParameterException",
            "You must include either logGroupIdentifier or logGroupName, but not both.",
            400,
        )
    if not isinstance(identifier, str) or not identifier:
        raise ServiceError("InvalidParameterException", "Invalid logGroupIdentifier.", 400)
    if identifier.startswith("arn:"):
        m = _GROUP_ARN.fullmatch(identifier)
        if m is None or m.group("account") != account or m.group("region") != region:
            raise ServiceError("ResourceNotFoundException", "The specified log group does not exist.", 400)
        identifier = m.group("name")
    fixed["logGroupName"] = identifier
    return fixed
