"""DeleteObjectTagging of an object that does not exist is S3's 404, never a backend crash.

S3 answers a tagging call on a missing key 404 `NoSuchKey` ("The specified key does not exist.", with the
`Key`), and on a missing version of an existing key 404 `NoSuchVersion` ("The specified version does not
exist.", with `Key` and `VersionId`).
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList

moto 5's `delete_object_tagging` looks the key up and dereferences it without checking (an AttributeError,
answered 500 InternalFailure); its PutObjectTagging and GetObjectTagging already answer these errors. So the
embedded backend is asked first, in the bucket's owner account, and a key (or version) that is verifiably
absent is answered here; a bucket that does not exist is left to the backend (404 NoSuchBucket).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_CHECKED = frozenset({"DeleteObjectTagging"})


def check_key(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Raise S3's NoSuchKey / NoSuchVersion when the object the tagging call names does not exist."""
    if service != "s3" or operation not in _CHECKED:
        return
    from moto.s3.models import s3_backends

    bucket, key = str(params.get("Bucket", "")), str(params.get("Key", ""))
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return
    partition, account = owner
    backend = s3_backends[account][partition]
    if bucket not in backend.buckets:
        return
    version = params.get("VersionId")
    if backend.get_object(bucket, key, version_id=None if version is None else str(version)) is not None:
        return
    if version is None or backend.get_object(bucket, key) is None:
        raise ServiceError("NoSuchKey", "The specified key does not exist.", 404, fields={"Key": key})
    raise ServiceError(
        "NoSuchVersion",
        "The specified version does not exist.",
        404,
        fields={"Key": key, "VersionId": str(version)},
    )
