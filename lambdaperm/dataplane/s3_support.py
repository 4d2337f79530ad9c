"""The S3 operations the embedded moto backend implements faithfully, and the checks S3 makes that moto
does not.

moto's S3 dispatches on a few query markers (moto/s3/responses.py: `_bucket_response_get/put/delete/post`,
`_key_response_get/put/delete/post`) and falls back to the bare path's operation for any other: a
GetObjectRetention (`GET /b/k?retention`) returns the object's data, a DeleteBucketAnalyticsConfiguration
(`DELETE /b?analytics&id=x`) deletes the bucket, a CreateBucketMetadataConfiguration
(`POST /b?metadataConfiguration`) is taken for a browser form upload. So every S3 operation that is not in
`MOTO_S3_OPERATIONS` is answered 501 NotImplemented before moto sees it. Each operation in the table is
dispatched by moto to its own handler (checked against moto 5.2.1's responses.py) and is exercised by a
boto3 round trip through `lambdaperm serve` in tests/e2e/test_s3_support.py. Deprecated operations
(GetBucketLifecycle, PutBucketNotification...) are left out: moto answers them in the current shape.

DeleteObjects: S3 requires Content-MD5 or an `x-amz-checksum-*` header ("The Content-MD5 or
x-amz-checksum-algorithm header is required for Multi-Object Delete requests",
https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html); without one S3 answers 400
InvalidRequest "Missing required header for this request: Content-MD5" (aws/aws-cli#400). A Content-MD5 that
does not match the body is 400 BadDigest. moto checks neither.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from lambdaperm.protocol.chunked import decode_aws_chunked, is_aws_chunked
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.http import HttpRequest

MOTO_S3_OPERATIONS: frozenset[str] = frozenset(
    {
        # service and buckets
        "ListBuckets",
        "CreateBucket",
        "DeleteBucket",
        "HeadBucket",
        "GetBucketLocation",
        "ListObjects",
        "ListObjectsV2",
        "ListObjectVersions",
        "ListMultipartUploads",
        # bucket sub-resources moto dispatches (GET / PUT / DELETE)
        "GetBucketAcl",
        "PutBucketAcl",
        "GetBucketPolicy",
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "GetBucketTagging",
        "PutBucketTagging",
        "DeleteBucketTagging",
        "GetBucketVersioning",
        "PutBucketVersioning",
        "GetBucketCors",
        "PutBucketCors",
        "DeleteBucketCors",
        "GetBucketLifecycleConfiguration",
        "PutBucketLifecycleConfiguration",
        "DeleteBucketLifecycle",
        "GetBucketWebsite",
        "PutBucketWebsite",
        "DeleteBucketWebsite",
        "GetBucketLogging",
        "PutBucketLogging",
        "GetBucketNotificationConfiguration",
        "PutBucketNotificationConfiguration",
        "GetBucketAccelerateConfiguration",
        "PutBucketAccelerateConfiguration",
        "GetPublicAccessBlock",
        "PutPublicAccessBlock",
        "DeletePublicAccessBlock",
        "GetBucketEncryption",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
        "GetBucketReplication",
        "PutBucketReplication",
        "DeleteBucketReplication",
        "GetBucketOwnershipControls",
        "PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls",
        "GetObjectLockConfiguration",
        "PutObjectLockConfiguration",
        "GetBucketInventoryConfiguration",
        "PutBucketInventoryConfiguration",
        "ListBucketInventoryConfigurations",
        # not DeleteBucketInventoryConfiguration: moto's DELETE has no `inventory` branch (DeleteBucket)
        "DeleteObjects",
        # objects
        "GetObject",
        "HeadObject",
        "PutObject",
        "CopyObject",
        "DeleteObject",
        "GetObjectAcl",
        "PutObjectAcl",
        "GetObjectTagging",
        "PutObjectTagging",
        "DeleteObjectTagging",
        "GetObjectLegalHold",
        "PutObjectLegalHold",
        "PutObjectRetention",  # not GetObjectRetention: moto's GET has no `retention` branch (GetObject)
        "GetObjectAttributes",
        "RestoreObject",
        # not SelectObjectContent: moto answers it, but its event-stream reply is not re-serialized by the
        # data plane (botocore's parser needs a response context), so it would be a 500; add it back with that
        # multipart uploads
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "AbortMultipartUpload",
        "ListParts",
    }
)


def check_served(operation: str) -> None:
    """501 NotImplemented for an S3 operation the embedded backend does not implement faithfully."""
    if operation not in MOTO_S3_OPERATIONS:
        raise ServiceError(
            "NotImplemented",
            f"S3 {operation} is not implemented by the embedded moto backend",
            501,
        )


def _has_checksum(req: HttpRequest) -> bool:
    names = {name.lower() for name, _ in req.headers}
    if is_aws_chunked(req):
        trailer = (req.header("x-amz-trailer") or "").lower()
        names.update(t.strip() for t in trailer.split(","))
    return any(n == "content-md5" or n.startswith("x-amz-checksum-") for n in names)


def _check_md5(req: HttpRequest) -> None:
    declared = req.header("content-md5")
    if declared is None:
        return
    try:
        digest = base64.b64decode(declared.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise ServiceError("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    body = decode_aws_chunked(req.body)[0] if is_aws_chunked(req) else req.body
    if hashlib.md5(body, usedforsecurity=False).digest() != digest:
        raise ServiceError("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)


def check(operation: str, req: HttpRequest) -> None:
    """What S3 checks of a request that the embedded backend does not: the operation must be one moto
    implements (else 501), `x-amz-copy-source` appears at most once, and DeleteObjects carries a checksum
    (Content-MD5 or x-amz-checksum-*), a Content-MD5 matching the body."""
    check_served(operation)
    if sum(1 for name, _ in req.headers if name.lower() == "x-amz-copy-source") > 1:
        raise ServiceError(
            "InvalidArgument",
            "The header x-amz-copy-source may appear only once",
            400,
            fields={"ArgumentName": "x-amz-copy-source"},
        )
    if operation == "DeleteObjects":
        if not _has_checksum(req):
            raise ServiceError("InvalidRequest", "Missing required header for this request: Content-MD5", 400)
        _check_md5(req)
