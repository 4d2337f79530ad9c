"""Accesses a service makes on the caller's behalf, authorized as the caller's own call would be.

When Lambda reads a function's code from S3, S3 receives a request made with the caller's identity (a forward
access session, FAS): it is authorized like the caller's own GetObject — the caller's identity policies, the
bucket policy (across accounts both must allow), with the same catalog mapping and context keys as a direct
call — plus what FAS adds to the context: `aws:ViaAWSService` is true and `aws:CalledVia`, `aws:CalledViaFirst`
and `aws:CalledViaLast` name the service that made the request.
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lambdaperm.authz import request_context
from lambdaperm.catalog import UnmappedOperation, UnresolvedResource, required_actions
from lambdaperm.services.context import RequestContext

from .iam_paths import with_iam_paths

if TYPE_CHECKING:
    from .server import Server


def forward_access_keys(via: str) -> dict[str, tuple[str, ...]]:
    """The context keys a forward access session made by the service `via` (a service principal) carries."""
    return {
        "aws:viaawsservice": ("true",),
        "aws:calledvia": (via,),
        "aws:calledviafirst": (via,),
        "aws:calledvialast": (via,),
    }


class ImplicitAccess:
    """Authorizes the implicit accesses of our services through the server's authorizer."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def authorize(
        self, ctx: RequestContext, service: str, operation: str, params: Mapping[str, Any], *, via: str
    ) -> str | None:
        """None when `ctx.identity` may make the call `service:operation(params)` through `via`; else the
        denial's message. An operation the catalog cannot map is denied (fail closed)."""
        identity = ctx.identity
        account = identity.account or "000000000000"
        try:
            needed = required_actions(service, operation, dict(params), account=account, region=ctx.region)
        except (UnmappedOperation, UnresolvedResource) as err:
            return f"{service}:{operation} cannot be authorized: {err}"
        needed = [with_iam_paths(self.server, n, service, operation, params) for n in needed]
        tags = self.server.policies.principal_tags(identity) if identity.caller.is_iam_principal else {}
        context = request_context(
            identity, now=ctx.now, region=ctx.region, source_ip=ctx.source_ip, tags=tags, user_agent=ctx.user_agent
        )
        context.update(forward_access_keys(via))
        denied = self.server.authorizer.enforce(identity, needed, context)
        return denied.decision.message if denied is not None else None
