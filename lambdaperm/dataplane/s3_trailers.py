"""Trailing headers of an S3 `aws-chunked` upload: only the checksum the signed request announced.

S3 reads trailing headers only on a request authenticated with the Authorization header whose
`x-amz-content-sha256` says a trailer follows (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`,
`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`) and whose `x-amz-trailer` header names it
(https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html: "You must set
`x-amz-trailer` to indicate the contents you are including in your trailing header"); a trailer carries an
object checksum (`x-amz-checksum-crc32`, `-crc32c`, `-crc64nvme`, `-sha1`, `-sha256`,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html). Those headers are
`x-amz-*` headers, which S3 requires to be signed.

The protocol layer reads every trailer as a request header. A presigned PUT URL signs no body and no
`Content-Encoding`: its bearer could add `Content-Encoding: aws-chunked` and a trailer `x-amz-acl:
public-read` or `x-amz-tagging: role=admin` — headers S3 refuses on a presigned URL unless signed ("There
were headers present in the request which were not signed") — and the object was stored public or tagged as
the signer never asked (review round 7, parameter confusion). A trailer that is not an announced checksum is
now refused with S3's 400 MalformedTrailerError, in both modes, before the backend.
"""

from __future__ import annotations

import re

from lambdaperm.protocol import HttpRequest, ServiceError
from lambdaperm.protocol.chunked import decode_aws_chunked, is_aws_chunked

_TRAILER_PAYLOADS = frozenset({"STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"})
_SIGNATURE = "x-amz-trailer-signature"
_CHECKSUM = re.compile(r"x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256)")


def _refuse(detail: str) -> ServiceError:
    return ServiceError(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our published "
        f"schema. {detail}",
        400,
    )


def check(service: str, req: HttpRequest) -> None:
    """Raises MalformedTrailerError for an S3 `aws-chunked` trailer that is not a checksum named in the
    request's `x-amz-trailer`, or that a request without a trailer payload type carries."""
    if service != "s3" or not is_aws_chunked(req):
        return
    _, trailers = decode_aws_chunked(req.body)
    if not trailers:
        return
    payload = (req.header("x-amz-content-sha256") or "").strip().upper()
    if payload not in _TRAILER_PAYLOADS:
        names = ", ".join(sorted(trailers))
        raise _refuse(f"A trailing header ({names}) needs x-amz-content-sha256 STREAMING-*-TRAILER.")
    announced = {name.strip().lower() for name in (req.header("x-amz-trailer") or "").split(",") if name.strip()}
    if payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
        announced.add(_SIGNATURE)  # authn verified it; it closes the signed trailer block
    for name in sorted(trailers):
        if name == _SIGNATURE and name in announced:
            continue
        if name not in announced or not _CHECKSUM.fullmatch(name):
            raise _refuse(f"The trailing header '{name}' is not a checksum announced in x-amz-trailer.")
