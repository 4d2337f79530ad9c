"""S3 body checksums: verified against the bytes received, as S3 does, before the backend stores anything.

S3 computes the checksum of what it receives and refuses a value that does not match: 400 BadDigest "The
Content-MD5 you specified did not match what we received." / "The SHA256 you specified did not match the
calculated checksum."; a value that is not a base64 digest of the algorithm's size is 400 InvalidDigest
(Content-MD5) or InvalidRequest ("Value for x-amz-checksum-sha256 header is invalid.")
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). The checksum travels as a header or as an
`aws-chunked` trailer (dataplane/s3_trailers.py admits only announced checksums there).

moto 5.2.1 stores the checksum value it is given without computing it ("TODO: AWS computes the provided value
and verifies it's the same") and reads Content-MD5 nowhere but DeleteObjects: an object was stored whose recorded
checksum does not hold for its bytes, and a write S3 refuses was carried out (review round 11, parameter
confusion). Without optional libraries moto also computes CRC32C and CRC64NVME as CRC32 under the other name, so
a checksum lambdaperm cannot compute itself (CRC32C, CRC64NVME, the XXHASH family) is 501 NotImplemented, and so
is PutObject/UploadPart's `x-amz-sdk-checksum-algorithm` naming one without a value. Both modes.

Checked for every S3 operation whose request has a payload, except CompleteMultipartUpload (its checksums are
of the whole object, not of the XML body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable

from lambdaperm.protocol import HttpRequest, Operation, ServiceError
from lambdaperm.protocol.chunked import decode_aws_chunked, is_aws_chunked

_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "crc32": lambda body: zlib.crc32(body).to_bytes(4, "big"),
    "sha1": lambda body: hashlib.sha1(body, usedforsecurity=False).digest(),
    "sha256": lambda body: hashlib.sha256(body).digest(),
    "sha512": lambda body: hashlib.sha512(body).digest(),
    "md5": lambda body: hashlib.md5(body, usedforsecurity=False).digest(),
}
_PREFIX = "x-amz-checksum-"
_BODY_CHECKSUMS = frozenset({"PutObject", "UploadPart"})  # the operations that store the body's checksum
_NOT_OF_THE_BODY = frozenset({"CompleteMultipartUpload"})


def _decode(value: str, size: int) -> bytes | None:
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == size else None


def _check_md5(value: str, body: bytes) -> None:
    digest = _decode(value, 16)
    if digest is None:
        raise ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    if hashlib.md5(body, usedforsecurity=False).digest() != digest:
        raise ServiceError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)


def _check_value(algorithm: str, value: str, body: bytes) -> None:
    compute = _DIGESTS.get(algorithm)
    if compute is None:
        raise ServiceError("NotImplemented", f"lambdaperm does not verify the checksum {_PREFIX}{algorithm}", 501)
    expected = compute(body)
    given = _decode(value, len(expected))
    if given is None:
        raise ServiceError("InvalidRequest", f"Value for {_PREFIX}{algorithm} header is invalid.", 400)
    if given != expected:
        raise ServiceError(
            "BadDigest", f"The {algorithm.upper()} you specified did not match the calculated checksum.", 400
        )


def check(op: Operation, req: HttpRequest) -> None:
    """Refuses an S3 request whose Content-MD5 or x-amz-checksum-* (header or trailer) does not match its body,
    and a body checksum lambdaperm cannot compute on PutObject/UploadPart (including one only named by
    x-amz-sdk-checksum-algorithm, which moto would compute wrongly)."""
    if op.service_name != "s3" or op.name in _NOT_OF_THE_BODY:
        return
    if op.model.input_shape is None or op.model.input_shape.serialization.get("payload") is None:
        return
    body, trailers = decode_aws_chunked(req.body) if is_aws_chunked(req) else (req.body, {})
    values = {name.lower(): value for name, value in req.headers if name.lower().startswith(_PREFIX)}
    values.update({name: value for name, value in trailers.items() if name.startswith(_PREFIX)})
    values.pop(f"{_PREFIX}type", None)  # x-amz-checksum-type: FULL_OBJECT or COMPOSITE, not a value
    values.pop(f"{_PREFIX}algorithm", None)  # CreateMultipartUpload's algorithm, not a value
    md5 = req.header("content-md5")
    if md5 is not None:
        _check_md5(md5, body)
    for name, value in sorted(values.items()):
        _check_value(name.removeprefix(_PREFIX), value, body)
    named = (req.header("x-amz-sdk-checksum-algorithm") or "").strip().lower()
    if op.name in _BODY_CHECKSUMS and named and named not in _DIGESTS:
        raise ServiceError("NotImplemented", f"lambdaperm does not verify the checksum {_PREFIX}{named}", 501)
