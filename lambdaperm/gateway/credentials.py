"""Authentication of a request: which identity signed it (spec §4.3).

The access key `test` and any 12-digit key id are the root users of their accounts and accept any
secret (their requests still get the clock-skew check of every key); every other key is verified with
SigV4 against its stored secret. Unsigned requests are
anonymous only for S3 (bucket policies may allow them); elsewhere they fail as AWS fails them.
"""

from __future__ import annotations

from lambdaperm.authn import AuthFailure, Credential, authenticate, check_request_time, scope
from lambdaperm.services.sts import accepts_any_secret
from lambdaperm.state.identity import Identity

from .call import ANONYMOUS, Call
from .server import Server


def authenticate_call(server: Server, call: Call) -> Identity:
    req = call.req
    claimed = call.scope if call.scope is not None else scope(req)
    if claimed is None and call.op is not None and call.op.service_name == "s3":
        return ANONYMOUS
    if claimed is not None and accepts_any_secret(claimed.access_key_id):
        found = server.policies.key(claimed.access_key_id)
        if found is not None:
            check_request_time(req, call.now)  # any secret, but the clock-skew window of every key
            return found.identity

    def lookup(key_id: str) -> Credential | None:
        found = server.policies.key(key_id)
        if found is None or not found.active:
            return None
        return Credential(key_id, found.secret, found.session_token, found.expiration, found.identity)

    verified = authenticate(req, lookup, call.now)
    subject = verified.credential.subject
    if not isinstance(subject, Identity):
        raise AuthFailure("unknown_key", "The security token included in the request is invalid.")
    return subject


