"""One reading of every request: each shape another reader could read differently from lambdaperm is
refused with the service's protocol error (docs/fidelity.md, "One reading"), and what botocore sends is
still read."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import boto3
import pytest

from lambdaperm.protocol import HttpRequest, ServiceError, identify, parse, serialize_error
from tests.protocol.wire import botocore_error, botocore_request

FORM = "application/x-www-form-urlencoded; charset=utf-8"
JSON10 = "application/x-amz-json-1.0"
TOPIC = "arn:aws:sns:us-east-1:123456789012:allowed"
VICTIM = "arn:aws:sns:us-east-1:123456789012:victim"
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/allowed"
OTHER_QUEUE = "https://sqs.us-east-1.amazonaws.com/210987654321/victim"


def request(
    method: str = "POST",
    path: str = "/",
    query: str = "",
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
) -> HttpRequest:
    return HttpRequest(method, path, query, [("Host", "localhost:4566"), *(headers or [])], body)


def form(body: str, query: str = "", content_type: str = FORM, path: str = "/") -> HttpRequest:
    return request("POST", path, query, body.encode(), [("Content-Type", content_type)])


def sqs_json(body: dict[str, object], *, content_type: str = JSON10, query: str = "", path: str = "/") -> HttpRequest:
    headers = [("Content-Type", content_type), ("X-Amz-Target", "AmazonSQS.SendMessage")]
    return request("POST", path, query, json.dumps(body).encode(), headers)


def refused(req: HttpRequest, signing: str | None) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        parse(identify(req, signing), req)
    return caught.value


def read(req: HttpRequest, signing: str | None) -> dict[str, object]:
    return parse(identify(req, signing), req)


# --- query and EC2 protocols -------------------------------------------------------------------------------

PUBLISH = f"Action=Publish&Version=2010-03-31&Message=hi&TopicArn={TOPIC}"

QUERY_CASES = [
    ("repeated-in-body", form(f"{PUBLISH}&TopicArn={VICTIM}"), "sns", "TopicArn"),
    ("repeated-in-query-string", request("GET", "/", f"{PUBLISH}&TopicArn={VICTIM}"), "sns", "TopicArn"),
    ("action-twice", form(f"{PUBLISH}&Action=DeleteTopic"), "sns", "Action"),
    ("version-twice", form(f"{PUBLISH}&Version=2010-03-31"), "sns", "Version"),
    ("percent-encoded-twin", form(f"{PUBLISH}&Topic%41rn={VICTIM}"), "sns", "TopicArn"),
    (
        "queue-url-twice",
        form(f"Action=SendMessage&Version=2012-11-05&MessageBody=x&QueueUrl={QUEUE}&QueueUrl={OTHER_QUEUE}"),
        "sqs",
        "QueueUrl",
    ),
    (
        "group-id-twice",
        form("Action=DeleteSecurityGroup&Version=2016-11-15&GroupId=sg-allowed&GroupId=sg-victim"),
        "ec2",
        "GroupId",
    ),
    (
        "list-item-twice-by-zero-padding",
        form("Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-a&GroupId.01=sg-b"),
        "ec2",
        "GroupId.01",
    ),
    (
        "list-with-a-gap",
        form("Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-a&GroupId.3=sg-b"),
        "ec2",
        "GroupId",
    ),
    (
        "map-key-twice",
        form(
            "Action=SetQueueAttributes&Version=2012-11-05&QueueUrl=" + QUEUE + "&Attribute.1.Name=Policy"
            "&Attribute.1.Value=a&Attribute.2.Name=Policy&Attribute.2.Value=b"
        ),
        "sqs",
        "Policy",
    ),
    (
        "unread-parameter-under-a-member",
        form("Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D&Tags.member.x=1"),
        "iam",
        "Tags.member.x",
    ),
]


@pytest.mark.parametrize(("req", "signing", "named"), [c[1:] for c in QUERY_CASES], ids=[c[0] for c in QUERY_CASES])
def test_a_repeated_or_unread_query_parameter_is_refused(req: HttpRequest, signing: str, named: str) -> None:
    error = refused(req, signing)
    assert (error.code, error.status) == ("InvalidQueryParameter", 400)
    assert f"'{named}'" in error.message


def test_a_form_body_beside_a_query_string_is_refused_as_aws_does() -> None:
    req = form(PUBLISH, query=f"TopicArn={VICTIM}")
    error = refused(req, "sns")
    assert (error.code, error.status) == ("IncompleteSignature", 400)
    assert error.message == (
        "When Content-Type:application/x-www-form-urlencoded, URL cannot include query-string parameters "
        f"(after '?'): '/?TopicArn={VICTIM}'"
    )
    parsed = botocore_error("query", serialize_error("sns", error, "rid", request=req))
    assert parsed["Error"]["Code"] == "IncompleteSignature"


@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded; charset=utf-16", None]
)
def test_a_query_body_that_is_not_a_form_is_refused(content_type: str | None) -> None:
    headers = [("Content-Type", content_type)] if content_type else []
    req = request("POST", "/", "", PUBLISH.encode(), headers)
    error = refused(req, "sns")
    assert (error.code, error.status) == ("InvalidQueryParameter", 400)
    assert "application/x-www-form-urlencoded" in error.message


def test_x_amz_target_is_refused_in_the_query_protocol() -> None:
    req = request("POST", "/", "", PUBLISH.encode(), [("Content-Type", FORM), ("X-Amz-Target", "x.DeleteTopic")])
    error = refused(req, "sns")
    assert (error.code, error.status) == ("InvalidQueryParameter", 400)
    assert "X-Amz-Target" in error.message


def test_an_sqs_path_must_agree_with_the_queue_url() -> None:
    body = f"Action=DeleteQueue&Version=2012-11-05&QueueUrl={QUEUE}"
    error = refused(form(body, path="/210987654321/victim"), "sqs")
    assert (error.code, error.status) == ("InvalidQueryParameter", 400)
    assert read(form(body, path="/123456789012/allowed"), "sqs") == {"QueueUrl": QUEUE}
    by_path = read(form("Action=DeleteQueue&Version=2012-11-05", path="/123456789012/allowed"), "sqs")
    assert by_path == {"QueueUrl": "http://localhost:4566/123456789012/allowed"}
    listing = refused(form("Action=ListQueues&Version=2012-11-05", path="/123456789012/allowed"), "sqs")
    assert listing.code == "InvalidQueryParameter"


def test_query_requests_as_clients_send_them_are_read() -> None:
    assert read(form(PUBLISH), "sns") == {"TopicArn": TOPIC, "Message": "hi"}
    assert read(request("GET", "/", PUBLISH), "sns") == {"TopicArn": TOPIC, "Message": "hi"}
    listed = read(form("Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-a&GroupId.2=sg-b"), "ec2")
    assert listed == {"GroupIds": ["sg-a", "sg-b"]}
    empty = botocore_request("sns", "SetSubscriptionAttributes", {"SubscriptionArn": TOPIC, "AttributeName": "a"})
    assert read(empty, "sns")["AttributeName"] == "a"


# --- AWS JSON protocols ------------------------------------------------------------------------------------


def test_a_form_content_type_smuggling_an_action_is_refused() -> None:
    smuggled = sqs_json(
        {"QueueUrl": QUEUE, "MessageBody": f"x&Action=DeleteQueue&QueueUrl={QUEUE}"},
        content_type="application/x-www-form-urlencoded",
    )
    error = refused(smuggled, "sqs")
    assert (error.code, error.status) == ("UnknownOperationException", 404)
    assert "application/x-amz-json-1.0" in error.message
    response = serialize_error("sqs", error, "rid", request=smuggled)
    assert response.status == 404


@pytest.mark.parametrize(
    ("content_type", "signing", "target"),
    [
        ("application/x-amz-json-1.1", "dynamodb", "DynamoDB_20120810.ListTables"),
        ("application/json", "dynamodb", "DynamoDB_20120810.ListTables"),
        ("application/x-amz-json-1.0", "logs", "Logs_20140328.DescribeLogGroups"),
        ("application/x-amz-json-1.0; charset=utf-16", "dynamodb", "DynamoDB_20120810.ListTables"),
        ("text/plain", "dynamodb", "DynamoDB_20120810.ListTables"),
    ],
)
def test_a_json_body_in_another_content_type_is_refused(content_type: str, signing: str, target: str) -> None:
    req = request("POST", "/", "", b"{}", [("Content-Type", content_type), ("X-Amz-Target", target)])
    error = refused(req, signing)
    assert (error.code, error.status) == ("UnknownOperationException", 404)


def test_a_json_body_without_a_content_type_is_refused() -> None:
    req = request("POST", "/", "", b"{}", [("X-Amz-Target", "DynamoDB_20120810.ListTables")])
    assert refused(req, "dynamodb").status == 404


def test_json_requests_take_no_query_string_and_no_path() -> None:
    with_query = sqs_json({"QueueUrl": QUEUE, "MessageBody": "x"}, query="Action=DeleteQueue")
    error = refused(with_query, "sqs")
    assert (error.code, error.status) == ("SerializationException", 400)
    assert "Action=DeleteQueue" in error.message
    region_in_query = request(
        "POST",
        "/",
        "x=.eu-west-1.amazonaws.com",
        b"{}",
        [("Content-Type", JSON10), ("X-Amz-Target", "DynamoDB_20120810.ListTables")],
    )
    assert refused(region_in_query, "dynamodb").code == "SerializationException"
    with_path = sqs_json({"QueueUrl": QUEUE, "MessageBody": "x"}, path="/210987654321/victim")
    assert refused(with_path, "sqs").code == "SerializationException"


def test_a_repeated_target_is_refused() -> None:
    req = request(
        "POST",
        "/",
        "",
        b"{}",
        [
            ("Content-Type", JSON10),
            ("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            ("x-amz-target", "DynamoDB_20120810.DeleteTable"),
        ],
    )
    error = refused(req, "dynamodb")
    assert (error.code, error.status) == ("SerializationException", 400)
    assert "X-Amz-Target" in error.message


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"TableName": "allowed", "TableName": "victim"}', "TableName"),
        (b'{"TableName": "t", "Key": {"id": {"S": "a"}, "id": {"S": "b"}}}', "id"),
        (b'{"TableName": "t", "Key": {"id": {"S": "a", "S": "b"}}}', "S"),
    ],
)
def test_a_json_key_repeated_at_any_depth_is_refused(body: bytes, key: str) -> None:
    req = request("POST", "/", "", body, [("Content-Type", JSON10), ("X-Amz-Target", "DynamoDB_20120810.GetItem")])
    error = refused(req, "dynamodb")
    assert (error.code, error.status, error.message) == ("SerializationException", 400, f"Duplicate field '{key}'")


@pytest.mark.parametrize(
    "body",
    [
        '{"TableName": "t"}'.encode("utf-16"),
        b'\xef\xbb\xbf{"TableName": "t"}',
        b'{"TableName": "t", "Unknown": NaN}',
    ],
    ids=["utf-16", "utf-8-bom", "nan-literal"],
)
def test_json_that_only_a_lenient_reader_reads_is_refused(body: bytes) -> None:
    req = request("POST", "/", "", body, [("Content-Type", JSON10), ("X-Amz-Target", "DynamoDB_20120810.Scan")])
    assert refused(req, "dynamodb").code == "SerializationException"


def test_json_requests_as_clients_send_them_are_read() -> None:
    sent = botocore_request("dynamodb", "GetItem", {"TableName": "t", "Key": {"id": {"S": "a"}}})
    assert read(sent, "dynamodb") == {"TableName": "t", "Key": {"id": {"S": "a"}}}
    charset = request(
        "POST",
        "/",
        "",
        b'{"logGroupNamePrefix": "a"}',
        [
            ("Content-Type", "application/x-amz-json-1.1; charset=UTF-8"),
            ("X-Amz-Target", "Logs_20140328.DescribeLogGroups"),
        ],
    )
    assert read(charset, "logs") == {"logGroupNamePrefix": "a"}


# --- REST protocols ----------------------------------------------------------------------------------------


def test_a_repeated_bound_header_is_refused_whatever_its_case() -> None:
    req = request(
        "PUT", "/bucket/key", "", b"", [("x-amz-copy-source", "src/allowed"), ("X-Amz-Copy-Source", "src/victim")]
    )
    error = refused(req, "s3")
    assert (error.code, error.status) == ("InvalidArgument", 400)
    assert "x-amz-copy-source" in error.message.lower()
    parsed = botocore_error("rest-xml", serialize_error("s3", error, "rid", request=req))
    assert parsed["Error"]["Code"] == "InvalidArgument"


def test_a_repeated_metadata_header_is_refused() -> None:
    req = request("PUT", "/bucket/key", "", b"data", [("x-amz-meta-owner", "a"), ("X-Amz-Meta-Owner", "b")])
    assert refused(req, "s3").code == "InvalidArgument"


@pytest.mark.parametrize(
    "query", ["versionId=a&versionId=b", "tagging&tagging", "uploadId=u&partNumber=1&partNumber=2"]
)
def test_a_repeated_bound_query_parameter_is_refused(query: str) -> None:
    method = "PUT" if "partNumber" in query else "GET"
    error = refused(request(method, "/bucket/key", query), "s3")
    assert (error.code, error.status) == ("InvalidArgument", 400)


def test_lambda_refuses_repeats_with_its_own_error() -> None:
    qualifier = refused(request("GET", "/2015-03-31/functions/f", "Qualifier=1&Qualifier=2"), "lambda")
    assert (qualifier.code, qualifier.status, qualifier.fields) == (
        "InvalidRequestContentException",
        400,
        {"Type": "User"},
    )
    body = b'{"FunctionName": "f", "Role": "a", "Role": "b", "Code": {}}'
    duplicate = refused(
        request("POST", "/2015-03-31/functions", "", body, [("Content-Type", "application/json")]), "lambda"
    )
    assert (duplicate.code, duplicate.message) == ("InvalidRequestContentException", "Duplicate field 'Role'")


def test_a_list_bound_to_the_query_string_may_repeat() -> None:
    req = request(
        "DELETE", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af", "tagKeys=a&tagKeys=b"
    )
    assert read(req, "lambda")["TagKeys"] == ["a", "b"]


def test_aws_chunked_trailers_do_not_repeat_a_header() -> None:
    body = b"4\r\ndata\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
    chunked = [
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    ]
    beside_header = request("PUT", "/bucket/key", "", body, [*chunked, ("x-amz-checksum-crc32", "BBBBBB==")])
    assert refused(beside_header, "s3").code == "InvalidArgument"
    twice = b"4\r\ndata\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:BBBBBB==\r\n\r\n"
    assert refused(request("PUT", "/bucket/key", "", twice, chunked), "s3").code == "InvalidArgument"
    assert read(request("PUT", "/bucket/key", "", body, chunked), "s3")["ChecksumCRC32"] == "AAAAAA=="


# --- headers and signatures, every protocol ------------------------------------------------------------------

SIGNED = "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=ab"

PROTOCOL_REQUESTS = {
    "sns": (form(PUBLISH), "sns"),
    "dynamodb": (
        request("POST", "/", "", b"{}", [("Content-Type", JSON10), ("X-Amz-Target", "DynamoDB_20120810.ListTables")]),
        "dynamodb",
    ),
    "s3": (request("GET", "/bucket/key"), "s3"),
    "lambda": (request("GET", "/2015-03-31/functions/f"), "lambda"),
}
# (protocol request, header) → (code, status) for a second line of that header
EXPECTED = {
    ("sns", "ambiguous"): ("InvalidQueryParameter", 400),
    ("sns", "signature"): ("IncompleteSignature", 400),
    ("dynamodb", "ambiguous"): ("SerializationException", 400),
    ("dynamodb", "signature"): ("IncompleteSignatureException", 400),
    ("s3", "ambiguous"): ("InvalidArgument", 400),
    ("s3", "signature"): ("InvalidArgument", 400),
    ("lambda", "ambiguous"): ("InvalidRequestContentException", 400),
    ("lambda", "signature"): ("IncompleteSignatureException", 403),
}
HEADERS = [
    ("Host", "ambiguous"),
    ("Content-Type", "ambiguous"),
    ("Authorization", "signature"),
    ("X-Amz-Date", "signature"),
    ("X-Amz-Security-Token", "signature"),
    ("X-Amz-Content-Sha256", "signature"),
    ("Date", "signature"),
    ("X-Amz-Decoded-Content-Length", "signature"),
]


@pytest.mark.parametrize("which", sorted(PROTOCOL_REQUESTS))
@pytest.mark.parametrize(("header", "kind"), HEADERS)
def test_a_repeated_routing_or_signature_header_is_refused_in_every_protocol(
    which: str, header: str, kind: str
) -> None:
    base, signing = PROTOCOL_REQUESTS[which]
    existing = base.header(header)
    value = existing if existing is not None else "x"
    if header == "Authorization":
        value = SIGNED.format(service=signing)
    headers = [*base.headers, (header, value), (header.lower(), value)]
    req = HttpRequest(base.method, base.path, base.query_string, headers, base.body)
    error = refused(req, signing)
    assert (error.code, error.status) == EXPECTED[(which, kind)]
    assert header in error.message


@pytest.mark.parametrize("which", sorted(PROTOCOL_REQUESTS))
def test_a_repeated_presigned_parameter_is_refused(which: str) -> None:
    base, signing = PROTOCOL_REQUESTS[which]
    credential = f"AKID%2F20240101%2Fus-east-1%2F{signing}%2Faws4_request"
    query = "&".join(
        filter(None, [base.query_string, f"X-Amz-Credential={credential}", f"X-Amz-Credential={credential}"])
    )
    req = HttpRequest("GET", base.path, query, base.headers, b"" if which != "dynamodb" else base.body)
    error = refused(req, signing)
    assert "X-Amz-Credential" in error.message


def test_an_authorization_header_giving_a_component_twice_is_refused() -> None:
    twice = SIGNED.format(service="dynamodb").replace(
        ", Signature", ", Credential=AKID/20240101/eu-west-1/dynamodb/aws4_request, Signature"
    )
    base, _ = PROTOCOL_REQUESTS["dynamodb"]
    req = HttpRequest("POST", "/", "", [*base.headers, ("Authorization", twice)], base.body)
    error = refused(req, "dynamodb")
    assert (error.code, error.status) == ("IncompleteSignatureException", 400)
    assert "'Credential'" in error.message


def test_presigned_query_urls_are_read() -> None:
    sts = boto3.client("sts", region_name="eu-west-1", aws_access_key_id="AKID", aws_secret_access_key="secret")
    url = urlsplit(sts.generate_presigned_url("get_caller_identity"))
    req = HttpRequest("GET", url.path or "/", url.query, [("Host", url.netloc)])
    op = identify(req, "sts")
    assert (op.name, parse(op, req)) == ("GetCallerIdentity", {})


@pytest.mark.parametrize(
    ("req", "signing", "code"),
    [
        (
            request("GET", "/bucket/key", headers=[("X-Amz-Target", "DynamoDB_20120810.DeleteTable")]),
            "s3",
            "InvalidArgument",
        ),
        (
            request("GET", "/2015-03-31/functions/f", headers=[("X-Amz-Target", "AWSLambda.DeleteFunction")]),
            "lambda",
            "InvalidRequestContentException",
        ),
    ],
)
def test_x_amz_target_is_refused_in_rest_protocols(req: HttpRequest, signing: str, code: str) -> None:
    error = refused(req, signing)
    assert (error.code, error.status) == (code, 400)
    assert "X-Amz-Target" in error.message
