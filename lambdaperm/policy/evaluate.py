"""Evaluation of one policy against one request: which Allow and which Deny statements apply.

A statement applies when its Action, Resource, Principal and every Condition match. Conditions are
three-valued (see `conditions.py`): an undecidable condition never lets an Allow apply and always lets
a Deny apply (fail closed). A condition, or a Resource pattern's policy variable, on a key the request
marks UNSUPPLIED (`unsupplied.py`) is undecidable; such statements are remembered with the keys, so that
a denial can name what could not be decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .arn import compile_arn_tokens
from .kinds import Effect
from .model import Policy, ResourceSpec, Statement
from .principals import Caller, Strength
from .request import AuthzRequest


@dataclass(slots=True)
class PolicyResult:
    policy: Policy
    position: int  # index of the policy among those of its type
    allows: list[tuple[Statement, Strength]] = field(default_factory=list)
    denies: list[Statement] = field(default_factory=list)
    # statements undecidable on unsupplied keys (an applied Deny, a skipped Allow) and those keys
    undecided: list[tuple[Statement, tuple[str, ...]]] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return bool(self.allows)

    @property
    def strength(self) -> Strength | None:
        """The strongest way an Allow statement of this (resource) policy names the caller."""
        return max((s for _, s in self.allows), default=None)


def _unsupplied_variable(spec: ResourceSpec, req: AuthzRequest) -> str | None:
    if not req.unsupplied:
        return None
    for template in spec.dynamic:
        for var in template.variables():
            if var.key in req.unsupplied:
                return var.name
    return None


def resource_matches(spec: ResourceSpec, req: AuthzRequest, missing: list[str], effect: Effect) -> bool:
    """Resource/NotResource. A pattern with a wildcard in the service segment (not allowed by AWS) is
    globbed only where matching more cannot widen access: for Deny/Resource and Allow/NotResource.
    A pattern whose variable names an unsupplied key is undecidable: a Deny applies, an Allow does not. So is an
    unreadable pattern (a stored policy's ARN the grammar refuses) when no readable pattern matches: whether it
    names the resource is unknown, for Resource as for NotResource."""
    if spec.dynamic and _unsupplied_variable(spec, req) is not None:
        return effect is Effect.DENY
    resource, parts = req.resource, req.resource_parts
    lenient = (effect is Effect.DENY) != spec.negated
    hit = False
    for pattern in spec.static:
        if pattern.match_parts(resource, parts, lenient=lenient):
            hit = True
            break
    if not hit:
        for template in spec.dynamic:
            tokens = template.tokens(req.context, missing)
            if tokens is not None and compile_arn_tokens(tokens, glob_service=False).match_parts(
                resource, parts, lenient=lenient
            ):
                hit = True
                break
    if not hit and spec.unreadable:
        return effect is Effect.DENY
    return hit != spec.negated


def _principal_strength(stmt: Statement, caller: Caller, has_boundary: bool) -> Strength | None:
    spec = stmt.principal
    if spec is None:
        return Strength.EXACT  # identity-side documents apply to their own principal
    if not stmt.not_principal:
        return spec.match(caller)
    # NotPrincipal (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html)
    # is Deny-only (the parser rejects it with Allow). AWS checks each identity of the caller in turn
    # (account, then role, then session), so the Deny applies unless every one is listed; and it
    # "will always deny any IAM principal that has a permissions boundary policy attached".
    if has_boundary or not spec.excludes_all(caller):
        return Strength.EXACT
    return None


def evaluate_policy(
    policy: Policy, position: int, req: AuthzRequest, missing: list[str], *, has_boundary: bool = False
) -> PolicyResult:
    """Which statements of `policy` apply to `req`. `has_boundary`: the caller has a permissions boundary."""
    result = PolicyResult(policy, position)
    action = req.action_lower
    unsupplied = req.unsupplied
    for stmt in policy.candidates(action, req.service):
        if not stmt.action.matches(action):
            continue
        undecided: list[str] = []
        if unsupplied and stmt.resource is not None and stmt.resource.dynamic:
            name = _unsupplied_variable(stmt.resource, req)
            if name is not None:
                undecided.append(name)
        if (
            not undecided
            and stmt.resource is not None
            and not resource_matches(stmt.resource, req, missing, stmt.effect)
        ):
            continue
        strength = _principal_strength(stmt, req.caller, has_boundary)
        if strength is None:
            continue
        verdict: bool | None = None if undecided else True
        for condition in stmt.conditions:
            key = condition.unsupplied_key(unsupplied) if unsupplied else None
            if key is not None:
                one: bool | None = None
                undecided.append(key)
            else:
                one = condition.evaluate(req.context, missing)
            if one is False:
                verdict = False
            elif one is None and verdict is True:
                verdict = None
        if verdict is None and undecided:
            result.undecided.append((stmt, tuple(dict.fromkeys(undecided))))
        if stmt.effect is Effect.DENY:
            if verdict is not False:
                result.denies.append(stmt)
        elif verdict is True:
            result.allows.append((stmt, strength))
    return result
