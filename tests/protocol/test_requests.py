"""Requests: botocore's serializer writes a call, our identify + parse must give back the call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdaperm.protocol import identify, parse
from lambdaperm.protocol.models import signing_name_of
from tests.protocol.wire import botocore_request

# Members a transport adds on its own (a real header the model binds): not part of the call.
_TRANSPORT = frozenset({"ContentLength", "ContentMD5", "ChecksumAlgorithm", "ChecksumCRC32"})
MOMENT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
ROLE_ARN = "arn:aws:iam::123456789012:role/service-role/exec"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-function"

CASES: list[tuple[str, str, dict[str, Any]]] = [
    # query: IAM, STS, SNS
    (
        "iam",
        "CreateRole",
        {
            "Path": "/service-role/",
            "RoleName": "exec",
            "AssumeRolePolicyDocument": POLICY,
            "MaxSessionDuration": 3600,
            "PermissionsBoundary": "arn:aws:iam::aws:policy/PowerUserAccess",
            "Tags": [{"Key": "team", "Value": "a&b=c d"}, {"Key": "empty", "Value": ""}],
        },
    ),
    ("iam", "ListRoles", {"PathPrefix": "/service-role/", "Marker": "m", "MaxItems": 10}),
    ("iam", "GetAccountAuthorizationDetails", {"Filter": ["Role", "LocalManagedPolicy"], "MaxItems": 100}),
    ("iam", "GetAccountAuthorizationDetails", {"Filter": []}),
    (
        "iam",
        "SimulatePrincipalPolicy",
        {
            "PolicySourceArn": "arn:aws:iam::123456789012:user/alice",
            "ActionNames": ["s3:GetObject", "lambda:InvokeFunction"],
            "ResourceArns": ["arn:aws:s3:::b/k", "*"],
            "PolicyInputList": [POLICY],
            "ContextEntries": [
                {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.0.0.1"], "ContextKeyType": "ip"},
                {
                    "ContextKeyName": "aws:MultiFactorAuthPresent",
                    "ContextKeyValues": ["true"],
                    "ContextKeyType": "boolean",
                },
            ],
            "MaxItems": 5,
        },
    ),
    (
        "sts",
        "AssumeRole",
        {
            "RoleArn": ROLE_ARN,
            "RoleSessionName": "session-1",
            "DurationSeconds": 900,
            "Policy": POLICY,
            "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
            "Tags": [{"Key": "project", "Value": "x"}],
            "TransitiveTagKeys": ["project"],
            "ExternalId": "ext",
        },
    ),
    ("sts", "GetCallerIdentity", {}),
    (
        "sns",
        "Publish",
        {
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:topic",
            "Message": '{"default": "hi"}',
            "Subject": "s",
            "MessageStructure": "json",
            "MessageAttributes": {
                "str": {"DataType": "String", "StringValue": "v"},
                "bin": {"DataType": "Binary", "BinaryValue": b"\x00\xff"},
            },
        },
    ),
    (
        "sns",
        "Subscribe",
        {
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:topic",
            "Protocol": "lambda",
            "Endpoint": FUNCTION_ARN,
            "Attributes": {"RawMessageDelivery": "true"},
            "ReturnSubscriptionArn": True,
        },
    ),
    # ec2
    (
        "ec2",
        "DescribeSubnets",
        {
            "Filters": [
                {"Name": "vpc-id", "Values": ["vpc-1", "vpc-2"]},
                {"Name": "tag:Name", "Values": ["x"]},
            ],
            "SubnetIds": ["subnet-1"],
            "DryRun": True,
            "MaxResults": 5,
        },
    ),
    (
        "ec2",
        "CreateSecurityGroup",
        {
            "GroupName": "g",
            "Description": "d",
            "VpcId": "vpc-1",
            "TagSpecifications": [{"ResourceType": "security-group", "Tags": [{"Key": "k", "Value": "v"}]}],
        },
    ),
    # json
    (
        "dynamodb",
        "PutItem",
        {
            "TableName": "table",
            "Item": {
                "pk": {"S": "a"},
                "n": {"N": "1.5"},
                "b": {"B": b"\x00\x01\xff"},
                "l": {"L": [{"BOOL": True}, {"NULL": True}, {"M": {"x": {"SS": ["a", "b"]}}}]},
                "bs": {"BS": [b"1", b"2"]},
            },
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValues": "ALL_OLD",
        },
    ),
    (
        "dynamodb",
        "Query",
        {
            "TableName": "table",
            "IndexName": "gsi",
            "KeyConditionExpression": "pk = :v",
            "ExpressionAttributeValues": {":v": {"S": "x"}},
            "ExpressionAttributeNames": {"#n": "name"},
            "Limit": 25,
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "ExclusiveStartKey": {"pk": {"S": "y"}},
        },
    ),
    (
        "cloudtrail",
        "LookupEvents",
        {
            "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "Invoke"}],
            "StartTime": MOMENT,
            "EndTime": datetime(2024, 5, 7, tzinfo=UTC),
            "MaxResults": 50,
            "NextToken": "t",
        },
    ),
    (
        "logs",
        "PutLogEvents",
        {
            "logGroupName": "/aws/lambda/f",
            "logStreamName": "s",
            "logEvents": [{"timestamp": 1714979289000, "message": "hello\nworld"}],
        },
    ),
    (
        "sqs",
        "SendMessage",
        {
            "QueueUrl": "http://localhost:4566/123456789012/q",
            "MessageBody": "body",
            "DelaySeconds": 5,
            "MessageAttributes": {
                "a": {"DataType": "String", "StringValue": "v"},
                "b": {"DataType": "Binary", "BinaryValue": b"\x01"},
            },
        },
    ),
    (
        "sqs",
        "ReceiveMessage",
        {
            "QueueUrl": "http://localhost:4566/123456789012/q",
            "MaxNumberOfMessages": 10,
            "WaitTimeSeconds": 1,
            "MessageAttributeNames": ["All"],
            "MessageSystemAttributeNames": ["SenderId"],
        },
    ),
    # rest-json
    (
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "my-function",
            "Runtime": "python3.12",
            "Role": ROLE_ARN,
            "Handler": "app.handler",
            "Code": {"ZipFile": b"PK\x03\x04binary"},
            "Timeout": 30,
            "MemorySize": 256,
            "Publish": True,
            "Environment": {"Variables": {"A": "1", "B": "two"}},
            "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
            "Tags": {"team": "x"},
            "Architectures": ["arm64"],
        },
    ),
    (
        "lambda",
        "AddPermission",
        {
            "FunctionName": FUNCTION_ARN,
            "StatementId": "sns-invoke",
            "Action": "lambda:InvokeFunction",
            "Principal": "sns.amazonaws.com",
            "SourceArn": "arn:aws:sns:us-east-1:123456789012:topic",
            "SourceAccount": "123456789012",
            "Qualifier": "prod",
            "RevisionId": "r-1",
        },
    ),
    (
        "lambda",
        "Invoke",
        {
            "FunctionName": f"{FUNCTION_ARN}:prod",
            "InvocationType": "RequestResponse",
            "LogType": "Tail",
            "ClientContext": "eyJhIjoxfQ==",
            "Payload": b'{"action": "go"}',
            "Qualifier": "prod",
        },
    ),
    ("lambda", "GetPolicy", {"FunctionName": "my-function", "Qualifier": "1"}),
    (
        "lambda",
        "ListFunctions",
        {"MasterRegion": "ALL", "FunctionVersion": "ALL", "Marker": "m", "MaxItems": 5},
    ),
    ("lambda", "RemovePermission", {"FunctionName": "f", "StatementId": "s.1", "RevisionId": "r"}),
    ("lambda", "GetFunction", {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"}),
    (
        "accessanalyzer",
        "ValidatePolicy",
        {
            "policyDocument": POLICY,
            "policyType": "RESOURCE_POLICY",
            "locale": "EN",
            "maxResults": 10,
            "validatePolicyResourceType": "AWS::S3::Bucket",
        },
    ),
    (
        "accessanalyzer",
        "ListFindingsV2",
        {
            "analyzerArn": "arn:aws:access-analyzer:us-east-1:123456789012:analyzer/a",
            "filter": {"status": {"eq": ["ACTIVE"]}},
            "maxResults": 5,
        },
    ),
    # rest-xml
    (
        "s3",
        "PutObject",
        {
            "Bucket": "bucket",
            "Key": "dir/sub dir/ü+file.txt",
            "Body": b"\x00binary\xffpayload",
            "ContentType": "application/octet-stream",
            "Metadata": {"owner": "alice", "x-y": "z"},
            "Tagging": "a=b&c=d",
            "StorageClass": "STANDARD_IA",
            "Expires": MOMENT,
            "ObjectLockRetainUntilDate": MOMENT,
        },
    ),
    (
        "s3",
        "GetObject",
        {
            "Bucket": "bucket",
            "Key": "a/b",
            "Range": "bytes=0-9",
            "VersionId": "v1",
            "PartNumber": 1,
            "IfModifiedSince": MOMENT,
        },
    ),
    (
        "s3",
        "ListObjectsV2",
        {
            "Bucket": "bucket",
            "Prefix": "logs/",
            "Delimiter": "/",
            "MaxKeys": 100,
            "ContinuationToken": "tok",
            "StartAfter": "a",
            "FetchOwner": True,
        },
    ),
    ("s3", "ListObjects", {"Bucket": "bucket", "Prefix": "p"}),
    ("s3", "HeadObject", {"Bucket": "bucket", "Key": "k"}),
    ("s3", "DeleteObject", {"Bucket": "bucket", "Key": "k"}),
    (
        "s3",
        "CopyObject",
        {"Bucket": "bucket", "Key": "k2", "CopySource": "bucket/k1", "MetadataDirective": "COPY"},
    ),
    ("s3", "UploadPart", {"Bucket": "bucket", "Key": "k", "PartNumber": 2, "UploadId": "u", "Body": b"part"}),
    ("s3", "CreateMultipartUpload", {"Bucket": "bucket", "Key": "k"}),
    ("s3", "GetObjectTagging", {"Bucket": "bucket", "Key": "k"}),
    ("s3", "PutBucketPolicy", {"Bucket": "bucket", "Policy": POLICY}),
    (
        "s3",
        "DeleteObjects",
        {
            "Bucket": "bucket",
            "Delete": {"Objects": [{"Key": "a"}, {"Key": "b", "VersionId": "v"}], "Quiet": True},
        },
    ),
    (
        "s3",
        "PutBucketNotificationConfiguration",
        {
            "Bucket": "bucket",
            "NotificationConfiguration": {
                "LambdaFunctionConfigurations": [
                    {
                        "Id": "n1",
                        "LambdaFunctionArn": FUNCTION_ARN,
                        "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"],
                        "Filter": {
                            "Key": {
                                "FilterRules": [
                                    {"Name": "prefix", "Value": "in/"},
                                    {"Name": "suffix", "Value": ".jpg"},
                                ]
                            }
                        },
                    }
                ],
                "QueueConfigurations": [
                    {"QueueArn": "arn:aws:sqs:us-east-1:123456789012:q", "Events": ["s3:ObjectCreated:Put"]}
                ],
            },
        },
    ),
    (
        "s3",
        "PutBucketAcl",
        {
            "Bucket": "bucket",
            "AccessControlPolicy": {
                "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "READ"}],
                "Owner": {"ID": "abc"},
            },
        },
    ),
    ("s3", "ListBuckets", {}),
    (
        "s3",
        "CreateBucket",
        {"Bucket": "bucket", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    ),
]


def call(service: str, operation: str, params: dict[str, Any], **kwargs: Any) -> tuple[str, dict[str, object]]:
    req = botocore_request(service, operation, params, **kwargs)
    op = identify(req, signing_name_of(service))
    assert op.service_name == service
    got = parse(op, req)
    return op.name, {key: value for key, value in got.items() if key not in _TRANSPORT or key in params}


@pytest.mark.parametrize(("service", "operation", "params"), CASES, ids=[f"{s}.{o}" for s, o, _ in CASES])
def test_botocore_request_round_trips(service: str, operation: str, params: dict[str, Any]) -> None:
    name, got = call(service, operation, params)
    assert name == operation
    assert got == params


def test_s3_virtual_hosted_style() -> None:
    params = {"Bucket": "my.bucket", "Key": "a/b.txt"}
    req = botocore_request("s3", "GetObject", params)
    req.headers = [(k, "my.bucket.s3.amazonaws.com" if k.lower() == "host" else v) for k, v in req.headers]
    req.path = "/a/b.txt"
    req._lower = {}
    op = identify(req, "s3")
    assert (op.name, parse(op, req)) == ("GetObject", params)


_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
_names = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)
_fast = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_fast
@given(value=_text, tags=st.dictionaries(_names, _text, max_size=3))
def test_query_strings_round_trip(value: str, tags: dict[str, str]) -> None:
    params = {
        "RoleName": "r",
        "AssumeRolePolicyDocument": value,
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }
    if not tags:
        del params["Tags"]
    assert call("iam", "CreateRole", params) == ("CreateRole", params)


@_fast
@given(values=st.lists(_text, min_size=1, max_size=4), name=_text)
def test_ec2_lists_round_trip(values: list[str], name: str) -> None:
    params = {"Filters": [{"Name": name, "Values": values}]}
    assert call("ec2", "DescribeSubnets", params) == ("DescribeSubnets", params)


@_fast
@given(key=_text, value=_text, number=st.integers(-(2**63), 2**63 - 1), flag=st.booleans())
def test_json_values_round_trip(key: str, value: str, number: int, flag: bool) -> None:
    params = {"TableName": "tbl", "Item": {key: {"S": value}, "n": {"N": str(number)}, "f": {"BOOL": flag}}}
    assert call("dynamodb", "PutItem", params) == ("PutItem", params)


@_fast
@given(key=_names.filter(lambda k: k not in (".", "..") and "\r" not in k), metadata=_names, body=st.binary())
def test_rest_xml_keys_and_payloads_round_trip(key: str, metadata: str, body: bytes) -> None:
    params: dict[str, Any] = {
        "Bucket": "bucket",
        "Key": key,
        "Body": body,
        "Metadata": {"m": metadata.strip() or "x"},
    }
    if not body:
        del params["Body"]
    assert call("s3", "PutObject", params) == ("PutObject", params)


@_fast
@given(name=_text, qualifier=st.text("abcXYZ019-_", min_size=1, max_size=10), payload=st.binary(min_size=1))
def test_rest_json_labels_round_trip(name: str, qualifier: str, payload: bytes) -> None:
    params = {"FunctionName": name, "Qualifier": qualifier, "Payload": payload}
    assert call("lambda", "Invoke", params) == ("Invoke", params)


def test_s3_header_lists() -> None:
    params = {"Bucket": "b", "Key": "k", "ObjectAttributes": ["ETag", "Checksum", "ObjectSize"]}
    assert call("s3", "GetObjectAttributes", params) == ("GetObjectAttributes", params)


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        (
            "apigateway",
            "GetExport",
            {
                "restApiId": "a",
                "stageName": "s",
                "exportType": "oas30",
                "parameters": {"extensions": "postman", "x": "y z"},
                "accepts": "x/y",
            },
        ),
        (
            "apigateway",
            "ImportRestApi",
            {"body": b"{}", "parameters": {"endpointConfigurationTypes": "REGIONAL"}, "failOnWarnings": True},
        ),
        (
            "lex-runtime",
            "PostContent",
            {
                "botName": "b",
                "botAlias": "a",
                "userId": "user-1",
                "contentType": "text/plain",
                "inputStream": b"hi",
                "sessionAttributes": {"k": "v"},
                "activeContexts": [{"name": "c"}],
            },
        ),
    ],
    ids=["querystring-map", "querystring-map-with-literal", "jsonvalue-headers"],
)
def test_rest_bindings_beyond_the_served_services(service: str, operation: str, params: dict[str, Any]) -> None:
    from lambdaperm.protocol import Operation
    from lambdaperm.protocol.models import operation_model

    req = botocore_request(service, operation, params)
    op = Operation(service, operation, operation_model(service, operation), "rest-json")
    assert parse(op, req) == params
