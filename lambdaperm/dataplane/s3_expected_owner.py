"""S3's bucket owner condition: `x-amz-expected-bucket-owner` and `x-amz-source-expected-bucket-owner`.

"If the account ID that you provide does not match the actual owner of the bucket, the request fails with the
HTTP status code 403 Forbidden (access denied)." — for the bucket the request names (`ExpectedBucketOwner`) and
for a copy's source bucket (`ExpectedSourceBucketOwner`, CopyObject and UploadPartCopy)
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html). The condition is the
caller's guard against acting on a bucket of another account than it meant (a name deleted and taken over, a
bucket policy that admits it elsewhere): it never enters the authorization, it decides whether the call acts.

moto 5.2.1 reads neither header: a PutObject or DeleteObject into another account's bucket was carried out
although the caller had required its own (review round 11, parameter confusion). The embedded backend's bucket
owner is known (dataplane/s3_buckets.py) and checked here; through `--upstream` it is not, so the members are
refused there (501 NotImplemented naming the member). A bucket no account has is left to the backend (NoSuchBucket).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.catalog.s3_copy_source import copy_source
from lambdaperm.protocol.errors import ServiceError

from .s3_buckets import bucket_owner

_SOURCES = frozenset({"CopyObject", "UploadPartCopy"})


def _expect(bucket: str, expected: Any) -> None:
    owner = bucket_owner(bucket)
    if owner is not None and str(expected) != owner:
        raise ServiceError("AccessDenied", "Access Denied", 403)


def check(service: str, operation: str, params: Mapping[str, Any], embedded: bool) -> None:
    """403 AccessDenied when a bucket the call names is owned by another account than the one it expects."""
    if service != "s3":
        return
    named = [member for member in ("ExpectedBucketOwner", "ExpectedSourceBucketOwner") if params.get(member)]
    if not named:
        return
    if not embedded:
        raise ServiceError("NotImplemented", f"lambdaperm does not serve {operation} with {named[0]} upstream", 501)
    if params.get("ExpectedBucketOwner") and isinstance(params.get("Bucket"), str):
        _expect(params["Bucket"], params["ExpectedBucketOwner"])
    if params.get("ExpectedSourceBucketOwner") and operation in _SOURCES:
        _expect(copy_source(params.get("CopySource"), operation).bucket, params["ExpectedSourceBucketOwner"])
