"""Responses: we serialize an output, botocore's parser must read back the same output."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaperm.protocol import Operation, serialize
from lambdaperm.protocol.models import operation_model, protocol_of
from tests.protocol.wire import REQUEST_ID, botocore_parse, without_metadata

MOMENT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
MILLIS = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
ROLE = {
    "Path": "/service-role/",
    "RoleName": "exec",
    "RoleId": "AROAEXAMPLEID1234567",
    "Arn": "arn:aws:iam::123456789012:role/service-role/exec",
    "CreateDate": MOMENT,
    "AssumeRolePolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%7D",
    "MaxSessionDuration": 3600,
    "Tags": [{"Key": "team", "Value": "<a & b>"}],
}

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("iam", "CreateRole", {"Role": ROLE}),
    (
        "iam",
        "ListRoles",
        {"Roles": [ROLE, {**ROLE, "RoleName": "other"}], "IsTruncated": True, "Marker": "m"},
    ),
    ("iam", "ListRoles", {"Roles": [], "IsTruncated": False}),
    (
        "iam",
        "GetAccountAuthorizationDetails",
        {
            "RoleDetailList": [
                {
                    "Path": "/",
                    "RoleName": "r",
                    "RoleId": "AROA1",
                    "Arn": "arn:aws:iam::123456789012:role/r",
                    "CreateDate": MOMENT,
                    "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": "%7B%7D"}],
                    "AttachedManagedPolicies": [{"PolicyName": "p", "PolicyArn": "arn:aws:iam::aws:policy/p"}],
                    "InstanceProfileList": [],
                }
            ],
            "Policies": [
                {
                    "PolicyName": "p",
                    "PolicyVersionList": [{"Document": "%7B%7D", "VersionId": "v1", "IsDefaultVersion": True}],
                }
            ],
            "IsTruncated": False,
        },
    ),
    (
        "iam",
        "SimulatePrincipalPolicy",
        {
            "EvaluationResults": [
                {
                    "EvalActionName": "s3:GetObject",
                    "EvalResourceName": "*",
                    "EvalDecision": "explicitDeny",
                    "MatchedStatements": [
                        {
                            "SourcePolicyId": "deny-all",
                            "SourcePolicyType": "user",
                            "StartPosition": {"Line": 1, "Column": 2},
                            "EndPosition": {"Line": 3, "Column": 4},
                        }
                    ],
                    "MissingContextValues": ["aws:SourceIp"],
                    "EvalDecisionDetails": {"PermissionsBoundary": "allowed"},
                    "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
                }
            ],
            "IsTruncated": False,
        },
    ),
    (
        "sts",
        "AssumeRole",
        {
            "Credentials": {
                "AccessKeyId": "ASIAEXAMPLE",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": MOMENT,
            },
            "AssumedRoleUser": {
                "AssumedRoleId": "AROA1:s",
                "Arn": "arn:aws:sts::123456789012:assumed-role/r/s",
            },
            "PackedPolicySize": 6,
        },
    ),
    (
        "sts",
        "GetCallerIdentity",
        {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::1:user/u"},
    ),
    ("sns", "Publish", {"MessageId": "m-1"}),
    ("sns", "Subscribe", {"SubscriptionArn": "arn:aws:sns:us-east-1:123456789012:t:abc"}),
    ("sns", "GetTopicAttributes", {"Attributes": {"Policy": "{}", "Owner": "123456789012"}}),
    (
        "ec2",
        "DescribeSubnets",
        {
            "Subnets": [
                {
                    "SubnetId": "subnet-1",
                    "VpcId": "vpc-1",
                    "CidrBlock": "10.0.0.0/24",
                    "AvailableIpAddressCount": 250,
                    "MapPublicIpOnLaunch": False,
                    "Tags": [{"Key": "Name", "Value": "x"}],
                }
            ],
            "NextToken": "n",
        },
    ),
    (
        "dynamodb",
        "Query",
        {
            "Items": [{"pk": {"S": "a"}, "b": {"B": b"\x00\xff"}, "l": {"L": [{"N": "1"}, {"NULL": True}]}}],
            "Count": 1,
            "ScannedCount": 2,
            "LastEvaluatedKey": {"pk": {"S": "a"}},
            "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5},
        },
    ),
    ("dynamodb", "PutItem", {"Attributes": {"pk": {"S": "old"}}}),
    ("dynamodb", "DescribeTable", {"Table": {"TableName": "t", "CreationDateTime": MILLIS, "ItemCount": 3}}),
    (
        "cloudtrail",
        "LookupEvents",
        {
            "Events": [
                {
                    "EventId": "e",
                    "EventName": "Invoke",
                    "ReadOnly": "false",
                    "EventTime": MILLIS,
                    "EventSource": "lambda.amazonaws.com",
                    "Resources": [{"ResourceType": "AWS::Lambda::Function", "ResourceName": "f"}],
                    "CloudTrailEvent": '{"eventVersion":"1.11"}',
                }
            ],
            "NextToken": "n",
        },
    ),
    (
        "logs",
        "DescribeLogGroups",
        {"logGroups": [{"logGroupName": "/aws/lambda/f", "creationTime": 1714979289000}]},
    ),
    ("sqs", "SendMessage", {"MessageId": "m", "MD5OfMessageBody": "abc"}),
    (
        "sqs",
        "ReceiveMessage",
        {
            "Messages": [
                {
                    "MessageId": "m",
                    "ReceiptHandle": "r",
                    "Body": "<b>",
                    "Attributes": {"SentTimestamp": "1714979289000"},
                    "MessageAttributes": {"a": {"DataType": "Binary", "BinaryValue": b"\x01"}},
                }
            ]
        },
    ),
    (
        "lambda",
        "GetPolicy",
        {"Policy": '{"Version":"2012-10-17","Id":"default","Statement":[]}', "RevisionId": "r"},
    ),
    ("lambda", "AddPermission", {"Statement": '{"Sid":"s","Effect":"Allow"}'}),
    (
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "f",
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::123456789012:role/r",
            "Handler": "app.handler",
            "CodeSize": 123,
            "Timeout": 3,
            "MemorySize": 128,
            "LastModified": "2024-05-06T07:08:09.000+0000",
            "Version": "$LATEST",
            "State": "Active",
            "Environment": {"Variables": {"A": "1"}},
            "Architectures": ["x86_64"],
            "RevisionId": "r",
        },
    ),
    ("lambda", "ListFunctions", {"Functions": [{"FunctionName": "f", "Timeout": 3}], "NextMarker": "m"}),
    (
        "lambda",
        "GetFunction",
        {"Configuration": {"FunctionName": "f"}, "Code": {"Location": "https://x"}, "Tags": {"a": "b"}},
    ),
    (
        "accessanalyzer",
        "ValidatePolicy",
        {
            "findings": [
                {
                    "findingDetails": "Fix the action.",
                    "findingType": "ERROR",
                    "issueCode": "INVALID_ACTION",
                    "learnMoreLink": "https://docs.aws.amazon.com/",
                    "locations": [
                        {
                            "path": [{"value": "Statement"}, {"index": 0}, {"key": "Action"}],
                            "span": {
                                "start": {"line": 1, "column": 2, "offset": 3},
                                "end": {"line": 1, "column": 9, "offset": 10},
                            },
                        }
                    ],
                }
            ],
            "nextToken": "n",
        },
    ),
    (
        "s3",
        "ListObjectsV2",
        {
            "IsTruncated": True,
            "Contents": [{"Key": "a&b", "LastModified": MILLIS, "ETag": '"e"', "Size": 3, "StorageClass": "STANDARD"}],
            "Name": "bucket",
            "Prefix": "",
            "MaxKeys": 1000,
            "CommonPrefixes": [{"Prefix": "d/"}],
            "KeyCount": 1,
            "NextContinuationToken": "t",
        },
    ),
    ("s3", "ListBuckets", {"Buckets": [{"Name": "b", "CreationDate": MOMENT}], "Owner": {"ID": "o"}}),
    ("s3", "PutObject", {"ETag": '"e"', "VersionId": "v"}),
    ("s3", "CopyObject", {"CopyObjectResult": {"ETag": '"e"', "LastModified": MOMENT}, "VersionId": "v"}),
    ("s3", "GetObjectTagging", {"TagSet": [{"Key": "a", "Value": "b"}], "VersionId": "v"}),
    (
        "s3",
        "GetBucketAcl",
        {
            "Owner": {"ID": "o"},
            "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "o"}, "Permission": "READ"}],
        },
    ),
    (
        "s3",
        "GetBucketNotificationConfiguration",
        {
            "LambdaFunctionConfigurations": [
                {
                    "Id": "n",
                    "LambdaFunctionArn": "arn:aws:lambda:us-east-1:1:function:f",
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "in/"}]}},
                }
            ]
        },
    ),
]


def op_for(service: str, operation: str) -> Operation:
    return Operation(service, operation, operation_model(service, operation), protocol_of(service))


@pytest.mark.parametrize(("service", "operation", "output"), CASES, ids=[f"{s}.{o}" for s, o, _ in CASES])
def test_botocore_parses_our_response(service: str, operation: str, output: dict[str, Any]) -> None:
    op = op_for(service, operation)
    response = serialize(op, output, REQUEST_ID)
    parsed = botocore_parse(op, response)
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert without_metadata(parsed) == output


@pytest.mark.parametrize(
    ("service", "operation", "content_type", "start"),
    [
        (
            "iam",
            "ListRoles",
            "text/xml",
            b'<ListRolesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListRolesResult',
        ),
        (
            "ec2",
            "DescribeSubnets",
            "text/xml",
            b'<?xml version="1.0" encoding="UTF-8"?>\n<DescribeSubnetsResponse '
            b'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>',
        ),
        ("dynamodb", "Query", "application/x-amz-json-1.0", b"{"),
        ("logs", "DescribeLogGroups", "application/x-amz-json-1.1", b"{"),
        (
            "s3",
            "ListObjectsV2",
            "application/xml",
            b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
            b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"',
        ),
    ],
)
def test_envelopes(service: str, operation: str, content_type: str, start: bytes) -> None:
    response = serialize(op_for(service, operation), {}, REQUEST_ID)
    assert response.header("content-type") == content_type
    assert response.body.startswith(start)


def test_query_response_metadata() -> None:
    response = serialize(op_for("sts", "GetCallerIdentity"), {"Account": "123456789012"}, REQUEST_ID)
    assert response.body.endswith(
        b"<ResponseMetadata><RequestId>" + REQUEST_ID.encode() + b"</RequestId></ResponseMetadata>"
        b"</GetCallerIdentityResponse>"
    )
    assert response.header("x-amzn-RequestId") == REQUEST_ID


def test_rest_status_and_headers() -> None:
    created = serialize(op_for("lambda", "AddPermission"), {"Statement": "{}"}, REQUEST_ID)
    assert created.status == 201
    removed = serialize(op_for("lambda", "RemovePermission"), {}, REQUEST_ID)
    assert (removed.status, removed.body) == (204, b"")
    invoked = serialize(
        op_for("lambda", "Invoke"),
        {"StatusCode": 202, "Payload": b"", "ExecutedVersion": "$LATEST", "FunctionError": "Unhandled"},
        REQUEST_ID,
    )
    assert invoked.status == 202
    assert invoked.header("X-Amz-Executed-Version") == "$LATEST"
    assert invoked.header("X-Amz-Function-Error") == "Unhandled"
    s3 = serialize(op_for("s3", "GetObject"), {"Body": b"raw\x00", "LastModified": MOMENT}, REQUEST_ID)
    assert s3.body == b"raw\x00"
    assert s3.header("Last-Modified") == "Mon, 06 May 2024 07:08:09 GMT"
    assert s3.header("x-amz-request-id") == REQUEST_ID


def test_blob_payloads_reach_botocore_as_bytes() -> None:
    op = op_for("lambda", "Invoke")
    parsed = botocore_parse(op, serialize(op, {"StatusCode": 200, "Payload": b'{"x": 1}'}, REQUEST_ID))
    assert parsed["Payload"] == '{"x": 1}'  # botocore hands a non-streamed payload over as text


_xml_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r"))


@settings(max_examples=40, deadline=None)
@given(description=_xml_text, tag=_xml_text, created=st.datetimes(timezones=st.just(UTC)))
def test_query_output_strings_and_times(description: str, tag: str, created: datetime) -> None:
    created = created.replace(microsecond=created.microsecond // 1000 * 1000)
    output = {
        "Role": {
            **ROLE,
            "Description": description,
            "CreateDate": created,
            "Tags": [{"Key": "k", "Value": tag}],
        }
    }
    op = op_for("iam", "CreateRole")
    assert without_metadata(botocore_parse(op, serialize(op, output, REQUEST_ID))) == output


@settings(max_examples=40, deadline=None)
@given(
    value=st.text(st.characters(exclude_categories=("Cs",))),
    number=st.floats(allow_nan=False, allow_infinity=False),
    moment=st.datetimes(timezones=st.just(UTC), min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)),
)
def test_json_output_values(value: str, number: float, moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    output = {
        "Table": {
            "TableName": value,
            "CreationDateTime": moment,
            "ProvisionedThroughput": {"ReadCapacityUnits": 1},
        },
    }
    op = op_for("dynamodb", "DescribeTable")
    parsed = without_metadata(botocore_parse(op, serialize(op, output, REQUEST_ID)))
    assert parsed == output
    q = op_for("dynamodb", "Query")
    out = {"Items": [{value: {"N": str(number)}}], "ConsumedCapacity": {"CapacityUnits": number}}
    assert without_metadata(botocore_parse(q, serialize(q, out, REQUEST_ID))) == out


def test_jsonvalue_headers() -> None:
    op = op_for("lex-runtime", "PostContent")
    output = {"sessionAttributes": {"k": "v"}, "intentName": "i"}
    response = serialize(op, output, REQUEST_ID)
    assert response.header("x-amz-lex-session-attributes") == "eyJrIjoidiJ9"
    parsed = botocore_parse(op, response)
    assert (parsed["sessionAttributes"], parsed["intentName"]) == ({"k": "v"}, "i")
