"""Errors: serialize_error per protocol, read by botocore's parsers and by real boto3 clients."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.protocol import HttpRequest, Operation, ServiceError, serialize_error
from tests.protocol.wire import REQUEST_ID, StubbedClient, botocore_error

CASES: list[tuple[str, str, ServiceError, dict[str, str]]] = [
    (
        "iam",
        "query",
        ServiceError("NoSuchEntity", "The role with name x cannot be found.", 404),
        {"Type": "Sender", "Code": "NoSuchEntity", "Message": "The role with name x cannot be found."},
    ),
    (  # the shape name is accepted and written as the wire code
        "iam",
        "query",
        ServiceError("EntityAlreadyExistsException", "Role with name r already exists.", 409),
        {"Type": "Sender", "Code": "EntityAlreadyExists", "Message": "Role with name r already exists."},
    ),
    (
        "sts",
        "query",
        ServiceError("InternalFailure", "boom", 500, sender_fault=False),
        {"Type": "Receiver", "Code": "InternalFailure", "Message": "boom"},
    ),
    (
        "ec2",
        "ec2",
        ServiceError("InvalidSubnetID.NotFound", "The subnet ID 'subnet-1' does not exist", 400),
        {"Code": "InvalidSubnetID.NotFound", "Message": "The subnet ID 'subnet-1' does not exist"},
    ),
    (
        "dynamodb",
        "json",
        ServiceError("ResourceNotFoundException", "Requested resource not found", 400),
        {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"},
    ),
    (
        "sqs",
        "json",
        ServiceError("QueueDoesNotExist", "The specified queue does not exist.", 400),
        {
            "Code": "AWS.SimpleQueueService.NonExistentQueue",
            "QueryErrorCode": "QueueDoesNotExist",
            "Type": "Sender",
            "Message": "The specified queue does not exist.",
        },
    ),
    (
        "lambda",
        "rest-json",
        ServiceError("ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:1:function:f", 404),
        {
            "Code": "ResourceNotFoundException",
            "Message": "Function not found: arn:aws:lambda:us-east-1:1:function:f",
        },
    ),
    (
        "lambda",
        "rest-json",
        ServiceError("PreconditionFailedException", "The Revision Id provided does not match", 412),
        {"Code": "PreconditionFailedException", "Message": "The Revision Id provided does not match"},
    ),
    (
        "s3",
        "rest-xml",
        ServiceError("NoSuchBucket", "The specified bucket does not exist", 404, fields={"BucketName": "b"}),
        {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist", "BucketName": "b"},
    ),
]


@pytest.mark.parametrize(("service", "protocol", "error", "expected"), CASES, ids=[c[2].code for c in CASES])
def test_botocore_reads_our_errors(service: str, protocol: str, error: ServiceError, expected: dict[str, str]) -> None:
    response = serialize_error(service, error, REQUEST_ID)
    assert response.status == error.status
    parsed = botocore_error(protocol, response)
    assert parsed["Error"] == expected
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_query_error_envelope() -> None:
    response = serialize_error("iam", ServiceError("NoSuchEntity", "x < y", 404), "rid")
    assert response.body == (
        b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        b"<Code>NoSuchEntity</Code><Message>x &lt; y</Message></Error>"
        b"<RequestId>rid</RequestId></ErrorResponse>"
    )
    assert response.header("x-amzn-RequestId") == "rid"


def test_json_and_rest_json_bodies() -> None:
    dynamo = serialize_error("dynamodb", ServiceError("ValidationException", "bad", 400), "rid")
    assert dynamo.body == b'{"__type":"ValidationException","message":"bad"}'
    assert dynamo.header("content-type") == "application/x-amz-json-1.0"
    not_found = serialize_error("lambda", ServiceError("ResourceNotFoundException", "gone", 404), "rid")
    assert not_found.body == b'{"Type":"User","Message":"gone"}'
    assert not_found.header("x-amzn-ErrorType") == "ResourceNotFoundException"
    assert not_found.header("x-amzn-RequestId") == "rid"
    conflict = serialize_error("lambda", ServiceError("ResourceConflictException", "dup", 409), "rid")
    assert conflict.body == b'{"Type":"User","message":"dup"}'


def test_s3_head_errors_have_no_body() -> None:
    head = HttpRequest("HEAD", "/bucket/key", "", [("Host", "localhost")])
    response = serialize_error("s3", ServiceError("NoSuchKey", "x", 404), "rid", request=head)
    assert (response.status, response.body) == (404, b"")
    assert response.header("x-amz-request-id") == "rid"
    assert botocore_error("rest-xml", response)["Error"]["Code"] == "404"


def test_sqs_query_mode_errors_use_the_query_code() -> None:
    req = HttpRequest(
        "POST",
        "/",
        "",
        [("Host", "localhost"), ("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=DeleteQueue&Version=2012-11-05&QueueUrl=x",
    )
    response = serialize_error(
        "sqs", ServiceError("QueueDoesNotExist", "The queue does not exist.", 400), "rid", request=req
    )
    parsed = botocore_error("query", response)
    assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert b'<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">' in response.body


def test_unknown_service_renders_generic_json() -> None:
    response = serialize_error("nosuch", ServiceError("UnknownOperationException", "no", 400), "rid")
    for protocol in ("json", "rest-json"):
        assert botocore_error(protocol, response)["Error"]["Code"] == "UnknownOperationException"


def _raise(error: ServiceError) -> Any:
    def handler(op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        raise error

    return handler


def test_real_clients_raise_modeled_exceptions() -> None:
    lam = StubbedClient(
        "lambda",
        _raise(ServiceError("ResourceNotFoundException", "Function not found: f", 404, fields={"Type": "User"})),
    )
    with pytest.raises(lam.client.exceptions.ResourceNotFoundException) as caught:
        lam.client.get_policy(FunctionName="f")
    assert caught.value.response["Error"]["Message"] == "Function not found: f"
    assert caught.value.response["Type"] == "User"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    iam = StubbedClient("iam", _raise(ServiceError("NoSuchEntity", "The role with name r cannot be found.", 404)))
    with pytest.raises(iam.client.exceptions.NoSuchEntityException):
        iam.client.get_role(RoleName="r")

    sqs = StubbedClient("sqs", _raise(ServiceError("QueueDoesNotExist", "The specified queue does not exist.", 400)))
    with pytest.raises(sqs.client.exceptions.QueueDoesNotExist):
        sqs.client.get_queue_url(QueueName="q")

    analyzer = StubbedClient(
        "accessanalyzer",
        _raise(ServiceError("ValidationException", "bad policy", 400, fields={"reason": "cannotParse"})),
    )
    with pytest.raises(analyzer.client.exceptions.ValidationException) as invalid:
        analyzer.client.validate_policy(policyDocument="{", policyType="IDENTITY_POLICY")
    assert invalid.value.response["reason"] == "cannotParse"

    s3 = StubbedClient("s3", _raise(ServiceError("NoSuchKey", "The specified key does not exist.", 404)))
    with pytest.raises(s3.client.exceptions.NoSuchKey):
        s3.client.get_object(Bucket="b", Key="k")
    with pytest.raises(ClientError) as head:
        s3.client.head_object(Bucket="b", Key="k")
    assert head.value.response["Error"]["Code"] == "404"

    ec2 = StubbedClient("ec2", _raise(ServiceError("UnauthorizedOperation", "You are not authorized.", 403)))
    with pytest.raises(ClientError) as denied:
        ec2.client.describe_subnets()
    assert denied.value.response["Error"] == {
        "Code": "UnauthorizedOperation",
        "Message": "You are not authorized.",
    }


def test_errors_before_identify_find_the_service_from_the_request() -> None:
    signed = HttpRequest(
        "POST",
        "/",
        "",
        [
            ("Host", "localhost"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/iam/aws4_request, "
                "SignedHeaders=host, Signature=abc",
            ),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        b"Action=Nope&Version=2010-05-08",
    )
    error = ServiceError("InvalidAction", "Could not find operation Nope for version 2010-05-08", 400)
    parsed = botocore_error("query", serialize_error("", error, "rid", request=signed))
    assert parsed["Error"]["Code"] == "InvalidAction"
    presigned = HttpRequest(
        "GET",
        "/b/k",
        "X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fs3%2Faws4_request",
        [("Host", "localhost")],
    )
    response = serialize_error("", ServiceError("AccessDenied", "Access Denied", 403), "rid", request=presigned)
    assert response.header("x-amz-request-id") == "rid"
    assert botocore_error("rest-xml", response)["Error"]["Code"] == "AccessDenied"
