"""SigV4 verification: recompute the signature from the request as received and compare it in constant
time with the one the client sent (S3 Signature Version 2 requests go to `sigv2`).

The checks, in order (the first that fails raises `AuthFailure`):
1. readable authentication (`malformed`), present at all (`missing`); a readable date whose day is the
   credential scope's (`bad_signature`, S3: `malformed`); `host` signed, and for S3 every x-amz-* header
   signed (`malformed`);
2. the access key is known (`unknown_key`); the session token is the credential's (`invalid_token`);
   the credential has not expired (`expired_token`);
3. the request time: within the service's clock-skew allowance of `now` (`skew`); for S3 presigned URLs
   instead `X-Amz-Date + X-Amz-Expires` not passed and `X-Amz-Date` not more than 15 min ahead
   (`expired_presign`; other services ignore X-Amz-Expires and apply the skew window, as STS does);
4. the signature (`bad_signature`);
5. the payload: a declared `x-amz-content-sha256` equals the body's hash (`payload_mismatch` for S3,
   `bad_signature` elsewhere); aws-chunked bodies decode and, when signed, every chunk signature chains
   from the seed (`bad_signature`).
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from lambdaperm.authn import canonical as cr
from lambdaperm.authn.chunked import ChunkSigner, decode
from lambdaperm.authn.errors import (
    BAD_SIGNATURE,
    EXPIRED_PRESIGN,
    MISSING,
    MSG_BAD_SIGNATURE,
    MSG_INVALID_TOKEN,
    MSG_MISSING,
    PAYLOAD_MISMATCH,
    S3_MSG_PAYLOAD_MISMATCH,
    S3_MSG_PRESIGN_EXPIRED,
    S3_MSG_PRESIGN_NOT_YET_VALID,
    SKEW,
    UNKNOWN_KEY,
    AuthFailure,
)
from lambdaperm.authn.model import Credential, Lookup, Verified, aware, check_credential
from lambdaperm.authn.parse import Scope, SignedParts, V2Parts, malformed, parse
from lambdaperm.authn.sigv2 import authenticate_v2
from lambdaperm.protocol.http import HttpRequest

DEFAULT_MAX_SKEW = timedelta(minutes=5)
# Spec §4.3: Lambda allows 5 minutes; STS (query) and DynamoDB (JSON) 15; S3 15 (RequestTimeTooSkewed).
SERVICE_MAX_SKEW: dict[str, timedelta] = {
    service: timedelta(minutes=15)
    for service in ("iam", "sts", "sqs", "sns", "ec2", "dynamodb", "logs", "cloudtrail", "s3", "s3express")
}
S3_PRESIGN_FUTURE_LIMIT = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 604800
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z", re.ASCII)
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def max_skew_for(service: str) -> timedelta:
    return SERVICE_MAX_SKEW.get(service, DEFAULT_MAX_SKEW)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _is_s3(parts: SignedParts) -> bool:
    return parts.scope.service in cr.RAW_PATH_SERVICES


def _request_time(parts: SignedParts) -> tuple[str, datetime]:
    """The signed timestamp (ISO 8601 basic, as it enters the string to sign) and its instant."""
    if parts.amz_date is not None:
        text = parts.amz_date.strip()
        if _AMZ_DATE.fullmatch(text):
            try:
                return text, _basic_iso(text)
            except ValueError:
                pass
        message = (
            f"Date must be in ISO-8601 'basic format'. Got '{parts.amz_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        )
        if parts.scope.presigned:
            s3_text = "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
            raise malformed(message, (400, "AuthorizationQueryParametersError", s3_text))
        raise malformed(
            message, (403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        )
    try:
        moment = aware(parsedate_to_datetime(parts.http_date or ""))
    except (TypeError, ValueError, IndexError, OverflowError):
        message = f"Date must be in ISO-8601 'basic format'. Got '{parts.http_date}'."
        raise malformed(
            message, (403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        ) from None
    return _stamp(moment), moment.astimezone(UTC)


def _check_scope_date(parts: SignedParts, stamp: str) -> None:
    if parts.scope.date == stamp[:8]:
        return
    message = (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
        f"'{parts.scope.date}' != '{stamp[:8]}', from '{stamp}'."
    )
    if not _is_s3(parts):
        raise AuthFailure(BAD_SIGNATURE, message)
    if parts.scope.presigned:
        s3_text = (
            f'Invalid credential date "{parts.scope.date}". '
            f'This date is not the same as X-Amz-Date: "{stamp[:8]}".'
        )
        raise malformed(message, (400, "AuthorizationQueryParametersError", s3_text))
    raise malformed(
        message,
        (
            400,
            "AuthorizationHeaderMalformed",
            "The authorization header is malformed; Invalid credential date. "
            "Date is not the same as X-Amz-Date.",
        ),
    )


def _check_signed_headers(req: HttpRequest, parts: SignedParts) -> None:
    """Host must be signed; S3 also refuses x-amz-* headers that are not signed (they could change what a
    presigned URL does, e.g. x-amz-acl)."""
    signed = {name.lower() for name in parts.scope.signed_headers}
    if "host" not in signed:
        message = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        raise malformed(message)
    if _is_s3(parts):
        unsigned = sorted(
            {name.lower() for name, _ in req.headers if name.lower().startswith("x-amz-")} - signed
        )
        if unsigned:
            message = "There were headers present in the request which were not signed"
            raise malformed(f"{message}: {', '.join(unsigned)}", (403, "AccessDenied", message))


def _check_time(parts: SignedParts, stamp: str, moment: datetime, now: datetime, max_skew: timedelta) -> None:
    if parts.scope.presigned and _is_s3(parts):
        expires = _presign_expires(parts)
        if moment - now > S3_PRESIGN_FUTURE_LIMIT:
            raise AuthFailure(EXPIRED_PRESIGN, S3_MSG_PRESIGN_NOT_YET_VALID)
        if now - moment > timedelta(seconds=expires):
            raise AuthFailure(EXPIRED_PRESIGN, S3_MSG_PRESIGN_EXPIRED)
        return
    if parts.scope.presigned:
        _presign_expires(parts)
    minutes = max_skew.total_seconds() / 60
    allowance = f"{int(minutes)} min" if minutes == int(minutes) else f"{int(max_skew.total_seconds())} sec"
    if moment < now - max_skew:
        raise AuthFailure(
            SKEW,
            f"Signature expired: {stamp} is now earlier than {_stamp(now - max_skew)} "
            f"({_stamp(now)} - {allowance}.)",
        )
    if moment > now + max_skew:
        raise AuthFailure(
            SKEW,
            f"Signature not yet current: {stamp} is still later than {_stamp(now + max_skew)} "
            f"({_stamp(now)} + {allowance}.)",
        )


def _presign_expires(parts: SignedParts) -> int:
    """X-Amz-Expires, which must be a number of seconds from 0 to a week (0 when absent)."""
    text = parts.expires
    if text is None:
        return 0
    code = "AuthorizationQueryParametersError"
    if not re.fullmatch(r"-?\d{1,12}", text.strip(), flags=re.ASCII):
        raise malformed("X-Amz-Expires should be a number", (400, code, "X-Amz-Expires should be a number"))
    seconds = int(text)
    if seconds < 0:
        raise malformed(
            "X-Amz-Expires must be non-negative", (400, code, "X-Amz-Expires must be non-negative")
        )
    if seconds > MAX_PRESIGN_EXPIRES:
        message = (
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be "
            f"less than {MAX_PRESIGN_EXPIRES} seconds"
        )
        raise malformed(message, (400, code, message))
    return seconds


def _payload_hash(parts: SignedParts, req: HttpRequest) -> str:
    """What the canonical request carries as the payload hash."""
    declared = parts.content_sha256
    if declared is None:
        if parts.scope.presigned and _is_s3(parts):
            return cr.UNSIGNED_PAYLOAD
        return cr.sha256_hex(req.body)
    declared = declared.strip()
    if _HEX_SHA256.fullmatch(declared):
        return declared
    streaming = (
        cr.UNSIGNED_PAYLOAD,
        cr.STREAMING_PAYLOAD,
        cr.STREAMING_PAYLOAD_TRAILER,
        cr.STREAMING_UNSIGNED_TRAILER,
    )
    if declared in streaming and _is_s3(parts):
        return declared
    message = (
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid "
        "sha256 value."
    )
    if not _is_s3(parts):
        message = (
            f"x-amz-content-sha256 {declared!r} is not supported for service "
            f"'{parts.scope.service}'; sign the payload."
        )
    raise malformed(message, (400, "InvalidArgument", message))


def authenticate(
    req: HttpRequest, lookup: Lookup, now: datetime, *, max_skew: timedelta | None = None
) -> Verified:
    """Verify `req`'s SigV4 signature (Authorization header or presigned URL) with the secret of
    `lookup(access_key_id)` at time `now`; see the module docstring for the checks. `max_skew` overrides
    the service's clock-skew allowance (`SERVICE_MAX_SKEW`, else `DEFAULT_MAX_SKEW`)."""
    now = aware(now).astimezone(UTC)
    parts = parse(req)
    if parts is None:
        raise AuthFailure(MISSING, MSG_MISSING)
    if isinstance(parts, V2Parts):
        return authenticate_v2(req, parts, lookup, now)
    stamp, moment = _request_time(parts)
    _check_scope_date(parts, stamp)
    if parts.terminator != cr.TERMINATOR:
        raise AuthFailure(
            BAD_SIGNATURE,
            "Credential should be scoped with a valid terminator: "
            f"'{cr.TERMINATOR}', not '{parts.terminator}'.",
        )
    _check_signed_headers(req, parts)
    scope = parts.scope
    credential = lookup(scope.access_key_id)
    if credential is None:
        raise AuthFailure(UNKNOWN_KEY, MSG_INVALID_TOKEN)
    check_credential(credential, parts.security_token, now)
    _check_time(parts, stamp, moment, now, max_skew if max_skew is not None else max_skew_for(scope.service))
    payload_hash = _payload_hash(parts, req)
    canonical = _canonical(req, parts, payload_hash)
    key = cr.signing_key(credential.secret_access_key, scope.date, scope.region, scope.service)
    expected = cr.signature(key, cr.string_to_sign(stamp, parts.credential_scope, canonical))
    if not hmac.compare_digest(expected.encode(), parts.signature.strip().encode()):
        raise AuthFailure(BAD_SIGNATURE, MSG_BAD_SIGNATURE)
    return _verified_payload(
        req, parts, credential, payload_hash, ChunkSigner(key, stamp, parts.credential_scope, expected)
    )


def check_request_time(req: HttpRequest, now: datetime, *, max_skew: timedelta | None = None) -> None:
    """The time checks of `authenticate` (step 1's readable date of the scope's day, step 3's clock skew or
    presigned-URL expiry) alone, for a key whose signature is not verified (a root key that accepts any
    secret): "the request must reach AWS within five minutes of the time stamp in the request" holds for every
    key (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html). A request
    without SigV4 authentication is left to the caller."""
    now = aware(now).astimezone(UTC)
    parts = parse(req)
    if parts is None or isinstance(parts, V2Parts):
        return
    stamp, moment = _request_time(parts)
    _check_scope_date(parts, stamp)
    _check_time(parts, stamp, moment, now, max_skew if max_skew is not None else max_skew_for(parts.scope.service))


def _verified_payload(
    req: HttpRequest, parts: SignedParts, credential: Credential, payload_hash: str, signer: ChunkSigner
) -> Verified:
    if _HEX_SHA256.fullmatch(payload_hash) and not hmac.compare_digest(
        payload_hash.lower(), cr.sha256_hex(req.body)
    ):
        if _is_s3(parts):
            raise AuthFailure(PAYLOAD_MISMATCH, S3_MSG_PAYLOAD_MISMATCH)
        raise AuthFailure(BAD_SIGNATURE, MSG_BAD_SIGNATURE)
    if payload_hash in (cr.STREAMING_PAYLOAD, cr.STREAMING_PAYLOAD_TRAILER, cr.STREAMING_UNSIGNED_TRAILER):
        signed = payload_hash != cr.STREAMING_UNSIGNED_TRAILER
        decoded = decode(
            req.body, signer if signed else None, signed_trailer=payload_hash == cr.STREAMING_PAYLOAD_TRAILER
        )
        declared = req.header("x-amz-decoded-content-length")
        if declared is not None and declared.strip() != str(len(decoded.data)):
            raise malformed(
                f"x-amz-decoded-content-length {declared.strip()} does not match "
                f"the {len(decoded.data)} bytes sent",
                (
                    400,
                    "IncompleteBody",
                    "You did not provide the number of bytes specified by the Content-Length HTTP header",
                ),
            )
        return Verified(parts.scope, credential, decoded.data, decoded.trailers)
    return Verified(parts.scope, credential, req.body)


def _canonical(req: HttpRequest, parts: SignedParts, payload_hash: str) -> str:
    return cr.canonical_request(
        method=req.method,
        raw_path=req.path,
        raw_query=req.query_string,
        headers=req.headers,
        signed_headers=parts.scope.signed_headers,
        payload_hash=payload_hash,
        service=parts.scope.service,
        presigned=parts.scope.presigned,
    )


def canonical_request_of(req: HttpRequest) -> str | None:
    """The SigV4 canonical request `verify` checks `req` against (None when it is not signed with SigV4):
    what S3 shows in a SignatureDoesNotMatch error, and what a client's debug log should show."""
    parts = parse(req)
    if parts is None or isinstance(parts, V2Parts):
        return None
    return _canonical(req, parts, _payload_hash(parts, req))


def verify(req: HttpRequest, lookup: Lookup, now: datetime, *, max_skew: timedelta | None = None) -> Scope:
    """`authenticate(...)`'s scope: the contract's entry point."""
    return authenticate(req, lookup, now, max_skew=max_skew).scope


def _basic_iso(text: str) -> datetime:
    """`YYYYMMDDTHHMMSSZ` (ISO 8601 basic format) without strptime, which is slow on the request path."""
    if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not (text[:8] + text[9:15]).isdigit():
        raise ValueError(f"not an ISO 8601 basic date: {text!r}")
    return datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]),
                    int(text[13:15]), tzinfo=UTC)
