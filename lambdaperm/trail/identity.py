"""The `userIdentity` element of a CloudTrail record: one shape per caller type, keys in AWS's order.

https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html

Shapes (spec §5, checked against AWS's documented and published records):
- IAMUser: type, principalId (AIDA…), arn, accountId, accessKeyId, userName. Temporary credentials of
  a user (GetSessionToken, console) add `sessionContext` with an empty `sessionIssuer`.
- AssumedRole: type, principalId (AROA…:session), arn (sts assumed-role, no path), accountId,
  accessKeyId (ASIA…), sessionContext {sessionIssuer {type Role, principalId, arn, accountId, userName},
  webIdFederationData {}, attributes {creationDate, mfaAuthenticated "true"|"false"}}.
- FederatedUser (GetFederationToken): like AssumedRole, the issuer is the IAM user or root; AWS's
  published FederatedUser records carry no `webIdFederationData`.
- Root: type, principalId (the account ID), arn (…:root), accountId, accessKeyId when keys were used,
  userName only when the account has an alias.
- AWSService: {"type": "AWSService", "invokedBy": "<service>.amazonaws.com"} and nothing else.
- AWSAccount (another account, e.g. cross-account AssumeRole): type, principalId, accountId.
- Anonymous requests (S3): AWS logs them as {"type": "AWSAccount", "principalId": "",
  "accountId": "anonymous"} (observed in S3 data events, eventVersion 1.10/1.11).
- Unknown: "an identity type that CloudTrail can't determine"; only the fields that are known.
`invokedBy` follows the other fields when a service made the request with the caller's credentials
(forward access sessions, service roles).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from .errors import TrailError

IdentityKind = Literal[
    "IAMUser", "AssumedRole", "Root", "AWSService", "AWSAccount", "FederatedUser", "Unknown", "Anonymous",
]
IDENTITY_KINDS: tuple[str, ...] = (
    "IAMUser", "AssumedRole", "Root", "AWSService", "AWSAccount", "FederatedUser", "Unknown", "Anonymous",
)
ANONYMOUS_IDENTITY: dict[str, Any] = {"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}
_ISSUER_KEYS = ("type", "principalId", "arn", "accountId", "userName")


def user_identity(
    *,
    kind: IdentityKind | str,
    arn: str,
    account_id: str,
    principal_id: str,
    access_key_id: str | None = None,
    user_name: str | None = None,
    session_issuer: Mapping[str, str] | None = None,
    session_created: datetime | None = None,
    mfa_authenticated: bool = False,
    invoked_by: str | None = None,
    service_name: str | None = None,
) -> dict[str, Any]:
    """The `userIdentity` dict for one caller. `kind` is the CloudTrail `type` (or `Anonymous`).

    `session_issuer` (dict: type, principalId, arn, accountId, userName) and `session_created` are
    required for AssumedRole and FederatedUser; an IAMUser or Root with `session_created` gets a
    session context with an empty issuer. AWSService takes its name from `service_name` or `invoked_by`.
    """
    match kind:
        case "IAMUser":
            out = _base("IAMUser", principal_id, arn, account_id)
            _put(out, "accessKeyId", access_key_id)
            out["userName"] = user_name if user_name is not None else arn.rsplit("/", 1)[-1]
            if session_created is not None:
                out["sessionContext"] = _session_context({}, session_created, mfa_authenticated, web_id=True)
        case "AssumedRole":
            out = _base("AssumedRole", principal_id, arn, account_id)
            _put(out, "accessKeyId", access_key_id)
            issuer = _issuer(kind, session_issuer)
            out["sessionContext"] = _session_context(
                issuer, _required(kind, session_created), mfa_authenticated, web_id=True)
        case "FederatedUser":
            out = _base("FederatedUser", principal_id, arn, account_id)
            _put(out, "accessKeyId", access_key_id)
            issuer = _issuer(kind, session_issuer)
            out["sessionContext"] = _session_context(
                issuer, _required(kind, session_created), mfa_authenticated, web_id=False)
        case "Root":
            root_arn = arn or f"arn:aws:iam::{account_id}:root"
            out = _base("Root", principal_id or account_id, root_arn, account_id)
            _put(out, "accessKeyId", access_key_id)
            _put(out, "userName", user_name)
            if session_created is not None:
                out["sessionContext"] = _session_context({}, session_created, mfa_authenticated, web_id=True)
        case "AWSService":
            service = service_name or invoked_by
            if not service:
                raise TrailError("an AWSService identity needs service_name (e.g. 's3.amazonaws.com')")
            return {"type": "AWSService", "invokedBy": service}
        case "AWSAccount":
            out = {"type": "AWSAccount", "principalId": principal_id, "accountId": account_id}
            _put(out, "accessKeyId", access_key_id)
        case "Anonymous":
            return dict(ANONYMOUS_IDENTITY)
        case "Unknown":
            out = {"type": "Unknown"}
            for key, value in (("principalId", principal_id), ("arn", arn), ("accountId", account_id),
                               ("accessKeyId", access_key_id), ("userName", user_name)):
                if value:
                    out[key] = value
        case _:
            raise TrailError(f"unknown userIdentity kind {kind!r}; "
                             f"expected one of {', '.join(IDENTITY_KINDS)}")
    _put(out, "invokedBy", invoked_by)
    return out


def iso_seconds(when: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ` in UTC, the form of eventTime and sessionContext.attributes.creationDate.
    A naive datetime is rejected: the trail never guesses a time zone."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise TrailError(f"time {when.isoformat()} has no time zone; pass an aware datetime (UTC)")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base(kind: str, principal_id: str, arn: str, account_id: str) -> dict[str, Any]:
    return {"type": kind, "principalId": principal_id, "arn": arn, "accountId": account_id}


def _put(out: dict[str, Any], key: str, value: object) -> None:
    if value is not None:
        out[key] = value


def _required(kind: str, created: datetime | None) -> datetime:
    if created is None:
        raise TrailError(f"a {kind} identity needs session_created (when its credentials were issued)")
    return created


def _issuer(kind: str, issuer: Mapping[str, str] | None) -> dict[str, str]:
    if issuer is None:
        raise TrailError(f"a {kind} identity needs session_issuer "
                         "(type, principalId, arn, accountId, userName)")
    missing = [k for k in _ISSUER_KEYS if k not in issuer]
    extra = sorted(set(issuer) - set(_ISSUER_KEYS))
    if missing or extra:
        raise TrailError(f"session_issuer must have exactly {', '.join(_ISSUER_KEYS)}; "
                         f"missing {missing or 'none'}, unexpected {extra or 'none'}")
    return {k: issuer[k] for k in _ISSUER_KEYS}


def _session_context(issuer: dict[str, str], created: datetime, mfa: bool, *, web_id: bool) -> dict[str, Any]:
    context: dict[str, Any] = {"sessionIssuer": issuer}
    if web_id:
        context["webIdFederationData"] = {}
    context["attributes"] = {
        "creationDate": iso_seconds(created),
        "mfaAuthenticated": "true" if mfa else "false",
    }
    return context
