"""Members a service documents as mutually exclusive are refused together, as the service refuses them.

Where AWS documents two request members as alternatives ("mutually exclusive", "you can't also specify", "if you
specify a value for both ..., the action returns an InvalidParameterException error"), a call giving both is the
caller's error: nothing runs. The embedded backend (moto 5.2.1) checks some of these pairs and, for the others, ran
the call reading one member and ignoring the other (review round 24). The table below is the documented pairs of
the served operations; each is refused before the backend sees the call, in both modes (gateway/data_plane.py).

- CloudWatch Logs DescribeLogGroups: "logGroupNamePrefix and logGroupNamePattern are mutually exclusive. Only one of
  these parameters can be passed." (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html)
- CloudWatch Logs FilterLogEvents: "If you specify a value for both logStreamNamePrefix and logStreamNames, the
  action returns an InvalidParameterException error."
  (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html)
- CloudWatch Logs logGroupName / logGroupIdentifier (GetLogEvents, FilterLogEvents, DescribeLogStreams): "You must
  include either logGroupIdentifier or logGroupName, but not both." (the backend refuses these already; listed so
  the table is the whole documented shape).

Pairs the backend or an earlier check refuses otherwise (EC2 GroupId / GroupName, gateway's `check_groups`; SNS
TopicArn / TargetArn / PhoneNumber; DynamoDB legacy and expression parameters, `dynamodb_parameter_families`) are
not repeated here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaperm.protocol.errors import ServiceError


@dataclass(frozen=True)
class Exclusive:
    """Two members of one operation's input that AWS refuses together, and its answer."""

    service: str
    operation: str
    members: tuple[str, str]
    code: str
    message: str


_LOGS_GROUP = "You must include either logGroupIdentifier or logGroupName, but not both."

EXCLUSIVE: tuple[Exclusive, ...] = (
    Exclusive(
        "logs",
        "DescribeLogGroups",
        ("logGroupNamePrefix", "logGroupNamePattern"),
        "InvalidParameterException",
        "logGroupNamePrefix and logGroupNamePattern are mutually exclusive. "
        "Only one of these parameters can be passed.",
    ),
    Exclusive(
        "logs",
        "FilterLogEvents",
        ("logStreamNames", "logStreamNamePrefix"),
        "InvalidParameterException",
        "You cannot specify both logStreamNames and logStreamNamePrefix.",
    ),
    Exclusive("logs", "GetLogEvents", ("logGroupName", "logGroupIdentifier"), "InvalidParameterException", _LOGS_GROUP),
    Exclusive(
        "logs", "FilterLogEvents", ("logGroupName", "logGroupIdentifier"), "InvalidParameterException", _LOGS_GROUP
    ),
    Exclusive(
        "logs", "DescribeLogStreams", ("logGroupName", "logGroupIdentifier"), "InvalidParameterException", _LOGS_GROUP
    ),
)


def _given(value: Any) -> bool:
    return value is not None


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """The service's error when two members it documents as mutually exclusive are both given."""
    for rule in EXCLUSIVE:
        if (rule.service, rule.operation) != (service, operation):
            continue
        if all(_given(params.get(member)) for member in rule.members):
            raise ServiceError(rule.code, rule.message, 400)
