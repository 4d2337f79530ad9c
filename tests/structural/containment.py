"""The containment rules: when is a resource the backend touched covered by what the call authorized.

A request was authorized on a set of resource ARNs (`Call.resources`: every resource of every action the
call needed, "*" left out) in one account (the acting account) and one region (the signed credential
scope's); `wildcard` says that one of its actions was authorized on "*" (an action without resource-level
permissions: ListTables, DescribeVpcs …). A touch (see `touches.py`) is covered when one of these holds,
and by nothing else:

1. **Exact**: its ARN is an authorized ARN (any mode).
2. **Container read**: it *reads* a container of an authorized resource — a bucket of an authorized object
   (`arn:aws:s3:::b` ⊂ `arn:aws:s3:::b/k`), a table of an authorized index or stream
   (`table/T` ⊂ `table/T/index/I`), a log group of an authorized stream (`log-group:G` ⊂
   `log-group:G:log-stream:S`). Reaching an object means looking its container up; changing the
   container is not covered.
3. **Collection**: it lists (`list`) the service's collection in the call's own account and region (any
   region for S3, whose ListBuckets spans them). Which collection is listed is decided by the scope only.
4. **Wildcard read**: the call had an action authorized on "*", and the touch reads a resource in the
   call's own account and region.
5. **Creation**: it creates a resource whose id the backend generated (EC2), of a type authorized with a
   `*` id in the call's scope (`vpc/*` for CreateVpc); or the backend created it while making such a
   resource (a new VPC's default security group, main route table and network ACL, which AWS creates with
   the VPC under ec2:CreateVpc alone). Any later touch of a resource so created is covered.
6. **Log group read**: a CloudWatch Logs call *reads* a log stream of a log group it was authorized on
   (`log-group:G` ⊃ `log-group:G:log-stream:S`): Logs authorizes its reads (FilterLogEvents, GetLogEvents,
   DescribeLogStreams) on the log group, whose streams they read
   (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html). Writing a
   stream is not covered.
7. **Rule peer**: a security-group rule operation (Authorize/Revoke ingress or egress, the rule
   descriptions, ModifySecurityGroupRules) *reads* a security group of its own account and region named as
   the rule's peer (`UserIdGroupPairs`): AWS authorizes these actions on the rule's group only — the peer is
   a reference the rule carries, not a resource of the action
   (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html). Changing the
   peer, or a peer of another account or region, is not covered.

One more condition, for S3 (whose ARNs name no region): every bucket or object touched must be in the
signed region — the form `aws:RequestedRegion` takes for S3 — except what a CopyObject/UploadPartCopy only
reads (the copy source may be in any region, as on AWS) and the name lookup of CreateBucket.

Normal forms, on both sides: a CloudWatch Logs ARN loses a trailing `:*`, and `log-group:G:log-stream:`
(an empty stream: the form lambdaperm authorizes group actions on) is the group `log-group:G`; an SNS
subscription ARN is its topic's (`moto_map.sns_resource`).

Not checked against the caller: touches the backend makes as a service on its own behalf (`delivery`:
SNS → SQS deliveries, S3 event notifications and server access logs, the endpoint check of an SNS
Subscribe). Those are authorized — or not — against the destination's policy as the service principal;
they are listed with the request for that purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .moto_map import sns_resource
from .touches import CREATE, LIST, READ, Touch

_COPY_OPERATIONS = frozenset({"CopyObject", "UploadPartCopy"})
_RULE_OPERATIONS = frozenset({
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress", "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress", "ModifySecurityGroupRules",
})


def normal(arn: str) -> str:
    if arn.startswith("arn:aws:logs:"):
        if arn.endswith(":*"):
            arn = arn[:-2]
        if arn.endswith(":log-stream:"):
            arn = arn[: -len(":log-stream:")]
    return sns_resource(arn)


@dataclass(frozen=True)
class Scope:
    """What a request was authorized for."""

    service: str
    operation: str
    account: str
    region: str
    authorized: frozenset[str]
    wildcard: bool

    @staticmethod
    def of(entry: dict[str, Any]) -> Scope:
        return Scope(
            entry["service"],
            entry["operation"],
            entry["account"],
            entry["region"],
            frozenset(normal(a) for a in entry["authorized"]),
            bool(entry.get("wildcard")),
        )


def _contains(container: str, arn: str) -> bool:
    if arn.startswith("arn:aws:logs:"):
        return arn.startswith(container + ":log-stream:")
    return arn.startswith(container + "/")


def _in_scope(touch: Touch, scope: Scope) -> bool:
    return touch.account == scope.account and (touch.region == scope.region or touch.arn.startswith("arn:aws:s3:"))


def _created_type(touch: Touch, authorized: Iterable[str]) -> bool:
    if "/" not in touch.arn:
        return False
    prefix = touch.arn.rsplit("/", 1)[0]
    return f"{prefix}/*" in authorized


def covered(touch: Touch, scope: Scope, created: frozenset[str]) -> str | None:
    """The rule that covers `touch`, or None."""
    arn = normal(touch.arn)
    if arn in scope.authorized:
        return "exact"
    if touch.mode == READ and any(_contains(arn, a) for a in scope.authorized):
        return "container read"
    if touch.mode == LIST and _in_scope(touch, scope):
        return "collection"
    if touch.mode == READ and scope.wildcard and _in_scope(touch, scope):
        return "wildcard read"
    if arn in created:
        return "creation"
    in_group = any(arn.startswith(f"{a}:log-stream:") for a in scope.authorized)
    if touch.mode == READ and scope.service == "logs" and in_group:
        return "log group read"
    if touch.mode == READ and scope.operation in _RULE_OPERATIONS and ":security-group/" in arn and _in_scope(
        touch, scope
    ):
        return "rule peer"
    return None


def creations(touches: list[Touch], scope: Scope) -> frozenset[str]:
    """ARNs of resources the request created under rule 5."""
    roots = {
        t.call
        for t in touches
        if t.mode == CREATE
        and t.depth == 0
        and t.delivery is None
        and (normal(t.arn) in scope.authorized or _created_type(t, scope.authorized))
    }
    return frozenset(normal(t.arn) for t in touches if t.mode == CREATE and t.delivery is None and t.call in roots)


def _s3_region_ok(touch: Touch, scope: Scope) -> bool:
    if not touch.arn.startswith("arn:aws:s3:") or touch.mode == LIST or not touch.region:
        return True
    if touch.mode == READ and scope.operation in _COPY_OPERATIONS | {"CreateBucket"}:
        return True
    if scope.operation == "CreateBucket" and scope.region == "us-east-1":
        return True  # us-east-1 creates a bucket in the region its LocationConstraint names (S3 CreateBucket)
    return touch.region == scope.region


@dataclass(frozen=True)
class Violation:
    request: str
    scope: Scope
    touch: Touch | None  # None: an error of the oracle itself (a call it could not map)
    reason: str

    def __str__(self) -> str:
        where = (
            f"request {self.request} {self.scope.service}:{self.scope.operation} in {self.scope.account}/"
            f"{self.scope.region}, authorized {sorted(self.scope.authorized)}"
            f"{' and *' if self.scope.wildcard else ''}"
        )
        if self.touch is None:
            return f"{where}: {self.reason}"
        t = self.touch
        return f"{where}: {self.reason}: {t.mode} {t.arn} (account {t.account}, region {t.region or '-'}) by {t.via}"


def violations(entry: dict[str, Any]) -> list[Violation]:
    """Every touch of one recorded request that no rule covers, and every error the oracle recorded."""
    scope = Scope.of(entry)
    touches = [Touch.from_json(t) for t in entry.get("touches", ())]
    caller = [t for t in touches if t.delivery is None]
    created = creations(caller, scope)
    found: list[Violation] = []
    for touch in caller:
        if covered(touch, scope, created) is None:
            found.append(Violation(entry["request"], scope, touch, "acted on a resource it was not authorized for"))
        elif not _s3_region_ok(touch, scope):
            found.append(Violation(entry["request"], scope, touch, "acted on a bucket of another region"))
    found += [Violation(entry["request"], scope, None, error) for error in entry.get("errors", ())]
    return found
