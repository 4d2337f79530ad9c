"""S3 operations whose IAM action differs from the operation name, and the conditional permissions.

Sources: "Required permissions for Amazon S3 API operations"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html) and the
"Permissions" section of each operation in the S3 API reference (also in botocore's s3 model docs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from ..bindings import Param
from ..s3_copy_source import CopySource, copy_source
from .model import Derived, Need, Rule, When

__all__ = ["RULES", "CopySource", "copy_source"]

_GUIDE = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html"


def _api(op: str) -> str:
    return f"https://docs.aws.amazon.com/AmazonS3/latest/API/API_{op}.html"


# Operation -> the one action it needs (same resources as the operation addresses).
_RENAMES: tuple[tuple[str, str], ...] = (
    ("CompleteMultipartUpload", "s3:PutObject"),
    ("UploadPart", "s3:PutObject"),
    ("SelectObjectContent", "s3:GetObject"),
    ("DeleteBucketAnalyticsConfiguration", "s3:PutAnalyticsConfiguration"),
    ("DeleteBucketCors", "s3:PutBucketCORS"),
    ("DeleteBucketEncryption", "s3:PutEncryptionConfiguration"),
    ("DeleteBucketIntelligentTieringConfiguration", "s3:PutIntelligentTieringConfiguration"),
    ("DeleteBucketInventoryConfiguration", "s3:PutInventoryConfiguration"),
    ("DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"),
    ("DeleteBucketMetadataConfiguration", "s3:DeleteBucketMetadataTableConfiguration"),
    ("DeleteBucketMetricsConfiguration", "s3:PutMetricsConfiguration"),
    ("DeleteBucketOwnershipControls", "s3:PutBucketOwnershipControls"),
    ("DeleteBucketReplication", "s3:PutReplicationConfiguration"),
    ("DeleteBucketTagging", "s3:PutBucketTagging"),
    ("DeletePublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    ("CreateBucketMetadataConfiguration", "s3:CreateBucketMetadataTableConfiguration"),
    ("GetBucketAccelerateConfiguration", "s3:GetAccelerateConfiguration"),
    ("GetBucketAnalyticsConfiguration", "s3:GetAnalyticsConfiguration"),
    ("GetBucketEncryption", "s3:GetEncryptionConfiguration"),
    ("GetBucketIntelligentTieringConfiguration", "s3:GetIntelligentTieringConfiguration"),
    ("GetBucketInventoryConfiguration", "s3:GetInventoryConfiguration"),
    ("GetBucketLifecycle", "s3:GetLifecycleConfiguration"),
    ("GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
    ("GetBucketMetadataConfiguration", "s3:GetBucketMetadataTableConfiguration"),
    ("GetBucketMetricsConfiguration", "s3:GetMetricsConfiguration"),
    ("GetBucketNotificationConfiguration", "s3:GetBucketNotification"),
    ("GetBucketReplication", "s3:GetReplicationConfiguration"),
    ("GetObjectLockConfiguration", "s3:GetBucketObjectLockConfiguration"),
    ("GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    ("HeadBucket", "s3:ListBucket"),
    ("ListBucketAnalyticsConfigurations", "s3:GetAnalyticsConfiguration"),
    ("ListBucketIntelligentTieringConfigurations", "s3:GetIntelligentTieringConfiguration"),
    ("ListBucketInventoryConfigurations", "s3:GetInventoryConfiguration"),
    ("ListBucketMetricsConfigurations", "s3:GetMetricsConfiguration"),
    ("ListBuckets", "s3:ListAllMyBuckets"),
    ("ListMultipartUploads", "s3:ListBucketMultipartUploads"),
    ("ListObjectVersions", "s3:ListBucketVersions"),
    ("ListObjects", "s3:ListBucket"),
    ("ListObjectsV2", "s3:ListBucket"),
    ("ListParts", "s3:ListMultipartUploadParts"),
    ("PutBucketAccelerateConfiguration", "s3:PutAccelerateConfiguration"),
    ("PutBucketAnalyticsConfiguration", "s3:PutAnalyticsConfiguration"),
    ("PutBucketEncryption", "s3:PutEncryptionConfiguration"),
    ("PutBucketIntelligentTieringConfiguration", "s3:PutIntelligentTieringConfiguration"),
    ("PutBucketInventoryConfiguration", "s3:PutInventoryConfiguration"),
    ("PutBucketLifecycle", "s3:PutLifecycleConfiguration"),
    ("PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"),
    ("PutBucketMetricsConfiguration", "s3:PutMetricsConfiguration"),
    ("PutBucketNotificationConfiguration", "s3:PutBucketNotification"),
    ("PutObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration"),
    ("PutPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    # Directory buckets: https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-express-security-iam.html
    ("CreateSession", "s3express:CreateSession"),
    ("ListDirectoryBuckets", "s3express:ListAllMyDirectoryBuckets"),
)

_VERSIONED = When("VersionId")
_UNVERSIONED = When("VersionId", "absent")
_ACL = ("ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWrite", "GrantWriteACP")
_BYPASS = Need("s3:BypassGovernanceRetention", when=(When("BypassGovernanceRetention", "true"),))


def _by_version(plain: str, versioned: str) -> tuple[Need, ...]:
    return Need(plain, when=(_UNVERSIONED,)), Need(versioned, when=(_VERSIONED,))


def _copy_source_of(operation: str) -> Callable[[object], list[Derived]]:
    """The source object of a copy, read as S3 reads `x-amz-copy-source` (`copy_source`): s3:GetObject on
    it, or s3:GetObjectVersion when a `versionId` names a version. A value S3 refuses raises S3's error."""

    def derive(scope: object) -> list[Derived]:
        if not isinstance(scope, Mapping) or scope.get("CopySource") is None:
            return []
        source = copy_source(scope["CopySource"], operation)
        return [Derived(source.action, {"BucketName": (source.bucket,), "ObjectName": (source.key,)})]

    return derive


def _with_source_version(operation: str, derive: Callable[[object], list[Derived]]) -> Callable[[object],
                                                                                                  list[Derived]]:
    """The source object's condition keys: `s3:versionid` is the version the copy source names (the object
    whose `s3:ExistingObjectTag/*` the authorizer then reads is that version)."""

    def with_version(scope: object) -> list[Derived]:
        found = derive(scope)
        if not found or not isinstance(scope, Mapping):
            return found
        version = copy_source(scope["CopySource"], operation).version_id
        if not version:
            return found
        return [replace(d, context={**d.context, "s3:versionid": (version,)}) for d in found]

    return with_version


def _copy(operation: str, dest: str) -> tuple[Need, ...]:
    """Read the source object (its version when `versionId` is given), write the destination object."""
    return (Need("", derive=_with_source_version(operation, _copy_source_of(operation)), isolate=True,
                 actions=("s3:GetObject", "s3:GetObjectVersion")),
            Need(dest))


_SSE_KEYS = ("s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id")

_WRITE_EXTRAS = (
    Need("s3:PutObjectAcl", when=(When("", "any_present", _ACL),)),
    Need("s3:PutObjectTagging", when=(When("Tagging"),)),
)

RULES: tuple[Rule, ...] = (
    *(Rule("s3", op, (Need(action),), _GUIDE) for op, action in _RENAMES),
    Rule("s3", "PutBucketReplication",
         (Need("s3:PutReplicationConfiguration"),
          Need("iam:PassRole", arn=("ReplicationConfiguration.Role",),
               context={"iam:PassedToService": "s3.amazonaws.com"})),
         _GUIDE + "; https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html"),
    # GetObject/HeadObject: with a versionId only s3:GetObjectVersion is required (API reference).
    Rule("s3", "GetObject", _by_version("s3:GetObject", "s3:GetObjectVersion"), _api("GetObject")),
    Rule("s3", "HeadObject", _by_version("s3:GetObject", "s3:GetObjectVersion"), _api("HeadObject")),
    Rule("s3", "GetObjectAcl", _by_version("s3:GetObjectAcl", "s3:GetObjectVersionAcl"), _GUIDE),
    Rule("s3", "PutObjectAcl", _by_version("s3:PutObjectAcl", "s3:PutObjectVersionAcl"), _GUIDE),
    # "You also need permission for the s3:GetObjectVersionTagging action" — read as: both (stricter).
    Rule("s3", "GetObjectTagging",
         (Need("s3:GetObjectTagging"), Need("s3:GetObjectVersionTagging", when=(_VERSIONED,))),
         _api("GetObjectTagging"), note="versioned: both actions (stricter reading)"),
    Rule("s3", "PutObjectTagging",
         (Need("s3:PutObjectTagging"), Need("s3:PutObjectVersionTagging", when=(_VERSIONED,))),
         _api("PutObjectTagging"), note="versioned: both actions (stricter reading)"),
    Rule("s3", "DeleteObjectTagging",
         (Need("s3:DeleteObjectTagging"), Need("s3:DeleteObjectVersionTagging", when=(_VERSIONED,))),
         _api("DeleteObjectTagging"), note="versioned: both actions (stricter reading)"),
    Rule("s3", "GetObjectAttributes",
         (*_by_version("s3:GetObject", "s3:GetObjectVersion"),
          *_by_version("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes")),
         _api("GetObjectAttributes")),
    # "To delete an object from a bucket, you must always have the s3:DeleteObject permission";
    # a versionId also needs s3:DeleteObjectVersion.
    Rule("s3", "DeleteObject",
         (Need("s3:DeleteObject"), Need("s3:DeleteObjectVersion", when=(_VERSIONED,)), _BYPASS),
         _api("DeleteObject")),
    Rule("s3", "DeleteObjects",
         (Need("s3:DeleteObject", each="Delete.Objects[]", sources=(Param("ObjectName", ("Key",)),)),
          Need("s3:DeleteObjectVersion", each="Delete.Objects[]", when=(_VERSIONED,),
               sources=(Param("ObjectName", ("Key",)),)),
          Need(_BYPASS.action, each="Delete.Objects[]", sources=(Param("ObjectName", ("Key",)),),
               when=(When("^BypassGovernanceRetention", "true"),))),
         _api("DeleteObjects")),
    Rule("s3", "PutObject", (Need("s3:PutObject"), *_WRITE_EXTRAS), _api("PutObject")),
    Rule("s3", "CreateMultipartUpload", (Need("s3:PutObject"), *_WRITE_EXTRAS), _GUIDE),
    Rule("s3", "CopyObject", (*_copy("CopyObject", "s3:PutObject"), *_WRITE_EXTRAS), _api("CopyObject")),
    Rule("s3", "UploadPartCopy", _copy("UploadPartCopy", "s3:PutObject"), _api("UploadPartCopy")),
    Rule("s3", "PutObjectRetention", (Need("s3:PutObjectRetention"), _BYPASS), _api("PutObjectRetention")),
    # The new encryption is in the ObjectEncryption body, not in the x-amz-server-side-encryption headers the
    # keys name; how AWS fills them from it is not documented: unsupplied.
    Rule("s3", "UpdateObjectEncryption",
         (Need("s3:UpdateObjectEncryption", unsupplied=_SSE_KEYS), Need("s3:PutObject", unsupplied=_SSE_KEYS)),
         _api("UpdateObjectEncryption")),
    # CreateBucket: PutBucketAcl for a non-private ACL or grants; Object Lock and Object Ownership headers.
    Rule("s3", "CreateBucket",
         (Need("s3:CreateBucket"),
          Need("s3:PutBucketAcl", when=(When("ACL", "not_equals", "private"),)),
          Need("s3:PutBucketAcl", when=(When("", "any_present", _ACL[1:]),)),
          Need("s3:PutBucketObjectLockConfiguration", when=(When("ObjectLockEnabledForBucket", "true"),)),
          Need("s3:PutBucketVersioning", when=(When("ObjectLockEnabledForBucket", "true"),)),
          Need("s3:PutBucketOwnershipControls", when=(When("ObjectOwnership"),)),
          # "You must have the s3:TagResource permission to create a general purpose bucket with tags"
          # (API_CreateBucketConfiguration.html). Condition keys review round 6.
          Need("s3:TagResource", when=(When("CreateBucketConfiguration.Tags[]"),), types=("bucket",))),
         _api("CreateBucket") + "; " + _api("CreateBucketConfiguration")),
)
