"""The result of a decision, and its explanation in AWS's words.

Denial messages (spec §2.2; https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html):
`User: <caller> is not authorized to perform: <action> on resource: <resource> because no
identity-based policy allows the <action> action`, or `... with an explicit deny in an identity-based
policy`. AWS adds the reason only when the caller and the resource are in the same account; other
requests get the bare sentence (or `... with an explicit deny`).

A denial that an UNSUPPLIED condition key decided (a Deny statement that applied, or an Allow statement
that did not, only because a key AWS would supply could not be computed — see `unsupplied.py`) says so
after AWS's sentence, naming the key: the caller must be able to tell lambdaperm's limit from AWS's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from .kinds import EvalDecision

# decidedBy -> the noun phrase AWS uses in its messages
_PHRASES = {
    "identity": "identity-based policy",
    "resource": "resource-based policy",
    "trust": "resource-based policy",
    "permissionsBoundary": "permissions boundary",
    "session": "session policy",
    "scp": "service control policy",
    "rcp": "resource control policy",
    "vpcEndpoint": "VPC endpoint policy",
}

DECIDERS = (
    "identity",
    "resource",
    "trust",
    "permissionsBoundary",
    "session",
    "scp",
    "rcp",
    "vpcEndpoint",
    "root",
    "none",
)


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    policy_type: str  # a decidedBy name: identity, resource, trust, permissionsBoundary, session, scp, ...
    policy_index: int  # position among the policies of that type (SCP/RCP: level * 1000 + position)
    policy_name: str
    statement_index: int
    sid: str | None
    effect: str
    span: tuple[int, int, int, int] | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "policyType": self.policy_type,
            "policyIndex": self.policy_index,
            "statementIndex": self.statement_index,
            "sid": self.sid,
            "effect": self.effect,
        }
        if self.policy_name:
            out["policyName"] = self.policy_name
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: EvalDecision
    decided_by: str
    matched_statements: tuple[MatchedStatement, ...]
    missing_context_values: tuple[str, ...]
    # (caller, action, resource, with_reason): the message is worded only when someone reads it
    wording: tuple[str, str, str, bool]
    # the unsupplied condition keys (as the policies write them) that decided a denial
    unsupplied_keys: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        caller, action, resource, with_reason = self.wording
        if self.outcome is EvalDecision.ALLOWED:
            return allowed_message(caller, action, resource, self.decided_by)
        text = denial_message(caller, action, resource, self.outcome, self.decided_by, with_reason=with_reason)
        return text + unsupplied_note(self.unsupplied_keys)

    @property
    def allowed(self) -> bool:
        return self.outcome is EvalDecision.ALLOWED

    def to_json(self) -> dict[str, object]:
        return {
            "decision": self.outcome.value,
            "decidedBy": self.decided_by,
            "matchedStatements": [m.to_json() for m in self.matched_statements],
            "missingContextValues": list(self.missing_context_values),
            "unsuppliedKeys": list(self.unsupplied_keys),
            "message": self.message,
        }


def unsupplied_note(keys: tuple[str, ...]) -> str:
    """The sentence added to a denial that unsupplied keys decided ("" when none did)."""
    if not keys:
        return ""
    if len(keys) == 1:
        return (
            f" (undecidable condition key {keys[0]}: AWS supplies it for this request, lambdaperm does not, "
            "so a statement that tests it was decided as failing closed)"
        )
    return (
        f" (undecidable condition keys {', '.join(keys)}: AWS supplies them for this request, lambdaperm "
        "does not, so statements that test them were decided as failing closed)"
    )


def denial_message(
    caller: str, action: str, resource: str, outcome: EvalDecision, decided_by: str, *, with_reason: bool
) -> str:
    base = f"User: {caller} is not authorized to perform: {action} on resource: {resource}"
    phrase = _PHRASES.get(decided_by)
    if outcome is EvalDecision.EXPLICIT_DENY:
        if with_reason and phrase:
            article = "an" if phrase[0] in "aeiouAEIOU" else "a"
            return f"{base} with an explicit deny in {article} {phrase}"
        return f"{base} with an explicit deny"
    if with_reason and phrase and decided_by != "trust":
        return f"{base} because no {phrase} allows the {action} action"
    return base


def allowed_message(caller: str, action: str, resource: str, decided_by: str) -> str:
    how = {
        "root": "as the account's root user",
        "identity": "by an identity-based policy",
        "resource": "by a resource-based policy",
        "trust": "by the role's trust policy",
    }.get(decided_by, "")
    return f"User: {caller} is allowed to perform: {action} on resource: {resource} {how}".rstrip()
