"""Reading the authentication parameters of a request, without verifying anything: the SigV4
`Authorization` header (`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`) or presigned query
(`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`,
`X-Amz-Signature`, `X-Amz-Security-Token`), and S3's Signature Version 2 (`Authorization: AWS AKID:sig`,
or `AWSAccessKeyId`/`Signature`/`Expires` in the query). Malformed input raises
`AuthFailure("malformed", …)` with AWS's wording (the query/JSON services' text, and S3's own in
`AuthFailure.s3`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from lambdaperm.authn.canonical import ALGORITHM, RAW_PATH_SERVICES, query_pairs
from lambdaperm.authn.errors import MALFORMED, AuthFailure
from lambdaperm.protocol.http import HttpRequest

PRESIGN_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")
_S3_CREDENTIAL_SHAPE = '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"'
_S3_PRESIGN_REQUIRES = (
    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
    "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
_S3_ONE_MECHANISM = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string "
    "parameter or the Authorization header should be specified"
)


@dataclass(frozen=True, slots=True)
class Scope:
    """Who claims to sign and for what, as read from the request (not verified)."""

    access_key_id: str
    date: str  # YYYYMMDD, from the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    presigned: bool


@dataclass(frozen=True, slots=True)
class SignedParts:
    """Everything `verify` needs from the request's authentication parameters."""

    scope: Scope
    terminator: str
    signature: str
    amz_date: str | None  # X-Amz-Date (header, or query when presigned), verbatim
    http_date: str | None  # the Date header, used only without X-Amz-Date
    expires: str | None  # X-Amz-Expires, presigned only
    security_token: str | None
    content_sha256: str | None  # x-amz-content-sha256 header (or X-Amz-Content-Sha256 query when presigned)

    @property
    def credential_scope(self) -> str:
        s = self.scope
        return f"{s.date}/{s.region}/{s.service}/{self.terminator}"


@dataclass(frozen=True, slots=True)
class V2Parts:
    """S3's Signature Version 2 (HMAC-SHA1): `Authorization: AWS AKID:signature`, or a presigned query
    (`AWSAccessKeyId`, `Signature`, `Expires`) as botocore writes by default for S3 in us-east-1."""

    scope: Scope
    signature: str
    expires: int | None  # presigned: seconds since the epoch
    security_token: str | None


def malformed(message: str, s3: tuple[int, str, str] | None = None) -> AuthFailure:
    return AuthFailure(MALFORMED, message, s3=s3 or (400, "AuthorizationHeaderMalformed", message))


def _query_params(req: HttpRequest) -> dict[str, str]:
    """Decoded query parameters (the first of repeated names; `+` stays a plus, as SigV4 treats it)."""
    params: dict[str, str] = {}
    for name, value in query_pairs(req.query_string):
        params.setdefault(unquote(name), unquote(value))
    return params


def parse(req: HttpRequest) -> SignedParts | V2Parts | None:
    """The signature parameters of `req`, or None when it carries no authentication at all."""
    authorization = req.header("authorization")
    params = _query_params(req)
    presign = any(name in params for name in PRESIGN_PARAMS)
    v2_query = "AWSAccessKeyId" in params or ("Signature" in params and "Expires" in params)
    if authorization is not None and (presign or v2_query):
        raise malformed(_S3_ONE_MECHANISM, (400, "InvalidArgument", _S3_ONE_MECHANISM))
    if authorization is not None:
        if authorization.startswith("AWS "):
            return _parse_v2_header(req, authorization)
        return _parse_header(req, authorization)
    if presign:
        return _parse_query(req, params)
    if v2_query:
        return _parse_v2_query(params)
    return None


def _v2_scope(akid: str, moment: datetime, presigned: bool) -> Scope:
    return Scope(akid, moment.astimezone(UTC).strftime("%Y%m%d"), "us-east-1", "s3", (), presigned)


def _parse_v2_header(req: HttpRequest, authorization: str) -> V2Parts:
    akid, sep, signature = authorization[4:].strip().rpartition(":")
    if not sep or not akid or not signature:
        message = "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature"
        raise malformed(message, (400, "InvalidArgument", message))
    date = req.header("x-amz-date") or req.header("date")
    try:
        moment = parsedate_to_datetime(date or "")
    except (TypeError, ValueError, IndexError, OverflowError):
        message = "AWS authentication requires a valid Date or x-amz-date header"
        raise malformed(message, (403, "AccessDenied", message)) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return V2Parts(_v2_scope(akid, moment, False), signature, None, req.header("x-amz-security-token"))


def _parse_v2_query(params: dict[str, str]) -> V2Parts:
    if not all(params.get(name) for name in ("AWSAccessKeyId", "Signature", "Expires")):
        message = "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"
        raise malformed(message, (403, "AccessDenied", message))
    if not re.fullmatch(r"\d{1,10}", params["Expires"], flags=re.ASCII):
        message = f"Invalid date (should be seconds since epoch): {params['Expires']}"
        raise malformed(message, (403, "AccessDenied", message))
    expires = int(params["Expires"])
    scope = _v2_scope(params["AWSAccessKeyId"], datetime.fromtimestamp(expires, UTC), True)
    return V2Parts(scope, params["Signature"], expires, params.get("x-amz-security-token"))


def _split_credential(credential: str) -> tuple[str, str, str, str, str] | None:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts[:4]):
        return None
    return parts[0], parts[1], parts[2], parts[3], parts[4]


def _signed_header_names(value: str) -> tuple[str, ...]:
    return tuple(name for name in value.split(";") if name)


def _parse_header(req: HttpRequest, authorization: str) -> SignedParts:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm.startswith("AWS4-") and algorithm != ALGORITHM:
        message = f"Unsupported AWS 'algorithm': '{algorithm}'"
        raise malformed(message, (400, "InvalidArgument", "Unsupported Authorization Type"))
    fields: dict[str, str] = {}
    if algorithm == ALGORITHM:
        for component in re.split(r"[,\s]+", rest.strip(), flags=re.ASCII):
            name, sep, value = component.partition("=")
            if sep:
                fields.setdefault(name, value)
    amz_date, http_date = req.header("x-amz-date"), req.header("date")
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not fields.get(name)
    ]
    if amz_date is None and http_date is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        message = " ".join([*problems, f"Authorization={authorization}"])
        if algorithm != ALGORITHM:
            s3: tuple[int, str, str] = (400, "InvalidArgument", "Unsupported Authorization Type")
        elif len(problems) == 1 and amz_date is None and http_date is None:
            s3 = (403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header")
        else:
            s3 = (
                400,
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; the authorization header requires three components: "
                "Credential, SignedHeaders, and Signature.",
            )
        raise malformed(message, s3)
    credential = fields["Credential"]
    parts = _split_credential(credential)
    if parts is None:
        raise malformed(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{credential}'",
            (
                400,
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; the Credential is mal-formed; expecting "
                f"{_S3_CREDENTIAL_SHAPE}.",
            ),
        )
    akid, date, region, service, terminator = parts
    return SignedParts(
        scope=Scope(akid, date, region, service, _signed_header_names(fields["SignedHeaders"]), False),
        terminator=terminator,
        signature=fields["Signature"],
        amz_date=amz_date,
        http_date=http_date,
        expires=None,
        security_token=req.header("x-amz-security-token"),
        content_sha256=req.header("x-amz-content-sha256"),
    )


def _parse_query(req: HttpRequest, params: dict[str, str]) -> SignedParts:
    required = (
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
    )
    credential = params.get("X-Amz-Credential", "")
    parts = _split_credential(credential)
    is_s3 = parts is not None and parts[3] in RAW_PATH_SERVICES
    missing = [name for name in required if not params.get(name)]
    if is_s3 and not params.get("X-Amz-Expires"):
        missing.append("X-Amz-Expires")
    if missing:
        message = " ".join(f"AWS query-string parameters must include '{name}'." for name in missing)
        raise malformed(
            f"{message} Re-examine the query-string parameters.",
            (400, "AuthorizationQueryParametersError", _S3_PRESIGN_REQUIRES),
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        message = f"Unsupported AWS 'algorithm': '{params['X-Amz-Algorithm']}'"
        s3_message = f'X-Amz-Algorithm only supports "{ALGORITHM}"'
        raise malformed(message, (400, "AuthorizationQueryParametersError", s3_message))
    if parts is None:
        raise malformed(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{credential}'",
            (
                400,
                "AuthorizationQueryParametersError",
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "
                f"{_S3_CREDENTIAL_SHAPE}.",
            ),
        )
    akid, date, region, service, terminator = parts
    return SignedParts(
        scope=Scope(akid, date, region, service, _signed_header_names(params["X-Amz-SignedHeaders"]), True),
        terminator=terminator,
        signature=params["X-Amz-Signature"],
        amz_date=params["X-Amz-Date"],
        http_date=None,
        expires=params.get("X-Amz-Expires"),
        security_token=params.get("X-Amz-Security-Token"),
        content_sha256=req.header("x-amz-content-sha256") or params.get("X-Amz-Content-Sha256"),
    )


def scope(req: HttpRequest) -> Scope | None:
    """The credential scope the request claims, read without verifying; None when it is not signed.
    Raises `AuthFailure` ("malformed") for a SigV4 header or presigned query that cannot be read."""
    parts = parse(req)
    return None if parts is None else parts.scope
