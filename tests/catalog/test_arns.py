"""Resource ARNs built from request parameters, per service: names, partial and full ARNs, qualifiers,
cross-account ARNs (the resource keeps the account the caller named)."""

from __future__ import annotations

import pytest

from .helpers import ACCOUNT, OTHER, REGION, need

FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"


def resources(service: str, operation: str, params: dict[str, object]) -> tuple[str, ...]:
    return need(service, operation, params)[0].resources


@pytest.mark.parametrize(
    ("function_name", "qualifier", "expected"),
    [
        ("f", None, f"{FN}:f"),
        ("f:prod", None, f"{FN}:f:prod"),
        ("f", "prod", f"{FN}:f:prod"),
        ("f", "7", f"{FN}:f:7"),
        ("f", "$LATEST", f"{FN}:f:$LATEST"),
        (f"{ACCOUNT}:function:f", None, f"{FN}:f"),
        (f"{OTHER}:function:f", None, f"arn:aws:lambda:{REGION}:{OTHER}:function:f"),
        (f"{OTHER}:function:f:live", None, f"arn:aws:lambda:{REGION}:{OTHER}:function:f:live"),
        (
            f"arn:aws:lambda:eu-west-1:{OTHER}:function:f",
            None,
            f"arn:aws:lambda:eu-west-1:{OTHER}:function:f",
        ),
        (
            f"arn:aws:lambda:eu-west-1:{OTHER}:function:f",
            "3",
            f"arn:aws:lambda:eu-west-1:{OTHER}:function:f:3",
        ),
        (
            f"arn:aws-cn:lambda:cn-north-1:{OTHER}:function:f:1",
            None,
            f"arn:aws-cn:lambda:cn-north-1:{OTHER}:function:f:1",
        ),
    ],
)
def test_lambda_function_names(function_name: str, qualifier: str | None, expected: str) -> None:
    params: dict[str, object] = {"FunctionName": function_name}
    if qualifier:
        params["Qualifier"] = qualifier
    assert resources("lambda", "Invoke", params) == (expected,)
    assert resources("lambda", "GetFunctionConfiguration", params) == (expected,)


def test_lambda_other_resources() -> None:
    assert resources("lambda", "GetEventSourceMapping", {"UUID": "u-1"}) == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:u-1",
    )
    assert resources("lambda", "GetLayerVersion", {"LayerName": "l", "VersionNumber": 2}) == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:l:2",
    )
    assert resources(
        "lambda",
        "GetLayerVersion",
        {"LayerName": f"arn:aws:lambda:{REGION}:{OTHER}:layer:l", "VersionNumber": 2},
    ) == (f"arn:aws:lambda:{REGION}:{OTHER}:layer:l:2",)
    assert resources("lambda", "PublishLayerVersion", {"LayerName": "l", "Content": {}}) == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:l",
    )
    assert resources("lambda", "ListLayerVersions", {"LayerName": "l"}) == ("*",)
    assert resources("lambda", "TagResource", {"Resource": f"{FN}:f", "Tags": {}}) == (f"{FN}:f",)
    assert resources(
        "lambda", "DeleteProvisionedConcurrencyConfig", {"FunctionName": "f", "Qualifier": "live"}
    ) == (f"{FN}:f:live",)
    csc = f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-1"
    assert resources(
        "lambda", "PutFunctionCodeSigningConfig", {"FunctionName": "f", "CodeSigningConfigArn": csc}
    ) == (csc, f"{FN}:f")


def test_dynamodb() -> None:
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
    assert resources("dynamodb", "GetItem", {"TableName": "T", "Key": {}}) == (f"{table}/T",)
    assert resources(
        "dynamodb", "GetItem", {"TableName": f"arn:aws:dynamodb:{REGION}:{OTHER}:table/T", "Key": {}}
    ) == (f"arn:aws:dynamodb:{REGION}:{OTHER}:table/T",)
    assert resources("dynamodb", "Scan", {"TableName": "T", "IndexName": "I"}) == (f"{table}/T/index/I",)
    stream = f"{table}/T/stream/2024-01-01T00:00:00.000"
    assert resources("dynamodb", "TagResource", {"ResourceArn": stream, "Tags": []}) == (stream,)
    assert resources("dynamodb", "ListTables", {}) == ("*",)
    assert resources(
        "dynamodb",
        "CreateGlobalTable",
        {
            "GlobalTableName": "G",
            "ReplicationGroup": [{"RegionName": "us-east-1"}, {"RegionName": "eu-west-1"}],
        },
    ) == (
        f"arn:aws:dynamodb::{ACCOUNT}:global-table/G",
        f"{table}/G",
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/G",
    )
    backup = f"{table}/T/backup/01"
    assert resources("dynamodb", "RestoreTableFromBackup", {"TargetTableName": "N", "BackupArn": backup}) == (
        backup,
        f"{table}/N",
    )


def test_s3() -> None:
    assert resources("s3", "GetObject", {"Bucket": "b", "Key": "a/b c.txt"}) == ("arn:aws:s3:::b/a/b c.txt",)
    assert resources("s3", "PutBucketPolicy", {"Bucket": "b", "Policy": "{}"}) == ("arn:aws:s3:::b",)
    access_point = f"arn:aws:s3:us-west-2:{OTHER}:accesspoint/ap"
    assert resources("s3", "GetObject", {"Bucket": access_point, "Key": "k"}) == (f"{access_point}/object/k",)
    assert resources("s3", "CreateSession", {"Bucket": "b--usw2-az1--x-s3"}) == (
        f"arn:aws:s3express:{REGION}:{ACCOUNT}:bucket/b--usw2-az1--x-s3",
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q1", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q1"),
        (f"https://sqs.eu-west-1.amazonaws.com/{OTHER}/q1", f"arn:aws:sqs:eu-west-1:{OTHER}:q1"),
        (f"https://eu-west-1.queue.amazonaws.com/{OTHER}/q1.fifo", f"arn:aws:sqs:eu-west-1:{OTHER}:q1.fifo"),
        (f"http://localhost:4566/{OTHER}/q1", f"arn:aws:sqs:{REGION}:{OTHER}:q1"),
    ],
)
def test_sqs_queue_url(url: str, expected: str) -> None:
    assert resources("sqs", "SendMessage", {"QueueUrl": url, "MessageBody": "x"}) == (expected,)


def test_sqs_names_and_arns() -> None:
    assert resources("sqs", "CreateQueue", {"QueueName": "q"}) == (f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",)
    assert resources("sqs", "GetQueueUrl", {"QueueName": "q", "QueueOwnerAWSAccountId": OTHER}) == (
        f"arn:aws:sqs:{REGION}:{OTHER}:q",
    )
    dlq = f"arn:aws:sqs:{REGION}:{OTHER}:dlq"
    assert resources("sqs", "StartMessageMoveTask", {"SourceArn": dlq}) == (dlq,)
    # The task handle of the SQS API reference example: base64 JSON naming the source queue.
    handle = (
        "eyJ0YXNrSWQiOiJkYzE2OWUwNC0wZTU1LTQ0ZDItYWE5MC1jMDgwY2ExZjM2ZjciLCJzb3VyY2VBcm4iOiJhcm46YXdzOnNx"
        "czp1cy1lYXN0LTE6MTExMTExMTExMTExOk15RGVhZExldHRlclF1ZXVlIn0="
    )
    assert resources("sqs", "CancelMessageMoveTask", {"TaskHandle": handle}) == (
        "arn:aws:sqs:us-east-1:111111111111:MyDeadLetterQueue",
    )
    assert resources("sqs", "ListQueues", {}) == ("*",)


def test_sns() -> None:
    topic = f"arn:aws:sns:{REGION}:{OTHER}:t"
    assert resources("sns", "Publish", {"TopicArn": topic, "Message": "m"}) == (topic,)
    assert resources("sns", "Subscribe", {"TopicArn": topic, "Protocol": "sqs"}) == (topic,)
    assert resources("sns", "CreateTopic", {"Name": "t"}) == (f"arn:aws:sns:{REGION}:{ACCOUNT}:t",)
    assert resources("sns", "Unsubscribe", {"SubscriptionArn": f"{topic}:0b1c-2d3e"}) == (topic,)
    assert resources("sns", "ListTopics", {}) == ("*",)


def test_iam() -> None:
    iam = f"arn:aws:iam::{ACCOUNT}"
    assert resources("iam", "GetRole", {"RoleName": "r"}) == (f"{iam}:role/r",)
    assert resources(
        "iam", "CreateRole", {"RoleName": "r", "Path": "/a/b/", "AssumeRolePolicyDocument": "{}"}
    ) == (f"{iam}:role/a/b/r",)
    assert resources("iam", "GetUser", {"UserName": "u"}) == (f"{iam}:user/u",)
    assert resources("iam", "GetGroup", {"GroupName": "g"}) == (f"{iam}:group/g",)
    assert resources("iam", "CreatePolicy", {"PolicyName": "p", "Path": "/x/", "PolicyDocument": "{}"}) == (
        f"{iam}:policy/x/p",
    )
    managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert resources("iam", "GetPolicy", {"PolicyArn": managed}) == (managed,)
    other = f"arn:aws:iam::{OTHER}:policy/p"
    assert resources("iam", "GetPolicyVersion", {"PolicyArn": other, "VersionId": "v1"}) == (other,)
    assert resources("iam", "GetInstanceProfile", {"InstanceProfileName": "ip"}) == (
        f"{iam}:instance-profile/ip",
    )
    assert resources(
        "iam", "CreateOpenIDConnectProvider", {"Url": "https://token.actions.githubusercontent.com"}
    ) == (f"{iam}:oidc-provider/token.actions.githubusercontent.com",)
    assert resources("iam", "CreateVirtualMFADevice", {"VirtualMFADeviceName": "m"}) == (f"{iam}:mfa/m",)
    assert resources(
        "iam",
        "GetServiceLinkedRoleDeletionStatus",
        {"DeletionTaskId": "task/aws-service-role/lambda.amazonaws.com/AWSServiceRoleForLambda/ec72"},
    ) == (f"{iam}:role/aws-service-role/lambda.amazonaws.com/AWSServiceRoleForLambda",)
    assert resources("iam", "ListRoles", {}) == ("*",)


def test_sts() -> None:
    role = f"arn:aws:iam::{OTHER}:role/path/r"
    assert resources("sts", "AssumeRole", {"RoleArn": role, "RoleSessionName": "s"}) == (role,)
    assert resources("sts", "GetFederationToken", {"Name": "bob"}) == (
        f"arn:aws:sts::{ACCOUNT}:federated-user/bob",
    )
    assert resources("sts", "AssumeRoot", {"TargetPrincipal": OTHER, "TaskPolicyArn": {"arn": "x"}}) == (
        f"arn:aws:iam::{OTHER}:root",
    )
    assert resources("sts", "DecodeAuthorizationMessage", {"EncodedMessage": "x"}) == ("*",)


def test_logs() -> None:
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT}"
    assert resources("logs", "CreateLogStream", {"logGroupName": "/aws/lambda/f", "logStreamName": "s"}) == (
        f"{logs}:log-group:/aws/lambda/f:log-stream:s",
    )
    assert resources(
        "logs", "PutRetentionPolicy", {"logGroupName": "/aws/lambda/f", "retentionInDays": 1}
    ) == (f"{logs}:log-group:/aws/lambda/f:log-stream:",)
    other = f"arn:aws:logs:{REGION}:{OTHER}:log-group:g"
    assert resources("logs", "DescribeLogStreams", {"logGroupIdentifier": other}) == (f"{other}:log-stream:",)
    assert resources("logs", "DescribeLogStreams", {"logGroupIdentifier": f"{other}:*"}) == (
        f"{other}:log-stream:",
    )


def test_cloudtrail_and_access_analyzer() -> None:
    trail = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/t"
    assert resources("cloudtrail", "GetTrail", {"Name": "t"}) == (trail,)
    other = f"arn:aws:cloudtrail:{REGION}:{OTHER}:trail/t"
    assert resources("cloudtrail", "GetTrailStatus", {"Name": other}) == (other,)
    analyzer = f"arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/a"
    assert resources("accessanalyzer", "GetAnalyzer", {"analyzerName": "a"}) == (analyzer,)
    assert resources("accessanalyzer", "ListFindings", {"analyzerArn": analyzer}) == (analyzer,)
    assert resources("accessanalyzer", "GetArchiveRule", {"analyzerName": "a", "ruleName": "r"}) == (
        f"{analyzer}/archive-rule/r",
    )
    assert resources(
        "accessanalyzer", "ValidatePolicy", {"policyDocument": "{}", "policyType": "IDENTITY_POLICY"}
    ) == ("*",)


def test_ec2() -> None:
    ec2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    assert resources("ec2", "DeleteVpc", {"VpcId": "vpc-1"}) == (f"{ec2}:vpc/vpc-1",)
    assert resources("ec2", "DeleteSubnet", {"SubnetId": "subnet-1"}) == (f"{ec2}:subnet/subnet-1",)
    assert resources("ec2", "DeleteSecurityGroup", {"GroupId": "sg-1"}) == (f"{ec2}:security-group/sg-1",)
    assert resources("ec2", "CreateNetworkInterface", {"SubnetId": "subnet-1", "Groups": ["sg-1"]}) == (
        f"{ec2}:network-interface/*",
        f"{ec2}:security-group/sg-1",
        f"{ec2}:subnet/subnet-1",
    )
    assert resources(
        "ec2",
        "CreateVpcEndpoint",
        {"VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.lambda", "SubnetIds": ["subnet-1"]},
    ) == (f"{ec2}:subnet/subnet-1", f"{ec2}:vpc/vpc-1", f"{ec2}:vpc-endpoint/*")
    assert resources("ec2", "DescribeNetworkInterfaces", {}) == ("*",)
    assert resources("ec2", "DescribeVpcEndpoints", {}) == ("*",)


def test_partition_is_used() -> None:
    out = need("lambda", "Invoke", {"FunctionName": "f"})
    assert out[0].resources == (f"{FN}:f",)
    from lambdaperm.catalog import required_actions

    cn = required_actions(
        "dynamodb",
        "GetItem",
        {"TableName": "T", "Key": {}},
        account=ACCOUNT,
        region="cn-north-1",
        partition="aws-cn",
    )
    assert cn[0].resources == (f"arn:aws-cn:dynamodb:cn-north-1:{ACCOUNT}:table/T",)
