"""Calls Lambda makes with a function's execution role, authorized as the same calls reaching the endpoint.

Lambda polls event sources, writes to dead-letter targets, creates network interfaces and writes logs with
credentials of the execution role (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html).
Such a call is authorized like any call of that role session: the role's identity policies and permissions
boundary, the role's tags as the session's principal tags (aws:PrincipalTag,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag),
the target's resource policy (a Deny in it applies; across accounts it must allow too), and the global keys of the
request (`lambdaperm.authz.request_context`). The Lambda service makes these calls itself: there is no client
address (aws:SourceIp absent) and it is not a forward access session (aws:ViaAWSService false).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from lambdaperm.authz import request_context
from lambdaperm.catalog import RequiredAction
from lambdaperm.state.identity import Identity

if TYPE_CHECKING:
    from .server import Server


def authorize_role_session(
    server: Server, session: Identity, needed: Sequence[RequiredAction], *, now: datetime, region: str
) -> str | None:
    """None when `session` may make every call of `needed` in `region` at `now`; else the first denial's message."""
    tags = server.policies.principal_tags(session)
    context = request_context(session, now=now, region=region, source_ip="", tags=tags)
    denied = server.authorizer.enforce(session, needed, context)
    return denied.decision.message if denied is not None else None
