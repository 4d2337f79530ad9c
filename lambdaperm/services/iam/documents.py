"""Policy documents on their way in (validated by the engine, with IAM's errors and quotas) and out
(URL-encoded JSON, which botocore decodes)."""

from __future__ import annotations

import json
from urllib.parse import quote

from lambdaperm.policy import MalformedPolicyDocument, PolicyError, PolicySizeExceeded, PolicyType, parse_policy

from .errors import limit_exceeded, malformed

MANAGED_POLICY_QUOTA = 6144
TRUST_POLICY_QUOTA = 2048
INLINE_QUOTAS = {"user": 2048, "group": 5120, "role": 10240}


def validate(text: object, ptype: PolicyType, *, max_size: int | None = None, managed: bool = False) -> str:
    """Check a document as IAM does; returns its text. MalformedPolicyDocument / LimitExceeded on failure.

    `managed`: a customer managed policy (CreatePolicy, CreatePolicyVersion), which must say
    `"Version": "2012-10-17"` (docs/fidelity.md, "Issue 8 §5: policy grammar")."""
    if not isinstance(text, str):
        raise malformed("Syntax errors in policy.")
    try:
        parse_policy(text, ptype, max_size=max_size, managed=managed)
    except PolicySizeExceeded as err:
        raise limit_exceeded(err.message) from None
    except MalformedPolicyDocument as err:
        raise malformed(err.message) from None
    except PolicyError as err:
        raise malformed(err.message) from None
    return text


def size_without_whitespace(text: str) -> int:
    return len(json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False))


def encoded(text: str) -> str:
    """IAM returns documents URL-encoded (botocore's json_decode_policies turns them back into dicts)."""
    return quote(text, safe="")
