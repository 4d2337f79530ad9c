"""Condition keys, review round 6 (attack class 6: missing or wrong condition context keys).

Two lessons of round 5, generalized: (1) an operation authorized as two or more actions must give each action
every key it documents, from the right source — the second action must not lose a key the first had, nor read
it from another resource (a table-driven test over every multi-action row of the catalog); (2) a key whose value
the service can default or inherit rather than take from the request (a copy's tagging directive, a restore's
items, an update that leaves the URL's auth type as it is) must be absent, the request's value or the effective
value as AWS documents — and UNSUPPLIED where AWS is silent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.catalog import condition_keys as ck
from lambdaperm.catalog import required_actions
from lambdaperm.catalog.model import RequiredAction
from lambdaperm.catalog.rules import rules
from lambdaperm.policy.unsupplied import unsupplied as unsupplied_set
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import HANDLER, make_role, zip_of
from tests.security.iam_users import user_keys

REGION = "us-east-1"
ACCOUNT = "111122223333"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _user_client(server: Endpoint, account: str, name: str, service: str, policy: dict[str, Any]) -> Any:
    return server.client(service, **user_keys(server, account, name, document=policy), region=REGION)


def _denied(call: Callable[..., Any], code: str, **params: Any) -> str:
    with pytest.raises(ClientError) as denied:
        call(**params)
    got = denied.value.response["Error"]["Code"]
    message = denied.value.response["Error"]["Message"]
    assert got == code, (got, message)
    return message


# --- (1) every multi-action operation: each action's keys, from the right source ----------------------------------

_ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
_LAYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:l:1"
_TAGS = [{"Key": "team", "Value": "blue"}]

# (service, operation) -> a request that makes every need of the row apply (or as many as one request can).
MULTI_ACTION_REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("s3", "PutBucketReplication"): {"Bucket": "b", "ReplicationConfiguration": {"Role": _ROLE, "Rules": []}},
    ("s3", "GetObject"): {"Bucket": "b", "Key": "k", "VersionId": "v1"},
    ("s3", "HeadObject"): {"Bucket": "b", "Key": "k", "VersionId": "v1"},
    ("s3", "GetObjectAcl"): {"Bucket": "b", "Key": "k", "VersionId": "v1"},
    ("s3", "PutObjectAcl"): {"Bucket": "b", "Key": "k", "VersionId": "v1", "ACL": "private"},
    ("s3", "GetObjectTagging"): {"Bucket": "b", "Key": "k", "VersionId": "v1"},
    ("s3", "PutObjectTagging"): {"Bucket": "b", "Key": "k", "VersionId": "v1", "Tagging": {"TagSet": _TAGS}},
    ("s3", "DeleteObjectTagging"): {"Bucket": "b", "Key": "k", "VersionId": "v1"},
    ("s3", "GetObjectAttributes"): {"Bucket": "b", "Key": "k", "VersionId": "v1", "ObjectAttributes": ["ETag"]},
    ("s3", "DeleteObject"): {"Bucket": "b", "Key": "k", "VersionId": "v1", "BypassGovernanceRetention": True},
    ("s3", "DeleteObjects"): {
        "Bucket": "b",
        "Delete": {"Objects": [{"Key": "k", "VersionId": "v1"}, {"Key": "j"}]},
        "BypassGovernanceRetention": True,
    },
    ("s3", "PutObject"): {
        "Bucket": "b",
        "Key": "k",
        "ACL": "public-read",
        "GrantRead": "id=x",
        "Tagging": "team=blue",
        "ServerSideEncryption": "AES256",
        "StorageClass": "STANDARD",
    },
    ("s3", "CreateMultipartUpload"): {"Bucket": "b", "Key": "k", "ACL": "public-read", "Tagging": "team=blue"},
    ("s3", "CopyObject"): {
        "Bucket": "b",
        "Key": "k",
        "CopySource": "src/o?versionId=v1",
        "ACL": "public-read",
        "Tagging": "team=blue",
        "TaggingDirective": "REPLACE",
        "MetadataDirective": "REPLACE",
    },
    ("s3", "UploadPartCopy"): {
        "Bucket": "b",
        "Key": "k",
        "CopySource": "src/o?versionId=v1",
        "UploadId": "u",
        "PartNumber": 1,
    },
    ("s3", "PutObjectRetention"): {
        "Bucket": "b",
        "Key": "k",
        "BypassGovernanceRetention": True,
        "Retention": {"Mode": "GOVERNANCE", "RetainUntilDate": "2030-01-01T00:00:00Z"},
    },
    ("s3", "UpdateObjectEncryption"): {
        "Bucket": "b",
        "Key": "k",
        "ObjectEncryption": {"SSEKMS": {"KMSKeyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"}},
    },
    ("s3", "CreateBucket"): {
        "Bucket": "b",
        "ACL": "public-read",
        "GrantRead": "id=x",
        "ObjectLockEnabledForBucket": True,
        "ObjectOwnership": "ObjectWriter",
        "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1", "Tags": _TAGS},
    },
    ("dynamodb", "CreateTable"): {"TableName": "t", "Tags": _TAGS},
    ("dynamodb", "TransactWriteItems"): {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "x": {"S": "1"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "b"}}, "UpdateExpression": "SET y = :v"}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "c"}}}},
            {
                "ConditionCheck": {
                    "TableName": "t",
                    "Key": {"pk": {"S": "d"}},
                    "ConditionExpression": "attribute_exists(z)",
                }
            },
        ],
        "ReturnConsumedCapacity": "TOTAL",
    },
    ("dynamodb", "RestoreTableFromBackup"): {
        "TargetTableName": "t",
        "BackupArn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/s/backup/01234567890123-abcdefgh",
    },
    ("dynamodb", "RestoreTableToPointInTime"): {"SourceTableName": "s", "TargetTableName": "t"},
    ("lambda", "CreateFunction"): {
        "FunctionName": "f",
        "Role": _ROLE,
        "Layers": [_LAYER],
        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
        "Tags": {"team": "blue"},
    },
    ("lambda", "UpdateFunctionConfiguration"): {
        "FunctionName": "f",
        "Role": _ROLE,
        "Layers": [_LAYER],
        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
    },
    ("sts", "AssumeRole"): {
        "RoleArn": _ROLE,
        "RoleSessionName": "s",
        "Tags": _TAGS,
        "TransitiveTagKeys": ["team"],
        "SourceIdentity": "alice",
        "ExternalId": "e",
    },
    ("iam", "AddRoleToInstanceProfile"): {"InstanceProfileName": "p", "RoleName": "r"},
    ("iam", "CreateUser"): {"UserName": "u", "Tags": _TAGS, "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/b"},
    ("iam", "CreateRole"): {
        "RoleName": "r",
        "AssumeRolePolicyDocument": "{}",
        "Tags": _TAGS,
        "PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/b",
    },
    ("iam", "CreatePolicy"): {"PolicyName": "p", "PolicyDocument": "{}", "Tags": _TAGS},
    ("iam", "CreateInstanceProfile"): {"InstanceProfileName": "p", "Tags": _TAGS},
    ("sqs", "CreateQueue"): {"QueueName": "q", "tags": {"team": "blue"}},
    ("sns", "CreateTopic"): {"Name": "t", "Tags": _TAGS},
    ("logs", "CreateLogGroup"): {"logGroupName": "g", "tags": {"team": "blue"}},
    # CloudWatch Logs tag on create for every other create with `tags` (condition keys review round 9)
    ("logs", "PutDestination"): {
        "destinationName": "d",
        "targetArn": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
        "roleArn": _ROLE,
        "tags": {"team": "blue"},
    },
    ("logs", "PutDeliveryDestination"): {
        "name": "dd",
        "deliveryDestinationConfiguration": {"destinationResourceArn": "arn:aws:s3:::b"},
        "tags": {"team": "blue"},
    },
    ("logs", "PutDeliverySource"): {
        "name": "ds",
        "resourceArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "logType": "APPLICATION_LOGS",
        "tags": {"team": "blue"},
    },
    ("logs", "CreateDelivery"): {
        "deliverySourceName": "ds",
        "deliveryDestinationArn": "arn:aws:logs:us-east-1:123456789012:delivery-destination:dd",
        "tags": {"team": "blue"},
    },
    ("logs", "CreateLogAnomalyDetector"): {
        "logGroupArnList": ["arn:aws:logs:us-east-1:123456789012:log-group:g"],
        "tags": {"team": "blue"},
    },
    ("logs", "CreateLookupTable"): {"lookupTableName": "t", "tableBody": "a", "tags": {"team": "blue"}},
    ("logs", "CreateScheduledQuery"): {
        "name": "q",
        "queryLanguage": "CWLI",
        "queryString": "x",
        "scheduleExpression": "rate(1 hour)",
        "executionRoleArn": _ROLE,
        "tags": {"team": "blue"},
    },
    # EC2 tag on create (ec2:CreateTags with ec2:CreateAction; condition keys review round 8)
    **{
        ("ec2", op): {**params, "TagSpecifications": [{"ResourceType": kind, "Tags": _TAGS}]}
        for op, (params, kind) in {
            "CreateVpc": ({"CidrBlock": "10.0.0.0/16"}, "vpc"),
            "CreateSubnet": ({"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24"}, "subnet"),
            "CreateSecurityGroup": ({"GroupName": "g", "Description": "d", "VpcId": "vpc-1"}, "security-group"),
            "CreateNetworkInterface": ({"SubnetId": "subnet-1"}, "network-interface"),
            "CreateVpcEndpoint": ({"VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3"}, "vpc-endpoint"),
            "AuthorizeSecurityGroupIngress": ({"GroupId": "sg-1"}, "security-group-rule"),
            "AuthorizeSecurityGroupEgress": ({"GroupId": "sg-1"}, "security-group-rule"),
            "CreateKeyPair": ({"KeyName": "k"}, "key-pair"),  # served since issue 8 §5
        }.items()
    },
    ("cloudtrail", "ListInsightsMetricData"): {
        "EventSource": "s3.amazonaws.com",
        "EventName": "PutObject",
        "InsightType": "ApiCallRateInsight",
        "TrailName": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t",
    },
}


def _multi_action_rows() -> list[tuple[str, str]]:
    """Every exception row whose needs name two or more distinct IAM actions (or a deriver choosing among them)."""
    out = []
    for (service, operation), row in rules().items():
        if len(set(row.actions)) >= 2 and not all(n.derive for n in row.needs):
            out.append((service, operation))
    return sorted(out)


def test_every_multi_action_row_is_in_the_table() -> None:
    """The table below covers every row of the catalog checked as several actions: a new row must be added."""
    missing = [row for row in _multi_action_rows() if row not in MULTI_ACTION_REQUESTS]
    assert not missing, missing


def _family(key: str) -> str:
    return key.split("/", 1)[0] + "/*" if "/" in key else key


def _documents(action: str, key: str) -> bool:
    names = {ck.normalize(k) for k in ck.documented_keys(action)}
    return key in names or _family(key) in names


def _unsupplied(ra: RequiredAction) -> Any:
    return unsupplied_set(ra.context.get(ck.UNSUPPLIED_MARK, ()))


@pytest.mark.parametrize(("service", "operation"), sorted(MULTI_ACTION_REQUESTS))
def test_no_action_of_a_request_loses_a_key_another_has(service: str, operation: str) -> None:
    """Attack class (round 5's lesson): one request checked as two actions, the second missing a key the first
    carries (or carrying another value: read from another resource), so a condition on it is void on one check.
    For every pair of actions of the request, a key one carries that the other documents is, on the other,
    the same value or unsupplied; and the object version a request names reaches every action that reads
    object tags (s3:versionid or the version mark), never the current version's tags by default."""
    params = MULTI_ACTION_REQUESTS[(service, operation)]
    found = required_actions(service, operation, params, account=ACCOUNT, region=REGION)
    assert found, (service, operation)  # a by-version row applies one of its two actions per request
    for first in found:
        for second in found:
            if first is second:
                continue
            for key, value in first.context.items():
                if key.startswith(ck.MARK_PREFIX) or not _documents(second.action, key):
                    continue
                if key in _unsupplied(second):
                    continue
                if key.startswith("dynamodb:") and "TransactItems" in params:
                    continue  # each transaction element carries its own attributes and key
                assert second.context.get(key) == value, (first.action, second.action, key, value, second.context)
    version = params.get("VersionId")
    if version:
        for ra in found:
            if _documents(ra.action, "s3:existingobjecttag/*") and ra.resources != ("*",):
                named = ra.context.get("s3:versionid") or ra.context.get(ck.OBJECT_VERSION_MARK)
                assert named == (version,), (ra.action, ra.context)


def test_a_restore_does_not_name_the_attributes_it_writes() -> None:
    """A restore fills the target table with every attribute of the backup (or the source table): the item
    actions it is checked as on the target name no attributes, so `dynamodb:Attributes` is not known — as for
    a read that names none — and must not be absent (ForAllValues on an absent key is true: the DynamoDB guide's
    attribute-restricting Allow applied to a restore that writes attributes it does not list)."""
    for operation in ("RestoreTableFromBackup", "RestoreTableToPointInTime"):
        found = required_actions(
            "dynamodb", operation, MULTI_ACTION_REQUESTS[("dynamodb", operation)], account=ACCOUNT, region=REGION
        )
        items = [ra for ra in found if ra.action != f"dynamodb:{operation}"]
        assert {ra.action for ra in items} >= {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}
        for ra in items:
            assert "dynamodb:attributes" not in ra.context, ra
            assert "dynamodb:attributes" in _unsupplied(ra), ra


def test_a_copy_does_not_decide_on_tags_s3_ignores() -> None:
    """CopyObject under the default `x-amz-tagging-directive: COPY` ignores `x-amz-tagging`: the copy gets its
    source's tags. `s3:RequestObjectTag/*` of the header's tags is not the tags the object gets: unsupplied on
    every action of the copy (the request's tags count under REPLACE)."""
    base = {"Bucket": "b", "Key": "k", "CopySource": "src/o", "Tagging": "classification=public"}
    for directive in (None, "COPY"):
        params = dict(base, **({"TaggingDirective": directive} if directive else {}))
        found = required_actions("s3", "CopyObject", params, account=ACCOUNT, region=REGION)
        for ra in found:
            if not _documents(ra.action, "s3:requestobjecttag/*"):
                continue
            assert not any(k.startswith("s3:requestobjecttag") for k in ra.context), ra
            assert "s3:RequestObjectTag/classification" in _unsupplied(ra), ra
            assert "s3:RequestObjectTagKeys" in _unsupplied(ra), ra
    replaced = required_actions(
        "s3", "CopyObject", dict(base, TaggingDirective="REPLACE"), account=ACCOUNT, region=REGION
    )
    put = next(ra for ra in replaced if ra.action == "s3:PutObject")
    assert put.context["s3:requestobjecttag/classification"] == ("public",)
    assert not _unsupplied(put)


def test_create_bucket_with_tags_is_also_tag_resource() -> None:
    """ "You must have the s3:TagResource permission to create a general purpose bucket with tags"
    (CreateBucketConfiguration.Tags, https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucketConfiguration.html):
    the tags reach the s3:TagResource check with the request's aws:RequestTag/aws:TagKeys."""
    found = required_actions(
        "s3",
        "CreateBucket",
        {"Bucket": "b", "CreateBucketConfiguration": {"Tags": _TAGS}},
        account=ACCOUNT,
        region=REGION,
    )
    tag = next(ra for ra in found if ra.action == "s3:TagResource")
    assert tag.resources == ("arn:aws:s3:::b",)
    assert tag.context["aws:requesttag/team"] == ("blue",) and tag.context["aws:tagkeys"] == ("team",)
    plain = required_actions("s3", "CreateBucket", {"Bucket": "b"}, account=ACCOUNT, region=REGION)
    assert [ra.action for ra in plain] == ["s3:CreateBucket"]


def test_an_update_without_auth_type_does_not_leave_the_key_absent() -> None:
    """UpdateFunctionUrlConfig without AuthType keeps the URL's auth type; `lambda:FunctionUrlAuthType` is
    "the authorization type specified in request", and which value AWS evaluates when none is specified is
    not documented: unsupplied, as on GetFunctionUrlConfig/DeleteFunctionUrlConfig. With AuthType: the
    request's."""
    found = required_actions(
        "lambda", "UpdateFunctionUrlConfig", {"FunctionName": "f", "Cors": {}}, account=ACCOUNT, region=REGION
    )
    assert [ra.action for ra in found] == ["lambda:UpdateFunctionUrlConfig"]
    assert "lambda:functionurlauthtype" not in found[0].context
    assert "lambda:FunctionUrlAuthType" in _unsupplied(found[0])
    given = required_actions(
        "lambda", "UpdateFunctionUrlConfig", {"FunctionName": "f", "AuthType": "NONE"}, account=ACCOUNT, region=REGION
    )
    assert given[0].context["lambda:functionurlauthtype"] == ("NONE",)
    assert not _unsupplied(given[0])


# --- (2) end to end: the defaulted values ------------------------------------------------------------------------


def test_a_copy_that_keeps_its_sources_tags_is_not_decided_on_the_ignored_header(server: Endpoint) -> None:
    """Attack: a user may create objects in `dst` only tagged classification=public (the S3 guide's
    tag-restricting Allow on s3:PutObject / s3:PutObjectTagging with `s3:RequestObjectTag/classification`).
    They copy an object tagged classification=secret with `Tagging: classification=public` and no tagging
    directive. S3's default directive is COPY: "If you choose COPY ... the tag-set will be copied from the
    source object directly" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html), so the copy
    is tagged secret — lambdaperm decided on the header's public tag it ignored and created a secret object
    past the Allow's condition. Whether AWS reads the ignored header for the key is not documented: the key is
    unsupplied (the Allow does not apply). With TaggingDirective=REPLACE the header is the copy's tags."""
    account = "660000000001"
    owner = server.client("s3", key=account, region=REGION)
    owner.create_bucket(Bucket="r6-src")
    owner.create_bucket(Bucket="r6-dst")
    owner.put_object(Bucket="r6-src", Key="doc", Body=b"secret", Tagging="classification=secret")
    public_only = {"StringEquals": {"s3:RequestObjectTag/classification": "public"}}
    user = _user_client(
        server,
        account,
        "copier",
        "s3",
        _policy(
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectTagging"], "Resource": "arn:aws:s3:::r6-src/*"},
            {
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:PutObjectTagging"],
                "Resource": "arn:aws:s3:::r6-dst/*",
                "Condition": public_only,
            },
        ),
    )
    for extra in ({}, {"TaggingDirective": "COPY"}):
        _denied(
            user.copy_object,
            "AccessDenied",
            Bucket="r6-dst",
            Key="copy",
            CopySource="r6-src/doc",
            Tagging="classification=public",
            **extra,
        )
    with pytest.raises(ClientError):
        owner.head_object(Bucket="r6-dst", Key="copy")
    # held: the tags the copy gets under REPLACE are the request's, and the Allow applies
    user.copy_object(
        Bucket="r6-dst",
        Key="copy",
        CopySource="r6-src/doc",
        Tagging="classification=public",
        TaggingDirective="REPLACE",
    )
    assert owner.get_object_tagging(Bucket="r6-dst", Key="copy")["TagSet"] == [
        {"Key": "classification", "Value": "public"}
    ]


def test_creating_a_bucket_with_tags_needs_tag_resource(server: Endpoint) -> None:
    """Attack: a user allowed s3:CreateBucket and denied s3:TagResource creates a bucket with
    CreateBucketConfiguration.Tags. AWS: "You must have the s3:TagResource permission to create a general
    purpose bucket with tags" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucketConfiguration.html);
    lambdaperm checked s3:CreateBucket alone and created the bucket."""
    account = "660000000002"
    user = _user_client(
        server,
        account,
        "maker",
        "s3",
        _policy(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:TagResource", "Resource": "*"},
        ),
    )
    message = _denied(
        user.create_bucket,
        "AccessDenied",
        Bucket="r6-tagged",
        CreateBucketConfiguration={"Tags": [{"Key": "team", "Value": "blue"}]},
    )
    assert "s3:TagResource" in message, message
    # held: the same user creates an untagged bucket
    user.create_bucket(Bucket="r6-untagged")


def test_a_deny_on_the_url_auth_type_applies_to_an_update_that_keeps_it(server: Endpoint) -> None:
    """Attack: a guardrail denies lambda:UpdateFunctionUrlConfig when `lambda:FunctionUrlAuthType` is NONE (no
    one may touch a public URL's configuration). The URL is public (AuthType NONE); a user updates its CORS
    without passing AuthType, which keeps NONE. lambdaperm read the key from the request alone: absent, the
    Deny did not apply. The key is "the authorization type specified in request"
    (https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-conditions.html); what AWS evaluates
    when the request specifies none is not documented, so the key is unsupplied (as lambdaperm already has
    it on GetFunctionUrlConfig/DeleteFunctionUrlConfig): the Deny applies."""
    account = "660000000003"
    lam = server.client("lambda", key=account, region=REGION)
    role = make_role(server.client("iam", key=account), "r6-exec")
    lam.create_function(
        FunctionName="r6-public",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": HANDLER})},
    )
    lam.create_function_url_config(FunctionName="r6-public", AuthType="NONE")
    user = _user_client(
        server,
        account,
        "urler",
        "lambda",
        _policy(
            {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "lambda:UpdateFunctionUrlConfig",
                "Resource": "*",
                "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
            },
        ),
    )
    _denied(
        user.update_function_url_config,
        "AccessDeniedException",
        FunctionName="r6-public",
        Cors={"AllowOrigins": ["https://evil.example"]},
    )
    assert lam.get_function_url_config(FunctionName="r6-public").get("Cors", {}).get("AllowOrigins") != [
        "https://evil.example"
    ]
    # held: passing AuthType=AWS_IAM is the request's value, which the Deny does not match
    user.update_function_url_config(FunctionName="r6-public", AuthType="AWS_IAM")
    assert lam.get_function_url_config(FunctionName="r6-public")["AuthType"] == "AWS_IAM"


def test_a_restore_is_not_an_attribute_restricted_write(server: Endpoint) -> None:
    """Attack: a user may write only the attributes `pk` and `note` of any table (the DynamoDB guide's
    `ForAllValues:StringEquals dynamodb:Attributes` Allow on the item writes) and read freely; a backup holds
    items with a `secret` attribute. RestoreTableFromBackup is checked, on the target table, as the item
    actions the restore fills it with; lambdaperm left `dynamodb:Attributes` absent on the writes, so the
    ForAllValues condition was vacuously true and the restore wrote `secret` attributes past it. The restore
    writes every attribute of the backup, which the request does not name: the key is unsupplied (as on a read
    that names no attributes), and the restricted Allow does not apply
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html)."""
    account = "660000000004"
    admin = server.client("dynamodb", key=account, region=REGION)
    admin.create_table(
        TableName="r6-source",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    admin.put_item(TableName="r6-source", Item={"pk": {"S": "1"}, "secret": {"S": "s3cr3t"}})
    backup = admin.create_backup(TableName="r6-source", BackupName="r6-backup")["BackupDetails"]["BackupArn"]
    writes = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
    user = _user_client(
        server,
        account,
        "restorer",
        "dynamodb",
        _policy(
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:RestoreTableFromBackup",
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:DescribeTable",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": writes,
                "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "note"]}},
            },
        ),
    )
    _denied(user.restore_table_from_backup, "AccessDeniedException", BackupArn=backup, TargetTableName="r6-copy")
    assert "r6-copy" not in admin.list_tables()["TableNames"]
    # held: the restricted Allow still lets the user write the attributes it lists
    user.put_item(TableName="r6-source", Item={"pk": {"S": "2"}, "note": {"S": "ok"}})
    _denied(
        user.put_item, "AccessDeniedException", TableName="r6-source", Item={"pk": {"S": "3"}, "secret": {"S": "x"}}
    )
