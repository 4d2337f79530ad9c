"""Objects whose bytes are not text: the data plane hands S3's streamed payload through byte for byte."""

from __future__ import annotations

import gzip
import os

from .conftest import Endpoint

ACCOUNT = "777730000001"


def test_a_binary_object_is_read_back_byte_for_byte(server: Endpoint) -> None:
    """GetObject of a gzip archive, of random bytes and of invalid UTF-8 returns exactly what was put (a reply
    parsed as text would fail on these: S3 bodies are bytes, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html)."""
    s3 = server.client("s3", key=ACCOUNT)
    s3.create_bucket(Bucket="binary-objects")
    bodies = {
        "archive.gz": gzip.compress(b"hello " * 100),
        "random.bin": os.urandom(4096),
        "invalid-utf8": b"\xff\xfe\x00\x80text\xc3\x28",
        "text.txt": "h\u00e9llo \u2603".encode(),
    }
    for key, body in bodies.items():
        s3.put_object(Bucket="binary-objects", Key=key, Body=body)
    for key, body in bodies.items():
        got = s3.get_object(Bucket="binary-objects", Key=key)
        assert got["Body"].read() == body, key
        assert got["ContentLength"] == len(body)
    ranged = s3.get_object(Bucket="binary-objects", Key="random.bin", Range="bytes=10-19")
    assert ranged["Body"].read() == bodies["random.bin"][10:20]
    missing = s3.get_object
    try:
        missing(Bucket="binary-objects", Key="nope")
    except s3.exceptions.NoSuchKey as err:  # an error reply of a streaming operation is still read as XML
        assert err.response["Error"]["Code"] == "NoSuchKey"
    else:
        raise AssertionError("GetObject of a missing key succeeded")
