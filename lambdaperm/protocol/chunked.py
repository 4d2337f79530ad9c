"""`aws-chunked` request bodies (S3 streaming uploads): `<hex size>[;chunk-signature=…]\r\n<data>\r\n`
repeated, a zero-size chunk, then optional trailing headers (`x-amz-checksum-crc32:…`). Chunk signatures
are authn's business; this only takes the payload apart.
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
"""

from __future__ import annotations

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.http import HttpRequest


def is_aws_chunked(req: HttpRequest) -> bool:
    sha = (req.header("x-amz-content-sha256") or "").upper()
    encoding = (req.header("content-encoding") or "").lower()
    return sha.startswith("STREAMING-") or "aws-chunked" in encoding


def decode_aws_chunked(body: bytes) -> tuple[bytes, dict[str, str]]:
    """The payload and the trailing headers (lowercased names). Raises BadInput on a broken encoding."""
    data = bytearray()
    position = 0
    while True:
        end = body.find(b"\r\n", position)
        if end < 0:
            raise BadInput("encoding", "The aws-chunked body ends inside a chunk header.")
        size_text = body[position:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise BadInput("encoding", "The aws-chunked body has an invalid chunk size.") from exc
        if size < 0:
            raise BadInput("encoding", "The aws-chunked body has an invalid chunk size.")
        start = end + 2
        if size == 0:
            return bytes(data), _trailers(body[start:])
        stop = start + size
        if body[stop : stop + 2] != b"\r\n":
            raise BadInput("encoding", "The aws-chunked body ends inside a chunk.")
        data += body[start:stop]
        position = stop + 2


def _trailers(rest: bytes) -> dict[str, str]:
    trailers: dict[str, str] = {}
    for line in rest.split(b"\r\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise BadInput("encoding", "The aws-chunked body has an invalid trailing header.")
        try:
            key = name.decode("ascii").strip().lower()
            text = value.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise BadInput("encoding", "The aws-chunked body has an invalid trailing header.") from exc
        if key in trailers:
            raise BadInput("ambiguous", f"The trailing header '{key}' is given more than once; it may appear once.")
        trailers[key] = text
    return trailers
