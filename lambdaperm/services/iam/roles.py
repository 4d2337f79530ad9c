"""IAM roles and their trust policies.

A trust policy is a resource-based policy on the role: Principal required, no Resource, and every IAM
user or role it names must exist (AWS stores them as unique ids): `Invalid principal in policy:
"AWS":"arn:aws:iam::123456789012:role/x"`. Quota: 2,048 characters without white space
(`Cannot exceed quota for ACLSizePerRole: 2048`).
"""

from __future__ import annotations

import json
from typing import Any

from lambdaperm.policy import PolicyType
from lambdaperm.policy.principals import arn_identity
from lambdaperm.state import Records

from ..context import Output, Params, RequestContext
from . import store
from .documents import TRUST_POLICY_QUOTA, encoded, validate
from .errors import already_exists, delete_conflict, malformed, no_such_entity, validation
from .ids import unique_id
from .managed import find_policy
from .tags import boundary_out, tag_dict


def validate_trust(ctx: RequestContext, text: object) -> tuple[str, dict[str, str]]:
    """The document, and the unique id of every user and role it names (all must exist).

    AWS stores those principals as unique ids: a user or role deleted and re-created under the same name
    is a different principal, and the old trust policy no longer names it."""
    doc = validate(text, PolicyType.TRUST, max_size=TRUST_POLICY_QUOTA)
    ids: dict[str, str] = {}
    for value in _aws_principals(json.loads(doc)):
        key = arn_identity(value)
        if key is None or key[0] not in ("user", "role"):
            continue
        kind = store.USER if key[0] == "user" else store.ROLE
        entity = store.find(ctx.records, kind, key[1], key[2])
        if entity is None or not _same_path(str(entity["Arn"]), value):
            raise malformed(f'Invalid principal in policy: "AWS":"{value}"')
        ids[value] = entity["UserId" if kind == store.USER else "RoleId"]
    return doc, ids


def _same_path(entity_arn: str, arn: str) -> bool:
    """The ARN is resolved whole, path included: `user/ops/alice` does not name `/contractors/alice`
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns)."""
    return entity_arn.split(":", 5)[-1].rpartition("/")[0] == arn.split(":", 5)[-1].rpartition("/")[0]


def _aws_principals(doc: dict[str, Any]) -> list[str]:
    out = []
    for stmt in _statements(doc):
        principal = stmt.get("Principal", stmt.get("NotPrincipal"))
        if isinstance(principal, dict):
            values = principal.get("AWS", [])
            out += [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]
    return out


def pinned_trust(records: Records, role: dict[str, Any]) -> str:
    """The trust policy as it applies now: a named user or role that no longer is the entity the policy was
    saved with (deleted, or deleted and re-created) is replaced by the unique id it had, which names nobody."""
    text = str(role["AssumeRolePolicyDocument"])
    ids: dict[str, str] = role.get("TrustPrincipalIds") or {}
    stale = {}
    for arn, saved_id in ids.items():
        key = arn_identity(arn)
        if key is None:
            continue
        kind = store.USER if key[0] == "user" else store.ROLE
        entity = records.get(kind, key[1], key[2].lower())
        if entity is None or entity["UserId" if kind == store.USER else "RoleId"] != saved_id:
            stale[arn] = saved_id
    if not stale:
        return text
    doc = json.loads(text)
    for stmt in _statements(doc):
        for field in ("Principal", "NotPrincipal"):
            principal = stmt.get(field)
            if isinstance(principal, dict) and "AWS" in principal:
                values = principal["AWS"]
                if isinstance(values, list):
                    principal["AWS"] = [stale.get(v, v) for v in values]
                else:
                    principal["AWS"] = stale.get(values, values)
    return json.dumps(doc)


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    raw = doc.get("Statement", [])
    return [s for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict)]


def role_out(entity: dict[str, Any], *, full: bool = True, records: Records | None = None) -> dict[str, Any]:
    out = {k: entity[k] for k in ("Path", "RoleName", "RoleId", "Arn", "CreateDate")}
    trust = pinned_trust(records, entity) if records is not None else entity["AssumeRolePolicyDocument"]
    out["AssumeRolePolicyDocument"] = encoded(trust)
    if entity.get("Description"):
        out["Description"] = entity["Description"]
    out["MaxSessionDuration"] = entity["MaxSessionDuration"]
    if full:
        if (boundary := boundary_out(entity)) is not None:
            out["PermissionsBoundary"] = boundary
        if entity.get("Tags"):
            out["Tags"] = store.tags_out(entity)
        out["RoleLastUsed"] = entity.get("RoleLastUsed") or {}
    return out


def _max_session(value: object) -> int:
    if value is None:
        return 3600
    if not isinstance(value, int) or not 3600 <= value <= 43200:
        raise validation(value, "maxSessionDuration", "Member must have value less than or equal to 43200")
    return value


def create_role(ctx: RequestContext, p: Params) -> Output:
    name = store.check_name(p.get("RoleName"), "roleName")
    path = store.check_path(p.get("Path"))
    trust, trust_ids = validate_trust(ctx, p.get("AssumeRolePolicyDocument"))
    tags = tag_dict(p.get("Tags", []))
    boundary = p.get("PermissionsBoundary")
    with ctx.records.db.transaction():
        if store.find(ctx.records, store.ROLE, ctx.account, name):
            raise already_exists(f"Role with name {name} already exists.")
        if boundary and find_policy(ctx, boundary) is None:
            raise no_such_entity(f"Policy {boundary} does not exist or is not attachable.")
        entity = {"RoleName": name, "RoleId": unique_id("AROA"), "Path": path,
                  "Arn": store.entity_arn(ctx, store.ROLE, path, name), "CreateDate": ctx.now.isoformat(),
                  "AssumeRolePolicyDocument": trust, "TrustPrincipalIds": trust_ids,
                  "Description": p.get("Description", ""),
                  "MaxSessionDuration": _max_session(p.get("MaxSessionDuration")), "Tags": tags,
                  "PermissionsBoundary": boundary, "InlinePolicies": {}, "AttachedPolicies": []}
        store.save(ctx.records, store.ROLE, ctx.account, entity, "RoleName")
    return {"Role": role_out(entity)}


def get_role(ctx: RequestContext, p: Params) -> Output:
    return {"Role": role_out(store.get(ctx.records, store.ROLE, ctx.account, p["RoleName"]), records=ctx.records)}


def list_roles(ctx: RequestContext, p: Params) -> Output:
    roles = store.with_path_prefix(ctx.records.list(store.ROLE, ctx.account), p)
    return store.paginate([role_out(r, full=False) for r in roles], p, "Roles")


def update_role(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        entity = store.get(ctx.records, store.ROLE, ctx.account, p["RoleName"])
        if "Description" in p:
            entity["Description"] = p["Description"]
        if "MaxSessionDuration" in p:
            entity["MaxSessionDuration"] = _max_session(p["MaxSessionDuration"])
        store.save(ctx.records, store.ROLE, ctx.account, entity, "RoleName")
    return {}


def update_assume_role_policy(ctx: RequestContext, p: Params) -> Output:
    trust, trust_ids = validate_trust(ctx, p.get("PolicyDocument"))
    with ctx.records.db.transaction():
        entity = store.get(ctx.records, store.ROLE, ctx.account, p["RoleName"])
        entity["AssumeRolePolicyDocument"] = trust
        entity["TrustPrincipalIds"] = trust_ids
        store.save(ctx.records, store.ROLE, ctx.account, entity, "RoleName")
    return {}


def delete_role(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        entity = store.get(ctx.records, store.ROLE, ctx.account, p["RoleName"])
        if entity.get("InlinePolicies"):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if entity.get("AttachedPolicies"):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        ctx.records.delete(store.ROLE, ctx.account, entity["RoleName"].lower())
    return {}
