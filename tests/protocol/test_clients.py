"""End to end with real clients: boto3 (and the AWS CLI) sign and send; our identify/parse must see the
call, our serialize must give the client the output. No network: a `before-send` hook answers."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.config import Config

from lambdaperm.protocol import Operation
from tests.protocol.wire import REQUEST_ID, StubbedClient

MOMENT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


def answering(output: dict[str, Any]) -> Any:
    def handler(op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        return output

    return handler


def call(
    service: str, method: str, params: dict[str, Any], output: dict[str, Any], **client: Any
) -> tuple[Operation, dict[str, Any], dict[str, Any]]:
    stub = StubbedClient(service, answering(output), **client)
    result = getattr(stub.client, method)(**params)
    assert result["ResponseMetadata"]["RequestId"] == REQUEST_ID
    ((op, seen),) = stub.calls
    return op, seen, {key: value for key, value in result.items() if key != "ResponseMetadata"}


CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "sts",
        "get_caller_identity",
        {},
        {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::1:user/u"},
    ),
    (
        "sts",
        "assume_role",
        {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1", "DurationSeconds": 900},
        {
            "Credentials": {
                "AccessKeyId": "ASIA",
                "SecretAccessKey": "s",
                "SessionToken": "t",
                "Expiration": MOMENT,
            },
            "AssumedRoleUser": {
                "AssumedRoleId": "AROA:s1",
                "Arn": "arn:aws:sts::123456789012:assumed-role/r/s1",
            },
        },
    ),
    (
        "iam",
        "create_role",
        {"RoleName": "r", "AssumeRolePolicyDocument": '{"Version": "2012-10-17", "Statement": []}'},
        {
            "Role": {
                "Path": "/",
                "RoleName": "r",
                "RoleId": "AROA1",
                "Arn": "arn:aws:iam::123456789012:role/r",
                "CreateDate": MOMENT,
            }
        },
    ),
    ("iam", "list_roles", {"MaxItems": 2}, {"Roles": [], "IsTruncated": False}),
    (
        "iam",
        "get_account_authorization_details",
        {"Filter": ["Role"]},
        {"RoleDetailList": [{"RoleName": "r", "RolePolicyList": []}], "IsTruncated": False},
    ),
    (
        "iam",
        "simulate_principal_policy",
        {"PolicySourceArn": "arn:aws:iam::123456789012:user/u", "ActionNames": ["s3:GetObject"]},
        {
            "EvaluationResults": [
                {
                    "EvalActionName": "s3:GetObject",
                    "EvalDecision": "implicitDeny",
                    "MatchedStatements": [],
                    "MissingContextValues": [],
                }
            ],
            "IsTruncated": False,
        },
    ),
    (
        "lambda",
        "create_function",
        {
            "FunctionName": "f",
            "Role": "arn:aws:iam::123456789012:role/r",
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "Code": {"ZipFile": b"PK\x03\x04"},
            "Environment": {"Variables": {"A": "1"}},
        },
        {"FunctionName": "f", "FunctionArn": FUNCTION_ARN, "State": "Pending", "Timeout": 3},
    ),
    (
        "lambda",
        "add_permission",
        {
            "FunctionName": "f",
            "StatementId": "s3",
            "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com",
            "SourceArn": "arn:aws:s3:::bucket",
        },
        {"Statement": '{"Sid":"s3"}'},
    ),
    ("lambda", "get_policy", {"FunctionName": FUNCTION_ARN}, {"Policy": "{}", "RevisionId": "r"}),
    ("lambda", "list_functions", {"MaxItems": 10}, {"Functions": [{"FunctionName": "f"}]}),
    ("dynamodb", "put_item", {"TableName": "t", "Item": {"pk": {"S": "a"}, "b": {"B": b"\x00"}}}, {}),
    (
        "dynamodb",
        "query",
        {
            "TableName": "t",
            "KeyConditionExpression": "pk = :v",
            "ExpressionAttributeValues": {":v": {"S": "a"}},
        },
        {"Items": [{"pk": {"S": "a"}}], "Count": 1, "ScannedCount": 1},
    ),
    (
        "sqs",
        "send_message",
        {"QueueUrl": "http://localhost:4566/123456789012/q", "MessageBody": "hello"},
        {"MessageId": "m", "MD5OfMessageBody": "5d41402abc4b2a76b9719d911017c592"},
    ),
    (
        "sqs",
        "receive_message",
        {"QueueUrl": "http://localhost:4566/123456789012/q", "MaxNumberOfMessages": 1},
        {
            "Messages": [
                {
                    "MessageId": "m",
                    "ReceiptHandle": "r",
                    "Body": "hello",
                    "MD5OfBody": "5d41402abc4b2a76b9719d911017c592",
                }
            ]
        },
    ),
    (
        "sns",
        "publish",
        {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message": "m"},
        {"MessageId": "id"},
    ),
    (
        "sns",
        "subscribe",
        {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Protocol": "lambda", "Endpoint": FUNCTION_ARN},
        {"SubscriptionArn": "arn:aws:sns:us-east-1:123456789012:t:x"},
    ),
    (
        "ec2",
        "describe_subnets",
        {"Filters": [{"Name": "vpc-id", "Values": ["vpc-1"]}]},
        {"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "AvailableIpAddressCount": 5}]},
    ),
    (
        "cloudtrail",
        "lookup_events",
        {"MaxResults": 5, "StartTime": MOMENT},
        {"Events": [{"EventId": "e", "EventName": "Invoke", "EventTime": MOMENT}]},
    ),
    (
        "accessanalyzer",
        "validate_policy",
        {"policyDocument": "{}", "policyType": "IDENTITY_POLICY"},
        {"findings": []},
    ),
    ("logs", "describe_log_groups", {"logGroupNamePrefix": "/aws/lambda/"}, {"logGroups": []}),
    (
        "s3",
        "list_objects_v2",
        {"Bucket": "bucket", "Prefix": "a/"},
        {"Name": "bucket", "Prefix": "a/", "KeyCount": 0, "IsTruncated": False},
    ),
    (
        "s3",
        "put_bucket_notification_configuration",
        {
            "Bucket": "bucket",
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [{"LambdaFunctionArn": FUNCTION_ARN, "Events": ["s3:ObjectCreated:*"]}]
            },
        },
        {},
    ),
]


@pytest.mark.parametrize(("service", "method", "params", "output"), CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES])
def test_boto3_calls_round_trip(service: str, method: str, params: dict[str, Any], output: dict[str, Any]) -> None:
    _, seen, result = call(service, method, params, output)
    assert {key: seen[key] for key in params} == params
    assert {key: result[key] for key in output} == output


def test_lambda_invoke_payloads_and_headers() -> None:
    op, seen, result = call(
        "lambda",
        "invoke",
        {"FunctionName": FUNCTION_ARN, "Payload": b'{"n": 1}', "LogType": "Tail", "Qualifier": "prod"},
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "LogResult": "bG9n",
            "ExecutedVersion": "3",
            "Payload": b'{"errorMessage": "boom"}',
        },
    )
    assert op.name == "Invoke"
    assert seen == {
        "FunctionName": FUNCTION_ARN,
        "Payload": b'{"n": 1}',
        "LogType": "Tail",
        "Qualifier": "prod",
    }
    assert result["Payload"].read() == b'{"errorMessage": "boom"}'
    assert (result["StatusCode"], result["FunctionError"], result["ExecutedVersion"]) == (
        200,
        "Unhandled",
        "3",
    )


def test_s3_objects_both_addressing_styles() -> None:
    for style in ("path", "virtual"):
        config = Config(s3={"addressing_style": style}, retries={"total_max_attempts": 1})
        _, seen, _ = call(
            "s3",
            "put_object",
            {"Bucket": "bucket", "Key": "a/b c.txt", "Body": b"data", "Metadata": {"k": "v"}},
            {"ETag": '"e"'},
            config=config,
        )
        assert (seen["Bucket"], seen["Key"], seen["Body"], seen["Metadata"]) == (
            "bucket",
            "a/b c.txt",
            b"data",
            {"k": "v"},
        )
        _, seen, result = call(
            "s3",
            "get_object",
            {"Bucket": "bucket", "Key": "a/b c.txt"},
            {"Body": b"data", "ContentType": "text/plain", "LastModified": MOMENT},
            config=config,
        )
        assert (seen["Bucket"], seen["Key"]) == ("bucket", "a/b c.txt")
        assert result["Body"].read() == b"data"
        assert (result["ContentType"], result["LastModified"]) == ("text/plain", MOMENT)


def test_s3_bucket_location_quirk() -> None:
    _, _, result = call("s3", "get_bucket_location", {"Bucket": "bucket"}, {"LocationConstraint": "eu-west-1"})
    assert result == {"LocationConstraint": "eu-west-1"}


def test_aws_cli_round_trip() -> None:
    awscli = pytest.importorskip("awscli.clidriver")
    driver = awscli.create_clidriver()
    seen: list[tuple[str, dict[str, Any]]] = []

    def before_send(request: Any, **kwargs: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        from lambdaperm.protocol import identify, parse, serialize
        from tests.protocol.wire import _Raw, signing_service, to_http_request

        req = to_http_request(request)
        op = identify(req, signing_service(req))
        seen.append((op.name, parse(op, req)))
        response = serialize(op, {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/cli"}, "rid")
        return AWSResponse(request.url, response.status, dict(response.headers), _Raw(response.body))

    driver.session.register("before-send", before_send)
    out = io.StringIO()
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out):
        for name, value in env.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        code = driver.main(
            ["sts", "get-caller-identity", "--endpoint-url", "http://localhost:4566", "--output", "json"]
        )
    assert code == 0
    assert seen == [("GetCallerIdentity", {})]
    assert json.loads(out.getvalue())["Arn"] == "arn:aws:iam::123456789012:user/cli"
