"""S3's `aws-chunked` payloads (S3 API Reference, "Transferring Payload in Multiple Chunks" and
"Signature calculations for trailing headers").

Signed (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`): `hex-size;chunk-signature=SIG\\r\\n DATA \\r\\n`,
ending with a zero-size chunk; each chunk's signature chains on the previous one, the first on the seed
(the request's own signature). Trailers follow the last chunk as `name:value\\r\\n` lines, the signed variant
closing with `x-amz-trailer-signature:SIG`. Unsigned (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`):
`hex-size\\r\\n DATA \\r\\n` with the same trailer block and no signatures.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from lambdaperm.authn.canonical import EMPTY_SHA256, sha256_hex, signature
from lambdaperm.authn.errors import BAD_SIGNATURE, MALFORMED, S3_MSG_BAD_SIGNATURE, AuthFailure

_INCOMPLETE = (400, "IncompleteBody", "The request body terminated unexpectedly")
TRAILER_SIGNATURE = "x-amz-trailer-signature"


@dataclass(frozen=True, slots=True)
class ChunkSigner:
    """What chains the chunk signatures: the signing key, the request's timestamp and credential scope,
    and the seed signature."""

    key: bytes
    amz_date: str
    credential_scope: str
    seed: str

    def chunk_signature(self, previous: str, data: bytes) -> str:
        text = "\n".join(
            (
                "AWS4-HMAC-SHA256-PAYLOAD",
                self.amz_date,
                self.credential_scope,
                previous,
                EMPTY_SHA256,
                sha256_hex(data),
            )
        )
        return signature(self.key, text)

    def trailer_signature(self, previous: str, trailers: list[tuple[str, str]]) -> str:
        canonical = "".join(f"{name.lower()}:{value.strip()}\n" for name, value in trailers)
        text = "\n".join(
            (
                "AWS4-HMAC-SHA256-TRAILER",
                self.amz_date,
                self.credential_scope,
                previous,
                sha256_hex(canonical.encode("utf-8")),
            )
        )
        return signature(self.key, text)


@dataclass(frozen=True, slots=True)
class Decoded:
    data: bytes
    trailers: tuple[tuple[str, str], ...]


def _incomplete(detail: str) -> AuthFailure:
    return AuthFailure(MALFORMED, f"Malformed aws-chunked payload: {detail}", s3=_INCOMPLETE)


def _mismatch() -> AuthFailure:
    return AuthFailure(
        BAD_SIGNATURE,
        "The chunk signature we calculated does not match the signature you provided.",
        s3=(403, "SignatureDoesNotMatch", S3_MSG_BAD_SIGNATURE),
    )


def _line(body: bytes, pos: int) -> tuple[bytes, int]:
    end = body.find(b"\n", pos)
    if end < 0:
        raise _incomplete("a line is not terminated")
    line = body[pos:end]
    return (line[:-1] if line.endswith(b"\r") else line), end + 1


def decode(body: bytes, signer: ChunkSigner | None, *, signed_trailer: bool = False) -> Decoded:
    """The payload of an aws-chunked body, verifying every chunk (and trailer) signature when `signer` is
    given. Raises `AuthFailure`: "bad_signature" for a signature that does not chain, "malformed" for
    broken framing."""
    out = bytearray()
    previous = signer.seed if signer else ""
    pos = 0
    while True:
        header, pos = _line(body, pos)
        size_text, _, extension = header.partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise _incomplete(f"bad chunk size {size_text[:20]!r}") from None
        if signer is not None:
            label, _, given = extension.partition(b"=")
            if label.strip() != b"chunk-signature":
                raise _incomplete("a chunk has no chunk-signature")
            data = body[pos : pos + size]
            if len(data) != size:
                raise _incomplete("the body ends inside a chunk")
            expected = signer.chunk_signature(previous, data)
            if not hmac.compare_digest(expected.encode(), given.strip()):
                raise _mismatch()
            previous = expected
        else:
            data = body[pos : pos + size]
            if len(data) != size:
                raise _incomplete("the body ends inside a chunk")
        pos += size
        out += data
        if size == 0:
            break
        if body[pos : pos + 2] != b"\r\n":
            raise _incomplete("a chunk is not followed by CRLF")
        pos += 2
    trailers: list[tuple[str, str]] = []
    trailer_sig: str | None = None
    while True:
        line, pos = _line(body, pos)
        if not line:
            break
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if not sep:
            raise _incomplete(f"bad trailer line {line[:40]!r}")
        if name.strip().lower() == TRAILER_SIGNATURE:
            trailer_sig = value.strip()
        else:
            trailers.append((name.strip(), value.strip()))
    if pos != len(body):
        raise _incomplete("data after the final chunk")
    if signer is not None and signed_trailer:
        if trailer_sig is None:
            raise _incomplete("the trailer has no x-amz-trailer-signature")
        if not hmac.compare_digest(signer.trailer_signature(previous, trailers), trailer_sig):
            raise _mismatch()
    return Decoded(bytes(out), tuple(trailers))
