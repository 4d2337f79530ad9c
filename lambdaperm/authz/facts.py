"""The request context of one (action, resource) decision: the keys whose value lives with the resource, read
at decision time, and the keys lambdaperm cannot supply.

For every key AWS documents for the action on that resource (`lambdaperm.catalog.condition_keys`):

- RESOURCE keys are read from where the resource lives, through the policy source (`FactSource`, each method
  optional): its tags (`aws:ResourceTag/*`, `iam:ResourceTag/*` for IAM users and roles, `ec2:ResourceTag/*`;
  for S3 the bucket's tags count only when the bucket's ABAC status is Enabled,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/buckets-tagging-enable-abac.html), an object's tags
  (`s3:ExistingObjectTag/*`), the owner (`s3:ResourceAccount`), an IAM entity's permissions boundary
  (`iam:PermissionsBoundary`), the partition key of a DynamoDB table or index (`dynamodb:LeadingKeys`,
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html), the VPC of
  a function's subnets (`lambda:VpcIds`), the function of an event source mapping named by UUID
  (`lambda:FunctionArn`). They are read only when a policy of the decision tests them (a
  read costs a lookup in the backend); a source that cannot tell (`None`) makes the key UNSUPPLIED.
- TRANSPORT keys (S3's signature keys) come from the gateway's reading of the HTTP request; a decision made
  without one (a call lambdaperm makes on its own) leaves them UNSUPPLIED.
- UNSUPPLIED keys, and those the catalog marked for this request, are handed to the engine as such: a
  condition on them is undecidable (an Allow does not apply, a Deny does), never absent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from lambdaperm.catalog import condition_keys as ck
from lambdaperm.catalog import leading_keys as request_keys

Values = tuple[str, ...]


class FactSource(Protocol):
    """What a policy source may answer about a resource (None: it cannot tell)."""

    def resource_tags(self, resource: str) -> Mapping[str, str] | None: ...

    def object_tags(self, resource: str, version: str | None) -> Mapping[str, str] | None: ...

    def permissions_boundary(self, resource: str) -> Values | None: ...

    def partition_key(self, resource: str) -> str | None: ...

    def subnet_vpc(self, account: str, region: str, subnets: Values) -> str | None: ...

    def mapping_function(self, resource: str) -> Values | None: ...


@dataclass
class Decision:
    """One (action, resource) decision being prepared."""

    action: str
    resource: str
    account: str  # the resource's account, "" when unknown
    context: dict[str, Values]
    unsupplied: set[str]
    source: object
    key_items: Values | None = None
    object_version: Values | None = None  # the version the request names (`condition_keys.OBJECT_VERSION_MARK`)


def _tag_values(d: Decision, family: str, tags: Mapping[str, str]) -> dict[str, Values]:
    """`<family>/<key>` for every tag. Tag keys compare case-insensitively in condition keys; two tags whose
    keys differ only by case (a service that allows it) leave that key unsupplied rather than pick one."""
    prefix = family.removesuffix("*")
    out: dict[str, Values] = {}
    clashes: set[str] = set()
    for key, value in tags.items():
        name = f"{prefix}{key.lower()}"
        if name in out and out[name] != (value,):
            clashes.add(name)
        out[name] = (value,)
    for name in clashes:
        del out[name]
        d.unsupplied.add(name)
    return out


def _call(source: object, method: str, *args: object) -> object:
    fn = getattr(source, method, None)
    return fn(*args) if fn is not None else None


def _tags(d: Decision, family: str) -> dict[str, Values] | None:
    tags = _call(d.source, "resource_tags", d.resource)
    return _tag_values(d, family, tags) if isinstance(tags, Mapping) else None


def _object_tags(d: Decision, family: str) -> dict[str, Values] | None:
    """The tags of the object version the request names (s3:versionid, or the version named to an action that
    does not document s3:versionid: s3:GetObjectTagging of a GetObjectTagging with versionId), else the
    current version's. https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html"""
    version = d.context.get("s3:versionid") or d.object_version
    if version is not None and len(version) != 1:
        return None  # two versions named: no one object
    tags = _call(d.source, "object_tags", d.resource, version[0] if version else None)
    return _tag_values(d, family, tags) if isinstance(tags, Mapping) else None


def _resource_account(d: Decision, key: str) -> dict[str, Values] | None:
    return {key: (d.account,)} if d.account else None


def _boundary(d: Decision, key: str) -> dict[str, Values] | None:
    found = _call(d.source, "permissions_boundary", d.resource)
    if not isinstance(found, tuple):
        return None
    return {key: found} if found else {}


def _leading_keys(d: Decision, key: str) -> dict[str, Values] | None:
    if d.key_items is None:
        return None
    items = request_keys.decode_key_items(d.key_items)
    partition = _call(d.source, "partition_key", d.resource)
    if items is None or not isinstance(partition, str) or not partition:
        return None
    values: list[str] = []
    for item in items:
        if partition not in item:  # an item without its partition key: the request is not readable
            return None
        values.append(item[partition])
    return {key: tuple(dict.fromkeys(values))} if values else {}


def _vpc(d: Decision, key: str) -> dict[str, Values] | None:
    subnets = d.context.get("lambda:subnetids")
    if not subnets:
        # No VpcConfig: the key is absent. Security groups without subnets also name a VPC ("Lambda retrieves the
        # VPC ID value based on the subnet and security group parameters", configuration-vpc.html#vpc-conditions),
        # which is not read here: unsupplied (Lambda refuses that configuration anyway; review round 7).
        return None if d.context.get("lambda:securitygroupids") else {}
    parts = d.resource.split(":")
    region = parts[3] if len(parts) > 4 else ""
    vpc = _call(d.source, "subnet_vpc", d.account, region, subnets)
    return {key: (vpc,)} if isinstance(vpc, str) and vpc else None


def _mapping_function(d: Decision, key: str) -> dict[str, Values] | None:
    found = _call(d.source, "mapping_function", d.resource)
    if not isinstance(found, tuple):
        return None
    return {key: found} if found else {}


Resolver = Callable[[Decision, str], "dict[str, Values] | None"]

# RESOURCE key (normalized) → how it is read. Every RESOURCE key of `condition_keys.RULES` has one (tested).
RESOLVERS: dict[str, Resolver] = {
    "aws:resourcetag/*": _tags,
    "iam:resourcetag/*": _tags,
    "ec2:resourcetag/*": _tags,
    "s3:buckettag/*": _tags,
    "s3:existingobjecttag/*": _object_tags,
    "s3:resourceaccount": _resource_account,
    "iam:permissionsboundary": _boundary,
    "dynamodb:leadingkeys": _leading_keys,
    "lambda:vpcids": _vpc,
    "lambda:functionarn": _mapping_function,
}


def _tested(key: str, referenced: frozenset[str]) -> bool:
    if key.endswith("*"):
        prefix = key[:-1]
        return any(k.startswith(prefix) for k in referenced)
    return key in referenced


def prepare(
    d: Decision,
    referenced: Callable[[], frozenset[str]],
    transport: Mapping[str, Values] | None,
) -> None:
    """Fill `d.context` and `d.unsupplied` for the decision (see the module). `referenced`: the context
    keys the decision's policies test (asked for only when a resource key could be read)."""
    marked = d.context.pop(ck.UNSUPPLIED_MARK, ())
    d.unsupplied.update(marked)
    d.key_items = d.context.pop(ck.KEY_ITEMS_MARK, None)
    d.object_version = d.context.pop(ck.OBJECT_VERSION_MARK, None)
    for key in [k for k in d.context if k.startswith(ck.MARK_PREFIX)]:
        del d.context[key]
    tested: frozenset[str] | None = None
    plan = ck.action_plan(d.action)
    loose = ck.loose_plan(d.action)
    if loose != plan and d.resource != "*":
        # the resource's type decides which of the type-level keys apply: match it when that can matter
        differs = loose[ck.Supply.UNSUPPLIED] != plan[ck.Supply.UNSUPPLIED]
        differs = differs or loose[ck.Supply.TRANSPORT] != plan[ck.Supply.TRANSPORT]
        extra = [k for k in loose[ck.Supply.RESOURCE] if k not in plan[ck.Supply.RESOURCE]]
        if not differs and extra:
            tested = referenced()
            differs = any(_tested(k, tested) for k in extra)
        if differs:
            plan = ck.plan(d.action, d.resource)
    d.unsupplied.update(plan[ck.Supply.UNSUPPLIED])
    for key in plan[ck.Supply.TRANSPORT]:
        if transport is None:
            d.unsupplied.add(key)
        elif key in transport:
            d.context[key] = transport[key]
    for key in plan[ck.Supply.RESOURCE]:
        if tested is None:
            tested = referenced()
        if not _tested(key, tested):
            continue
        resolver = RESOLVERS.get(key)
        found = resolver(d, key) if resolver is not None else None
        if found is None:
            d.unsupplied.add(key)
        else:
            d.context.update(found)
