"""aws-chunked payloads: AWS's published streaming example (S3 API Reference, "Signature Calculations for
the Authorization Header: Transferring Payload in Multiple Chunks", Example: PUT Object), the trailer
signature of the AWS common runtime's test vector, and tampering."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambdaperm.authn import AuthFailure, Credential, authenticate, render
from lambdaperm.authn.canonical import signing_key
from lambdaperm.authn.chunked import ChunkSigner
from lambdaperm.protocol.http import HttpRequest
from tests.authn.botocases import pinned_signing

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_TIME = datetime(2013, 5, 24, tzinfo=UTC)
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
CHUNK_2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
FINAL = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
SCOPE = "20130524/us-east-1/s3/aws4_request"


def lookup(akid: str) -> Credential | None:
    return Credential(AKID, SECRET) if akid == AKID else None


def example_request(body: bytes | None = None) -> HttpRequest:
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={AKID}/{SCOPE},SignedHeaders=content-encoding;content-length;host;"
        f"x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature={SEED}"
    )
    if body is None:
        body = (
            f"10000;chunk-signature={CHUNK_1}\r\n".encode()
            + b"a" * 65536
            + f"\r\n400;chunk-signature={CHUNK_2}\r\n".encode()
            + b"a" * 1024
            + f"\r\n0;chunk-signature={FINAL}\r\n\r\n".encode()
        )
    headers = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Authorization", authorization),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ]
    return HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", headers, body)


def test_aws_published_streaming_example_verifies() -> None:
    request = example_request()
    assert len(request.body) == 66824
    verified = authenticate(request, lookup, EXAMPLE_TIME)
    assert verified.payload == b"a" * 66560 and verified.trailers == ()


def failure(request: HttpRequest) -> AuthFailure:
    with pytest.raises(AuthFailure) as caught:
        authenticate(request, lookup, EXAMPLE_TIME)
    return caught.value


def test_a_changed_data_byte_breaks_the_chain() -> None:
    body = bytearray(example_request().body)
    body[66_000] = ord("b")
    caught = failure(example_request(bytes(body)))
    assert caught.kind == "bad_signature"
    assert render(caught, "rest-xml")[:2] == (403, "SignatureDoesNotMatch")


def test_a_changed_chunk_signature_or_reordered_chunks_fail() -> None:
    body = example_request().body
    assert failure(example_request(body.replace(CHUNK_2.encode(), CHUNK_1.encode()))).kind == "bad_signature"
    truncated = failure(example_request(body[:-40]))
    assert truncated.kind == "malformed" and render(truncated, "rest-xml")[1] == "IncompleteBody"


def test_trailer_signature_matches_the_crt_vector() -> None:
    signer = ChunkSigner(signing_key(SECRET, "20130524", "us-east-1", "s3"), "20130524T000000Z", SCOPE, SEED)
    assert signer.chunk_signature(SEED, b"a" * 65536) == CHUNK_1
    trailers = [("first", "1st"), ("second", "2nd"), ("third", "3rd")]
    assert (
        signer.trailer_signature(FINAL, trailers)
        == "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"
    )


def _hmac_hex(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def signed_trailer_request(
    data: bytes, trailer_value: str = "AAAAAA==", *, sign_length: bool = True
) -> HttpRequest:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER upload: headers signed by botocore's SigV4Auth, chunks
    and trailer signed here straight from the S3 documentation."""
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "X-Amz-Trailer": "x-amz-checksum-crc32",
    }
    if sign_length:
        headers["X-Amz-Decoded-Content-Length"] = str(len(data))
    aws = AWSRequest("PUT", "http://localhost:4566/bucket/key", headers=headers)
    with pinned_signing(EXAMPLE_TIME):
        SigV4Auth(Credentials(AKID, SECRET), "s3", "us-east-1").add_auth(aws)
    seed = str(aws.headers["Authorization"]).rsplit("Signature=", 1)[1]
    key = signing_key(SECRET, "20130524", "us-east-1", "s3")
    empty = hashlib.sha256(b"").hexdigest()
    previous, body = seed, b""
    for chunk in [part for part in (data[:9000], data[9000:]) if part] + [b""]:
        text = f"AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n{SCOPE}\n{previous}\n{empty}\n"
        previous = _hmac_hex(key, text + hashlib.sha256(chunk).hexdigest())
        body += (
            f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + chunk + (b"\r\n" if chunk else b"")
        )
    canonical_trailer = f"x-amz-checksum-crc32:{trailer_value}\n".encode()
    text = f"AWS4-HMAC-SHA256-TRAILER\n20130524T000000Z\n{SCOPE}\n{previous}\n"
    trailer_sig = _hmac_hex(key, text + hashlib.sha256(canonical_trailer).hexdigest())
    body += (
        canonical_trailer.replace(b"\n", b"\r\n") + f"x-amz-trailer-signature:{trailer_sig}\r\n\r\n".encode()
    )
    wire = [("Host", "localhost:4566"), *((k, str(v)) for k, v in aws.headers.items())]
    if not sign_length:
        wire.append(("x-amz-decoded-content-length", str(len(data) + 1)))
    return HttpRequest("PUT", "/bucket/key", "", wire, body)


def test_signed_trailer_upload_verifies_and_returns_the_trailer() -> None:
    data = bytes(range(256)) * 50
    verified = authenticate(signed_trailer_request(data), lookup, EXAMPLE_TIME)
    assert verified.payload == data
    assert verified.trailers == (("x-amz-checksum-crc32", "AAAAAA=="),)


def test_a_changed_trailer_fails() -> None:
    request = signed_trailer_request(b"z" * 10000)
    tampered = request.body.replace(b"x-amz-checksum-crc32:AAAAAA==", b"x-amz-checksum-crc32:BBBBBB==")
    request.body = tampered
    assert failure(request).kind == "bad_signature"
    request.body = tampered.split(b"x-amz-trailer-signature")[0] + b"\r\n"
    assert failure(request).kind == "malformed"


def test_decoded_length_must_match() -> None:
    caught = failure(signed_trailer_request(b"q" * 10000, sign_length=False))
    assert caught.kind == "malformed" and "x-amz-decoded-content-length" in caught.message


def test_streaming_is_s3_only() -> None:
    request = example_request()
    request.headers = [(k, v.replace("/s3/", "/lambda/")) for k, v in request.headers]
    assert failure(request).kind == "malformed"
