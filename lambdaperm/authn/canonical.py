"""The SigV4 canonical request, string to sign and signing key, computed server-side from the request as
received (AWS General Reference, "Create a canonical request for Signature Version 4"; S3 API Reference,
"Signature Calculations for the Authorization Header").

Byte-exact with what botocore signs (tests/authn compare against botocore's own canonical request):
- URI: every service but S3 normalizes the path (RFC 3986 dot segments, repeated `/` collapsed) and
  encodes the already-encoded path once more (`%` -> `%25`); S3 signs the path exactly as sent.
- Query: each name and value percent-decoded to bytes and re-encoded with only `A-Za-z0-9-_.~` left
  alone (`+` is a literal plus), sorted by name then value; `X-Amz-Signature` left out for presigned URLs.
- Headers: the SignedHeaders, lower-cased, each value trimmed with runs of white space collapsed, repeated
  headers joined with `,`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

# Services whose canonical URI is the raw path (no normalization, no second encoding).
RAW_PATH_SERVICES = frozenset({"s3", "s3-object-lambda", "s3-outposts", "s3express"})


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 plus the collapsing of empty segments, as AWS (and botocore) normalize paths."""
    if not path:
        return "/"
    out: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if out:
                out.pop()
        else:
            out.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and out else ""
    return first + "/".join(out) + last


def canonical_uri(raw_path: str, service: str) -> str:
    if service in RAW_PATH_SERVICES:
        return raw_path or "/"
    return quote(remove_dot_segments(raw_path), safe="/~")


def _reencode(component: str) -> str:
    return quote_from_bytes(unquote_to_bytes(component), safe="-_.~")


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """The raw (still encoded) name/value pairs of a query string, in order; empty segments dropped."""
    pairs = []
    for segment in raw_query.split("&"):
        if segment:
            name, _, value = segment.partition("=")
            pairs.append((name, value))
    return pairs


def canonical_query(raw_query: str, *, exclude: Iterable[str] = ()) -> str:
    skip = set(exclude)
    encoded = [
        (_reencode(name), _reencode(value))
        for name, value in query_pairs(raw_query)
        if unquote_to_bytes(name).decode("utf-8", "replace") not in skip
    ]
    return "&".join(f"{name}={value}" for name, value in sorted(encoded))


def trim_header_value(value: str) -> str:
    return " ".join(value.split())


def canonical_headers(headers: Sequence[tuple[str, str]], signed: Sequence[str]) -> str:
    """`name:value\\n` for each signed header name, in the order of `signed`."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(trim_header_value(value))
    return "".join(f"{name}:{','.join(values.get(name.lower(), []))}\n" for name in signed)


def canonical_request(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    signed_headers: Sequence[str],
    payload_hash: str,
    service: str,
    presigned: bool,
) -> str:
    return "\n".join(
        (
            method.upper(),
            canonical_uri(raw_path, service),
            canonical_query(raw_query, exclude=("X-Amz-Signature",) if presigned else ()),
            canonical_headers(headers, signed_headers),
            ";".join(signed_headers),
            payload_hash,
        )
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def string_to_sign(amz_date: str, credential_scope: str, canonical: str) -> str:
    return "\n".join((ALGORITHM, amz_date, credential_scope, sha256_hex(canonical.encode("utf-8"))))


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


@lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key; memoized, since it depends only on the secret and the scope (one per day)."""
    k_date = _hmac(f"AWS4{secret}".encode(), date)
    return _hmac(_hmac(_hmac(k_date, region), service), TERMINATOR)


def signature(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
