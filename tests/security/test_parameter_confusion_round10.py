"""Attack class 2, review round 10: request members the decision reads and moto does not carry out.

Found by the structural audit (tests/security/test_decision_parameters_are_executed.py), each confirmed here
against a real `lambdaperm serve` with real boto3, asserting AWS's outcome: the call either does what AWS does
with the member, or is refused 501 NotImplemented naming it (lambdaperm/dataplane/unexecuted_parameters.py).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"
_KEY = b"k" * 32
_SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(_KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(_KEY).digest()).decode(),
}


def _refused(call: Callable[[], Any], member: str) -> bool:
    """True when the call is refused 501 NotImplemented naming `member`; False when it was served."""
    try:
        call()
    except ClientError as err:
        assert err.response["Error"]["Code"] == "NotImplemented", err.response
        assert member in err.response["Error"]["Message"]
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        return True
    return False


def test_sse_c_object_is_never_readable_without_its_key(server: Endpoint) -> None:
    """SSE-C: "Amazon S3 ... removes the encryption key from memory"; to read the object "you must provide the
    same encryption key" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html).
    The decision reads `s3:x-amz-server-side-encryption-customer-algorithm` (a policy may require SSE-C). Attack:
    moto 5.2.1 reads no SSE-C header and stored the object in the clear, so anyone with s3:GetObject read it
    without the key. Outcome: the upload is refused (or the keyless read fails, as in S3)."""
    s3 = server.client("s3", key="888800001001")
    s3.create_bucket(Bucket="r10-ssec")
    refused = _refused(
        lambda: s3.put_object(Bucket="r10-ssec", Key="k", Body=b"secret", **_SSE_C), "SSECustomerAlgorithm"
    )
    with pytest.raises(ClientError) as keyless:
        s3.get_object(Bucket="r10-ssec", Key="k")
    assert keyless.value.response["Error"]["Code"] in (("NoSuchKey",) if refused else ("InvalidRequest",))
    upload = lambda: s3.create_multipart_upload(Bucket="r10-ssec", Key="m", **_SSE_C)  # noqa: E731
    assert _refused(upload, "SSECustomerAlgorithm")


def test_multipart_upload_keeps_its_object_lock(server: Endpoint) -> None:
    """CreateMultipartUpload with `x-amz-object-lock-mode`/`-retain-until-date`: the completed object is
    locked: "you can't delete the object version until the retain-until date"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html). The decision reads the
    `s3:object-lock-*` keys. Attack: moto 5.2.1's CreateMultipartUpload reads none of them: a policy that
    allowed the upload only with COMPLIANCE retention let an unlocked object be written, deletable at once."""
    s3 = server.client("s3", key="888800001002")
    s3.create_bucket(Bucket="r10-lock", ObjectLockEnabledForBucket=True)
    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)
    created: dict[str, Any] = {}

    def upload() -> None:
        created.update(
            s3.create_multipart_upload(
                Bucket="r10-lock", Key="k", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until
            )
        )

    if _refused(upload, "ObjectLockMode"):
        return
    part = s3.upload_part(Bucket="r10-lock", Key="k", UploadId=created["UploadId"], PartNumber=1, Body=b"x")
    done = s3.complete_multipart_upload(
        Bucket="r10-lock",
        Key="k",
        UploadId=created["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    with pytest.raises(ClientError):  # AWS: AccessDenied, the version is under COMPLIANCE retention
        s3.delete_object(Bucket="r10-lock", Key="k", VersionId=done["VersionId"])


def test_multipart_upload_keeps_its_website_redirect(server: Endpoint) -> None:
    """`x-amz-website-redirect-location` on CreateMultipartUpload is stored with the object (HeadObject returns
    it), https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html; the decision reads
    `s3:x-amz-website-redirect-location`. moto 5.2.1's CreateMultipartUpload drops it."""
    s3 = server.client("s3", key="888800001003")
    s3.create_bucket(Bucket="r10-redirect")
    created: dict[str, Any] = {}

    def upload() -> None:
        created.update(s3.create_multipart_upload(Bucket="r10-redirect", Key="k", WebsiteRedirectLocation="/other"))

    if _refused(upload, "WebsiteRedirectLocation"):
        return
    part = s3.upload_part(Bucket="r10-redirect", Key="k", UploadId=created["UploadId"], PartNumber=1, Body=b"x")
    s3.complete_multipart_upload(
        Bucket="r10-redirect",
        Key="k",
        UploadId=created["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert s3.head_object(Bucket="r10-redirect", Key="k").get("WebsiteRedirectLocation") == "/other"


def test_create_bucket_keeps_its_tags(server: Endpoint) -> None:
    """CreateBucket's `CreateBucketConfiguration.Tags` tag the new bucket
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html); the decision reads them as
    `aws:RequestTag/*` and `aws:TagKeys`. moto 5.2.1 reads only the LocationConstraint and created the bucket
    untagged."""
    s3 = server.client("s3", key="888800001004")
    tags = [{"Key": "owner", "Value": "alice"}]
    if _refused(
        lambda: s3.create_bucket(Bucket="r10-tagged", CreateBucketConfiguration={"Tags": tags}),
        "CreateBucketConfiguration.Tags",
    ):
        with pytest.raises(ClientError):  # nothing was created
            s3.head_bucket(Bucket="r10-tagged")
        return
    assert s3.get_bucket_tagging(Bucket="r10-tagged")["TagSet"] == tags


def test_describe_log_groups_lists_only_the_groups_it_names(server: Endpoint) -> None:
    """DescribeLogGroups with `logGroupIdentifiers` answers those groups only ("Use this array to filter the list
    of log groups returned", https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html);
    the decision authorizes it on the groups named. Attack: a caller authorized on group `open` names it, and
    moto 5.2.1, which ignores logGroupIdentifiers, listed `hidden` too. (The caller is the account's root: the
    catalog binds no group name from logGroupIdentifiers for this action, a wrong deny for a user allowed on
    `open` only — reported, not this module's.)"""
    account = "888800001005"
    logs = server.client("logs", key=account)
    logs.create_log_group(logGroupName="open")
    logs.create_log_group(logGroupName="hidden")
    found: list[str] = []

    def describe() -> None:
        answer = logs.describe_log_groups(logGroupIdentifiers=["open"])
        found.extend(g["logGroupName"] for g in answer["logGroups"])

    if not _refused(describe, "logGroupIdentifiers"):
        assert found == ["open"]


def test_start_query_by_identifiers_is_never_a_crash(server: Endpoint) -> None:
    """StartQuery takes the groups as `logGroupIdentifiers` (names or ARNs,
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html); the decision
    authorizes the query on them. moto 5.2.1 reads logGroupName(s) only: the query ran on no group (a 500)."""
    logs = server.client("logs", key="888800001006")
    logs.create_log_group(logGroupName="q")
    started: dict[str, Any] = {}

    def start() -> None:
        started.update(
            logs.start_query(logGroupIdentifiers=["q"], startTime=0, endTime=10, queryString="fields @message")
        )

    if not _refused(start, "logGroupIdentifiers"):
        assert started["queryId"]


def test_put_object_retention_with_bypass_is_refused(server: Endpoint) -> None:
    """`x-amz-bypass-governance-retention` on PutObjectRetention makes the call need s3:BypassGovernanceRetention
    and lets it shorten a GOVERNANCE retention, never a COMPLIANCE one
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-managing.html#object-lock-managing-bypass).
    moto 5.2.1 reads no bypass header in PutObjectRetention: it is refused, naming the member."""
    s3 = server.client("s3", key="888800001007")
    s3.create_bucket(Bucket="r10-bypass", ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket="r10-bypass", Key="k", Body=b"x", ChecksumAlgorithm="SHA256")
    until = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    retention = {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    assert _refused(
        lambda: s3.put_object_retention(
            Bucket="r10-bypass",
            Key="k",
            Retention=retention,
            BypassGovernanceRetention=True,
            ChecksumAlgorithm="SHA256",
        ),
        "BypassGovernanceRetention",
    )


def _access_denied(call: Callable[[], Any]) -> None:
    """The call is refused as S3 refuses it: 403 AccessDenied, "Access Denied"."""
    with pytest.raises(ClientError) as refused:
        call()
    assert refused.value.response["Error"]["Code"] == "AccessDenied", refused.value.response
    assert refused.value.response["Error"]["Message"] == "Access Denied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def _retention(s3: Any, bucket: str, version: str) -> tuple[str, datetime.datetime]:
    """The version's retention as HeadObject reports it (GetObjectRetention is one moto 5.2.1 lacks)."""
    got = s3.head_object(Bucket=bucket, Key="k", VersionId=version)
    return str(got["ObjectLockMode"]), got["ObjectLockRetainUntilDate"]


def test_compliance_retention_cannot_be_shortened(server: Endpoint) -> None:
    """S3: "In compliance mode, a protected object version can't be overwritten or deleted by any user ... its
    retention mode can't be changed, and its retention period can't be shortened"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes); it can
    be extended. moto 5.2.1's PutObjectRetention overwrote any retention: the version was then deletable.
    Outcome: shortening, a switch to GOVERNANCE and removal are refused 403 AccessDenied and leave the retention
    as it was; a later date is set."""
    s3 = server.client("s3", key="888800001008")
    s3.create_bucket(Bucket="r10-compliance", ObjectLockEnabledForBucket=True)
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).replace(microsecond=0)
    put = s3.put_object(
        Bucket="r10-compliance",
        Key="k",
        Body=b"x",
        ChecksumAlgorithm="SHA256",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=later,
    )
    version = put["VersionId"]

    def retain(mode: str, until: datetime.datetime) -> Callable[[], Any]:
        return lambda: s3.put_object_retention(
            Bucket="r10-compliance",
            Key="k",
            VersionId=version,
            Retention={"Mode": mode, "RetainUntilDate": until},
            ChecksumAlgorithm="SHA256",
        )

    sooner = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    _access_denied(retain("GOVERNANCE", sooner))
    _access_denied(retain("COMPLIANCE", sooner))
    _access_denied(retain("GOVERNANCE", later + datetime.timedelta(days=1)))  # the mode can't be changed
    _access_denied(
        lambda: s3.put_object_retention(Bucket="r10-compliance", Key="k", Retention={}, ChecksumAlgorithm="SHA256")
    )
    assert _retention(s3, "r10-compliance", version) == ("COMPLIANCE", later)
    longer = later + datetime.timedelta(days=3)
    retain("COMPLIANCE", longer)()  # extending is always allowed
    assert _retention(s3, "r10-compliance", version) == ("COMPLIANCE", longer)
    retain("COMPLIANCE", longer)()  # the same date shortens nothing
    with pytest.raises(ClientError) as locked:
        s3.delete_object(Bucket="r10-compliance", Key="k", VersionId=version)
    assert locked.value.response["Error"]["Code"] == "AccessDenied"


def test_governance_retention_is_not_shortened_without_the_bypass(server: Endpoint) -> None:
    """S3: "To override or remove governance-mode retention settings, you must have the
    s3:BypassGovernanceRetention permission and must explicitly include x-amz-bypass-governance-retention:true as
    a request header with any request that requires overriding governance mode"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-retention-modes); an
    extension needs no bypass. moto 5.2.1 shortened or removed a GOVERNANCE retention without the header.
    Outcome: shortening or removing without the header is 403 AccessDenied (with it: 501, see
    test_put_object_retention_with_bypass_is_refused); extending, or a switch to COMPLIANCE that shortens
    nothing, is served."""
    s3 = server.client("s3", key="888800001010")
    s3.create_bucket(Bucket="r10-governance", ObjectLockEnabledForBucket=True)
    later = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).replace(microsecond=0)
    put = s3.put_object(
        Bucket="r10-governance",
        Key="k",
        Body=b"x",
        ChecksumAlgorithm="SHA256",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=later,
    )
    version = put["VersionId"]

    def retain(mode: str, until: datetime.datetime, **extra: Any) -> Callable[[], Any]:
        return lambda: s3.put_object_retention(
            Bucket="r10-governance",
            Key="k",
            Retention={"Mode": mode, "RetainUntilDate": until},
            ChecksumAlgorithm="SHA256",
            **extra,
        )

    sooner = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    _access_denied(retain("GOVERNANCE", sooner))
    _access_denied(retain("COMPLIANCE", sooner))
    _access_denied(
        lambda: s3.put_object_retention(Bucket="r10-governance", Key="k", Retention={}, ChecksumAlgorithm="SHA256")
    )
    assert _refused(retain("GOVERNANCE", sooner, BypassGovernanceRetention=True), "BypassGovernanceRetention")
    assert _retention(s3, "r10-governance", version) == ("GOVERNANCE", later)
    longer = later + datetime.timedelta(days=1)
    retain("GOVERNANCE", longer)()
    assert _retention(s3, "r10-governance", version) == ("GOVERNANCE", longer)
    retain("COMPLIANCE", longer)()
    assert _retention(s3, "r10-governance", version) == ("COMPLIANCE", longer)


def test_conditional_writes_stay_conditional(server: Endpoint) -> None:
    """S3 conditional writes: "If the condition is not met, the write fails with a 412 Precondition Failed"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html); the decision reads
    `s3:if-match` / `s3:if-none-match` (a bucket policy may require them). moto 5.2.1 reads no destination
    If-Match/If-None-Match in CopyObject and no If-Match in CompleteMultipartUpload: it overwrote the object."""
    s3 = server.client("s3", key="888800001009")
    s3.create_bucket(Bucket="r10-cond")
    s3.put_object(Bucket="r10-cond", Key="k", Body=b"original")
    s3.put_object(Bucket="r10-cond", Key="src", Body=b"other")

    def outcome(call: Callable[[], Any], member: str) -> str:
        try:
            if _refused(call, member):
                return "refused"
        except ClientError as err:
            return str(err.response["Error"]["Code"])
        return "served"

    copy = lambda: s3.copy_object(Bucket="r10-cond", Key="k", CopySource="r10-cond/src", IfNoneMatch="*")  # noqa: E731
    assert outcome(copy, "IfNoneMatch") in ("refused", "PreconditionFailed")
    upload = s3.create_multipart_upload(Bucket="r10-cond", Key="k")
    part = s3.upload_part(Bucket="r10-cond", Key="k", UploadId=upload["UploadId"], PartNumber=1, Body=b"new")

    def complete() -> None:
        s3.complete_multipart_upload(
            Bucket="r10-cond",
            Key="k",
            UploadId=upload["UploadId"],
            IfMatch='"0123456789abcdef0123456789abcdef"',
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )

    assert outcome(complete, "IfMatch") in ("refused", "PreconditionFailed")
    assert s3.get_object(Bucket="r10-cond", Key="k")["Body"].read() == b"original"
