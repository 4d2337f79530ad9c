"""`serve --log-level debug`: one line per request — who asked, which IAM action(s) on which resource(s), the
decision and the answer — so a newcomer can see why a call was allowed or denied without reading the trail.

    request 5f0c… iam:CreateUser principal=arn:aws:iam::111122223333:root action=iam:CreateUser
        resource=arn:aws:iam::111122223333:user/alice decision=allow status=200

`decision` is `allow`, `deny` (with the policy engine's outcome and the denied action/resource when they differ
from the request's first), `deny:unmapped` (fail closed: the catalog cannot say which action authorizes the call),
`none` (the operation needs no permission) or `-` (refused before any decision: authentication, validation).
"""

from __future__ import annotations

import logging

from lambdaperm.authz.enforce import Denied
from lambdaperm.catalog import RequiredAction

from .call import Call

log = logging.getLogger("lambdaperm.requests")


def decided(call: Call, needed: list[RequiredAction], denied: Denied | None) -> None:
    """Note the decision on `call` (read by `logged` when the answer is known)."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    actions = ",".join(dict.fromkeys(n.action for n in needed)) or "-"
    resources = ",".join(dict.fromkeys(r for n in needed for r in n.resources)) or "-"
    if not needed:
        decision = "none"
    elif denied is None:
        decision = "allow"
    else:
        decision = f"deny({denied.decision.outcome.value} {denied.action} on {denied.resource})"
    call.decision_line = f"action={actions} resource={resources} decision={decision}"


def unmapped(call: Call) -> None:
    if log.isEnabledFor(logging.DEBUG):
        call.decision_line = "action=- resource=- decision=deny:unmapped"


def logged(call: Call, status: int) -> None:
    """The request's one line, when debug logging is on."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    op = call.op
    operation = f"{op.service_name}:{op.name}" if op is not None else f"{call.req.method} {call.req.path}"
    principal = call.identity.caller.arn if call.identity is not None else "-"
    line = call.decision_line or "action=- resource=- decision=-"
    log.debug("request %s %s principal=%s %s status=%d", call.request_id, operation, principal, line, status)
