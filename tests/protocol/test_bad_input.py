"""Bad input: unknown operations, bodies that do not decode, values of the wrong type — each answered with
the service's own error code and status, and never with any exception but ServiceError."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdaperm.protocol import HttpRequest, ServiceError, identify, parse, serialize_error
from tests.protocol.wire import botocore_error

FORM = "application/x-www-form-urlencoded; charset=utf-8"


def request(
    method: str = "POST",
    path: str = "/",
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> HttpRequest:
    merged = {"Host": "localhost:4566", **(headers or {})}
    return HttpRequest(method, path, query, list(merged.items()), body)


def failure(req: HttpRequest, signing: str | None) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        parse(identify(req, signing), req)
    return caught.value


def dynamo(target: str, body: bytes) -> HttpRequest:
    return request(body=body, headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"})


def form(body: str) -> HttpRequest:
    return request(body=body.encode(), headers={"Content-Type": FORM})


CASES: list[tuple[str, HttpRequest, str | None, str, int, str | None]] = [
    # (id, request, signing service, code, status, message)
    (
        "json-garbage",
        dynamo("DynamoDB_20120810.PutItem", b"{not json"),
        "dynamodb",
        "SerializationException",
        400,
        None,
    ),
    (
        "json-not-utf8",
        dynamo("DynamoDB_20120810.PutItem", b'{"TableName": "\xff"}'),
        "dynamodb",
        "SerializationException",
        400,
        None,
    ),
    (
        "json-wrong-type",
        dynamo("DynamoDB_20120810.PutItem", b'{"TableName": 5, "Item": {}}'),
        "dynamodb",
        "SerializationException",
        400,
        "NUMBER_VALUE cannot be converted to String (at 'TableName')",
    ),
    (
        "json-struct-for-string",
        dynamo("DynamoDB_20120810.Query", b'{"TableName": {"a": 1}}'),
        "dynamodb",
        "SerializationException",
        400,
        "STRUCTURE_OR_MAP cannot be converted to String (at 'TableName')",
    ),
    (
        "json-top-level-list",
        dynamo("DynamoDB_20120810.Query", b"[1, 2]"),
        "dynamodb",
        "SerializationException",
        400,
        None,
    ),
    (
        "json-deep",
        dynamo("DynamoDB_20120810.PutItem", b"[" * 100000 + b"]" * 100000),
        "dynamodb",
        "SerializationException",
        400,
        None,
    ),
    (
        "json-unknown-target",
        dynamo("DynamoDB_20120810.Nope", b"{}"),
        "dynamodb",
        "UnknownOperationException",
        400,
        None,
    ),
    (
        "json-foreign-prefix",
        dynamo("Logs_20140328.DescribeLogGroups", b"{}"),
        "dynamodb",
        "UnknownOperationException",
        400,
        None,
    ),
    (
        "json-no-target",
        request(body=b"{}", headers={"Content-Type": "application/x-amz-json-1.0"}),
        "dynamodb",
        "UnknownOperationException",
        400,
        None,
    ),
    (
        "query-unknown-action",
        form("Action=Nope&Version=2010-05-08"),
        "iam",
        "InvalidAction",
        400,
        "Could not find operation Nope for version 2010-05-08",
    ),
    ("query-missing-action", form("Version=2010-05-08"), "iam", "MissingAction", 400, None),
    (
        "query-bad-int",
        form("Action=ListRoles&Version=2010-05-08&MaxItems=ten"),
        "iam",
        "ValidationError",
        400,
        None,
    ),
    (
        "query-bad-bool",
        form("Action=ListRoles&Version=2010-05-08&MaxItems=1&Marker=a&x=%FF"),
        "iam",
        "MalformedQueryString",
        404,
        None,
    ),
    (
        "query-huge-int",
        form("Action=ListRoles&Version=2010-05-08&MaxItems=" + "9" * 5000),
        "iam",
        "ValidationError",
        400,
        None,
    ),
    (
        "query-sts-bad-int",
        form("Action=AssumeRole&Version=2011-06-15&DurationSeconds=1.5"),
        "sts",
        "ValidationError",
        400,
        None,
    ),
    (
        "sns-bad-bool",
        form("Action=Subscribe&Version=2010-03-31&ReturnSubscriptionArn=maybe"),
        "sns",
        "InvalidParameter",
        400,
        None,
    ),
    (
        "ec2-unknown-action",
        form("Action=Nope&Version=2016-11-15"),
        "ec2",
        "InvalidAction",
        400,
        "The action Nope is not valid for this web service.",
    ),
    (
        "ec2-bad-int",
        form("Action=DescribeSubnets&Version=2016-11-15&MaxResults=x"),
        "ec2",
        "InvalidParameterValue",
        400,
        None,
    ),
    (
        "lambda-garbage",
        request("POST", "/2015-03-31/functions", body=b"{oops"),
        "lambda",
        "InvalidRequestContentException",
        400,
        None,
    ),
    (
        "lambda-wrong-type",
        request("POST", "/2015-03-31/functions", body=b'{"FunctionName": "f", "Timeout": "x"}'),
        "lambda",
        "InvalidRequestContentException",
        400,
        None,
    ),
    (
        "lambda-bad-query",
        request("GET", "/2015-03-31/functions/", "MaxItems=lots"),
        "lambda",
        "InvalidParameterValueException",
        400,
        None,
    ),
    (
        "lambda-unknown-route",
        request("GET", "/2015-03-31/nothing-here"),
        "lambda",
        "UnknownOperationException",
        400,
        None,
    ),
    (
        "lambda-bad-header",
        request("POST", "/2015-03-31/functions/f/invocations", headers={"X-Amz-Client-Context": "x"}, body=b"{}"),
        "lambda",
        None,
        0,
        None,
    ),
    (
        "analyzer-garbage",
        request("POST", "/policy/validation", body=b"nope"),
        "access-analyzer",
        "ValidationException",
        400,
        None,
    ),
    (
        "analyzer-unknown",
        request("DELETE", "/policy/validation"),
        "access-analyzer",
        "ValidationException",
        400,
        None,
    ),
    (
        "s3-bad-xml",
        request("PUT", "/bucket", "notification", b"<NotificationConfiguration><oops>"),
        "s3",
        "MalformedXML",
        400,
        None,
    ),
    (
        "s3-xml-unknown-encoding",
        request(
            "PUT",
            "/bucket",
            "notification",
            b'<?xml version="1.0" encoding="nope"?><NotificationConfiguration/>',
        ),
        "s3",
        "MalformedXML",
        400,
        None,
    ),
    (
        "s3-xml-entity",
        request(
            "PUT",
            "/bucket",
            "notification",
            b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
        ),
        "s3",
        "MalformedXML",
        400,
        None,
    ),
    (
        "s3-bad-int",
        request("GET", "/bucket", "list-type=2&max-keys=many"),
        "s3",
        "InvalidArgument",
        400,
        None,
    ),
    ("s3-bad-method", request("PATCH", "/bucket/key"), "s3", "MethodNotAllowed", 405, None),
    (
        "s3-bad-chunks",
        request(
            "PUT",
            "/bucket/key",
            body=b"zz\r\nabc",
            headers={"x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
        ),
        "s3",
        "IncompleteBody",
        400,
        None,
    ),
    ("unknown-service", request(body=b"{}"), "nosuchservice", "UnknownOperationException", 400, None),
]


@pytest.mark.parametrize(
    ("req", "signing", "code", "status", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_gets_the_services_error(
    req: HttpRequest, signing: str | None, code: str | None, status: int, message: str | None
) -> None:
    if code is None:  # accepted: an opaque header value is the service's to judge
        parse(identify(req, signing), req)
        return
    error = failure(req, signing)
    assert (error.code, error.status) == (code, status)
    if message is not None:
        assert error.message == message


def test_protocol_errors_carry_modeled_fields() -> None:
    error = failure(request("POST", "/policy/validation", body=b"nope"), "access-analyzer")
    assert error.fields == {"reason": "cannotParse"}
    response = serialize_error("accessanalyzer", error, "rid")
    assert json.loads(response.body)["reason"] == "cannotParse"
    lam = failure(request("POST", "/2015-03-31/functions", body=b"{oops"), "lambda")
    assert lam.message.startswith("Could not parse request body into json: Could not parse payload into json:")
    parsed = botocore_error("rest-json", serialize_error("lambda", lam, "rid"))
    assert parsed["Error"]["Code"] == "InvalidRequestContentException"


_SIGNING = [
    "iam",
    "sts",
    "sns",
    "ec2",
    "dynamodb",
    "logs",
    "cloudtrail",
    "sqs",
    "lambda",
    "access-analyzer",
    "s3",
    None,
]
_TARGETS = [
    "DynamoDB_20120810.PutItem",
    "AmazonSQS.SendMessage",
    "Logs_20140328.PutLogEvents",
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
    "",
]
_PATHS = [
    "/",
    "/bucket",
    "/bucket/key",
    "/2015-03-31/functions",
    "/2015-03-31/functions/f/invocations",
    "/2015-03-31/functions/f/policy",
    "/policy/validation",
    "/123456789012/queue",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signing=st.sampled_from(_SIGNING),
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    path=st.sampled_from(_PATHS) | st.text(max_size=20).map(lambda t: "/" + t),
    query=st.sampled_from(["", "list-type=2", "notification", "Action=ListRoles&MaxItems=x", "Qualifier=%FF"])
    | st.text(max_size=20),
    target=st.sampled_from(_TARGETS),
    body=st.binary(max_size=200)
    | st.sampled_from(
        [
            b"{}",
            b'{"TableName": []}',
            b"Action=CreateRole&Version=2010-05-08&Tags.member.1.Key=1",
            b"Action=CreateRole&Tags.member.\xc2\xb2.Key=1&MaxSessionDuration=1" + b"0" * 5000,
            b'{"Limit": 1' + b"0" * 5000 + b"}",
            b"<a><b>",
            b'{"Item": {"a": {"M": {"b": {"L": [{"N": 5}]}}}}}',
            b"0\r\n\r\n",
        ]
    ),
    chunked=st.booleans(),
)
def test_any_bytes_give_a_service_error_or_params(
    signing: str | None, method: str, path: str, query: str, target: str, body: bytes, chunked: bool
) -> None:
    headers = {"X-Amz-Target": target} if target else {}
    if chunked:
        headers["x-amz-content-sha256"] = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    req = request(method, path, query, body, headers)
    try:
        op = identify(req, signing)
        params = parse(op, req)
    except ServiceError:
        return
    assert isinstance(params, dict)
