"""IAM unique ids and credentials: AIDA user, AROA role, AGPA group, ANPA policy, AKIA access key,
ASIA temporary key (spec §4.1)."""

from __future__ import annotations

import secrets
import string

_UPPER_ALNUM = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def unique_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(17))


def access_key_id(prefix: str = "AKIA") -> str:
    return prefix + "".join(secrets.choice(_UPPER_ALNUM) for _ in range(16))


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def session_token() -> str:
    return "IQoJb3JpZ2luX2VjE" + "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(300))
