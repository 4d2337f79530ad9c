"""The bucket of a virtual-hosted-style S3 host is everything before the S3 endpoint — the last `.s3` label —
since a bucket name may itself hold `.s3-` or `.s3.` labels
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)."""

from __future__ import annotations

import pytest

from lambdaperm.protocol.hosts import virtual_host_label


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("my.s3-x.bucket.s3.amazonaws.com", "my.s3-x.bucket"),
        ("a.s3.s3.us-east-1.amazonaws.com", "a.s3"),
        ("logs.s3.example.s3-us-west-2.amazonaws.com", "logs.s3.example"),
        ("bucket.s3.amazonaws.com", "bucket"),
        ("b.s3.dualstack.eu-west-1.amazonaws.com", "b"),
        ("b.c.s3-external-1.amazonaws.com:443", "b.c"),
        ("b.localhost:4566", "b"),
        ("s3.amazonaws.com", None),
        ("127.0.0.1:4566", None),
    ],
)
def test_the_bucket_is_everything_before_the_s3_endpoint(host: str, bucket: str | None) -> None:
    assert virtual_host_label(host) == bucket
