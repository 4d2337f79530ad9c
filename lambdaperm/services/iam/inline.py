"""Inline policies of users, groups and roles: Put/Get/Delete/List<Entity>Policy.

Inline policies count together against the entity's quota (user 2,048, group 5,120, role 10,240
characters without white space): `Maximum policy size of 10240 bytes exceeded for role <name>`.
"""

from __future__ import annotations

from typing import Any

from lambdaperm.policy import PolicyType

from ..context import Output, Params, RequestContext
from . import store
from .documents import INLINE_QUOTAS, encoded, size_without_whitespace, validate
from .errors import limit_exceeded, no_such_entity

_NAME_PARAM = {store.USER: "UserName", store.GROUP: "GroupName", store.ROLE: "RoleName"}


def put(kind: str) -> Any:
    noun = store.KIND_NAMES[kind]
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        policy_name = store.check_name(p.get("PolicyName"), "policyName", 128)
        doc = validate(p.get("PolicyDocument"), PolicyType.IDENTITY, max_size=INLINE_QUOTAS[noun])
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, kind, ctx.account, p[name_param])
            policies = entity.setdefault("InlinePolicies", {})
            policies[policy_name] = doc
            total = sum(size_without_whitespace(d) for d in policies.values())
            if total > INLINE_QUOTAS[noun]:
                raise limit_exceeded(
                    f"Maximum policy size of {INLINE_QUOTAS[noun]} bytes exceeded for {noun} {entity[name_param]}"
                )
            store.save(ctx.records, kind, ctx.account, entity, name_param)
        return {}
    return handler


def get(kind: str) -> Any:
    noun = store.KIND_NAMES[kind]
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        entity = store.get(ctx.records, kind, ctx.account, p[name_param])
        policy_name = p["PolicyName"]
        doc = entity.get("InlinePolicies", {}).get(policy_name)
        if doc is None:
            raise no_such_entity(f"The {noun} policy with name {policy_name} cannot be found.")
        return {name_param: entity[name_param], "PolicyName": policy_name, "PolicyDocument": encoded(doc)}
    return handler


def delete(kind: str) -> Any:
    noun = store.KIND_NAMES[kind]
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, kind, ctx.account, p[name_param])
            policy_name = p["PolicyName"]
            if policy_name not in entity.get("InlinePolicies", {}):
                raise no_such_entity(f"The {noun} policy with name {policy_name} cannot be found.")
            del entity["InlinePolicies"][policy_name]
            store.save(ctx.records, kind, ctx.account, entity, name_param)
        return {}
    return handler


def list_names(kind: str) -> Any:
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        entity = store.get(ctx.records, kind, ctx.account, p[name_param])
        return store.paginate(sorted(entity.get("InlinePolicies", {})), p, "PolicyNames")
    return handler
