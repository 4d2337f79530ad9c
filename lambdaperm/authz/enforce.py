"""enforce(): every action a call needs is decided by the engine against the caller's policies and the
resource's policy. The first denial ends the call; its message is AWS's (plus the name of the condition key
when a key lambdaperm cannot supply decided it).

Each (action, resource) decision has its own request context: the caller's global keys, the keys the catalog
read from the request for that action, the resource's account and the keys whose value lives with that
resource (`facts.py`). Nothing of one resource's context carries over to the next. Keys AWS would supply
but lambdaperm cannot are handed to the engine as unsupplied (undecidable), never left out.

Policy documents are compiled once per distinct text (the hot path never parses JSON); decisions are not
memoized here because the context carries the time.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from lambdaperm.catalog import RequiredAction
from lambdaperm.policy import (
    AuthzRequest,
    Decision,
    EvalDecision,
    Policy,
    PolicyError,
    PolicySet,
    PolicyType,
    decide,
    parse_policy,
)
from lambdaperm.state.identity import Identity

from . import facts

_CACHE_LIMIT = 4096


class IdentityPolicySet(Protocol):
    identity: tuple[tuple[str, str], ...]
    boundary: str | None
    session: tuple[str, ...]


class PolicySource(Protocol):
    """Where the authorizer finds policies (implemented by the services, wired by the gateway)."""

    def identity_policies(self, identity: Identity) -> IdentityPolicySet: ...

    def resource_policy(self, action: str, resource: str) -> tuple[str, str | None] | None:
        """(slot, document) for the resource: slot "trust" for a role's trust policy on sts:AssumeRole*
        (document None when the role does not exist: then nothing can allow), "resource" otherwise;
        None when the resource has no policy."""
        ...


class UnreadablePolicy(Exception):
    """A resource's policy exists but does not parse: nothing about it can be trusted, so deny."""


@dataclass(frozen=True, slots=True)
class Denied:
    decision: Decision
    action: str
    resource: str


class Authorizer:
    def __init__(self, source: PolicySource) -> None:
        self.source = source
        self._compiled: dict[tuple[PolicyType, str, str], Policy | None] = {}
        self._lock = threading.Lock()

    def compile(self, text: str, ptype: PolicyType, name: str) -> Policy | None:
        """The parsed policy, or None when a stored document no longer parses (it then grants nothing)."""
        key = (ptype, name, text)
        hit = self._compiled.get(key)
        if hit is not None or key in self._compiled:
            return hit
        try:
            # stored=True: a resource policy written before the Resource ARN grammar keeps its unreadable ARNs
            # undecidable (a Deny with one applies, an Allow does not) rather than failing as a whole
            policy: Policy | None = parse_policy(text, ptype, name=name, max_size=10**6, stored=True)
        except PolicyError:
            policy = None
        with self._lock:
            if len(self._compiled) >= _CACHE_LIMIT:
                self._compiled.clear()
            self._compiled[key] = policy
        return policy

    def _readable(self, text: str, ptype: PolicyType, name: str) -> Policy:
        policy = self.compile(text, ptype, name)
        if policy is None:  # a stored document that no longer parses may hold a Deny: nothing is allowed
            raise UnreadablePolicy(f"the {name} policy cannot be read")
        return policy

    def policy_set(self, identity: Identity, action: str, resource: str) -> PolicySet:
        ip = self.source.identity_policies(identity)
        identity_docs = tuple(self._readable(text, PolicyType.IDENTITY, name) for name, text in ip.identity)
        boundary = self._readable(ip.boundary, PolicyType.BOUNDARY, "permissions boundary") if ip.boundary else None
        session = tuple(
            self._readable(text, PolicyType.SESSION, f"session policy {i + 1}") for i, text in enumerate(ip.session)
        )
        resource_policy = trust = None
        required = False
        found = self.source.resource_policy(action, resource)
        if found is not None:
            slot, text = found
            ptype = PolicyType.TRUST if slot == "trust" else PolicyType.RESOURCE
            compiled = self.compile(text, ptype, slot) if text is not None else None
            if text is not None and compiled is None:
                raise UnreadablePolicy(f"the {slot} policy of {resource} cannot be read")
            if slot == "trust":
                trust, required = compiled, True
            else:
                resource_policy = compiled
        return PolicySet(
            identity=identity_docs,
            resource=resource_policy,
            trust=trust,
            boundary=boundary,
            session=session,
            resource_required=required,
        )

    def enforce(
        self,
        identity: Identity,
        required: Sequence[RequiredAction],
        context: Mapping[str, tuple[str, ...]],
        transport: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Denied | None:
        """The first denial among every (action, resource) of `required`, or None when all are allowed.

        `context`: the caller's global keys (`keys.request_context`); `transport`: the keys read from the
        HTTP request's authentication (S3's signature keys; None for a call lambdaperm makes itself). Each
        decision gets its own copy of the context, completed by `facts.prepare`."""
        for need in required:
            for resource in need.resources:
                denied = self._decide(identity, need, resource, context, transport)
                if denied is not None:
                    return denied
        return None

    def _decide(
        self,
        identity: Identity,
        need: RequiredAction,
        resource: str,
        context: Mapping[str, tuple[str, ...]],
        transport: Mapping[str, tuple[str, ...]] | None,
    ) -> Denied | None:
        merged = dict(context)  # each (action, resource) decision has its own context
        merged.update(need.context)
        unsupplied: set[str] = set()
        account = self._resource_account(identity, need.action, resource)
        if account:
            merged["aws:resourceaccount"] = (account,)
        elif account is None:
            unsupplied.add("aws:resourceaccount")
        try:
            policies = self.policy_set(identity, need.action, resource)
        except UnreadablePolicy:
            # fail closed: an unreadable policy may hold a Deny
            same = bool(identity.account) and identity.account == (account or identity.account)
            decision = Decision(
                EvalDecision.EXPLICIT_DENY, "resource", (), (), (identity.caller.arn, need.action, resource, same)
            )
            return Denied(decision, need.action, resource)
        prepared = facts.Decision(need.action, resource, account or "", merged, unsupplied, self.source)
        facts.prepare(prepared, lambda: _referenced(policies), transport)
        req = AuthzRequest(identity.caller, need.action, resource, merged, account or "", unsupplied)
        decision = decide(policies, req)
        return None if decision.allowed else Denied(decision, need.action, resource)

    def _resource_account(self, identity: Identity, action: str, resource: str) -> str | None:
        """The account that owns `resource`: its ARN's; the caller's for AWS managed policies (they belong
        to no account) and for a bucket being created; for other S3 ARNs the bucket owner the source knows.
        "" for `*`; None when it cannot be told (an S3 bucket the source does not know)."""
        if resource == "*":
            return ""
        account = _account_of(resource)
        if account == "aws":
            return identity.account
        if account or not resource.startswith("arn:"):
            return account
        if action.lower() == "s3:createbucket":
            return identity.account  # the bucket will be the caller's (a taken name is BucketAlreadyExists)
        owner = getattr(self.source, "resource_account", None)
        found = owner(resource) if owner is not None else None
        if found:
            return str(found)
        return None


def _referenced(policies: PolicySet) -> frozenset[str]:
    """Every context key the policies of a decision test."""
    keys: set[str] = set()
    for policy in (
        *policies.identity,
        policies.resource,
        policies.trust,
        policies.boundary,
        *policies.session,
        *(p for level in policies.scps for p in level),
        *(p for level in policies.rcps for p in level),
        policies.endpoint,
    ):
        if policy is not None:
            keys.update(policy.context_keys)
    return frozenset(keys)


def _account_of(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""
