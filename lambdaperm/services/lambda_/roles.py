"""The execution role as Lambda checks it: its trust policy must let lambda.amazonaws.com assume it, and
(for VPC access, event source mappings) its own policies must allow what Lambda will do with it. Lambda
runs these checks as a session of the role, so the role's boundary applies too."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from lambdaperm.policy import (
    AuthzRequest,
    Caller,
    PolicyError,
    PolicySet,
    PolicyType,
    PrincipalKind,
    decide,
    parse_caller,
    parse_policy,
    principal_context,
)
from lambdaperm.state.identity import Identity

from ..context import RequestContext
from ..iam import store as iam_store
from ..iam.principals import policies_for
from .errors import invalid

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$")


def role_entity(ctx: RequestContext, role_arn: str) -> dict[str, Any] | None:
    m = _ROLE_ARN.match(role_arn)
    if not m:
        return None
    role = iam_store.find(ctx.records, iam_store.ROLE, m.group(1), m.group(2))
    return role if role is not None and role["Arn"] == role_arn else None


def assumable_role(ctx: RequestContext, role_arn: str) -> dict[str, Any]:
    """The role, if lambda.amazonaws.com may assume it; else AWS's InvalidParameterValueException."""
    role = role_entity(ctx, role_arn)
    if role is None or not lambda_can_assume(role):
        raise invalid("The role defined for the function cannot be assumed by Lambda.")
    return role


def lambda_can_assume(role: dict[str, Any]) -> bool:
    try:
        trust = parse_policy(role["AssumeRolePolicyDocument"], PolicyType.TRUST, max_size=10**6)
    except PolicyError:
        return False
    caller = parse_caller(LAMBDA_PRINCIPAL)
    assert caller is not None
    req = AuthzRequest(caller, "sts:AssumeRole", role["Arn"], principal_context(caller))
    return decide(PolicySet(trust=trust, resource_required=True), req).allowed


def session_identity(role: dict[str, Any], session_name: str, now: datetime) -> Identity:
    account = role["Arn"].split(":")[4]
    arn = f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/{session_name}"
    caller = Caller(arn, PrincipalKind.ASSUMED_ROLE, account, role_arn=role["Arn"], name=role["RoleName"],
                    session=session_name)
    return Identity(caller, f"{role['RoleId']}:{session_name}", role_name=role["RoleName"], role_id=role["RoleId"],
                    session_created=now)


def role_allows(ctx: RequestContext, role: dict[str, Any], action: str, resource: str = "*") -> bool:
    """Whether a session of `role` (as Lambda uses it) may perform `action` on `resource`."""
    session = f"awslambda_{ctx.now.strftime('%Y%m%d%H%M%S%f')[:-3]}"
    identity = session_identity(role, session, ctx.now)
    docs = policies_for(ctx.records, identity)
    try:
        identity_policies = tuple(parse_policy(text, PolicyType.IDENTITY, name=name, max_size=10**6)
                                  for name, text in docs.identity)
        boundary = parse_policy(docs.boundary, PolicyType.BOUNDARY, max_size=10**6) if docs.boundary else None
    except PolicyError:
        return False
    context = principal_context(identity.caller)
    context["aws:requestedregion"] = (ctx.region,)
    req = AuthzRequest(identity.caller, action, resource, context)
    return decide(PolicySet(identity=identity_policies, boundary=boundary), req).allowed
