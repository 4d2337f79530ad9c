"""The exception table: every row is well-formed, and each kind of row maps requests as AWS documents."""

from __future__ import annotations

import pytest

from lambdaperm.catalog import reference, services
from lambdaperm.catalog.rules import rules

from .helpers import ACCOUNT, OTHER, REGION, pairs

FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/exec"


def test_every_row_names_a_real_operation_and_real_actions() -> None:
    for (service, operation), row in rules().items():
        assert operation in services.operations(service), (service, operation)
        assert row.source, (service, operation)
        for action in row.actions:
            assert reference.action(action) is not None, (service, operation, action)


# (service, operation, params, [(action, resources)]) — each row's source is in rules/*.py.
CASES: list[tuple[str, str, dict[str, object], list[tuple[str, tuple[str, ...]]]]] = [
    # Lambda: Invoke/InvokeAsync/InvokeWithResponseStream are lambda:InvokeFunction (spec §1.3).
    ("lambda", "Invoke", {"FunctionName": "f"}, [("lambda:InvokeFunction", (f"{FN}:f",))]),
    (
        "lambda",
        "InvokeAsync",
        {"FunctionName": "f", "InvokeArgs": b"{}"},
        [("lambda:InvokeFunction", (f"{FN}:f",))],
    ),
    ("lambda", "InvokeWithResponseStream", {"FunctionName": "f"}, [("lambda:InvokeFunction", (f"{FN}:f",))]),
    ("lambda", "Invoke20150331", {"FunctionName": "f"}, [("lambda:InvokeFunction", (f"{FN}:f",))]),
    ("lambda", "GetFunction20150331v2", {"FunctionName": "f"}, [("lambda:GetFunction", (f"{FN}:f",))]),
    (
        "lambda",
        "GetLayerVersionByArn",
        {"Arn": f"arn:aws:lambda:{REGION}:{OTHER}:layer:l:3"},
        [("lambda:GetLayerVersion", (f"arn:aws:lambda:{REGION}:{OTHER}:layer:l:3",))],
    ),
    (
        "lambda",
        "CreateFunction",
        {"FunctionName": "f", "Role": ROLE, "Code": {}},
        [("lambda:CreateFunction", (f"{FN}:f",)), ("iam:PassRole", (ROLE,))],
    ),
    (
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "f",
            "Role": ROLE,
            "Code": {},
            "Layers": [f"arn:aws:lambda:{REGION}:{OTHER}:layer:l:1"],
            "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
        },
        [
            ("lambda:CreateFunction", (f"{FN}:f",)),
            ("iam:PassRole", (ROLE,)),
            ("lambda:GetLayerVersion", (f"arn:aws:lambda:{REGION}:{OTHER}:layer:l:1",)),
            ("ec2:DescribeSecurityGroups", ("*",)),
            ("ec2:DescribeSubnets", ("*",)),
            ("ec2:DescribeVpcs", ("*",)),
        ],
    ),
    (
        "lambda",
        "UpdateFunctionConfiguration",
        {"FunctionName": "f", "Timeout": 3},
        [("lambda:UpdateFunctionConfiguration", (f"{FN}:f",))],
    ),
    (
        "lambda",
        "UpdateFunctionConfiguration",
        {"FunctionName": "f", "Role": ROLE},
        [("lambda:UpdateFunctionConfiguration", (f"{FN}:f",)), ("iam:PassRole", (ROLE,))],
    ),
    (
        "lambda",
        "CreateEventSourceMapping",
        {"FunctionName": "f", "EventSourceArn": "arn:aws:sqs:x"},
        [("lambda:CreateEventSourceMapping", ("*",))],
    ),
    # S3 renames and per-key / per-source rows.
    ("s3", "ListObjectsV2", {"Bucket": "b"}, [("s3:ListBucket", ("arn:aws:s3:::b",))]),
    ("s3", "ListObjects", {"Bucket": "b"}, [("s3:ListBucket", ("arn:aws:s3:::b",))]),
    ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", ("arn:aws:s3:::b/k",))]),
    (
        "s3",
        "HeadObject",
        {"Bucket": "b", "Key": "k", "VersionId": "1"},
        [("s3:GetObjectVersion", ("arn:aws:s3:::b/k",))],
    ),
    (
        "s3",
        "GetObject",
        {"Bucket": "b", "Key": "k", "VersionId": "1"},
        [("s3:GetObjectVersion", ("arn:aws:s3:::b/k",))],
    ),
    ("s3", "HeadBucket", {"Bucket": "b"}, [("s3:ListBucket", ("arn:aws:s3:::b",))]),
    (
        "s3",
        "PutBucketNotificationConfiguration",
        {"Bucket": "b", "NotificationConfiguration": {}},
        [("s3:PutBucketNotification", ("arn:aws:s3:::b",))],
    ),
    (
        "s3",
        "GetBucketNotificationConfiguration",
        {"Bucket": "b"},
        [("s3:GetBucketNotification", ("arn:aws:s3:::b",))],
    ),
    (
        "s3",
        "DeleteObjects",
        {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "c/d"}]}},
        [("s3:DeleteObject", ("arn:aws:s3:::b/a", "arn:aws:s3:::b/c/d"))],
    ),
    (
        "s3",
        "DeleteObjects",
        {"Bucket": "b", "Delete": {"Objects": [{"Key": "a"}, {"Key": "v", "VersionId": "1"}]}},
        [
            ("s3:DeleteObject", ("arn:aws:s3:::b/a", "arn:aws:s3:::b/v")),
            ("s3:DeleteObjectVersion", ("arn:aws:s3:::b/v",)),
        ],
    ),
    (
        "s3",
        "CopyObject",
        {"Bucket": "dst", "Key": "k2", "CopySource": "src/k1"},
        [("s3:GetObject", ("arn:aws:s3:::src/k1",)), ("s3:PutObject", ("arn:aws:s3:::dst/k2",))],
    ),
    (
        "s3",
        "CopyObject",
        {"Bucket": "dst", "Key": "k2", "CopySource": "/src/a%20b?versionId=7"},
        [("s3:GetObjectVersion", ("arn:aws:s3:::src/a b",)), ("s3:PutObject", ("arn:aws:s3:::dst/k2",))],
    ),
    (
        "s3",
        "CopyObject",
        {"Bucket": "dst", "Key": "k2", "CopySource": {"Bucket": "src", "Key": "k1", "VersionId": "7"}},
        [("s3:GetObjectVersion", ("arn:aws:s3:::src/k1",)), ("s3:PutObject", ("arn:aws:s3:::dst/k2",))],
    ),
    (
        "s3",
        "UploadPartCopy",
        {"Bucket": "dst", "Key": "k2", "CopySource": "src/k1", "PartNumber": 1, "UploadId": "u"},
        [("s3:GetObject", ("arn:aws:s3:::src/k1",)), ("s3:PutObject", ("arn:aws:s3:::dst/k2",))],
    ),
    ("s3", "CreateMultipartUpload", {"Bucket": "b", "Key": "k"}, [("s3:PutObject", ("arn:aws:s3:::b/k",))]),
    (
        "s3",
        "UploadPart",
        {"Bucket": "b", "Key": "k", "PartNumber": 1, "UploadId": "u"},
        [("s3:PutObject", ("arn:aws:s3:::b/k",))],
    ),
    (
        "s3",
        "CompleteMultipartUpload",
        {"Bucket": "b", "Key": "k", "UploadId": "u"},
        [("s3:PutObject", ("arn:aws:s3:::b/k",))],
    ),
    ("s3", "ListObjectVersions", {"Bucket": "b"}, [("s3:ListBucketVersions", ("arn:aws:s3:::b",))]),
    ("s3", "ListBuckets", {}, [("s3:ListAllMyBuckets", ("*",))]),
    ("s3", "DeleteBucketCors", {"Bucket": "b"}, [("s3:PutBucketCORS", ("arn:aws:s3:::b",))]),
    (
        "s3",
        "PutObject",
        {"Bucket": "b", "Key": "k", "ACL": "public-read", "Tagging": "a=1"},
        [
            ("s3:PutObject", ("arn:aws:s3:::b/k",)),
            ("s3:PutObjectAcl", ("arn:aws:s3:::b/k",)),
            ("s3:PutObjectTagging", ("arn:aws:s3:::b/k",)),
        ],
    ),
    ("s3", "CreateBucket", {"Bucket": "b", "ACL": "private"}, [("s3:CreateBucket", ("arn:aws:s3:::b",))]),
    (
        "s3",
        "CreateBucket",
        {"Bucket": "b", "ACL": "public-read", "ObjectOwnership": "BucketOwnerEnforced"},
        [
            ("s3:CreateBucket", ("arn:aws:s3:::b",)),
            ("s3:PutBucketAcl", ("arn:aws:s3:::b",)),
            ("s3:PutBucketOwnershipControls", ("arn:aws:s3:::b",)),
        ],
    ),
    (
        "s3",
        "PutBucketReplication",
        {"Bucket": "b", "ReplicationConfiguration": {"Role": ROLE, "Rules": []}},
        [("s3:PutReplicationConfiguration", ("arn:aws:s3:::b",)), ("iam:PassRole", (ROLE,))],
    ),
    # DynamoDB.
    (
        "dynamodb",
        "BatchWriteItem",
        {"RequestItems": {"A": [], "B": []}},
        [("dynamodb:BatchWriteItem", (f"{TABLE}/A", f"{TABLE}/B"))],
    ),
    (
        "dynamodb",
        "BatchGetItem",
        {"RequestItems": {"A": {"Keys": []}}},
        [("dynamodb:BatchGetItem", (f"{TABLE}/A",))],
    ),
    (
        "dynamodb",
        "TransactGetItems",
        {"TransactItems": [{"Get": {"TableName": "A", "Key": {}}}]},
        [("dynamodb:GetItem", (f"{TABLE}/A",))],
    ),
    (
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "A", "Item": {}}},
                {"Delete": {"TableName": "B", "Key": {}}},
                {"Update": {"TableName": "C", "Key": {}}},
                {"ConditionCheck": {"TableName": "D", "Key": {}}},
            ]
        },
        [
            ("dynamodb:ConditionCheckItem", (f"{TABLE}/D",)),
            ("dynamodb:PutItem", (f"{TABLE}/A",)),
            ("dynamodb:UpdateItem", (f"{TABLE}/C",)),
            ("dynamodb:DeleteItem", (f"{TABLE}/B",)),
        ],
    ),
    (
        "dynamodb",
        "ExecuteStatement",
        {"Statement": 'SELECT * FROM "Music"."ByArtist" WHERE a = ?'},
        [("dynamodb:PartiQLSelect", (f"{TABLE}/Music/index/ByArtist",))],
    ),
    (
        "dynamodb",
        "ExecuteStatement",
        {"Statement": "insert into Music value {'a': 1}"},
        [("dynamodb:PartiQLInsert", (f"{TABLE}/Music",))],
    ),
    (
        "dynamodb",
        "BatchExecuteStatement",
        {
            "Statements": [
                {"Statement": 'UPDATE "My-Table" SET a = 1'},
                {"Statement": "DELETE FROM T WHERE k = 1"},
            ]
        },
        [("dynamodb:PartiQLUpdate", (f"{TABLE}/My-Table",)), ("dynamodb:PartiQLDelete", (f"{TABLE}/T",))],
    ),
    (
        "dynamodb",
        "Query",
        {"TableName": "T", "IndexName": "I"},
        [("dynamodb:Query", (f"{TABLE}/T/index/I",))],
    ),
    ("dynamodb", "Query", {"TableName": "T"}, [("dynamodb:Query", (f"{TABLE}/T",))]),
    # SQS / SNS batches.
    (
        "sqs",
        "SendMessageBatch",
        {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q", "Entries": []},
        [("sqs:SendMessage", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",))],
    ),
    (
        "sqs",
        "DeleteMessageBatch",
        {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q", "Entries": []},
        [("sqs:DeleteMessage", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",))],
    ),
    (
        "sqs",
        "ChangeMessageVisibilityBatch",
        {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q", "Entries": []},
        [("sqs:ChangeMessageVisibility", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",))],
    ),
    (
        "sns",
        "PublishBatch",
        {"TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:t", "PublishBatchRequestEntries": []},
        [("sns:Publish", (f"arn:aws:sns:{REGION}:{ACCOUNT}:t",))],
    ),
    ("sns", "Publish", {"PhoneNumber": "+15555550100", "Message": "m"}, [("sns:Publish", ("*",))]),
    (
        "sns",
        "Publish",
        {"TargetArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/app/1", "Message": "m"},
        [("sns:Publish", (f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/app/1",))],
    ),
    # STS.
    ("sts", "GetCallerIdentity", {}, []),
    ("sts", "GetSessionToken", {}, []),
    (
        "sts",
        "AssumeRole",
        {"RoleArn": ROLE, "RoleSessionName": "s", "Tags": [{"Key": "k", "Value": "v"}]},
        [("sts:AssumeRole", (ROLE,)), ("sts:TagSession", (ROLE,))],
    ),
    (
        "sts",
        "AssumeRole",
        {"RoleArn": ROLE, "RoleSessionName": "s", "SourceIdentity": "me"},
        [("sts:AssumeRole", (ROLE,)), ("sts:SetSourceIdentity", (ROLE,))],
    ),
    # IAM.
    (
        "iam",
        "AddRoleToInstanceProfile",
        {"InstanceProfileName": "p", "RoleName": "r"},
        [
            ("iam:AddRoleToInstanceProfile", (f"arn:aws:iam::{ACCOUNT}:instance-profile/p",)),
            ("iam:PassRole", (f"arn:aws:iam::{ACCOUNT}:role/r",)),
        ],
    ),
    (
        "iam",
        "UpdateUser",
        {"UserName": "bob", "NewUserName": "robert"},
        [("iam:UpdateUser", (f"arn:aws:iam::{ACCOUNT}:user/bob", f"arn:aws:iam::{ACCOUNT}:user/robert"))],
    ),
    (
        "iam",
        "CreateServiceLinkedRole",
        {"AWSServiceName": "lambda.amazonaws.com"},
        [
            (
                "iam:CreateServiceLinkedRole",
                (
                    f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/lambda.amazonaws.com/AWSServiceRoleForLambda",
                ),
            )
        ],
    ),
    # Logs.
    (
        "logs",
        "CreateLogGroup",
        {"logGroupName": "g", "tags": {"a": "b"}},
        [
            ("logs:CreateLogGroup", (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g:log-stream:",)),
            ("logs:TagResource", (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:g:log-stream:",)),
        ],
    ),
    (
        "logs",
        "DescribeLogGroups",
        {},
        [("logs:DescribeLogGroups", (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group::log-stream:",))],
    ),
    # CloudTrail / Access Analyzer.
    ("cloudtrail", "LookupEvents", {}, [("cloudtrail:LookupEvents", ("*",))]),
    (
        "cloudtrail",
        "ListInsightsMetricData",
        {"EventSource": "s", "EventName": "n", "InsightType": "t"},
        [("cloudtrail:LookupEvents", ("*",))],
    ),
    (
        "accessanalyzer",
        "GetFindingV2",
        {"analyzerArn": f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/a", "id": "1"},
        [("access-analyzer:GetFinding", (f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/a",))],
    ),
    (
        "accessanalyzer",
        "ListFindingsV2",
        {"analyzerArn": f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/a"},
        [("access-analyzer:ListFindings", (f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/a",))],
    ),
    # EC2: Describe* on `*`; a create is authorized on the new resource (`vpc/*`) and on what it uses.
    ("ec2", "DescribeVpcs", {}, [("ec2:DescribeVpcs", ("*",))]),
    ("ec2", "DescribeSubnets", {}, [("ec2:DescribeSubnets", ("*",))]),
    ("ec2", "DescribeSecurityGroups", {}, [("ec2:DescribeSecurityGroups", ("*",))]),
    (
        "ec2",
        "CreateVpc",
        {"CidrBlock": "10.0.0.0/16"},
        [("ec2:CreateVpc", (f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/*",))],
    ),
    (
        "ec2",
        "CreateSubnet",
        {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24"},
        [
            (
                "ec2:CreateSubnet",
                (f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/*", f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-1"),
            )
        ],
    ),
    (
        "ec2",
        "DeleteVpcEndpoints",
        {"VpcEndpointIds": ["vpce-1", "vpce-2"]},
        [
            (
                "ec2:DeleteVpcEndpoints",
                (
                    f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/vpce-1",
                    f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-endpoint/vpce-2",
                ),
            )
        ],
    ),
    (
        "ec2",
        "CreateTags",
        {"Resources": ["vpc-1", "sg-2"], "Tags": [{"Key": "a", "Value": "b"}]},
        [
            (
                "ec2:CreateTags",
                (
                    f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-1",
                    f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-2",
                ),
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    CASES,
    ids=[f"{c[0]}.{c[1]}-{i}" for i, c in enumerate(CASES)],
)
def test_exception_rows(
    service: str, operation: str, params: dict[str, object], expected: list[tuple[str, tuple[str, ...]]]
) -> None:
    assert pairs(service, operation, params) == expected
