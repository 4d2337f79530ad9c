"""S3's authentication condition keys, read from how the request was signed
(https://docs.aws.amazon.com/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html):

- `s3:authType`: `REST-HEADER` (Authorization header) or `REST-QUERY-STRING` (presigned URL);
- `s3:signatureversion`: `AWS` for Signature Version 2, `AWS4-HMAC-SHA256` for Signature Version 4;
- `s3:signatureAge`: milliseconds since the signature's date (X-Amz-Date, else Date); "In Signature Version
  2, this value is always set to 0";
- `s3:x-amz-content-sha256`: the `x-amz-content-sha256` header of a header-signed SigV4 request (the key
  does not read the query-string parameter); `UNSIGNED-PAYLOAD` for a presigned SigV4 URL, whose payload
  is never signed (S3 on Outposts documents the same key: "Presigned URLs always have an UNSIGNED_PAYLOAD").

An unsigned (anonymous) request has none of them. They are computed for S3 requests only: the same keys of
an S3 action authorized inside another service's call (a request lambdaperm makes for the caller) are
unknown, and the authorizer treats them as unsupplied.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lambdaperm.authn.parse import SignedParts, V2Parts, parse
from lambdaperm.protocol import HttpRequest

Keys = dict[str, tuple[str, ...]]


def _signed_at(parts: SignedParts) -> datetime | None:
    try:
        if parts.amz_date:
            return datetime.strptime(parts.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if parts.http_date:
            moment = parsedate_to_datetime(parts.http_date)
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except (ValueError, TypeError):
        return None
    return None


def s3_transport_keys(req: HttpRequest, now: datetime) -> Keys:
    """The S3 authentication keys of an (already authenticated) request."""
    parts = parse(req)
    if parts is None:
        return {}
    keys: Keys = {"s3:authtype": ("REST-QUERY-STRING" if parts.scope.presigned else "REST-HEADER",)}
    if isinstance(parts, V2Parts):
        keys["s3:signatureversion"] = ("AWS",)
        keys["s3:signatureage"] = ("0",)
        return keys
    keys["s3:signatureversion"] = ("AWS4-HMAC-SHA256",)
    signed = _signed_at(parts)
    if signed is not None:
        keys["s3:signatureage"] = (str(max(0, int((now - signed).total_seconds() * 1000))),)
    if parts.scope.presigned:
        keys["s3:x-amz-content-sha256"] = ("UNSIGNED-PAYLOAD",)
    else:
        header = req.header("x-amz-content-sha256")
        if header:
            keys["s3:x-amz-content-sha256"] = (header,)
    return keys
