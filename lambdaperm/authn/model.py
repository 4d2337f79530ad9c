"""The credential a key resolves to, the result of a successful authentication, and the checks on the
credential itself (session token, expiry) that every signature version shares."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from lambdaperm.authn.errors import (
    EXPIRED_TOKEN,
    INVALID_TOKEN,
    MSG_EXPIRED_TOKEN,
    MSG_INVALID_TOKEN,
    AuthFailure,
)
from lambdaperm.authn.parse import Scope


@dataclass(frozen=True, slots=True)
class Credential:
    """What `lookup(access_key_id)` returns: the secret, the session token a temporary key must present,
    its expiry, and whatever the gateway needs to know who this is (`subject`)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expiration: datetime | None = None
    subject: object = None


@dataclass(frozen=True, slots=True)
class Verified:
    """An authenticated request: its scope, the credential that signed it, and the payload (decoded from
    aws-chunked when the body was chunked; the body otherwise)."""

    scope: Scope
    credential: Credential
    payload: bytes
    trailers: tuple[tuple[str, str], ...] = ()


Lookup = Callable[[str], Credential | None]


def aware(moment: datetime) -> datetime:
    """`moment` with a time zone (naive datetimes are taken as UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_credential(credential: Credential, given_token: str | None, now: datetime) -> None:
    """The request's session token must be the credential's (both absent for long-term keys), and the
    credential must not have expired."""
    expected = credential.session_token
    if (expected is None) != (given_token is None) or (
        expected is not None
        and given_token is not None
        and not hmac.compare_digest(expected.encode(), given_token.encode())
    ):
        raise AuthFailure(INVALID_TOKEN, MSG_INVALID_TOKEN)
    if credential.expiration is not None and aware(credential.expiration) < now:
        raise AuthFailure(EXPIRED_TOKEN, MSG_EXPIRED_TOKEN)
