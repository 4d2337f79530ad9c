"""S3's Signature Version 2 (Amazon S3 Developer Guide, "Signing and authenticating REST requests"),
which botocore still uses by default for S3 presigned URLs in the regions that accept it (us-east-1
among them) and for clients configured with `signature_version='s3'`.

StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n (Date | Expires) \\n CanonicalizedAmzHeaders
CanonicalizedResource; the signature is base64(HMAC-SHA1(secret, StringToSign)).

The canonicalized resource starts with the bucket even for virtual-hosted requests, and which leading
labels of the Host name are the bucket is not known here: every split of the host name is tried (each
candidate still needs the secret), plus the path as is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote

from lambdaperm.authn.canonical import query_pairs
from lambdaperm.authn.errors import (
    BAD_SIGNATURE,
    EXPIRED_PRESIGN,
    S3_MSG_BAD_SIGNATURE,
    S3_MSG_PRESIGN_EXPIRED,
    S3_MSG_SKEW,
    S3_MSG_UNKNOWN_KEY,
    SKEW,
    UNKNOWN_KEY,
    AuthFailure,
)
from lambdaperm.authn.model import Lookup, Verified, check_credential
from lambdaperm.authn.parse import V2Parts
from lambdaperm.protocol.http import HttpRequest

MAX_SKEW = timedelta(minutes=15)
# The query parameters that are part of the resource (sub-resources and response overrides).
SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory", "lifecycle",
        "location", "logging", "metrics", "notification", "object-lock", "partNumber", "policy",
        "replication", "requestPayment", "response-cache-control", "response-content-disposition",
        "response-content-encoding", "response-content-language", "response-content-type",
        "response-expires", "restore", "select", "select-type", "storageClass", "tagging", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website",
    }
)  # fmt: skip


def _headers(req: HttpRequest) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in req.headers:
        values.setdefault(name.lower(), []).append(value.strip())
    return values


def _subresources(raw_query: str) -> str:
    pairs = sorted(
        ((name, value) for name, value in query_pairs(raw_query) if name in SUBRESOURCES), key=lambda p: p[0]
    )
    text = "&".join(f"{name}={unquote(value)}" if value else name for name, value in pairs)
    return f"?{text}" if text else ""


def resources(req: HttpRequest) -> list[str]:
    """The candidate canonicalized resources: the path (path-style), then `/bucket` + path for each way
    of reading a leading part of the Host name as the bucket."""
    path = req.path or "/"
    host = req.host.rsplit(":", 1)[0] if not req.host.endswith("]") else req.host
    labels = host.split(".")
    candidates = [path] + ["/" + ".".join(labels[:n]) + path for n in range(1, len(labels))]
    suffix = _subresources(req.query_string)
    return [candidate + suffix for candidate in candidates]


def strings_to_sign(req: HttpRequest, parts: V2Parts) -> list[str]:
    headers = _headers(req)
    query = {unquote(name): unquote(value) for name, value in query_pairs(req.query_string)}
    presigned = parts.expires is not None

    def standard(name: str) -> str:
        if name in headers:
            return ",".join(headers[name])
        return query.get(name, "").strip() if presigned else ""

    amz = {name: ",".join(values) for name, values in headers.items() if name.startswith("x-amz-")}
    if presigned:
        for name, value in query.items():
            if name.lower().startswith("x-amz-"):
                amz.setdefault(name.lower(), value.strip())
    if presigned:
        date = str(parts.expires)
    else:
        date = "" if "x-amz-date" in headers else ",".join(headers.get("date", []))
    head = "\n".join((req.method.upper(), standard("content-md5"), standard("content-type"), date)) + "\n"
    head += "".join(f"{name}:{amz[name]}\n" for name in sorted(amz))
    return [head + resource for resource in resources(req)]


def sign(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def authenticate_v2(req: HttpRequest, parts: V2Parts, lookup: Lookup, now: datetime) -> Verified:
    credential = lookup(parts.scope.access_key_id)
    if credential is None:
        raise AuthFailure(UNKNOWN_KEY, S3_MSG_UNKNOWN_KEY)
    check_credential(credential, parts.security_token, now)
    if parts.expires is not None:
        if now > datetime.fromtimestamp(parts.expires, UTC):
            raise AuthFailure(EXPIRED_PRESIGN, S3_MSG_PRESIGN_EXPIRED)
    else:
        moment = parsedate_to_datetime(req.header("x-amz-date") or req.header("date") or "")
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if abs(moment - now) > MAX_SKEW:
            raise AuthFailure(SKEW, S3_MSG_SKEW)
    given = parts.signature.strip().encode()
    matches = [hmac.compare_digest(sign(credential.secret_access_key, text).encode(), given)
               for text in strings_to_sign(req, parts)]  # fmt: skip
    if not any(matches):
        raise AuthFailure(BAD_SIGNATURE, S3_MSG_BAD_SIGNATURE)
    return Verified(parts.scope, credential, req.body)
