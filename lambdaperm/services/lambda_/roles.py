"""The execution role as Lambda checks it: its trust policy must let lambda.amazonaws.com assume it, and
what Lambda will do with it (poll an event source, write to a dead-letter target, create network interfaces,
write logs) must be allowed to a session of the role — decided by the server's authorizer through the
environment (`LambdaEnvironment.authorize_role_session`), as the same calls made to the endpoint would be:
identity policies, boundary, principal tags, the target's resource policy, the request context.
https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lambdaperm.catalog import RequiredAction, UnmappedOperation, UnresolvedResource, required_actions
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
from .errors import invalid

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$", re.ASCII)


def role_entity(ctx: RequestContext, role_arn: str) -> dict[str, Any] | None:
    m = _ROLE_ARN.match(role_arn)
    if not m:
        return None
    role = iam_store.find(ctx.records, iam_store.ROLE, m.group(1), m.group(2))
    return role if role is not None and role["Arn"] == role_arn else None


def assumable_role(ctx: RequestContext, role_arn: str, function_arn: str) -> dict[str, Any]:
    """The role, if lambda.amazonaws.com may assume it for the function `function_arn`; else AWS's
    InvalidParameterValueException."""
    role = role_entity(ctx, role_arn)
    if role is None or not lambda_can_assume(role, function_arn, ctx.now):
        raise invalid("The role defined for the function cannot be assumed by Lambda.")
    return role


def role_account(role: dict[str, Any]) -> str:
    return str(role["Arn"].split(":")[4])


def queue_url(source: str) -> str:
    """The URL of the queue an SQS ARN names (what Lambda calls the queue by)."""
    _, _, _, region, account, name = source.split(":", 5)
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"


def lambda_can_assume(role: dict[str, Any], function_arn: str, now: datetime) -> bool:
    """Whether the role's trust policy lets lambda.amazonaws.com assume it for the function `function_arn`
    (unqualified). When a service assumes a role it supplies the resource it acts for: `aws:SourceArn` (the
    function) and `aws:SourceAccount` (its account), so a trust policy can limit the role to expected functions
    (https://docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). Without them a Deny conditioned on
    one function's ARN did not apply (review round 6). `now`: the assumption's time — aws:CurrentTime and
    aws:EpochTime are in every request context
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-currenttime);
    without them a trust's Deny conditioned on the date never applied (races review round 12)."""
    try:
        trust = parse_policy(role["AssumeRolePolicyDocument"], PolicyType.TRUST, max_size=10**6)
    except PolicyError:
        return False
    caller = parse_caller(LAMBDA_PRINCIPAL)
    assert caller is not None
    context = {
        **principal_context(caller),
        "aws:sourcearn": (function_arn,),
        "aws:sourceaccount": (function_arn.split(":")[4],),
        "aws:currenttime": (f"{now:%Y-%m-%dT%H:%M:%SZ}",),
        "aws:epochtime": (str(int(now.timestamp())),),
    }
    req = AuthzRequest(caller, "sts:AssumeRole", role["Arn"], context)
    return decide(PolicySet(trust=trust, resource_required=True), req).allowed


def session_identity(role: dict[str, Any], session_name: str, now: datetime) -> Identity:
    account = role["Arn"].split(":")[4]
    arn = f"arn:aws:sts::{account}:assumed-role/{role['RoleName']}/{session_name}"
    caller = Caller(arn, PrincipalKind.ASSUMED_ROLE, account, role_arn=role["Arn"], name=role["RoleName"],
                    session=session_name)
    return Identity(caller, f"{role['RoleId']}:{session_name}", role_name=role["RoleName"], role_id=role["RoleId"],
                    session_created=now)


def role_denial(ctx: RequestContext, role: dict[str, Any], session_name: str,
                needed: Sequence[RequiredAction]) -> str | None:
    """None when a session of `role` named `session_name` (the principal Lambda uses for the calls it makes with
    the execution role) may make every call of `needed`; else the denial's message. Decided by the server's
    authorizer exactly as the same calls reaching the endpoint would be: the role's identity policies and
    boundary, the role's tags as the session's principal tags (aws:PrincipalTag), the target's resource policy
    (an explicit Deny in it applies; across accounts it must allow too) and the global keys of the request
    context (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)."""
    session = session_identity(role, session_name, ctx.now)
    denial: str | None = ctx.env.authorize_role_session(ctx, session, needed)
    return denial


def role_allows(ctx: RequestContext, role: dict[str, Any], session_name: str,
                needed: Sequence[RequiredAction]) -> bool:
    """Whether a session of `role` may make every call of `needed` (`role_denial`)."""
    return role_denial(ctx, role, session_name, needed) is None


def calls(ctx: RequestContext, service: str, operation: str, params: dict[str, Any], *,
          account: str, region: str) -> list[RequiredAction]:
    """What the call `service:operation(params)`, made in `account` and `region`, must be allowed: the catalog's
    mapping, the one the gateway uses. A call the catalog cannot map cannot be allowed (InvalidParameterValue)."""
    try:
        return required_actions(service, operation, dict(params), account=account, region=region)
    except (UnmappedOperation, UnresolvedResource) as err:
        raise invalid(f"{service}:{operation} cannot be authorized for the execution role: {err}") from None
