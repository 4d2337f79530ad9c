"""identify(): services from signing names, hosts and targets; REST templates; S3 addressing; SQS's two
protocols."""

from __future__ import annotations

import pytest

from lambdaperm.protocol import HttpRequest, identify, parse, serialize
from lambdaperm.protocol.models import services_for_signing_name

FORM = "application/x-www-form-urlencoded; charset=utf-8"


def request(
    method: str,
    path: str,
    query: str = "",
    *,
    host: str = "localhost:4566",
    body: bytes = b"",
    **headers: str,
) -> HttpRequest:
    pairs = [("Host", host), *((name.replace("_", "-"), value) for name, value in headers.items())]
    return HttpRequest(method, path, query, pairs, body)


def test_signing_names_map_to_services() -> None:
    assert services_for_signing_name("access-analyzer") == ("accessanalyzer",)
    assert services_for_signing_name("lambda") == ("lambda",)
    assert services_for_signing_name("monitoring") == ()


S3_CASES = [
    ("GET", "/", "", "localhost:4566", {}, "ListBuckets"),
    ("PUT", "/bucket", "", "localhost:4566", {}, "CreateBucket"),
    ("HEAD", "/bucket", "", "localhost:4566", {}, "HeadBucket"),
    ("GET", "/bucket", "", "localhost:4566", {}, "ListObjects"),
    ("GET", "/bucket/", "prefix=a", "localhost:4566", {}, "ListObjects"),
    ("GET", "/bucket", "list-type=2&prefix=a", "localhost:4566", {}, "ListObjectsV2"),
    ("GET", "/bucket", "location", "localhost:4566", {}, "GetBucketLocation"),
    ("PUT", "/bucket", "notification", "localhost:4566", {}, "PutBucketNotificationConfiguration"),
    ("GET", "/bucket", "notification", "localhost:4566", {}, "GetBucketNotificationConfiguration"),
    ("GET", "/bucket", "analytics", "localhost:4566", {}, "ListBucketAnalyticsConfigurations"),
    ("GET", "/bucket", "analytics&id=a", "localhost:4566", {}, "GetBucketAnalyticsConfiguration"),
    ("PUT", "/bucket", "policy", "localhost:4566", {}, "PutBucketPolicy"),
    ("POST", "/bucket", "delete", "localhost:4566", {}, "DeleteObjects"),
    ("GET", "/bucket/a/b.txt", "", "localhost:4566", {}, "GetObject"),
    ("GET", "/bucket/a/b.txt", "uploadId=u", "localhost:4566", {}, "ListParts"),
    ("GET", "/bucket/a/b.txt", "tagging", "localhost:4566", {}, "GetObjectTagging"),
    ("HEAD", "/bucket/a/b.txt", "", "localhost:4566", {}, "HeadObject"),
    ("PUT", "/bucket/k", "", "localhost:4566", {}, "PutObject"),
    ("PUT", "/bucket/k", "", "localhost:4566", {"x_amz_copy_source": "src/k"}, "CopyObject"),
    ("PUT", "/bucket/k", "partNumber=1&uploadId=u", "localhost:4566", {}, "UploadPart"),
    (
        "PUT",
        "/bucket/k",
        "partNumber=1&uploadId=u",
        "localhost:4566",
        {"x_amz_copy_source": "s/k"},
        "UploadPartCopy",
    ),
    ("POST", "/bucket/k", "uploads", "localhost:4566", {}, "CreateMultipartUpload"),
    ("POST", "/bucket/k", "uploadId=u", "localhost:4566", {}, "CompleteMultipartUpload"),
    ("DELETE", "/bucket/k", "", "localhost:4566", {}, "DeleteObject"),
    ("DELETE", "/bucket/k", "uploadId=u", "localhost:4566", {}, "AbortMultipartUpload"),
    # virtual-hosted style
    ("GET", "/", "", "bucket.s3.amazonaws.com", {}, "ListObjects"),
    ("GET", "/", "list-type=2", "bucket.s3.us-east-1.amazonaws.com", {}, "ListObjectsV2"),
    ("GET", "/a/b.txt", "", "bucket.localhost:4566", {}, "GetObject"),
    (
        "PUT",
        "/",
        "notification",
        "bucket.s3.localhost.localstack.cloud:4566",
        {},
        "PutBucketNotificationConfiguration",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "query", "host", "headers", "operation"),
    S3_CASES,
    ids=[f"{c[0]} {c[3]}{c[1]}?{c[2]}" for c in S3_CASES],
)
def test_s3_routes(method: str, path: str, query: str, host: str, headers: dict[str, str], operation: str) -> None:
    assert identify(request(method, path, query, host=host, **headers), "s3").name == operation


def test_s3_virtual_host_fills_the_bucket() -> None:
    req = request("GET", "/a/b%20c.txt", "versionId=v", host="my.bucket.s3.eu-west-1.amazonaws.com")
    op = identify(req, "s3")
    assert parse(op, req) == {"Bucket": "my.bucket", "Key": "a/b c.txt", "VersionId": "v"}
    listing = request("GET", "/", "list-type=2&prefix=logs%2F", host="logs.localhost:4566")
    assert parse(identify(listing, "s3"), listing) == {"Bucket": "logs", "Prefix": "logs/"}


LAMBDA_CASES = [
    ("GET", "/2015-03-31/functions/", "", "ListFunctions"),
    ("GET", "/2015-03-31/functions", "", "ListFunctions"),
    ("POST", "/2015-03-31/functions", "", "CreateFunction"),
    ("GET", "/2015-03-31/functions/f", "", "GetFunction"),
    (
        "GET",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af",
        "",
        "GetFunction",
    ),
    ("GET", "/2015-03-31/functions/f/configuration", "", "GetFunctionConfiguration"),
    ("POST", "/2015-03-31/functions/f/invocations", "", "Invoke"),
    ("POST", "/2015-03-31/functions/f/policy", "Qualifier=1", "AddPermission"),
    ("GET", "/2015-03-31/functions/f/policy", "", "GetPolicy"),
    ("DELETE", "/2015-03-31/functions/f/policy/sid", "", "RemovePermission"),
    ("POST", "/2014-11-13/functions/f/invoke-async/", "", "InvokeAsync"),
]


@pytest.mark.parametrize(
    ("method", "path", "query", "operation"), LAMBDA_CASES, ids=[f"{c[0]} {c[1]}" for c in LAMBDA_CASES]
)
def test_lambda_routes(method: str, path: str, query: str, operation: str) -> None:
    assert identify(request(method, path, query), "lambda").name == operation


def test_lambda_labels_are_percent_decoded() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:f:prod"
    req = request(
        "DELETE",
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af%3Aprod/policy/my.sid",
        "RevisionId=r%2B1",
    )
    assert parse(identify(req, "lambda"), req) == {
        "FunctionName": arn,
        "StatementId": "my.sid",
        "RevisionId": "r+1",
    }


def test_unsigned_requests_find_their_service() -> None:
    web_identity = request(
        "POST",
        "/",
        body=b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=a&RoleSessionName=s&WebIdentityToken=t",
        Content_Type=FORM,
    )
    op = identify(web_identity, None)
    assert (op.service_name, op.name) == ("sts", "AssumeRoleWithWebIdentity")
    dynamo = request(
        "POST",
        "/",
        X_Amz_Target="DynamoDB_20120810.GetItem",
        Content_Type="application/x-amz-json-1.0",
        body=b"{}",
    )
    assert identify(dynamo, None).service_name == "dynamodb"
    anonymous_get = request("GET", "/key", host="public.s3.amazonaws.com")
    assert (identify(anonymous_get, None).service_name, identify(anonymous_get, None).name) == (
        "s3",
        "GetObject",
    )
    by_host = request("GET", "/", "Action=ListRoles&Version=2010-05-08", host="iam.amazonaws.com")
    assert identify(by_host, None).name == "ListRoles"
    lam = request("GET", "/2015-03-31/functions/", host="lambda.us-east-1.amazonaws.com")
    assert identify(lam, None).name == "ListFunctions"


def test_query_parameters_may_come_in_the_query_string() -> None:
    req = request("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15")
    assert identify(req, "sts").name == "GetCallerIdentity"


def test_sqs_json_and_query_protocols() -> None:
    as_json = request(
        "POST",
        "/",
        X_Amz_Target="AmazonSQS.SendMessage",
        Content_Type="application/x-amz-json-1.0",
        body=b'{"QueueUrl": "http://q", "MessageBody": "hi"}',
    )
    op = identify(as_json, "sqs")
    assert (op.name, op.protocol) == ("SendMessage", "json")
    assert parse(op, as_json) == {"QueueUrl": "http://q", "MessageBody": "hi"}

    body = (
        "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Fq&MessageBody=hi&DelaySeconds=3"
        "&MessageAttribute.1.Name=color&MessageAttribute.1.Value.DataType=String"
        "&MessageAttribute.1.Value.StringValue=red&MessageSystemAttribute.1.Name=AWSTraceHeader"
        "&MessageSystemAttribute.1.Value.DataType=String&MessageSystemAttribute.1.Value.StringValue=Root%3D1"
    )
    as_query = request("POST", "/", body=body.encode(), Content_Type=FORM)
    op = identify(as_query, "sqs")
    assert (op.name, op.protocol) == ("SendMessage", "query")
    assert parse(op, as_query) == {
        "QueueUrl": "http://q",
        "MessageBody": "hi",
        "DelaySeconds": 3,
        "MessageAttributes": {"color": {"DataType": "String", "StringValue": "red"}},
        "MessageSystemAttributes": {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1"}},
    }


def test_sqs_query_mode_names_and_queue_url_path() -> None:
    body = (
        b"Action=ReceiveMessage&Version=2012-11-05&AttributeName.1=All&MessageAttributeName.1=color"
        b"&MaxNumberOfMessages=2"
    )
    req = request("POST", "/123456789012/jobs", body=body, Content_Type=FORM)
    op = identify(req, "sqs")
    assert parse(op, req) == {
        "QueueUrl": "http://localhost:4566/123456789012/jobs",
        "AttributeNames": ["All"],
        "MessageAttributeNames": ["color"],
        "MaxNumberOfMessages": 2,
    }
    output = {
        "Messages": [
            {
                "MessageId": "m",
                "ReceiptHandle": "r",
                "Body": "b",
                "Attributes": {"SenderId": "AIDA"},
                "MessageAttributes": {"color": {"DataType": "String", "StringValue": "red"}},
            }
        ]
    }
    response = serialize(op, output, "rid")
    assert response.body == (
        b'<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult>'
        b"<Message><MessageId>m</MessageId><ReceiptHandle>r</ReceiptHandle><Body>b</Body>"
        b"<Attribute><Name>SenderId</Name><Value>AIDA</Value></Attribute>"
        b"<MessageAttribute><Name>color</Name><Value><StringValue>red</StringValue><DataType>String</DataType>"
        b"</Value></MessageAttribute></Message></ReceiveMessageResult>"
        b"<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>"
    )


def test_sqs_query_batch_entries() -> None:
    body = (
        b"Action=DeleteMessageBatch&Version=2012-11-05&QueueUrl=q"
        b"&DeleteMessageBatchRequestEntry.1.Id=a&DeleteMessageBatchRequestEntry.1.ReceiptHandle=ra"
        b"&DeleteMessageBatchRequestEntry.2.Id=b&DeleteMessageBatchRequestEntry.2.ReceiptHandle=rb"
    )
    req = request("POST", "/", body=body, Content_Type=FORM)
    assert parse(identify(req, "sqs"), req) == {
        "QueueUrl": "q",
        "Entries": [{"Id": "a", "ReceiptHandle": "ra"}, {"Id": "b", "ReceiptHandle": "rb"}],
    }


def test_aws_chunked_payloads_and_trailers() -> None:
    body = b"5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"
    req = request(
        "PUT",
        "/bucket/k",
        body=body,
        x_amz_content_sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        Content_Encoding="aws-chunked",
        x_amz_decoded_content_length="11",
        x_amz_trailer="x-amz-checksum-crc32",
    )
    assert parse(identify(req, "s3"), req) == {
        "Bucket": "bucket",
        "Key": "k",
        "Body": b"hello world",
        "ContentLength": 11,
        "ChecksumCRC32": "DUoRhQ==",
    }


def test_preload_compiles_every_served_service() -> None:
    from lambdaperm.protocol import SUPPORTED_SERVICES, preload
    from lambdaperm.protocol.route_rest import rest_routes

    preload()
    assert "accessanalyzer" in SUPPORTED_SERVICES
    assert {route.operation for route in rest_routes("lambda")["POST"]} >= {"Invoke", "AddPermission"}
