"""Attack class 2, review round 11: members the decision does not read but that change what is acted on.

Round 10's structural audit covers the members the decision reads. This round plays members that decide
WHETHER (or on what) the call acts without entering the decision: EC2's `DryRun`, S3's expected bucket owners,
S3's body checksums. Each test runs against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"


def _fails(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return str(err.value.response["Error"]["Code"]), int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def test_ec2_dry_run_checks_permissions_and_executes_nothing(server: Endpoint) -> None:
    """EC2 `DryRun`: "Checks whether you have the required permissions for the action, without actually making
    the request, and provides an error response. If you have the required permissions, the error response is
    DryRunOperation. Otherwise, it is UnauthorizedOperation."
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpc.html, CommonParameters).
    Attack: moto 5.2.1 reads DryRun in about half the served operations only; CreateVpc, DeleteVpc, CreateSubnet,
    DeleteSubnet, CreateVpcEndpoint, DeleteVpcEndpoints, UpdateSecurityGroupRuleDescriptions* … with DryRun=true
    were carried out — a "permission probe" (the trail records a dry run) created and deleted resources."""
    ec2 = server.client("ec2", key="888800001101")
    before = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]}
    assert _fails(lambda: ec2.create_vpc(CidrBlock="10.11.0.0/16", DryRun=True)) == ("DryRunOperation", 412)
    assert {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]} == before
    vpc = ec2.create_vpc(CidrBlock="10.11.0.0/16")["Vpc"]["VpcId"]
    assert _fails(lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.11.1.0/24", DryRun=True))[0] == "DryRunOperation"
    assert ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"] == []
    assert _fails(lambda: ec2.delete_vpc(VpcId=vpc, DryRun=True))[0] == "DryRunOperation"
    assert [v["VpcId"] for v in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"]] == [vpc]
    # a read answers the same way, and DryRun=false is the call itself
    assert _fails(lambda: ec2.describe_security_groups(DryRun=True))[0] == "DryRunOperation"
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.11.1.0/24", DryRun=False)
    assert len(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]) == 1


def test_ec2_dry_run_without_permission_is_unauthorized(server: Endpoint) -> None:
    """The other half of the rule: a dry run of a call the caller may not make is UnauthorizedOperation (403),
    never DryRunOperation (which would tell the caller it is allowed)."""
    account = "888800001102"
    iam = server.client("iam", key=account)
    iam.create_user(UserName="reader")
    statement = {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}
    iam.put_user_policy(
        UserName="reader",
        PolicyName="p",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    created = iam.create_access_key(UserName="reader")["AccessKey"]
    ec2 = server.client("ec2", key=created["AccessKeyId"], secret=created["SecretAccessKey"])
    assert _fails(lambda: ec2.create_vpc(CidrBlock="10.12.0.0/16", DryRun=True)) == ("UnauthorizedOperation", 403)
    assert _fails(lambda: ec2.describe_vpcs(DryRun=True))[0] == "DryRunOperation"


def test_expected_bucket_owner_of_another_account_is_refused(server: Endpoint) -> None:
    """`x-amz-expected-bucket-owner`: "If the account ID that you provide does not match the actual owner of the
    bucket, the request fails with the HTTP status code 403 Forbidden (access denied)."
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-owner-condition.html). Attack: moto 5.2.1 reads
    the header nowhere: account B, allowed on account A's bucket by its policy, wrote and deleted objects in it
    while stating that it expected its OWN bucket (the guard against a bucket name taken over by another
    account) — the write landed in a bucket the caller had said it must not reach."""
    owner, other = "888800001103", "888800001104"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket="r11-expected-owner")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
                "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                "Resource": "arn:aws:s3:::r11-expected-owner/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket="r11-expected-owner", Policy=json.dumps(policy))
    s3.put_object(Bucket="r11-expected-owner", Key="kept", Body=b"kept")
    b = server.client("s3", key=other)
    put = lambda: b.put_object(Bucket="r11-expected-owner", Key="k", Body=b"x", ExpectedBucketOwner=other)  # noqa: E731
    assert _fails(put) == ("AccessDenied", 403)
    assert _fails(lambda: s3.head_object(Bucket="r11-expected-owner", Key="k"))[0] in ("404", "NoSuchKey")
    delete = lambda: b.delete_object(Bucket="r11-expected-owner", Key="kept", ExpectedBucketOwner=other)  # noqa: E731
    assert _fails(delete) == ("AccessDenied", 403)
    assert s3.get_object(Bucket="r11-expected-owner", Key="kept")["Body"].read() == b"kept"
    # the owner's own account is what it expects: served
    b.put_object(Bucket="r11-expected-owner", Key="k", Body=b"x", ExpectedBucketOwner=owner)
    assert s3.get_object(Bucket="r11-expected-owner", Key="k")["Body"].read() == b"x"


def test_expected_source_bucket_owner_of_another_account_is_refused(server: Endpoint) -> None:
    """CopyObject's `x-amz-source-expected-bucket-owner`: the same 403 when the SOURCE bucket's owner differs
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html). Attack: moto ignored it, and the copy
    read a source bucket of another account than the caller required."""
    owner = "888800001105"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket="r11-src-owner")
    s3.put_object(Bucket="r11-src-owner", Key="a", Body=b"a")

    def copy(expected: str) -> Any:
        return s3.copy_object(
            Bucket="r11-src-owner", Key="b", CopySource="r11-src-owner/a", ExpectedSourceBucketOwner=expected
        )

    assert _fails(lambda: copy("888800001199")) == ("AccessDenied", 403)
    assert _fails(lambda: s3.head_object(Bucket="r11-src-owner", Key="b"))[0] in ("404", "NoSuchKey")
    copy(owner)
    assert s3.get_object(Bucket="r11-src-owner", Key="b")["Body"].read() == b"a"


def test_a_checksum_that_does_not_match_the_body_stores_nothing(server: Endpoint) -> None:
    """S3 computes the checksum of what it receives and refuses a mismatch: 400 BadDigest "The SHA256 you
    specified did not match the calculated checksum." / "The Content-MD5 you specified did not match what we
    received." (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html,
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html). Attack: moto 5.2.1 stores the value it
    is given ("TODO: AWS computes the provided value and verifies it's the same"): an object was stored whose
    recorded integrity does not hold for its bytes, and Content-MD5 was not checked at all."""
    s3 = server.client("s3", key="888800001106")
    s3.create_bucket(Bucket="r11-checksums")
    other_sha256 = _b64(hashlib.sha256(b"other").digest())
    put = lambda: s3.put_object(Bucket="r11-checksums", Key="a", Body=b"data", ChecksumSHA256=other_sha256)  # noqa: E731
    assert _fails(put) == ("BadDigest", 400)
    other_md5 = _b64(hashlib.md5(b"other").digest())
    put = lambda: s3.put_object(Bucket="r11-checksums", Key="a", Body=b"data", ContentMD5=other_md5)  # noqa: E731
    assert _fails(put) == ("BadDigest", 400)
    put = lambda: s3.put_object(Bucket="r11-checksums", Key="a", Body=b"data", ContentMD5="not-md5")  # noqa: E731
    assert _fails(put) == ("InvalidDigest", 400)
    assert _fails(lambda: s3.head_object(Bucket="r11-checksums", Key="a"))[0] in ("404", "NoSuchKey")
    upload = s3.create_multipart_upload(Bucket="r11-checksums", Key="m", ChecksumAlgorithm="CRC32")["UploadId"]
    other_crc = _b64(zlib.crc32(b"other").to_bytes(4, "big"))

    def part(crc: str) -> Any:
        return s3.upload_part(
            Bucket="r11-checksums", Key="m", UploadId=upload, PartNumber=1, Body=b"part", ChecksumCRC32=crc
        )

    assert _fails(lambda: part(other_crc)) == ("BadDigest", 400)
    assert s3.list_parts(Bucket="r11-checksums", Key="m", UploadId=upload).get("Parts", []) == []
    # the right values are served
    right = _b64(hashlib.sha256(b"data").digest())
    s3.put_object(Bucket="r11-checksums", Key="a", Body=b"data", ChecksumSHA256=right)
    assert s3.get_object(Bucket="r11-checksums", Key="a")["Body"].read() == b"data"
    part(_b64(zlib.crc32(b"part").to_bytes(4, "big")))
    tagging = {"TagSet": [{"Key": "k", "Value": "v"}]}
    tag = lambda: s3.put_object_tagging(Bucket="r11-checksums", Key="a", Tagging=tagging, ContentMD5=other_md5)  # noqa: E731
    assert _fails(tag) == ("BadDigest", 400)
    assert s3.get_object_tagging(Bucket="r11-checksums", Key="a")["TagSet"] == []
