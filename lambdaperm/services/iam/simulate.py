"""SimulatePrincipalPolicy and SimulateCustomPolicy, answered by the same engine that authorizes
every call (spec §4.4; https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html)."""

from __future__ import annotations

from typing import Any

from lambdaperm.policy import (
    AuthzRequest,
    Caller,
    MatchedStatement,
    Policy,
    PolicyError,
    PolicySet,
    PolicyType,
    decide,
    parse_caller,
    parse_policy,
    principal_context,
)
from lambdaperm.policy.principals import PrincipalKind
from lambdaperm.protocol.errors import ServiceError

from ..context import Output, Params, RequestContext
from . import store
from .principals import _entity_docs, managed_document


def _parse(doc: str, ptype: PolicyType, name: str) -> Policy:
    try:
        return parse_policy(doc, ptype, name=name, max_size=10**6)
    except PolicyError as err:
        raise ServiceError("MalformedPolicyDocument", err.message, 400) from None


def _source_type(name: str) -> tuple[str, str]:
    """(SourcePolicyId, SourcePolicyType) for a policy name given when parsing."""
    if name.startswith("arn:aws:iam::aws:policy"):
        return name.rsplit("/", 1)[-1], "aws-managed"
    if name.startswith("arn:aws:iam::"):
        return name.rsplit("/", 1)[-1], "user-managed"
    if name.startswith("PolicyInputList") or name.startswith("ResourcePolicy") or name.startswith("Permissions"):
        return name, "IAM Policy" if name.startswith("PolicyInputList") else "resource"
    kind, _, rest = name.partition(" ")
    return rest.rsplit(" ", 1)[-1], kind


def _matched(m: MatchedStatement) -> dict[str, Any]:
    policy_id, policy_type = _source_type(m.policy_name)
    if m.policy_type == "resource":
        policy_type = "resource"
    out: dict[str, Any] = {"SourcePolicyId": policy_id, "SourcePolicyType": policy_type}
    if m.span:
        out["StartPosition"] = {"Line": m.span[0], "Column": m.span[1]}
        out["EndPosition"] = {"Line": m.span[2], "Column": m.span[3]}
    return out


def _context(entries: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for entry in entries or []:
        values = tuple(str(v) for v in entry.get("ContextKeyValues", []))
        out[str(entry.get("ContextKeyName", "")).lower()] = values
    return out


def _evaluate(ctx: RequestContext, p: Params, caller: Caller, identity: list[Policy],
              boundary: Policy | None) -> Output:
    actions = p.get("ActionNames") or []
    resources = p.get("ResourceArns") or ["*"]
    resource_policy = None
    if p.get("ResourcePolicy"):
        resource_policy = _parse(p["ResourcePolicy"], PolicyType.RESOURCE, "ResourcePolicy")
    boundaries = p.get("PermissionsBoundaryPolicyInputList") or []
    if boundaries:
        boundary = _parse(boundaries[0], PolicyType.BOUNDARY, "PermissionsBoundaryPolicyInputList.1")
    policies = PolicySet(identity=tuple(identity), resource=resource_policy, boundary=boundary)
    extra = _context(p.get("ContextEntries", []))
    results = []
    for action in actions:
        for resource in resources:
            context = principal_context(caller)
            if not caller.name:  # a group's simulation: no user, no aws:username
                context.pop("aws:username", None)
            context.update(extra)
            owner = p.get("ResourceOwner", "")
            owner_account = owner.split(":")[4] if owner.startswith("arn:") and owner.count(":") >= 5 else ""
            decision = decide(policies, AuthzRequest(caller, action, resource, context, owner_account))
            matched = [_matched(m) for m in decision.matched_statements]
            result: dict[str, Any] = {
                "EvalActionName": action, "EvalResourceName": resource,
                "EvalDecision": decision.outcome.value, "MatchedStatements": matched,
                "MissingContextValues": list(decision.missing_context_values),
                "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
            }
            if boundary is not None:
                result["PermissionsBoundaryDecisionDetail"] = {
                    "AllowedByPermissionsBoundary": decision.decided_by != "permissionsBoundary"}
            if resource != "*":
                result["EvalDecisionDetails"] = {}
                result["ResourceSpecificResults"] = [{
                    "EvalResourceName": resource, "EvalResourceDecision": decision.outcome.value,
                    "MatchedStatements": matched, "MissingContextValues": list(decision.missing_context_values),
                }]
            results.append(result)
    page = store.paginate(results, p, "EvaluationResults")
    return page


_SOURCE_KINDS = {"user": store.USER, "group": store.GROUP, "role": store.ROLE}


def _source_kind(source: str) -> str | None:
    """The entity kind PolicySourceArn names, read from its resource's type — `arn:aws:iam::A:role/x:user/alice`
    is role `alice` under path `/x:user/`, as the decision reads it, never user alice (review round 10: the
    substring `:user/` was looked for first). None when the ARN names no user, group or role (InvalidInput).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns"""
    parts = source.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or "/" not in parts[5]:
        return None
    return _SOURCE_KINDS.get(parts[5].split("/", 1)[0])


def simulate_principal_policy(ctx: RequestContext, p: Params) -> Output:
    source = p["PolicySourceArn"]
    docs: list[tuple[str, str]] = []
    boundary: Policy | None = None
    kind = _source_kind(source)
    if kind is None:
        raise ServiceError("InvalidInput", f"Invalid ARN: {source}", 400)
    name = source.rsplit("/", 1)[-1]
    entity = store.get(ctx.records, kind, source.split(":")[4], name)
    docs += _entity_docs(ctx.records, entity, f"{store.KIND_NAMES[kind]} {name}")
    if kind == store.USER:
        for group in entity.get("Groups", []):
            g = store.find(ctx.records, store.GROUP, ctx.account, group)
            if g:
                docs += _entity_docs(ctx.records, g, f"group {g['GroupName']}")
    if entity.get("PermissionsBoundary"):
        text = managed_document(ctx.records, entity["PermissionsBoundary"])
        if text:
            boundary = _parse(text, PolicyType.BOUNDARY, entity["PermissionsBoundary"])
    identity = [_parse(d, PolicyType.IDENTITY, n) for n, d in docs]
    identity += [_parse(d, PolicyType.IDENTITY, f"PolicyInputList.{i + 1}")
                 for i, d in enumerate(p.get("PolicyInputList") or [])]
    return _evaluate(ctx, p, _simulated_caller(p.get("CallerArn"), source, kind), identity, boundary)


def _simulated_caller(given: str | None, source: str, kind: str) -> Caller:
    """The caller SimulatePrincipalPolicy simulates: CallerArn, which must be an IAM user ("You can specify only
    the ARN of an IAM user"; InvalidInput otherwise, the root included); without it, the source's own user or
    role; a group's simulation has no caller and is decided on the group's policies alone (a user of the account
    without a name). The kind is read from the ARN's resource type, never by substring (region/account review
    round 11: `:group/` anywhere — a user under the path `/x:group/`, a group — simulated the account root, which
    is allowed everything). https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html"""
    if given:
        caller = parse_caller(given)
        if caller is None or caller.kind is not PrincipalKind.USER:
            raise ServiceError("InvalidInput", f"Invalid CallerArn: {given} is not the ARN of an IAM user.", 400)
        return caller
    if kind == store.GROUP:
        return Caller(source, PrincipalKind.USER, source.split(":", 5)[4])
    caller = parse_caller(source)
    if caller is None:
        raise ServiceError("InvalidInput", f"Invalid ARN: {source}", 400)
    return caller


def simulate_custom_policy(ctx: RequestContext, p: Params) -> Output:
    identity = [_parse(d, PolicyType.IDENTITY, f"PolicyInputList.{i + 1}")
                for i, d in enumerate(p.get("PolicyInputList") or [])]
    caller_arn = p.get("CallerArn") or f"arn:aws:iam::{ctx.account}:user/SimulatedUser"
    caller = parse_caller(caller_arn)
    if caller is None or caller.kind is not PrincipalKind.USER:
        raise ServiceError("InvalidInput", "CallerArn must be the ARN of an IAM user.", 400)
    return _evaluate(ctx, p, caller, identity, None)
