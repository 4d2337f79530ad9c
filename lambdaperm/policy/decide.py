"""decide(): the AWS decision flow across every policy type (spec §2.1).

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html

 1  any applicable Deny (identity, resource/trust, boundary, session, SCP, RCP, VPC endpoint) -> explicitDeny
 2  RCPs: RCPFullAWSAccess is always attached at every level, so only their Denies act
 3  SCPs (IAM principals): every level, root first, must Allow                     else implicitDeny
 4  VPC endpoint policy, when the call came through one, must Allow                  else implicitDeny
 5  trust policy (sts:AssumeRole*): must Allow the caller explicitly, root included  else implicitDeny
 6  the resource account's root user (no trust policy involved)                      -> allowed
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

from .decision import Decision, MatchedStatement
from .evaluate import PolicyResult, evaluate_policy
from .kinds import Effect, EvalDecision
from .model import Policy
from .principals import EXTERNAL_KINDS, PrincipalKind, Strength
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
    # The role's trust policy must allow even though there is none (the role does not exist): no identity
    # policy alone can grant sts:AssumeRole.
    resource_required: bool = False


@dataclass(slots=True)
class _Evaluated:
    """Every applicable policy's result, flat in deny-reporting order, plus the ones the flow reads."""

    flat: list[tuple[str, PolicyResult]]
    identity: list[PolicyResult]
    resource: PolicyResult | None
    trust: PolicyResult | None
    boundary: PolicyResult | None
    session: list[PolicyResult]
    scps: list[list[PolicyResult]]
    endpoint: PolicyResult | None
    resource_required: bool = False


_NON_MEMBERS = EXTERNAL_KINDS

# Resource policies that must allow explicitly, like trust policies: a KMS key policy
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html).
_REQUIRED_RESOURCE_POLICY = frozenset({"kms"})


def _evaluate_all(policies: PolicySet, req: AuthzRequest, missing: list[str]) -> _Evaluated:
    kind = req.caller.kind
    member = kind not in _NON_MEMBERS  # has identity-side policies and is governed by SCPs
    personal = member and kind is not PrincipalKind.ROOT  # root has no identity policies
    flat: list[tuple[str, PolicyResult]] = []
    identity: list[PolicyResult] = []
    session: list[PolicyResult] = []
    scps: list[list[PolicyResult]] = []
    resource = trust = boundary = endpoint = None
    if personal:
        for i, p in enumerate(policies.identity):
            r = evaluate_policy(p, i, req, missing)
            identity.append(r)
            flat.append(("identity", r))
    bounded = personal and policies.boundary is not None
    if policies.resource is not None:
        resource = evaluate_policy(policies.resource, 0, req, missing, has_boundary=bounded)
        flat.append(("resource", resource))
    if policies.trust is not None:
        trust = evaluate_policy(policies.trust, 0, req, missing)
        flat.append(("trust", trust))
    if personal:
        if policies.boundary is not None:
            boundary = evaluate_policy(policies.boundary, 0, req, missing)
            flat.append(("permissionsBoundary", boundary))
        for i, p in enumerate(policies.session):
            r = evaluate_policy(p, i, req, missing)
            session.append(r)
            flat.append(("session", r))
    if member:
        for level in policies.scps:
            results = [evaluate_policy(p, i, req, missing) for i, p in enumerate(level)]
            scps.append(results)
            flat.extend(("scp", r) for r in results)
    if policies.rcps and req.service in RCP_SERVICES:  # every caller, service principals included
        for level in policies.rcps:
            flat.extend(("rcp", evaluate_policy(p, i, req, missing)) for i, p in enumerate(level))
    if policies.endpoint is not None:
        endpoint = evaluate_policy(policies.endpoint, 0, req, missing, has_boundary=bounded)
        flat.append(("vpcEndpoint", endpoint))
    return _Evaluated(flat, identity, resource, trust, boundary, session, scps, endpoint, policies.resource_required)


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
    outcome, decided_by, bypass = _flow(req, ev)
    caller = req.caller
    missing_keys = tuple(dict.fromkeys(missing)) if missing else ()
    if outcome is EvalDecision.EXPLICIT_DENY:
        matched = _matched(ev.flat, Effect.DENY)
    elif bypass:
        matched = _matched(((t, r) for t, r in ev.flat if t not in ("permissionsBoundary", "session")), Effect.ALLOW)
    else:
        matched = _matched(ev.flat, Effect.ALLOW)
    with_reason = req.same_account or caller.kind is PrincipalKind.SERVICE
    undecided = _undecided_keys(ev.flat, outcome) if req.unsupplied else ()
    return Decision(
        outcome, decided_by, matched, missing_keys, (caller.arn, req.action, req.resource, with_reason), undecided
    )


def _undecided_keys(results: Iterable[tuple[str, PolicyResult]], outcome: EvalDecision) -> tuple[str, ...]:
    """The unsupplied keys that decided a denial: those of the Deny statements that applied only because
    they were undecidable (when no Deny applied outright), or of the Allow statements that did not apply
    only because they were undecidable (an implicit deny)."""
    if outcome is EvalDecision.ALLOWED:
        return ()
    listed = list(results)
    keys: list[str] = []
    if outcome is EvalDecision.EXPLICIT_DENY:
        undecided_denies = {id(s) for _, r in listed for s, _ in r.undecided if s.effect is Effect.DENY}
        if any(id(s) not in undecided_denies for _, r in listed for s in r.denies):
            return ()  # a Deny applied whatever the unsupplied keys
        for _, r in listed:
            keys.extend(k for s, names in r.undecided if s.effect is Effect.DENY for k in names)
    else:
        for _, r in listed:
            keys.extend(k for s, names in r.undecided if s.effect is Effect.ALLOW for k in names)
    return tuple(dict.fromkeys(keys))


def _flow(req: AuthzRequest, ev: _Evaluated) -> tuple[EvalDecision, str, bool]:
    """(outcome, decidedBy, whether boundary and session policies were bypassed)."""
    for ptype, result in ev.flat:
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
    if ev.trust is not None and ev.trust.strength is None:
        return deny, "trust", False  # a trust policy must name the caller, the root user included
    if caller.kind is PrincipalKind.ROOT and same and ev.trust is None:
        return EvalDecision.ALLOWED, "root", True

    identity_ok = any(r.allowed for r in ev.identity) or caller.kind is PrincipalKind.ROOT
    if caller.kind is PrincipalKind.FEDERATED_USER and not ev.session:
        # GetFederationToken without a session policy: the session has no identity-based permissions.
        identity_ok = False
    gate: PolicyResult | None = ev.resource
    granted_by = "resource"
    if ev.trust is not None:
        gate, granted_by = ev.trust, "trust"
        if gate.strength is None:
            return deny, "trust", False
    strength = gate.strength if gate is not None else None
    if strength is None and ev.resource_required:
        return deny, "trust", False  # the role does not exist: no trust policy can name the caller
    if strength is None and req.service in _REQUIRED_RESOURCE_POLICY and ":key/" in req.resource:
        return deny, "resource", False

    if caller.kind in _NON_MEMBERS:  # services and anonymous callers have only the resource side
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
