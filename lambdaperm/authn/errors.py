"""Authentication failures and how each protocol renders them (spec §4.3).

`AuthFailure.kind` is one of `KINDS`. The gateway turns a failure into the wire error with
`render(failure, protocol)`, where `protocol` is the botocore service-model protocol of the service the
request was for (`query`, `ec2`, `json`, `rest-json`, `rest-xml`, `smithy-rpc-v2-cbor`).
"""

from __future__ import annotations

from typing import Final

MISSING: Final = "missing"
UNKNOWN_KEY: Final = "unknown_key"
BAD_SIGNATURE: Final = "bad_signature"
INVALID_TOKEN: Final = "invalid_token"
EXPIRED_TOKEN: Final = "expired_token"
SKEW: Final = "skew"
EXPIRED_PRESIGN: Final = "expired_presign"
MALFORMED: Final = "malformed"
PAYLOAD_MISMATCH: Final = "payload_mismatch"

KINDS: Final = (
    MISSING,
    UNKNOWN_KEY,
    BAD_SIGNATURE,
    INVALID_TOKEN,
    EXPIRED_TOKEN,
    SKEW,
    EXPIRED_PRESIGN,
    MALFORMED,
    PAYLOAD_MISMATCH,
)

# AWS's texts. [obs] = seen in AWS responses (spec §4.3 or public error reports), [unv] = best knowledge.
MSG_MISSING = "Request is missing Authentication Token"  # [obs] query/json services
MSG_INVALID_TOKEN = "The security token included in the request is invalid."  # [obs]
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"  # [obs]
MSG_BAD_SIGNATURE = (  # [obs]
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
S3_MSG_MISSING = "Access Denied"  # [obs]
S3_MSG_UNKNOWN_KEY = "The AWS Access Key Id you provided does not exist in our records."  # [obs]
S3_MSG_INVALID_TOKEN = "The provided token is malformed or otherwise invalid."  # [obs]
S3_MSG_EXPIRED_TOKEN = "The provided token has expired."  # [obs]
S3_MSG_BAD_SIGNATURE = (  # [obs]
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)
S3_MSG_SKEW = "The difference between the request time and the current time is too large."  # [obs]
S3_MSG_PAYLOAD_MISMATCH = (  # [obs]
    "The provided 'x-amz-content-sha256' header does not match what was computed."
)
S3_MSG_PRESIGN_EXPIRED = "Request has expired"  # [obs]
S3_MSG_PRESIGN_NOT_YET_VALID = "Request is not valid yet"  # [obs]
EC2_MSG_AUTH_FAILURE = "AWS was not able to validate the provided access credentials"  # [obs]


class AuthFailure(Exception):
    """A request that is not authenticated. `message` is the text AWS's query/JSON services give;
    `s3` is S3's own `(status, code, message)` where S3 answers differently from the `RENDERING` table
    (e.g. `AuthorizationQueryParametersError` for a bad presigned URL)."""

    def __init__(self, kind: str, message: str, *, s3: tuple[int, str, str] | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown authentication failure kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.s3 = s3

    def __repr__(self) -> str:
        return f"AuthFailure({self.kind!r}, {self.message!r})"


_USE_MESSAGE: Final = ""  # a table entry whose message is the failure's own (it carries request details)


def _table() -> dict[tuple[str, str], tuple[int, str, str]]:
    query = {
        MISSING: (403, "MissingAuthenticationToken", MSG_MISSING),
        UNKNOWN_KEY: (403, "InvalidClientTokenId", MSG_INVALID_TOKEN),
        INVALID_TOKEN: (403, "InvalidClientTokenId", MSG_INVALID_TOKEN),
        BAD_SIGNATURE: (403, "SignatureDoesNotMatch", _USE_MESSAGE),
        EXPIRED_TOKEN: (403, "ExpiredToken", MSG_EXPIRED_TOKEN),
        SKEW: (403, "SignatureDoesNotMatch", _USE_MESSAGE),
        EXPIRED_PRESIGN: (403, "SignatureDoesNotMatch", _USE_MESSAGE),
        MALFORMED: (400, "IncompleteSignature", _USE_MESSAGE),
        PAYLOAD_MISMATCH: (403, "SignatureDoesNotMatch", _USE_MESSAGE),
    }
    # EC2 [unv except the AuthFailure text]: AuthFailure for a key it does not know, RequestExpired for skew.
    ec2 = dict(query)
    ec2[UNKNOWN_KEY] = (401, "AuthFailure", EC2_MSG_AUTH_FAILURE)
    ec2[INVALID_TOKEN] = (401, "AuthFailure", EC2_MSG_AUTH_FAILURE)
    ec2[SKEW] = (400, "RequestExpired", _USE_MESSAGE)
    # A known key with the wrong secret: EC2 answers as for an unknown key, AuthFailure/401 (issue 8 §5, observed
    # by an AWS-verified suite), not the query services' SignatureDoesNotMatch/403.
    ec2[BAD_SIGNATURE] = (401, "AuthFailure", EC2_MSG_AUTH_FAILURE)
    ec2[PAYLOAD_MISMATCH] = (401, "AuthFailure", EC2_MSG_AUTH_FAILURE)
    rest_json = {
        MISSING: (403, "MissingAuthenticationTokenException", MSG_MISSING),
        UNKNOWN_KEY: (403, "UnrecognizedClientException", MSG_INVALID_TOKEN),
        INVALID_TOKEN: (403, "UnrecognizedClientException", MSG_INVALID_TOKEN),
        BAD_SIGNATURE: (403, "InvalidSignatureException", _USE_MESSAGE),
        EXPIRED_TOKEN: (403, "ExpiredTokenException", MSG_EXPIRED_TOKEN),
        SKEW: (403, "InvalidSignatureException", _USE_MESSAGE),
        EXPIRED_PRESIGN: (403, "InvalidSignatureException", _USE_MESSAGE),
        MALFORMED: (403, "IncompleteSignatureException", _USE_MESSAGE),
        PAYLOAD_MISMATCH: (403, "InvalidSignatureException", _USE_MESSAGE),
    }
    # JSON 1.0/1.1 (DynamoDB, Logs, CloudTrail, SQS-json): the same codes with 400.
    json_ = {kind: (400, code, message) for kind, (_, code, message) in rest_json.items()}
    rest_xml = {
        MISSING: (403, "AccessDenied", S3_MSG_MISSING),
        UNKNOWN_KEY: (403, "InvalidAccessKeyId", S3_MSG_UNKNOWN_KEY),
        INVALID_TOKEN: (400, "InvalidToken", S3_MSG_INVALID_TOKEN),
        BAD_SIGNATURE: (403, "SignatureDoesNotMatch", S3_MSG_BAD_SIGNATURE),
        EXPIRED_TOKEN: (400, "ExpiredToken", S3_MSG_EXPIRED_TOKEN),
        SKEW: (403, "RequestTimeTooSkewed", S3_MSG_SKEW),
        EXPIRED_PRESIGN: (403, "AccessDenied", _USE_MESSAGE),
        MALFORMED: (400, "AuthorizationHeaderMalformed", _USE_MESSAGE),
        PAYLOAD_MISMATCH: (400, "XAmzContentSHA256Mismatch", S3_MSG_PAYLOAD_MISMATCH),
    }
    table: dict[tuple[str, str], tuple[int, str, str]] = {}
    for protocol, rows in (
        ("query", query),
        ("ec2", ec2),
        ("json", json_),
        ("smithy-rpc-v2-cbor", json_),
        ("rest-json", rest_json),
        ("rest-xml", rest_xml),
    ):
        for kind, row in rows.items():
            table[(kind, protocol)] = row
    return table


RENDERING: Final[dict[tuple[str, str], tuple[int, str, str]]] = _table()
"""(kind, protocol) -> (HTTP status, error code, message); an empty message means "the failure's own"."""

PROTOCOLS: Final = tuple(sorted({protocol for _, protocol in RENDERING}))


def render(failure: AuthFailure, protocol: str) -> tuple[int, str, str]:
    """The wire error `(status, code, message)` for `failure` in `protocol` (unknown protocols render as
    `query`)."""
    if protocol == "rest-xml" and failure.s3 is not None:
        return failure.s3
    status, code, message = RENDERING.get((failure.kind, protocol)) or RENDERING[(failure.kind, "query")]
    return status, code, message or failure.message
