"""Attack class 2, review round 1: one request read two ways — the parameters lambdaperm authorizes name one
resource, and the backend, reading the same parameters by its own rules, acts on another.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome:
the error AWS answers, and the victim resource untouched.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.test_canonical_execution import signed

REGION = "us-east-1"


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 session factory."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    created = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: server.client(service, key=created["AccessKeyId"], secret=created["SecretAccessKey"])


def test_a_multipart_upload_of_another_key_is_no_such_upload(server: Endpoint) -> None:
    """UploadPart / CompleteMultipartUpload / AbortMultipartUpload / ListParts name the object by Key and the
    upload by UploadId; the upload belongs to the key it was created for, and S3 answers 404 NoSuchUpload
    for an UploadId used with another key. Attack: a user allowed to write only `public/*` sends the parts
    of an upload that an administrator started on `protected/report` under the key `public/mine`, then
    completes it — authorized as s3:PutObject on `public/mine`, the backend (which looks the upload up by
    its id alone) would overwrite `protected/report`.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html ("NoSuchUpload: The specified
    multipart upload does not exist. The upload ID might not be valid, or the multipart upload might have
    been aborted or completed.")
    """
    account = "444400000001"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="mpu-confusion")
    admin.put_object(Bucket="mpu-confusion", Key="protected/report", Body=b"ORIGINAL")
    upload = admin.create_multipart_upload(Bucket="mpu-confusion", Key="protected/report")["UploadId"]
    s3 = user(
        server,
        account,
        "uploader",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                "Resource": "arn:aws:s3:::mpu-confusion/public/*",
            }
        ],
    )("s3")
    attempts = {
        "UploadPart": lambda: s3.upload_part(
            Bucket="mpu-confusion", Key="public/mine", UploadId=upload, PartNumber=1, Body=b"ATTACKER"
        ),
        "CompleteMultipartUpload": lambda: s3.complete_multipart_upload(
            Bucket="mpu-confusion",
            Key="public/mine",
            UploadId=upload,
            MultipartUpload={"Parts": [{"ETag": '"0"', "PartNumber": 1}]},
        ),
        "ListParts": lambda: s3.list_parts(Bucket="mpu-confusion", Key="public/mine", UploadId=upload),
        "AbortMultipartUpload": lambda: s3.abort_multipart_upload(
            Bucket="mpu-confusion", Key="public/mine", UploadId=upload
        ),
    }
    answers = {}
    for name, attempt in attempts.items():
        with pytest.raises(ClientError) as caught:
            attempt()
        answers[name] = (
            caught.value.response["Error"]["Code"],
            caught.value.response["ResponseMetadata"]["HTTPStatusCode"],
        )
    assert answers == {name: ("NoSuchUpload", 404) for name in attempts}
    # the administrator's upload is intact and still completes onto its own key
    assert admin.list_parts(Bucket="mpu-confusion", Key="protected/report", UploadId=upload).get("Parts", []) == []
    assert admin.get_object(Bucket="mpu-confusion", Key="protected/report")["Body"].read() == b"ORIGINAL"
    etag = admin.upload_part(
        Bucket="mpu-confusion", Key="protected/report", UploadId=upload, PartNumber=1, Body=b"NEW"
    )["ETag"]
    admin.complete_multipart_upload(
        Bucket="mpu-confusion",
        Key="protected/report",
        UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]},
    )
    assert admin.get_object(Bucket="mpu-confusion", Key="protected/report")["Body"].read() == b"NEW"


def _groups(server: Endpoint, account: str) -> tuple[Any, str, str]:
    ec2 = server.client("ec2", key=account)
    allowed = ec2.create_security_group(GroupName="allowed-sg", Description="allowed")["GroupId"]
    victim = ec2.create_security_group(GroupName="victim-sg", Description="victim")["GroupId"]
    return ec2, allowed, victim


_SG_ACTIONS = [
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:DeleteSecurityGroup",
    "ec2:ModifySecurityGroupRules",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
]


def _deny_victim(account: str, victim: str) -> list[dict[str, Any]]:
    """Everything on security groups, except an explicit Deny on the victim group (a guardrail)."""
    return [
        {"Effect": "Allow", "Action": _SG_ACTIONS, "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": _SG_ACTIONS,
            "Resource": f"arn:aws:ec2:{REGION}:{account}:security-group/{victim}",
        },
    ]


def _rules(ec2: Any, group_id: str) -> tuple[list[Any], list[Any]]:
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    return group["IpPermissions"], group["IpPermissionsEgress"]


def test_a_group_id_that_is_a_group_name_is_malformed(server: Endpoint) -> None:
    """EC2's `GroupId` takes a security group ID (`sg-…`); AWS answers 400 `InvalidGroupId.Malformed`
    'Invalid id: "<value>" (expecting "sg-...")' to anything else (and a group name may not have the form
    `sg-*`, so a name is never an ID). Attack: `GroupId=victim-sg` — the victim's *name* — authorized on
    `security-group/victim-sg`, which the Deny on the victim's ARN (`security-group/sg-…`) does not match;
    the backend resolves a GroupId by ID, then by name, and would open the victim group to the world.
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html (InvalidGroupId.Malformed)
    """
    account = "444400000002"
    ec2, _, victim = _groups(server, account)
    before = _rules(ec2, victim)
    attacker = user(server, account, "sgname", _deny_victim(account, victim))("ec2")
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    attempts = {
        "AuthorizeSecurityGroupIngress": lambda: attacker.authorize_security_group_ingress(
            GroupId="victim-sg", IpPermissions=[ssh]
        ),
        "AuthorizeSecurityGroupEgress": lambda: attacker.authorize_security_group_egress(
            GroupId="victim-sg", IpPermissions=[ssh]
        ),
        "DeleteSecurityGroup": lambda: attacker.delete_security_group(GroupId="victim-sg"),
    }
    answers = {}
    for name, attempt in attempts.items():
        with pytest.raises(ClientError) as caught:
            attempt()
        error = caught.value.response["Error"]
        answers[name] = (error["Code"], error["Message"])
    expected = ("InvalidGroupId.Malformed", 'Invalid id: "victim-sg" (expecting "sg-...")')
    assert answers == {name: expected for name in attempts}
    assert _rules(ec2, victim) == before


def test_a_group_name_beside_a_group_id_acts_on_neither_other_group(server: Endpoint) -> None:
    """AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress, DeleteSecurityGroup and
    UpdateSecurityGroupRuleDescriptionsIngress take the group by `GroupId` or (default VPC) by `GroupName`
    ("You can specify either the security group name or the security group ID"). Attack: `GroupId` = a
    group the caller may change, `GroupName` = the victim's name. lambdaperm authorizes the ID; the backend
    reads the name first and would change (or delete) the victim. Which one AWS reads is not documented:
    lambdaperm refuses the pair (400 InvalidParameterCombination, stricter), and nothing happens to the
    victim — never an action on a group that was not authorized.
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html
    """
    account = "444400000003"
    ec2, allowed, victim = _groups(server, account)
    before = _rules(ec2, victim)
    attacker = user(server, account, "sgpair", _deny_victim(account, victim))("ec2")
    ssh = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    attempts = {
        "AuthorizeSecurityGroupIngress": lambda: attacker.authorize_security_group_ingress(
            GroupId=allowed, GroupName="victim-sg", IpPermissions=[ssh]
        ),
        "DeleteSecurityGroup": lambda: attacker.delete_security_group(GroupId=allowed, GroupName="victim-sg"),
    }
    answers = {}
    for name, attempt in attempts.items():
        with pytest.raises(ClientError) as caught:
            attempt()
        answers[name] = caught.value.response["Error"]["Code"]
    assert answers == {name: "InvalidParameterCombination" for name in attempts}
    assert _rules(ec2, victim) == before
    names = {g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert {"allowed-sg", "victim-sg"} <= names


def test_a_table_export_writes_only_where_the_caller_may_write(make_server: Callable[..., Endpoint]) -> None:
    """ExportTableToPointInTime writes the table into `S3Bucket` with the caller's permissions: the caller needs
    s3:PutObject (and s3:AbortMultipartUpload, s3:PutObjectAcl) on the bucket, besides
    dynamodb:ExportTableToPointInTime on the table. Attack: a user allowed only the DynamoDB action names a
    bucket of its account it may not write to; the export lands in it anyway (the backend writes there itself,
    and nothing authorizes that write). AWS's outcome: no object is written to the bucket (the export is
    refused or fails).
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html
    """
    server = make_server()  # its own server: the structural oracle's verdict on it is this finding's alone
    account = "444400000004"
    ddb, s3 = server.client("dynamodb", key=account), server.client("s3", key=account)
    ddb.create_table(
        TableName="exported",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="exported", Item={"pk": {"S": "x"}})
    ddb.update_continuous_backups(
        TableName="exported", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    s3.create_bucket(Bucket="no-writes-here")
    table_arn = ddb.describe_table(TableName="exported")["Table"]["TableArn"]
    exporter = user(
        server,
        account,
        "exporter",
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:ExportTableToPointInTime", "dynamodb:DescribeExport"],
                "Resource": "*",
            }
        ],
    )("dynamodb")
    try:
        exporter.export_table_to_point_in_time(TableArn=table_arn, S3Bucket="no-writes-here", S3Prefix="loot")
    except ClientError as err:
        assert err.response["Error"]["Code"] in ("AccessDeniedException", "AccessDenied")
    assert s3.list_objects_v2(Bucket="no-writes-here").get("KeyCount", 0) == 0


def test_a_carriage_return_in_a_delete_objects_key_deletes_that_key(server: Endpoint) -> None:
    """S3 reads `&#13;` in an XML request as a carriage return: "the following characters must be replaced
    with entity codes when used in XML requests ... \\r → &#13; or &#x0D;, \\n → &#10;". Attack: the
    caller may delete anything except `k\\nx` (explicit Deny); its DeleteObjects names `k&#13;x` — authorized
    as `k\\rx`. The backend must delete `k\\rx`, not `k\\nx`: a carriage return written literally into the
    re-serialized XML is read back as a line feed by any XML parser (XML 1.0 §2.11 end-of-line handling).
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html#object-key-xml-related-constraints
    """
    account = "444400000005"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="cr-keys")
    s3.put_object(Bucket="cr-keys", Key="k\nx", Body=b"PROTECTED")
    s3.put_object(Bucket="cr-keys", Key="k\rx", Body=b"scratch")
    user(
        server,
        account,
        "crlf",
        [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::cr-keys/k\nx"},
        ],
    )
    created = server.client("iam", key=account).create_access_key(UserName="crlf")["AccessKey"]
    body = b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>k&#13;x</Key></Object></Delete>'
    digest = base64.b64encode(hashlib.md5(body).digest()).decode()
    status, _, reply = signed(
        server,
        "s3",
        REGION,
        "POST",
        "/cr-keys?delete",
        {"Content-MD5": digest, "Content-Type": "application/xml"},
        body,
        created["AccessKeyId"],
        created["SecretAccessKey"],
    )
    assert status == 200, reply
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="cr-keys").get("Contents", [])}
    assert keys == {"k\nx"}
    assert s3.get_object(Bucket="cr-keys", Key="k\nx")["Body"].read() == b"PROTECTED"


def test_a_tag_given_twice_in_x_amz_tagging_is_refused(server: Endpoint) -> None:
    """`x-amz-tagging` is a URL-encoded query string of tags without duplicate names; S3 answers 400
    InvalidArgument "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters
    without tag name duplicates." (as S3-compatible servers measure it, versity/versitygw#1215). Attack: the
    caller may create objects only with `s3:RequestObjectTag/classification` = `public`; its header is
    `classification=secret&classification=public`. The condition read the last value (`public`) while the
    backend stored the first (`secret`): an object tagged with a value the policy forbids.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_RequestSyntax
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html
    """
    account = "444400000006"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="tag-twice")
    user(
        server,
        account,
        "tagger",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:PutObjectTagging"],
                "Resource": "arn:aws:s3:::tag-twice/*",
                "Condition": {"StringEquals": {"s3:RequestObjectTag/classification": "public"}},
            }
        ],
    )
    created = server.client("iam", key=account).create_access_key(UserName="tagger")["AccessKey"]
    key, secret = created["AccessKeyId"], created["SecretAccessKey"]
    tagging = {"x-amz-tagging": "classification=secret&classification=public"}
    status, _, reply = signed(server, "s3", REGION, "PUT", "/tag-twice/doc", tagging, b"data", key, secret)
    # refused either way: the duplicate as S3's InvalidArgument, or (decided first) the tag key with no single
    # value is unsupplied, so the Allow conditioned on it does not apply (AccessDenied); AWS's order unverified
    assert (status, b"<Code>InvalidArgument</Code>" in reply) == (400, True) or (
        status, b"<Code>AccessDenied</Code>" in reply) == (403, True), reply
    assert s3.list_objects_v2(Bucket="tag-twice").get("KeyCount", 0) == 0
    # the single-valued header is allowed, and the same pair in a PutObjectTagging body is InvalidTag
    status, _, reply = signed(
        server, "s3", REGION, "PUT", "/tag-twice/doc", {"x-amz-tagging": "classification=public"}, b"d", key, secret
    )
    assert status == 200, reply
    tags = b"".join(
        b"<Tag><Key>classification</Key><Value>%s</Value></Tag>" % value for value in (b"secret", b"public")
    )
    body = b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>' + tags + b"</TagSet></Tagging>"
    digest = base64.b64encode(hashlib.md5(body).digest()).decode()
    status, _, reply = signed(
        server, "s3", REGION, "PUT", "/tag-twice/doc?tagging", {"Content-MD5": digest}, body, key, secret
    )
    assert (status, b"<Code>InvalidTag</Code>" in reply) == (400, True) or (
        status, b"<Code>AccessDenied</Code>" in reply) == (403, True), reply
    assert s3.get_object_tagging(Bucket="tag-twice", Key="doc")["TagSet"] == [
        {"Key": "classification", "Value": "public"}
    ]


def test_a_dynamodb_tag_key_given_twice_tags_nothing_the_policy_forbids(server: Endpoint) -> None:
    """A tag key names one tag: DynamoDB tags are "key-value pairs" where "each tag key must be unique" per
    resource. Attack: the caller may create tables only with `aws:RequestTag/env` = `dev`; its CreateTable
    carries `Tags=[{env: prod}, {env: dev}]`. The condition read the last value (`dev`) while the backend stored
    both tags, so the table carried `env=prod`, a tag the policy forbids. AWS's outcome: the request is
    refused, and no table exists tagged `env=prod`.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Tagging.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requesttag
    """
    account = "444400000007"
    ddb = user(
        server,
        account,
        "dev-only",
        [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:CreateTable", "dynamodb:TagResource"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/env": "dev"}},
            }
        ],
    )("dynamodb")
    twice = [{"Key": "env", "Value": "prod"}, {"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as caught:
        ddb.create_table(
            TableName="tagged-twice",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            Tags=twice,
        )
    # refused either way (see the S3 test above): ValidationException, or AccessDeniedException when the
    # clashing tag key is decided first as unsupplied
    assert caught.value.response["Error"]["Code"] in ("ValidationException", "AccessDeniedException")
    root = server.client("dynamodb", key=account)
    assert "tagged-twice" not in root.list_tables()["TableNames"]
    root.create_table(
        TableName="tagged-once",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = root.describe_table(TableName="tagged-once")["Table"]["TableArn"]
    with pytest.raises(ClientError) as caught:
        ddb.tag_resource(ResourceArn=arn, Tags=twice)
    # refused either way (see the S3 test above): ValidationException, or AccessDeniedException when the
    # clashing tag key is decided first as unsupplied
    assert caught.value.response["Error"]["Code"] in ("ValidationException", "AccessDeniedException")
    assert root.list_tags_of_resource(ResourceArn=arn).get("Tags", []) == []


def test_a_table_export_with_s3_put_object_is_allowed(make_server: Callable[..., Endpoint]) -> None:
    """The positive control of the export check: with s3:PutObject on the prefix the export is accepted."""
    server = make_server()
    account = "444400000005"
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName="exported-ok",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.update_continuous_backups(
        TableName="exported-ok", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    server.client("s3", key=account).create_bucket(Bucket="exports-allowed")
    table_arn = ddb.describe_table(TableName="exported-ok")["Table"]["TableArn"]
    exporter = user(server, account, "exporter-ok", [
        {"Effect": "Allow", "Action": "dynamodb:ExportTableToPointInTime", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::exports-allowed/loot/*"},
    ])("dynamodb")
    out = exporter.export_table_to_point_in_time(TableArn=table_arn, S3Bucket="exports-allowed", S3Prefix="loot")
    assert out["ExportDescription"]["S3Bucket"] == "exports-allowed"
    with pytest.raises(ClientError) as denied:  # the same caller, another prefix
        exporter.export_table_to_point_in_time(TableArn=table_arn, S3Bucket="exports-allowed", S3Prefix="other")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
