"""PutObjectRetention cannot weaken the retention an object version already has, as in S3.

S3 Object Lock (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes):

- COMPLIANCE: "a protected object version can't be overwritten or deleted by any user, including the root user
  ... its retention mode can't be changed, and its retention period can't be shortened."
- GOVERNANCE: "To override or remove governance-mode retention settings, you must have the
  s3:BypassGovernanceRetention permission and must explicitly include `x-amz-bypass-governance-retention:true`
  as a request header with any request that requires overriding governance mode."
- Either mode: a retention period can be extended ("submit a new Object Lock request for the object version with
  a Retain Until Date that's later than the one currently configured",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-periods).
- A retention whose date has passed protects nothing.

S3 refuses what weakens a protection with 403 AccessDenied ("Access Denied"),
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html.

moto 5.2.1's `put_object_retention` overwrites the version's mode and date whatever they were (review round 10):
a COMPLIANCE version was shortened and deleted at once. So the version's current retention is read from the
embedded backend before the call executes — under the object hold (`gateway/object_holds.py`: PutObjectRetention
holds its key exclusively from authorization to execution, so nothing changes it in between) — and a weakening
is refused here. With the bypass header a GOVERNANCE retention may be weakened (the catalog then requires
s3:BypassGovernanceRetention); lambdaperm refuses that header on PutObjectRetention anyway, 501 before this
check (`unexecuted_parameters`), since moto cannot tell a bypass from none.

What is a weakening: no mode or date (removal); a date earlier than the current one; for COMPLIANCE, another
mode. GOVERNANCE → COMPLIANCE with a date not earlier shortens nothing and is served.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.timestamps import ISO8601, parse_timestamp

_MODES = frozenset({"GOVERNANCE", "COMPLIANCE"})


def _denied() -> ServiceError:
    return ServiceError("AccessDenied", "Access Denied", 403)


def _current(params: Mapping[str, Any]) -> tuple[str, datetime] | None:
    """The (mode, retain-until) the named version holds in the embedded backend, or None (no retention, or the
    bucket/key/version is missing: the backend answers that as S3)."""
    from moto.s3.models import s3_backends

    bucket, key = str(params.get("Bucket", "")), str(params.get("Key", ""))
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account = owner
    backend = s3_backends[account][partition]
    if bucket not in backend.buckets:
        return None
    version = params.get("VersionId")
    found = backend.get_object(bucket, key, version_id=None if version is None else str(version))
    mode, until = getattr(found, "lock_mode", None), getattr(found, "lock_until", None)
    if mode not in _MODES or not until:
        return None
    try:
        return str(mode), parse_timestamp(until, ISO8601)
    except BadInput:  # a date we cannot read: treat the version as protected for ever (fail closed)
        return str(mode), datetime.max.replace(tzinfo=UTC)


def check(service: str, operation: str, params: Mapping[str, Any], now: datetime) -> None:
    """403 AccessDenied when a PutObjectRetention would shorten, remove or (COMPLIANCE) change the mode of the
    named version's retention while it is in force, as S3 refuses it."""
    if (service, operation) != ("s3", "PutObjectRetention"):
        return
    current = _current(params)
    if current is None:
        return
    mode, until = current
    if until <= now:
        return  # expired: protects nothing
    retention = params.get("Retention")
    new_mode = retention.get("Mode") if isinstance(retention, Mapping) else None
    new_until = retention.get("RetainUntilDate") if isinstance(retention, Mapping) else None
    keeps = new_mode in _MODES and isinstance(new_until, datetime) and new_until >= until
    if mode == "COMPLIANCE" and not (keeps and new_mode == "COMPLIANCE"):
        raise _denied()
    if mode == "GOVERNANCE" and not keeps and params.get("BypassGovernanceRetention") is not True:
        raise _denied()
