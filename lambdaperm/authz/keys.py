"""The global condition keys of a request (spec §1.7), from the caller and the transport.

aws:SecureTransport is "true": lambdaperm answers as AWS would for the same call, and AWS endpoints are
only reached over TLS (see docs/fidelity.md).
"""

from __future__ import annotations

from datetime import datetime

from lambdaperm.policy import PrincipalKind, principal_context
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
    caller = identity.caller
    keys = principal_context(caller, org_id=org_id)
    keys["aws:currenttime"] = (now.strftime("%Y-%m-%dT%H:%M:%SZ"),)
    keys["aws:epochtime"] = (str(int(now.timestamp())),)
    keys["aws:securetransport"] = ("true",)
    keys["aws:viaawsservice"] = ("false",)
    keys["aws:requestedregion"] = (region,)
    if source_ip:
        keys["aws:sourceip"] = (source_ip,)
    if user_agent:
        keys["aws:useragent"] = (user_agent,)
    if caller.kind is not PrincipalKind.SERVICE:
        keys["aws:userid"] = (identity.principal_id,)
    for key, value in tags.items():
        keys[f"aws:principaltag/{key.lower()}"] = (value,)
    if identity.session_created is not None:
        keys["aws:tokenissuetime"] = (identity.session_created.strftime("%Y-%m-%dT%H:%M:%SZ"),)
        keys["aws:multifactorauthpresent"] = ("true" if identity.mfa else "false",)
    if identity.source_identity:
        keys["aws:sourceidentity"] = (identity.source_identity,)
    return keys
