"""Request-specific condition keys: read from the parameters, lower-cased, only where the action documents
them (Service Authorization Reference), multi-valued keys as several values."""

from __future__ import annotations

from .helpers import ACCOUNT, REGION, need

ROLE = f"arn:aws:iam::{ACCOUNT}:role/exec"


def ctx(service: str, operation: str, params: dict[str, object], index: int = 0) -> dict[str, tuple[str, ...]]:
    """The AWS condition keys of one required action (without the `lambdaperm:` facts for the authorizer)."""
    full = need(service, operation, params)[index].context
    return {k: v for k, v in full.items() if not k.startswith("lambdaperm:")}


def test_tags_in_all_their_shapes() -> None:
    expected = {"aws:requesttag/env": ("dev",), "aws:requesttag/team": ("a",), "aws:tagkeys": ("Env", "team")}
    # [{Key, Value}] (IAM), {k: v} (Lambda), TagsList (CloudTrail), TagSpecifications (EC2).
    tags = [{"Key": "Env", "Value": "dev"}, {"Key": "team", "Value": "a"}]
    assert ctx("iam", "CreateRole", {"RoleName": "r", "AssumeRolePolicyDocument": "{}", "Tags": tags}) == expected
    assert (
        ctx(
            "lambda",
            "TagResource",
            {
                "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",
                "Tags": {"Env": "dev", "team": "a"},
            },
        )
        == expected
    )
    assert ctx("cloudtrail", "CreateTrail", {"Name": "t", "S3BucketName": "b", "TagsList": tags}) == expected
    assert ctx("ec2", "CreateVpc", {"TagSpecifications": [{"ResourceType": "vpc", "Tags": tags}]}) == {
        **expected,
        "ec2:region": (REGION,),
    }
    assert ctx("sqs", "CreateQueue", {"QueueName": "q", "tags": {"Env": "dev", "team": "a"}}) == expected


def test_untag_keys() -> None:
    assert ctx(
        "lambda",
        "UntagResource",
        {"Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "TagKeys": ["a", "b"]},
    ) == {"aws:tagkeys": ("a", "b")}
    assert ctx("iam", "UntagRole", {"RoleName": "r", "TagKeys": ["a"]}) == {"aws:tagkeys": ("a",)}
    assert ctx("logs", "UntagLogGroup", {"logGroupName": "g", "tags": ["a"]}) == {"aws:tagkeys": ("a",)}


def test_tags_only_where_documented() -> None:
    # lambda:Invoke documents no tag keys: nothing leaks in.
    assert ctx("lambda", "Invoke", {"FunctionName": "f", "Tags": {"a": "b"}}) == {}


def test_s3_list_keys() -> None:
    assert ctx("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "home/", "Delimiter": "/", "MaxKeys": 10}) == {
        "s3:prefix": ("home/",),
        "s3:delimiter": ("/",),
        "s3:max-keys": ("10",),
    }
    assert ctx("s3", "ListObjectVersions", {"Bucket": "b", "Prefix": "p"}) == {"s3:prefix": ("p",)}


def test_s3_object_write_keys() -> None:
    out = ctx(
        "s3",
        "PutObject",
        {
            "Bucket": "b",
            "Key": "k",
            "ACL": "bucket-owner-full-control",
            "Tagging": "a=1&b=2",
            "ServerSideEncryption": "aws:kms",
            "SSEKMSKeyId": "key",
        },
    )
    assert out == {
        "s3:x-amz-acl": ("bucket-owner-full-control",),
        "s3:x-amz-server-side-encryption": ("aws:kms",),
        "s3:x-amz-server-side-encryption-aws-kms-key-id": ("key",),
        "s3:requestobjecttag/a": ("1",),
        "s3:requestobjecttag/b": ("2",),
        "s3:requestobjecttagkeys": ("a", "b"),
    }
    copy = ctx(
        "s3",
        "CopyObject",
        {"Bucket": "d", "Key": "k", "CopySource": "/src/k1", "MetadataDirective": "REPLACE"},
        index=1,
    )
    assert copy == {"s3:x-amz-copy-source": ("src/k1",), "s3:x-amz-metadata-directive": ("REPLACE",)}
    assert ctx(
        "s3",
        "CreateBucket",
        {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    ) == {"s3:locationconstraint": ("eu-west-1",)}


def test_lambda_keys() -> None:
    assert ctx(
        "lambda",
        "AddPermission",
        {
            "FunctionName": "f",
            "StatementId": "s",
            "Action": "lambda:InvokeFunction",
            "Principal": "sns.amazonaws.com",
            "FunctionUrlAuthType": "NONE",
        },
    ) == {"lambda:principal": ("sns.amazonaws.com",), "lambda:functionurlauthtype": ("NONE",)}
    assert ctx("lambda", "CreateFunctionUrlConfig", {"FunctionName": "f", "AuthType": "AWS_IAM"}) == {
        "lambda:functionurlauthtype": ("AWS_IAM",),
        "lambda:functionarn": (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",),
    }
    assert ctx("lambda", "CreateEventSourceMapping", {"FunctionName": "f:live", "EventSourceArn": "x"}) == {
        "lambda:functionarn": (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:live",)
    }
    layer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:l:1"
    out = ctx(
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "f",
            "Role": ROLE,
            "Code": {},
            "Layers": [layer],
            "VpcConfig": {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]},
        },
    )
    assert out == {
        "lambda:layer": (layer,),
        "lambda:subnetids": ("subnet-1", "subnet-2"),
        "lambda:securitygroupids": ("sg-1",),
    }


def test_pass_role_context() -> None:
    pass_role = need("lambda", "CreateFunction", {"FunctionName": "f", "Role": ROLE, "Code": {}})[1]
    assert pass_role.action == "iam:PassRole"
    assert pass_role.context == {"iam:passedtoservice": ("lambda.amazonaws.com",)}


def test_iam_keys() -> None:
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
    assert ctx("iam", "CreateUser", {"UserName": "u", "PermissionsBoundary": boundary}) == {
        "iam:permissionsboundary": (boundary,)
    }
    assert ctx("iam", "PutRolePermissionsBoundary", {"RoleName": "r", "PermissionsBoundary": boundary}) == {
        "iam:permissionsboundary": (boundary,)
    }
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert ctx("iam", "AttachRolePolicy", {"RoleName": "r", "PolicyArn": admin}) == {"iam:policyarn": (admin,)}
    assert ctx("iam", "AttachUserPolicy", {"UserName": "u", "PolicyArn": admin}) == {"iam:policyarn": (admin,)}


def test_sts_keys() -> None:
    out = ctx(
        "sts",
        "AssumeRole",
        {
            "RoleArn": ROLE,
            "RoleSessionName": "s",
            "ExternalId": "x",
            "SourceIdentity": "me",
            "TransitiveTagKeys": ["k1", "k2"],
        },
    )
    assert out == {
        "sts:externalid": ("x",),
        "sts:rolesessionname": ("s",),
        "sts:sourceidentity": ("me",),
        "sts:transitivetagkeys": ("k1", "k2"),
    }


def test_sns_dynamodb_ec2_keys() -> None:
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:t"
    assert ctx("sns", "Subscribe", {"TopicArn": topic, "Protocol": "https", "Endpoint": "https://x"}) == {
        "sns:endpoint": ("https://x",),
        "sns:protocol": ("https",),
    }
    out = ctx(
        "dynamodb",
        "GetItem",
        {
            "TableName": "T",
            "Key": {"pk": {"S": "1"}},
            "Select": "SPECIFIC_ATTRIBUTES",
            "ProjectionExpression": "#n, b.c",
            "ExpressionAttributeNames": {"#n": "name"},
        },
    )
    assert out == {"dynamodb:attributes": ("pk", "name", "b"), "dynamodb:select": ("SPECIFIC_ATTRIBUTES",)}
    out = ctx(
        "dynamodb",
        "UpdateItem",
        {
            "TableName": "T",
            "Key": {"pk": {"S": "1"}},
            "ReturnValues": "ALL_NEW",
            "UpdateExpression": "SET a = :v, #b = list_append(#b, :l) REMOVE c",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": {"#b": "bee"},
        },
    )
    assert out == {"dynamodb:attributes": ("pk", "a", "bee", "c"), "dynamodb:returnvalues": ("ALL_NEW",)}
    tx = need("dynamodb", "TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "A", "Item": {"x": {}}}}]})
    assert {k: v for k, v in tx[0].context.items() if not k.startswith("lambdaperm:")} == {
        "dynamodb:attributes": ("x",),
        "dynamodb:enclosingoperation": ("TransactWriteItems",),
    }
    assert ctx("ec2", "DescribeVpcs", {}) == {"ec2:region": (REGION,)}


def test_keys_are_lower_case() -> None:
    for service, operation, params in [
        (
            "iam",
            "CreateRole",
            {
                "RoleName": "r",
                "AssumeRolePolicyDocument": "{}",
                "Tags": [{"Key": "CostCenter", "Value": "1"}],
            },
        ),
        (
            "lambda",
            "AddPermission",
            {"FunctionName": "f", "StatementId": "s", "Action": "x", "Principal": "*"},
        ),
    ]:
        for required in need(service, operation, params):
            assert all(key == key.lower() for key in required.context)
