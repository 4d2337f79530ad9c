"""The global condition keys of a request (spec §1.7), from the caller and the transport.

aws:SecureTransport is "true": lambdaperm answers as AWS would for the same call, and AWS endpoints are
only reached over TLS (see docs/fidelity.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from lambdaperm.policy import Caller, PrincipalKind, principal_context
from lambdaperm.state.identity import Identity


def request_context(
    identity: Identity,
    *,
    now: datetime,
    region: str,
    source_ip: str,
    tags: dict[str, str],
    org_id: str = "",
    user_agent: str = "",
) -> dict[str, tuple[str, ...]]:
    keys = dict(
        _identity_keys(
            identity.caller,
            identity.principal_id,
            identity.session_created,
            identity.mfa,
            identity.source_identity,
            tuple(sorted(tags.items())),
            org_id,
            identity.source_function_arn,
        )
    )
    keys["aws:currenttime"] = (f"{now:%Y-%m-%dT%H:%M:%SZ}",)
    keys["aws:epochtime"] = (str(int(now.timestamp())),)
    keys["aws:requestedregion"] = (region,)
    if source_ip:
        keys["aws:sourceip"] = (source_ip,)
    if user_agent:
        keys["aws:useragent"] = (user_agent,)
    return keys


@lru_cache(maxsize=4096)
def _identity_keys(
    caller: Caller,
    principal_id: str,
    session_created: datetime | None,
    mfa: bool,
    source_identity: str | None,
    tags: tuple[tuple[str, str], ...],
    org_id: str,
    source_function_arn: str | None = None,
) -> Mapping[str, tuple[str, ...]]:
    """The keys that depend on the caller alone (computed once per identity)."""
    keys = principal_context(caller, org_id=org_id)
    keys["aws:securetransport"] = ("true",)
    keys["aws:viaawsservice"] = ("false",)
    if caller.kind is not PrincipalKind.SERVICE:
        keys["aws:userid"] = (principal_id,)
    for key, value in tags:
        keys[f"aws:principaltag/{key.lower()}"] = (value,)
    if session_created is not None:
        keys["aws:tokenissuetime"] = (session_created.strftime("%Y-%m-%dT%H:%M:%SZ"),)
        keys["aws:multifactorauthpresent"] = ("true" if mfa else "false",)
    if source_identity:
        keys["aws:sourceidentity"] = (source_identity,)
    if source_function_arn:  # credentials Lambda gave a function's code (permissions-source-function-arn.html)
        keys["lambda:sourcefunctionarn"] = (source_function_arn,)
    return keys
