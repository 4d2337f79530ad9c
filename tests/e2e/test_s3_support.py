"""Every S3 operation lambdaperm hands to the embedded moto backend (dataplane/s3_support.py) round-trips
through `lambdaperm serve` with real boto3: what is written is read back. Every other S3 operation is
answered 501 NotImplemented before moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from lambdaperm.dataplane.s3_support import MOTO_S3_OPERATIONS, check_served
from lambdaperm.protocol.errors import ServiceError

from .conftest import Endpoint

ACCOUNT = "999900000001"


def test_the_table_names_only_operations_of_the_model() -> None:
    model = botocore.session.get_session().get_service_model("s3")
    assert set(MOTO_S3_OPERATIONS) <= set(model.operation_names)
    for name in set(model.operation_names) - MOTO_S3_OPERATIONS:
        with pytest.raises(ServiceError) as err:
            check_served(name)
        assert (err.value.status, err.value.code) == (501, "NotImplemented")
    assert {
        "GetObjectRetention",
        "DeleteBucketAnalyticsConfiguration",
        "DeleteBucketInventoryConfiguration",
        "CreateBucketMetadataConfiguration",
        "GetBucketLifecycle",
    } & MOTO_S3_OPERATIONS == set()


@pytest.fixture(scope="module")
def s3(server: Endpoint) -> Any:
    client = server.client("s3", key=ACCOUNT)
    client.create_bucket(Bucket="s3rt")
    return client


def test_bucket_configurations_round_trip(s3: Any) -> None:
    s3.head_bucket(Bucket="s3rt")
    assert "s3rt" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket="s3rt")["LocationConstraint"] is None
    s3.put_bucket_versioning(Bucket="s3rt", VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket="s3rt")["Status"] == "Enabled"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::s3rt/x"}
        ],
    }
    s3.put_bucket_policy(Bucket="s3rt", Policy=json.dumps(policy))
    assert (
        json.loads(s3.get_bucket_policy(Bucket="s3rt")["Policy"])["Statement"][0]["Resource"] == "arn:aws:s3:::s3rt/x"
    )
    s3.delete_bucket_policy(Bucket="s3rt")
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket="s3rt")
    s3.delete_public_access_block(Bucket="s3rt")  # a new bucket blocks public ACLs (S3's default)
    s3.put_bucket_acl(Bucket="s3rt", ACL="public-read")
    assert any(g["Permission"] == "READ" for g in s3.get_bucket_acl(Bucket="s3rt")["Grants"])
    s3.put_bucket_tagging(Bucket="s3rt", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    assert s3.get_bucket_tagging(Bucket="s3rt")["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.delete_bucket_tagging(Bucket="s3rt")
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket="s3rt")
    s3.put_bucket_cors(
        Bucket="s3rt", CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    )
    assert s3.get_bucket_cors(Bucket="s3rt")["CORSRules"][0]["AllowedMethods"] == ["GET"]
    s3.delete_bucket_cors(Bucket="s3rt")
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket="s3rt")
    s3.put_bucket_lifecycle_configuration(
        Bucket="s3rt",
        LifecycleConfiguration={
            "Rules": [{"ID": "r", "Status": "Disabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 3}}]
        },
    )
    assert s3.get_bucket_lifecycle_configuration(Bucket="s3rt")["Rules"][0]["Expiration"] == {"Days": 3}
    s3.delete_bucket_lifecycle(Bucket="s3rt")
    with pytest.raises(ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket="s3rt")
    s3.put_bucket_website(Bucket="s3rt", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    assert s3.get_bucket_website(Bucket="s3rt")["IndexDocument"] == {"Suffix": "index.html"}
    s3.delete_bucket_website(Bucket="s3rt")
    with pytest.raises(ClientError):
        s3.get_bucket_website(Bucket="s3rt")
    s3.put_bucket_accelerate_configuration(Bucket="s3rt", AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket="s3rt")["Status"] == "Enabled"
    block = {  # the flags S3 acts on and lambdaperm does not are 501 (implicit accesses round 12)
        "BlockPublicAcls": False,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    s3.put_public_access_block(Bucket="s3rt", PublicAccessBlockConfiguration=block)
    assert s3.get_public_access_block(Bucket="s3rt")["PublicAccessBlockConfiguration"] == block
    s3.delete_public_access_block(Bucket="s3rt")
    with pytest.raises(ClientError):
        s3.get_public_access_block(Bucket="s3rt")
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}  # aws:kms: 501 (round 9)
    s3.put_bucket_encryption(Bucket="s3rt", ServerSideEncryptionConfiguration={"Rules": [rule]})
    got = s3.get_bucket_encryption(Bucket="s3rt")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert got["ApplyServerSideEncryptionByDefault"] == rule["ApplyServerSideEncryptionByDefault"]
    s3.delete_bucket_encryption(Bucket="s3rt")
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}  # ObjectWriter: 501 (implicit round 12)
    s3.put_bucket_ownership_controls(Bucket="s3rt", OwnershipControls=enforced)
    assert s3.get_bucket_ownership_controls(Bucket="s3rt")["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    s3.delete_bucket_ownership_controls(Bucket="s3rt")
    with pytest.raises(ClientError):
        s3.get_bucket_ownership_controls(Bucket="s3rt")
    s3.put_bucket_notification_configuration(Bucket="s3rt", NotificationConfiguration={})
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket="s3rt")
    inventory = {
        "Id": "inv",
        "IsEnabled": False,  # an enabled inventory: 501 (implicit accesses round 9)
        "IncludedObjectVersions": "Current",
        "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::s3rt", "Format": "CSV"}},
        "Schedule": {"Frequency": "Daily"},
    }
    s3.put_bucket_inventory_configuration(Bucket="s3rt", Id="inv", InventoryConfiguration=inventory)
    assert s3.get_bucket_inventory_configuration(Bucket="s3rt", Id="inv")["InventoryConfiguration"]["Id"] == "inv"
    assert [c["Id"] for c in s3.list_bucket_inventory_configurations(Bucket="s3rt")["InventoryConfigurationList"]] == [
        "inv"
    ]


def test_logging_and_replication_round_trip(server: Endpoint, s3: Any) -> None:
    s3.create_bucket(Bucket="rt-logs")
    s3.put_bucket_acl(
        Bucket="rt-logs",
        GrantWrite="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
        GrantReadACP="uri=http://acs.amazonaws.com/groups/s3/LogDelivery",
    )
    s3.put_bucket_logging(
        Bucket="s3rt", BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "rt-logs", "TargetPrefix": "l/"}}
    )
    assert s3.get_bucket_logging(Bucket="s3rt")["LoggingEnabled"]["TargetBucket"] == "rt-logs"
    server.client("iam", key=ACCOUNT).create_role(
        RoleName="repl",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    s3.put_bucket_versioning(Bucket="s3rt", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(
        Bucket="s3rt",
        ReplicationConfiguration={
            "Role": f"arn:aws:iam::{ACCOUNT}:role/repl",
            "Rules": [
                {
                    "ID": "r",
                    "Priority": 1,
                    "Status": "Disabled",  # an Enabled rule: 501 (implicit accesses round 9)
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::rt-logs"},
                }
            ],
        },
    )
    assert s3.get_bucket_replication(Bucket="s3rt")["ReplicationConfiguration"]["Rules"][0]["ID"] == "r"
    s3.delete_bucket_replication(Bucket="s3rt")
    with pytest.raises(ClientError):
        s3.get_bucket_replication(Bucket="s3rt")


def test_objects_round_trip(s3: Any) -> None:
    first = s3.put_object(Bucket="s3rt", Key="dir/a.csv", Body=b"name,n\nx,1\ny,2\n")["VersionId"]
    s3.put_object(Bucket="s3rt", Key="dir/a.csv", Body=b"name,n\nz,3\n")
    assert s3.get_object(Bucket="s3rt", Key="dir/a.csv", VersionId=first)["Body"].read().startswith(b"name,n\nx")
    assert (
        s3.head_object(Bucket="s3rt", Key="dir/a.csv")["ETag"] == s3.get_object(Bucket="s3rt", Key="dir/a.csv")["ETag"]
    )
    s3.copy_object(Bucket="s3rt", Key="copy.csv", CopySource={"Bucket": "s3rt", "Key": "dir/a.csv", "VersionId": first})
    assert s3.get_object(Bucket="s3rt", Key="copy.csv")["Body"].read() == b"name,n\nx,1\ny,2\n"
    assert s3.get_object_acl(Bucket="s3rt", Key="copy.csv")["Grants"]
    s3.put_object_tagging(Bucket="s3rt", Key="copy.csv", Tagging={"TagSet": [{"Key": "t", "Value": "1"}]})
    assert s3.get_object_tagging(Bucket="s3rt", Key="copy.csv")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.delete_object_tagging(Bucket="s3rt", Key="copy.csv")
    assert s3.get_object_tagging(Bucket="s3rt", Key="copy.csv")["TagSet"] == []
    attributes = s3.get_object_attributes(Bucket="s3rt", Key="copy.csv", ObjectAttributes=["ObjectSize"])
    assert attributes["ObjectSize"] == len(b"name,n\nx,1\ny,2\n")
    with pytest.raises(ClientError) as refused:  # moto answers it, the data plane cannot relay an event stream
        s3.select_object_content(
            Bucket="s3rt",
            Key="copy.csv",
            Expression="SELECT * FROM S3Object s",
            ExpressionType="SQL",
            InputSerialization={"CSV": {"FileHeaderInfo": "USE"}},
            OutputSerialization={"JSON": {}},
        )
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert [o["Key"] for o in s3.list_objects(Bucket="s3rt", Prefix="dir/")["Contents"]] == ["dir/a.csv"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="s3rt", Prefix="dir/")["Contents"]] == ["dir/a.csv"]
    assert len(s3.list_object_versions(Bucket="s3rt", Prefix="dir/")["Versions"]) == 2
    s3.put_object(Bucket="s3rt", Key="cold", Body=b"c", StorageClass="GLACIER")
    s3.restore_object(Bucket="s3rt", Key="cold", RestoreRequest={"Days": 1})
    assert "ongoing-request" in s3.head_object(Bucket="s3rt", Key="cold").get("Restore", "")
    s3.delete_object(Bucket="s3rt", Key="cold")
    out = s3.delete_objects(Bucket="s3rt", Delete={"Objects": [{"Key": "copy.csv"}]})
    assert [d["Key"] for d in out["Deleted"]] == ["copy.csv"]


def test_multipart_uploads_round_trip(s3: Any) -> None:
    upload = s3.create_multipart_upload(Bucket="s3rt", Key="big")["UploadId"]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="s3rt")["Uploads"]] == [upload]
    part1 = s3.upload_part(Bucket="s3rt", Key="big", UploadId=upload, PartNumber=1, Body=b"a" * 5 * 1024 * 1024)
    s3.put_object(Bucket="s3rt", Key="tail", Body=b"TAIL")
    part2 = s3.upload_part_copy(
        Bucket="s3rt", Key="big", UploadId=upload, PartNumber=2, CopySource={"Bucket": "s3rt", "Key": "tail"}
    )["CopyPartResult"]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket="s3rt", Key="big", UploadId=upload)["Parts"]] == [1, 2]
    s3.complete_multipart_upload(
        Bucket="s3rt",
        Key="big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part1["ETag"]}, {"PartNumber": 2, "ETag": part2["ETag"]}]},
    )
    body = s3.get_object(Bucket="s3rt", Key="big")["Body"].read()
    assert len(body) == 5 * 1024 * 1024 + 4 and body.endswith(b"TAIL")
    aborted = s3.create_multipart_upload(Bucket="s3rt", Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket="s3rt", Key="gone", UploadId=aborted)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="s3rt")


def test_object_lock_round_trips(s3: Any) -> None:
    s3.create_bucket(Bucket="rt-lock", ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(
        Bucket="rt-lock",
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    rule = s3.get_object_lock_configuration(Bucket="rt-lock")["ObjectLockConfiguration"]["Rule"]
    assert (rule["DefaultRetention"]["Mode"], rule["DefaultRetention"]["Days"]) == (
        "GOVERNANCE",
        1,
    )  # moto adds Years: 0
    s3.put_object(Bucket="rt-lock", Key="k", Body=b"x", ChecksumAlgorithm="SHA256")
    s3.put_object_legal_hold(Bucket="rt-lock", Key="k", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket="rt-lock", Key="k")["LegalHold"] == {"Status": "ON"}
    until = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    s3.put_object_retention(Bucket="rt-lock", Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    head = s3.head_object(Bucket="rt-lock", Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"] == until


def test_head_object_reports_the_objects_length(s3: Any) -> None:
    s3.put_object(Bucket="s3rt", Key="sized", Body=b"0123456789")
    assert s3.head_object(Bucket="s3rt", Key="sized")["ContentLength"] == 10


def test_put_object_acl_round_trips(s3: Any) -> None:
    s3.put_object(Bucket="s3rt", Key="acl", Body=b"x")
    s3.delete_public_access_block(Bucket="s3rt")  # a new bucket blocks public ACLs (S3's default)
    s3.put_object_acl(Bucket="s3rt", Key="acl", ACL="public-read")
    assert any(g["Permission"] == "READ" for g in s3.get_object_acl(Bucket="s3rt", Key="acl")["Grants"])
