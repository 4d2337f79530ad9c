"""Every CloudWatch Logs log group a call names is held from the call's authorization to its execution.

A log group's name is reused (DeleteLogGroup, then CreateLogGroup: a new group with its own tags and events, at the
same ARN). A call decided on the old group's `aws:ResourceTag`
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html) must not act on
the new one: a deleted group's events and tags go with it
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html). Without a hold, a
FilterLogEvents decided on `race6-logs`'s dev tags answered the secret event of the prod group created since under
its name — by `logGroupName` and by `logGroupIdentifier` ARN alike (races review round 6).

So a Logs call holds every log group it names: `logGroupName`, `logGroupIdentifier` (a name or an ARN), the lists
`logGroupNames`, `logGroupIdentifiers`, `logGroupArnList`, and each log-group ARN at a top-level `...Arn`
parameter (`resourceArn`, `filterLogGroupArn`). The calls that create or delete a group, or change what a decision
reads of it (its tags, its resource policy), hold it exclusively, every other call shared; one call's groups in
ascending stripe order (`ordered_locks`), on stripes of their own. After the decision, `HeldLogGroups.check`
refuses (501) a call authorized on a log group it does not hold, before anything executes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lambdaperm.protocol import ServiceError

from .ordered_locks import StripedLocks

_LOCKS = StripedLocks(64)
_NAMES = ("logGroupName", "logGroupIdentifier")
_LISTS = ("logGroupNames", "logGroupIdentifiers", "logGroupArnList")
_EXCLUSIVE = frozenset(
    {
        "CreateLogGroup",
        "DeleteLogGroup",
        "TagLogGroup",
        "UntagLogGroup",
        "TagResource",
        "UntagResource",
        "PutResourcePolicy",
        "DeleteResourcePolicy",
    }
)


def group_of_arn(value: str) -> str | None:
    """The log group a Logs ARN names (`arn:aws:logs:<region>:<account>:log-group:<name>[:*|:log-stream:...]`),
    None for any other ARN."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "logs" or not parts[5].startswith("log-group:"):
        return None
    return parts[5].removeprefix("log-group:").split(":", 1)[0]


def _name(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return group_of_arn(value) if value.startswith("arn:") else value


def groups(params: Mapping[str, Any] | None) -> set[str]:
    """The name of every log group a Logs call names (see the module)."""
    if params is None:
        return set()
    found: set[str | None] = {_name(params.get(key)) for key in _NAMES}
    for key in _LISTS:
        values = params.get(key)
        found.update(_name(value) for value in (values if isinstance(values, list) else []))
    for key, value in params.items():
        if key.lower().endswith("arn") and isinstance(value, str):
            found.add(group_of_arn(value))
    return {name for name in found if name}


class HeldLogGroups:
    """The log groups one call holds."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def check(self, resources: list[str]) -> None:
        """501 NotImplemented when the call was authorized on a log group it does not hold (its decision may have
        read that group's tags): it is not executed. A pattern (`log-group:*`) or no name (`log-group:` of a listing)
        names no one group."""
        for resource in resources:
            group = group_of_arn(resource)
            if group and "*" not in group and group not in self.names:
                raise ServiceError(
                    "NotImplemented",
                    f"lambdaperm does not hold the log group {resource} this call was authorized on until the call "
                    "executes, so it cannot execute it as authorized",
                    501,
                    sender_fault=False,
                )


@contextmanager
def held(operation: str, params: Mapping[str, Any] | None) -> Iterator[HeldLogGroups]:
    """Hold every log group a Logs call names (exclusively for the calls that create, delete or re-tag one) while
    it is authorized and executed."""
    names = groups(params)
    with _LOCKS.held(names, operation in _EXCLUSIVE):
        yield HeldLogGroups(frozenset(names))
