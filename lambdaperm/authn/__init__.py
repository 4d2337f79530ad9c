"""SigV4 authentication of incoming requests (docs/endpoint-contract.md, "authn"; spec §4.3).

- `scope(req)` reads who claims to sign (credential scope, signed headers) without verifying anything.
- `verify(req, lookup, now)` checks the signature with the secret `lookup` returns, plus session token,
  credential expiry, clock skew and presigned-URL expiry; `authenticate` does the same and also returns
  the credential and the payload (decoded when S3's aws-chunked encoding was used).
- Failures raise `AuthFailure(kind, message)`; `render(failure, protocol)` gives the wire error from the
  per-protocol table `RENDERING`.

Standard library only: the canonical request is built here from the request as received, and the tests
compare it byte for byte with the one botocore signs.
"""

from lambdaperm.authn.errors import KINDS, PROTOCOLS, RENDERING, AuthFailure, render
from lambdaperm.authn.model import Credential, Lookup, Verified
from lambdaperm.authn.parse import Scope, scope
from lambdaperm.authn.verify import (
    DEFAULT_MAX_SKEW,
    SERVICE_MAX_SKEW,
    authenticate,
    canonical_request_of,
    check_request_time,
    max_skew_for,
    verify,
)

__all__ = [
    "DEFAULT_MAX_SKEW",
    "KINDS",
    "PROTOCOLS",
    "RENDERING",
    "SERVICE_MAX_SKEW",
    "AuthFailure",
    "Credential",
    "Lookup",
    "Scope",
    "Verified",
    "authenticate",
    "canonical_request_of",
    "check_request_time",
    "max_skew_for",
    "render",
    "scope",
    "verify",
]
