"""A multipart upload belongs to the object key it was created for.

S3 addresses every call on a multipart upload by bucket, key *and* upload ID (`PUT /b/k?partNumber=1&uploadId=u`);
an upload ID used with another key names no upload, and S3 answers 404 `NoSuchUpload`.
https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html (NoSuchUpload)
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList

moto looks an upload up by its ID alone (its `upload_part`, `complete_multipart_upload`,
`abort_multipart_upload`, `list_parts` take no key), so a call authorized on `public/mine` would write,
complete or abort the upload of `protected/report`. The key is checked here, before the backend sees the
call, against the upload's own key in the bucket's owner's account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

# S3 operations that name an existing multipart upload by `Bucket`, `Key` and `UploadId`
UPLOAD_OPERATIONS = frozenset(
    {"UploadPart", "UploadPartCopy", "CompleteMultipartUpload", "AbortMultipartUpload", "ListParts"}
)

_NO_SUCH_UPLOAD = (
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or "
    "completed."
)


def check_upload(operation: str, params: Mapping[str, Any]) -> None:
    """Raises S3's 404 NoSuchUpload when `UploadId` is not an upload of `Key` in `Bucket`. A bucket that does
    not exist is left to the backend (NoSuchBucket)."""
    if operation not in UPLOAD_OPERATIONS:
        return
    bucket, key, upload_id = params.get("Bucket"), params.get("Key"), params.get("UploadId")
    if not isinstance(bucket, str) or not isinstance(upload_id, str):
        return
    uploads = _uploads(bucket)
    if uploads is None:
        return
    upload = uploads.get(upload_id)
    if upload is None or getattr(upload, "key_name", None) != key:
        raise ServiceError("NoSuchUpload", _NO_SUCH_UPLOAD, 404, fields={"UploadId": upload_id})


def _uploads(bucket: str) -> Mapping[str, Any] | None:
    """The bucket's in-progress uploads by ID, read in the bucket's owner's account; None without the bucket."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return None
    partition, account = owner
    found = s3_backends[account][partition].buckets.get(bucket)
    return None if found is None else dict(found.multiparts)
