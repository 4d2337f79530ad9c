"""decide(): the AWS decision flow across every policy type (spec §2.1).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html

 1  any applicable Deny (identity, resource/trust, boundary, session, SCP, RCP, VPC endpoint) -> explicitDeny
 2  RCPs: RCPFullAWSAccess is always attached at every level, so only their Denies act
 3  SCPs (IAM principals): every level, root first, must Allow                     else implicitDeny
 4  VPC endpoint policy, when the call came through one, must Allow                  else implicitDeny
 5  the resource account's root user                                                 -> allowed
 6  trust policy (sts:AssumeRole*): must Allow the caller explicitly                 else implicitDeny
 7  same account: identity Allow, or a resource-policy Allow; cross-account: both     else implicitDeny
    (a same-account resource policy that names the exact user/session, or "*", also skips 8 and 9;
     one that names the role skips only the identity requirement; one that names the account skips nothing)
 8  permissions boundary present: must Allow                                         else implicitDeny
 9  session policies present: one must Allow                                         else implicitDeny
10  allowed
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .decision import Decision, MatchedStatement, allowed_message, denial_message
from .evaluate import PolicyResult, evaluate_policy
from .kinds import Effect, EvalDecision
from .model import Policy
from .principals import PrincipalKind, Strength
from .request import AuthzRequest

# Services whose resources RCPs govern
# (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html).
RCP_SERVICES = frozenset(
    {"s3", "sts", "kms", "sqs", "secretsmanager", "cognito-idp", "logs", "dynamodb", "ecr", "aoss"}
)


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every policy that bears on one request, parsed. SCP and RCP levels go root first."""

    identity: tuple[Policy, ...] = ()
    resource: Policy | None = None
    trust: Policy | None = None
    boundary: Policy | None = None
    session: tuple[Policy, ...] = ()
    scps: tuple[tuple[Policy, ...], ...] = ()
    rcps: tuple[tuple[Policy, ...], ...] = ()
    endpoint: Policy | None = None


@dataclass(slots=True)
class _Evaluated:
    identity: list[PolicyResult]
    resource: PolicyResult | None
    trust: PolicyResult | None
    boundary: PolicyResult | None
    session: list[PolicyResult]
    scps: list[list[PolicyResult]]
    rcps: list[list[PolicyResult]]
    endpoint: PolicyResult | None

    def by_type(self) -> Iterable[tuple[str, PolicyResult]]:
        for r in self.identity:
            yield "identity", r
        if self.resource:
            yield "resource", self.resource
        if self.trust:
            yield "trust", self.trust
        if self.boundary:
            yield "permissionsBoundary", self.boundary
        for r in self.session:
            yield "session", r
        for level in self.scps:
            for r in level:
                yield "scp", r
        for level in self.rcps:
            for r in level:
                yield "rcp", r
        if self.endpoint:
            yield "vpcEndpoint", self.endpoint


def _evaluate_all(policies: PolicySet, req: AuthzRequest, missing: list[str]) -> _Evaluated:
    caller = req.caller
    member = caller.is_iam_principal  # has identity-side policies and is governed by SCPs
    personal = member and caller.kind is not PrincipalKind.ROOT  # root has no identity policies

    def one(policy: Policy | None, pos: int = 0) -> PolicyResult | None:
        return evaluate_policy(policy, pos, req, missing) if policy is not None else None

    return _Evaluated(
        identity=[evaluate_policy(p, i, req, missing) for i, p in enumerate(policies.identity)] if personal else [],
        resource=one(policies.resource),
        trust=one(policies.trust),
        boundary=one(policies.boundary) if personal else None,
        session=[evaluate_policy(p, i, req, missing) for i, p in enumerate(policies.session)] if personal else [],
        scps=[[evaluate_policy(p, i, req, missing) for i, p in enumerate(level)] for level in policies.scps]
        if member else [],
        rcps=[[evaluate_policy(p, i, req, missing) for i, p in enumerate(level)] for level in policies.rcps]
        if req.service in RCP_SERVICES and caller.kind is not PrincipalKind.SERVICE else [],
        endpoint=one(policies.endpoint),
    )


def _matched(results: Iterable[tuple[str, PolicyResult]], effect: Effect) -> tuple[MatchedStatement, ...]:
    out = []
    for ptype, r in results:
        stmts = r.denies if effect is Effect.DENY else [s for s, _ in r.allows]
        for s in stmts:
            out.append(MatchedStatement(ptype, r.position, r.policy.name, s.index, s.sid, s.effect.value, s.span))
    return tuple(out)


def decide(policies: PolicySet, req: AuthzRequest) -> Decision:
    """Decide `req` against `policies` as AWS would."""
    missing: list[str] = []
    ev = _evaluate_all(policies, req, missing)
    outcome, decided_by, bypass = _flow(policies, req, ev)
    caller = req.caller
    missing_keys = tuple(dict.fromkeys(missing))
    if outcome is EvalDecision.EXPLICIT_DENY:
        matched = _matched(ev.by_type(), Effect.DENY)
    else:
        results = ev.by_type()
        if outcome is EvalDecision.ALLOWED and bypass:
            results = ((t, r) for t, r in results if t not in ("permissionsBoundary", "session"))
        matched = _matched(results, Effect.ALLOW)
    if outcome is EvalDecision.ALLOWED:
        message = allowed_message(caller.arn, req.action, req.resource, decided_by)
    else:
        with_reason = req.same_account or caller.kind is PrincipalKind.SERVICE
        message = denial_message(caller.arn, req.action, req.resource, outcome, decided_by, with_reason=with_reason)
    return Decision(outcome, decided_by, matched, missing_keys, message)


def _flow(policies: PolicySet, req: AuthzRequest, ev: _Evaluated) -> tuple[EvalDecision, str, bool]:
    """(outcome, decidedBy, whether boundary and session policies were bypassed)."""
    for ptype, result in ev.by_type():
        if result.denies:
            return EvalDecision.EXPLICIT_DENY, ptype, False
    caller = req.caller
    deny = EvalDecision.IMPLICIT_DENY
    for level in ev.scps:
        if not any(r.allowed for r in level):
            return deny, "scp", False
    if ev.endpoint is not None and not ev.endpoint.allowed:
        return deny, "vpcEndpoint", False
    same = req.same_account
    if caller.kind is PrincipalKind.ROOT and same:
        return EvalDecision.ALLOWED, "root", True

    identity_ok = any(r.allowed for r in ev.identity) or caller.kind is PrincipalKind.ROOT
    gate: PolicyResult | None = ev.resource
    granted_by = "resource"
    if ev.trust is not None:
        gate, granted_by = ev.trust, "trust"
        if gate.strength is None:
            return deny, "trust", False
    strength = gate.strength if gate is not None else None

    if not caller.is_iam_principal:  # services and anonymous callers have only the resource side
        return (EvalDecision.ALLOWED, granted_by, True) if strength is not None else (deny, granted_by, False)

    if same:
        match strength:
            case Strength.EXACT:
                return EvalDecision.ALLOWED, granted_by, True
            case Strength.ROLE:
                decided = granted_by
            case _ if identity_ok:
                decided = "identity"
            case _:
                return deny, "identity", False
    else:
        if not identity_ok:
            return deny, "identity", False
        if strength is None:
            return deny, granted_by, False
        decided = granted_by

    if ev.boundary is not None and not ev.boundary.allowed:
        return deny, "permissionsBoundary", False
    if ev.session and not any(r.allowed for r in ev.session):
        return deny, "session", False
    return EvalDecision.ALLOWED, decided, False


class Evaluator:
    """decide() for one PolicySet with a bounded memo of decisions, for hot repeated requests.

    The memo is sound because decide() is a pure function of (policies, request) and requests are
    immutable and hashable.
    """

    __slots__ = ("_cache", "_limit", "policies")

    def __init__(self, policies: PolicySet, *, cache_size: int = 65536) -> None:
        self.policies = policies
        self._cache: dict[AuthzRequest, Decision] = {}
        self._limit = cache_size

    def decide(self, req: AuthzRequest) -> Decision:
        hit = self._cache.get(req)
        if hit is not None:
            return hit
        decision = decide(self.policies, req)
        if len(self._cache) >= self._limit:
            self._cache.clear()
        self._cache[req] = decision
        return decision
