"""A function's code from S3 (`Code.S3Bucket/S3Key/S3ObjectVersion` of CreateFunction, the same members of
UpdateFunctionCode), read as S3 would serve it to the caller.

Lambda downloads the archive with the caller's credentials (a forward access session), so the read is an S3
GetObject by the caller: `s3:GetObject` on `arn:aws:s3:::bucket/key` (`s3:GetObjectVersion` when a version is
named), allowed by the caller's identity policies and, for another account's bucket, by the bucket policy too.
What S3 answers comes back inside Lambda's error:

- the bucket does not exist: 400 InvalidParameterValueException "Error occurred while GetObject. S3 Error Code:
  NoSuchBucket. S3 Error Message: The specified bucket does not exist";
- the bucket is in another region than the function: 400 "… S3 Error Code: PermanentRedirect. S3 Error Message:
  The bucket is in this region: <r>. Please use this region to retry the request"
  (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html);
- the caller may not read the object: 403 AccessDeniedException "Your access has been denied by S3, please make
  sure your request credentials have permission to GetObject for <bucket>/<key>. S3 Error Code: AccessDenied. S3
  Error Message: Access Denied" (observed in public reports, e.g. awslabs/dynamodb-continuous-backup#7 and
  buildkite/elastic-ci-stack-for-aws#564 for UpdateFunctionCode);
- the key (or version) does not exist: S3 says so only to a caller with `s3:ListBucket` on the bucket
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), otherwise the same AccessDenied.
"""

from __future__ import annotations

from lambdaperm.protocol.errors import ServiceError

from ..context import RequestContext
from .errors import invalid


def denied_by_s3(bucket: str, key: str) -> ServiceError:
    return ServiceError(
        "AccessDeniedException",
        f"Your access has been denied by S3, please make sure your request credentials have permission to GetObject "
        f"for {bucket}/{key}. S3 Error Code: AccessDenied. S3 Error Message: Access Denied",
        403,
        fields={"Type": "User"},
    )


def code_from_s3(ctx: RequestContext, bucket: str, key: str, version: str | None) -> bytes:
    """The archive's bytes, or the error Lambda answers (see the module). The bucket and the object are held from
    the decision to the read (`s3_object_held`), as an S3 GetObject is: the archive read is the object whose tags
    were decided, never one written in between."""
    with ctx.env.s3_object_held(bucket, key):
        return _read(ctx, bucket, key, version)


def _read(ctx: RequestContext, bucket: str, key: str, version: str | None) -> bytes:
    found = ctx.env.s3_bucket(bucket)
    if found is None:
        raise invalid(
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket "
            "does not exist"
        )
    _owner, region = found
    if region != ctx.region:
        raise invalid(
            f"Error occurred while GetObject. S3 Error Code: PermanentRedirect. S3 Error Message: The bucket is in "
            f"this region: {region}. Please use this region to retry the request"
        )
    read = {"Bucket": bucket, "Key": key, **({"VersionId": version} if version else {})}
    if ctx.env.authorize_implicit(ctx, "s3", "GetObject", read) is not None:
        raise denied_by_s3(bucket, key)
    data = ctx.env.s3_object(bucket, key, version)
    if data is not None:
        return bytes(data)
    if ctx.env.authorize_implicit(ctx, "s3", "ListObjects", {"Bucket": bucket}) is not None:
        raise denied_by_s3(bucket, key)
    if version:
        raise invalid(
            "Error occurred while GetObject. S3 Error Code: NoSuchVersion. S3 Error Message: The specified version "
            "does not exist."
        )
    raise invalid(
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."
    )
