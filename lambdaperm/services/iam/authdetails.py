"""GetAccountAuthorizationDetails: every user, group, role and managed policy of the account with
their policies, in one paginated answer (Filter: User, Role, Group, LocalManagedPolicy, AWSManagedPolicy)."""

from __future__ import annotations

from typing import Any

from ..context import Output, Params, RequestContext
from . import store
from .documents import encoded
from .managed import attached_out, find_policy, policy_out
from .roles import role_out
from .tags import boundary_out
from .users import group_out, user_out


def _inline(entity: dict[str, Any]) -> list[dict[str, str]]:
    return [{"PolicyName": n, "PolicyDocument": encoded(d)} for n, d in entity.get("InlinePolicies", {}).items()]


def _with_boundary_and_tags(out: dict[str, Any], entity: dict[str, Any]) -> dict[str, Any]:
    if (boundary := boundary_out(entity)) is not None:
        out["PermissionsBoundary"] = boundary
    if entity.get("Tags"):
        out["Tags"] = store.tags_out(entity)
    return out


def get_account_authorization_details(ctx: RequestContext, p: Params) -> Output:
    filters = set(p.get("Filter") or ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])
    items: list[tuple[str, dict[str, Any]]] = []
    if "User" in filters:
        for u in ctx.records.list(store.USER, ctx.account):
            out = user_out(u) | {"UserPolicyList": _inline(u), "GroupList": list(u.get("Groups", [])),
                                 "AttachedManagedPolicies": attached_out(ctx, u.get("AttachedPolicies", []))}
            items.append(("UserDetailList", _with_boundary_and_tags(out, u)))
    if "Group" in filters:
        for g in ctx.records.list(store.GROUP, ctx.account):
            out = group_out(g) | {"GroupPolicyList": _inline(g),
                                  "AttachedManagedPolicies": attached_out(ctx, g.get("AttachedPolicies", []))}
            items.append(("GroupDetailList", out))
    if "Role" in filters:
        for r in ctx.records.list(store.ROLE, ctx.account):
            out = role_out(r) | {"RolePolicyList": _inline(r), "InstanceProfileList": [],
                                 "AttachedManagedPolicies": attached_out(ctx, r.get("AttachedPolicies", []))}
            items.append(("RoleDetailList", out))
    policies: list[dict[str, Any]] = []
    if "LocalManagedPolicy" in filters:
        policies += ctx.records.list(store.POLICY, ctx.account)
    if "AWSManagedPolicy" in filters:
        attached = {a for kind in (store.USER, store.GROUP, store.ROLE)
                    for e in ctx.records.list(kind, ctx.account) for a in e.get("AttachedPolicies", [])
                    if a.startswith("arn:aws:iam::aws:")}
        policies += [e for a in sorted(attached) if (e := find_policy(ctx, a)) is not None]
    for pol in policies:
        out = policy_out(ctx, pol) | {"PolicyVersionList": [
            {"Document": encoded(str(v["Document"])), "VersionId": v["VersionId"], "CreateDate": v["CreateDate"],
             "IsDefaultVersion": v["VersionId"] == pol["DefaultVersionId"]} for v in pol["Versions"]]}
        items.append(("Policies", out))
    page = store.paginate(items, p, "_items")
    result: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    for key, value in page.pop("_items"):
        result[key].append(value)
    result.update(page)
    return result
