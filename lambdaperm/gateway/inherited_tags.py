"""Role chaining: what a chained AssumeRole inherits from the calling session (transitive session tags, the
source identity) is passed to the next session, and decided as such.

"Incoming transitive session tags — the tags inherited from a previous session in a role chain" are session
tags of the new session, and passing session tags needs `sts:TagSession` in the trust policy of the role
assumed (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_role-chaining,
#id_session-tags_permissions-required). The catalog asks for sts:TagSession only when the request itself
carries Tags or TransitiveTagKeys; the inherited tags live in the calling session's record, so they are
added here. Whether AWS also reports inherited tags in `aws:RequestTag/<key>`, `aws:TagKeys` and their keys in
`sts:TransitiveTagKeys` of the request is not documented: those keys are marked unsupplied for its
sts:AssumeRole and sts:TagSession checks (a condition on them is undecidable; review round 5 found a Deny on
sts:TransitiveTagKeys bypassed while it was read from the request alone).

The source identity of the calling session "persists when a role is used to assume another role"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html); whether it is
the `sts:SourceIdentity` of a chained AssumeRole that does not pass one is not documented, so that key is
unsupplied for the request's sts:AssumeRole check (review round 5: a trust-policy Deny on sts:SourceIdentity was
bypassed by not passing it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lambdaperm.catalog import RequiredAction
from lambdaperm.catalog.condition_keys import UNSUPPLIED_MARK
from lambdaperm.policy import PrincipalKind
from lambdaperm.services.iam import store
from lambdaperm.services.sts import SESSION
from lambdaperm.state.identity import Identity

if TYPE_CHECKING:
    from .server import Server


def with_inherited_tags(
    server: Server, identity: Identity, service: str, operation: str, needed: Sequence[RequiredAction]
) -> list[RequiredAction]:
    """`needed` with sts:TagSession for the transitive tags a chained AssumeRole inherits, and with the keys that
    its inherited tags and source identity leave unsupplied."""
    out = list(needed)
    if (service, operation) != ("sts", "AssumeRole") or identity.caller.kind is not PrincipalKind.ASSUMED_ROLE:
        return out
    session = server.records.get(SESSION, store.GLOBAL, identity.access_key_id or "")
    if (session or {}).get("SourceIdentity"):
        out = [_unsupplied(n, ("sts:sourceidentity",)) if _omits_source_identity(n) else n for n in out]
    inherited = [str(k) for k in (session or {}).get("TransitiveTagKeys") or []]
    roles = [r for n in out if n.action == "sts:AssumeRole" for r in n.resources]
    if not inherited or not roles:
        return out
    unsupplied = ("aws:tagkeys", "sts:transitivetagkeys", *(f"aws:requesttag/{k.lower()}" for k in inherited))
    tag_session = False
    for i, need in enumerate(out):
        if need.action in ("sts:AssumeRole", "sts:TagSession"):
            tag_session = tag_session or need.action == "sts:TagSession"
            out[i] = _unsupplied(need, unsupplied)
    if not tag_session:
        out.append(RequiredAction("sts:TagSession", tuple(roles), {UNSUPPLIED_MARK: unsupplied}))
    return out


def _omits_source_identity(need: RequiredAction) -> bool:
    return need.action == "sts:AssumeRole" and "sts:sourceidentity" not in need.context


def _unsupplied(need: RequiredAction, keys: Sequence[str]) -> RequiredAction:
    marks = tuple(dict.fromkeys((*need.context.get(UNSUPPLIED_MARK, ()), *keys)))
    return RequiredAction(need.action, need.resources, {**need.context, UNSUPPLIED_MARK: marks})
