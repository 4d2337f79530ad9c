"""Parameter confusion, review round 20 (issue 7): shapes earlier rounds did not try, against the executor.

Each test states the attack, AWS's rule and its documentation page, and runs against a real `lambdaperm serve`
(tests/e2e/conftest.py) with real boto3 and raw signed HTTP; the structural oracle (acted-on ⊆ authorized) checks
every test server when it stops. No wrong allow or wrong deny found. Two fidelity gaps failed first and are fixed: a
DynamoDB AttributeValue with no datatype or two outside `Key` was executed with the backend's pick
(dataplane/dynamodb_attribute_values.py), and an aws-chunked `x-amz-decoded-content-length` that disagrees with the
body was accepted from a key whose signature is not verified (protocol/parse_rest.py). The other tests held first time.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.test_canonical_execution import signed, user

_DDB_JSON = "application/x-amz-json-1.0"


def _ddb(server: Endpoint, operation: str, body: bytes, key: str, secret: str) -> tuple[int, bytes]:
    headers = {"Content-Type": _DDB_JSON, "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
    status, _, answer = signed(server, "dynamodb", "us-east-1", "POST", "/", headers, body, key, secret)
    return status, answer


# A PutItem Item (as raw JSON text: some shapes repeat a key) whose partition key `pk` is not one readable "alice".
_ITEM_SHAPES = {
    "two types, S first": '{"pk": {"S": "bob", "N": "1"}}',
    "two types, N first": '{"pk": {"N": "1", "S": "bob"}}',
    "a string set": '{"pk": {"SS": ["alice", "bob"]}}',
    "pk twice": '{"pk": {"S": "alice"}, "pk": {"S": "bob"}}',
    "pk twice, bob first": '{"pk": {"S": "bob"}, "pk": {"S": "alice"}}',
    "S twice inside": '{"pk": {"S": "alice", "S": "bob"}}',
    "a bare string": '{"pk": "bob"}',
}


def _requests(table: str, item: str) -> dict[str, str]:
    """The same item written by each operation that writes an Item (raw JSON, so repeated keys survive)."""
    return {
        "PutItem": f'{{"TableName": "{table}", "Item": {item}}}',
        "BatchWriteItem": f'{{"RequestItems": {{"{table}": [{{"PutRequest": {{"Item": {item}}}}}]}}}}',
        "TransactWriteItems": f'{{"TransactItems": [{{"Put": {{"TableName": "{table}", "Item": {item}}}}}]}}',
    }


def test_an_item_whose_partition_key_is_not_one_value_is_never_written_past_leading_keys(server: Endpoint) -> None:
    """Attack: a caller limited by `dynamodb:LeadingKeys` to partition key `alice` (ForAllValues:StringEquals, the
    documented fine-grained access pattern) writes an Item whose `pk` is not one readable value — two datatypes in
    one AttributeValue, a set, the `pk` member or its `S` repeated in the JSON, a bare string. If the authorizer read
    `alice` (or no key, which ForAllValues accepts) while the backend stored `bob`, the condition would be bypassed.
    AWS: an AttributeValue holds exactly one datatype ("Supplied AttributeValue has more than one datatypes set",
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html), a key attribute is a
    scalar S/N/B (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html),
    LeadingKeys is the partition key of every item the request touches
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html). Every shape, by
    PutItem, BatchWriteItem and TransactWriteItems, is refused and writes nothing; `alice` alone is
    written (control)."""
    account = "202000000001"
    ddb = server.client("dynamodb", key=account)
    table = "rd20-leading"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = f"arn:aws:dynamodb:us-east-1:{account}:table/{table}"
    key, secret = user(
        server,
        account,
        "alice",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:PutItem", "dynamodb:BatchWriteItem"],
                    "Resource": arn,
                    "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["alice"]}},
                }
            ],
        },
    )
    outcomes: dict[tuple[str, str], tuple[int, bytes]] = {}
    for shape, item in _ITEM_SHAPES.items():
        for operation, body in _requests(table, item).items():
            outcomes[(shape, operation)] = _ddb(server, operation, body.encode(), key, secret)
    assert all(status >= 400 for status, _ in outcomes.values()), {k: v for k, v in outcomes.items() if v[0] < 400}
    assert all(status < 500 for status, _ in outcomes.values()), {k: v for k, v in outcomes.items() if v[0] >= 500}
    assert ddb.scan(TableName=table)["Items"] == []
    status, answer = _ddb(
        server, "PutItem", _requests(table, '{"pk": {"S": "alice"}}')["PutItem"].encode(), key, secret
    )
    assert status == 200, answer
    assert ddb.scan(TableName=table)["Items"] == [{"pk": {"S": "alice"}}]


def test_a_repeated_key_inside_a_nested_json_structure_is_refused(server: Endpoint) -> None:
    """Attack: a JSON member repeated deep inside a structure — DynamoDB's `Key` of a DeleteItem, its
    `ExpressionAttributeValues` of a condition, Lambda's `Environment.Variables` of a CreateFunction — so that one
    reader takes the first value and another the last (the caller allowed to delete `alice` deletes `bob`; a
    condition checked on one value and executed on another). lambdaperm's one reading (docs/architecture.md) refuses a
    repeated JSON key at any depth, in the protocol's "malformed input" error (SerializationException,
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html; Lambda's
    InvalidRequestContentException, https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#API_CreateFunction_Errors).
    Held: each is refused and nothing is deleted or created."""
    account = "202000000002"
    ddb = server.client("dynamodb", key=account)
    table = "rd20-nested"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for name in ("alice", "bob"):
        ddb.put_item(TableName=table, Item={"pk": {"S": name}, "v": {"S": "keep"}})
    bodies = [
        f'{{"TableName": "{table}", "Key": {{"pk": {{"S": "alice"}}, "pk": {{"S": "bob"}}}}}}',
        f'{{"TableName": "{table}", "Key": {{"pk": {{"S": "bob"}}}}, "ConditionExpression": "v = :v",'
        ' "ExpressionAttributeValues": {":v": {"S": "other"}, ":v": {"S": "keep"}}}',
        f'{{"TableName": "{table}", "Key": {{"pk": {{"S": "bob"}}}}, "ConditionExpression": "v = :v",'
        ' "ExpressionAttributeValues": {":v": {"S": "other", "S": "keep"}}}',
    ]
    for body in bodies:
        status, answer = _ddb(server, "DeleteItem", body.encode(), account, "x")
        assert status == 400 and b"SerializationException" in answer, (body, status, answer)
    assert len(ddb.scan(TableName=table)["Items"]) == 2

    role = make_role(server.client("iam", key=account), "rd20-env-role")
    body = json.dumps(
        {
            "FunctionName": "rd20-env",
            "Runtime": "python3.11",
            "Role": role,
            "Handler": "app.handler",
            "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="},
        }
    )
    body = body[:-1] + ', "Environment": {"Variables": {"MODE": "safe", "MODE": "debug"}}}'
    status, headers, answer = signed(
        server,
        "lambda",
        "us-east-1",
        "POST",
        "/2015-03-31/functions",
        {"Content-Type": "application/json"},
        body.encode(),
        account,
        "x",
    )
    error_type = {k.lower(): v for k, v in headers.items()}.get("x-amzn-errortype", "")
    assert status == 400 and error_type.startswith("InvalidRequestContentException"), (status, headers, answer)
    with pytest.raises(ClientError) as err:
        server.client("lambda", key=account).get_function(FunctionName="rd20-env")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def _sqs_raw(
    server: Endpoint, headers: dict[str, str], body: bytes, key: str, secret: str, query: str = ""
) -> tuple[int, bytes]:
    status, _, answer = signed(server, "sqs", "us-east-1", "POST", f"/{query}", headers, body, key, secret)
    return status, answer


def test_sqs_protocol_selection_never_runs_an_operation_the_caller_was_not_allowed(server: Endpoint) -> None:
    """Attack: SQS speaks two protocols — AWS JSON 1.0 (`Content-Type: application/x-amz-json-1.0`, the operation in
    `X-Amz-Target: AmazonSQS.<Op>`) and the query protocol (a form body with `Action=`). A request naming one operation
    in the JSON headers and another in a form body or the query string could be authorized as one and executed as the
    other. A caller allowed only sqs:SendMessage sends SendMessage by one protocol and DeleteQueue by the other, in
    every placement. AWS: the protocol is selected by the content type; the JSON protocol's operation is the
    X-Amz-Target (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-faqs.html).
    Held: the queue is never deleted, and nothing answers 500."""
    account = "202000000003"
    sqs = server.client("sqs", key=account)
    url = sqs.create_queue(QueueName="rd20-proto")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{account}:rd20-proto"
    key, secret = user(
        server,
        account,
        "sender",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}]},
    )
    form_delete = urlencode({"Action": "DeleteQueue", "QueueUrl": url, "Version": "2012-11-05"}).encode()
    form_send = urlencode({"Action": "SendMessage", "QueueUrl": url, "MessageBody": "x", "Version": "2012-11-05"})
    json_send = json.dumps({"QueueUrl": url, "MessageBody": "x"}).encode()
    json_delete = json.dumps({"QueueUrl": url}).encode()
    json_h = {"Content-Type": _DDB_JSON}
    form_h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    attempts = {
        "json SendMessage target, form DeleteQueue body": (
            {**json_h, "X-Amz-Target": "AmazonSQS.SendMessage"},
            form_delete,
            "",
        ),
        "form content type, DeleteQueue target, SendMessage form": (
            {**form_h, "X-Amz-Target": "AmazonSQS.DeleteQueue"},
            form_send.encode(),
            "",
        ),
        "json DeleteQueue target, SendMessage in the query string": (
            {**json_h, "X-Amz-Target": "AmazonSQS.DeleteQueue"},
            json_delete,
            "?" + form_send,
        ),
        "json SendMessage target, DeleteQueue in the query string": (
            {**json_h, "X-Amz-Target": "AmazonSQS.SendMessage"},
            json_send,
            "?" + urlencode({"Action": "DeleteQueue", "QueueUrl": url}),
        ),
        "x-amz-json-1.1 DeleteQueue": (
            {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSQS.DeleteQueue"},
            json_delete,
            "",
        ),
        "json target with a form body and no content type": (
            {"X-Amz-Target": "AmazonSQS.SendMessage"},
            form_delete,
            "",
        ),
    }
    outcomes = {name: _sqs_raw(server, h, b, key, secret, q) for name, (h, b, q) in attempts.items()}
    assert all(status < 500 for status, _ in outcomes.values()), outcomes
    assert sqs.get_queue_url(QueueName="rd20-proto")["QueueUrl"] == url
    status, answer = _sqs_raw(server, {**json_h, "X-Amz-Target": "AmazonSQS.DeleteQueue"}, json_delete, key, secret)
    assert status in (400, 403) and b"AccessDenied" in answer, (status, answer)  # control: the denial is real


def _ec2_form(params: dict[str, str]) -> bytes:
    return urlencode({"Action": "DeleteTags", "Version": "2016-11-15", **params}).encode()


def test_ec2_list_members_in_other_spellings_never_reach_an_undecided_group(server: Endpoint) -> None:
    """Attack: an EC2 query list member spelled so one reader files it under index 1 and another does not:
    `ResourceId.01`, `ResourceId.1.`, `ResourceId.+1`, `resourceid.2`, `ResourceId.0`, beside an allowed
    `ResourceId.1`. A caller allowed ec2:DeleteTags on one security group only deletes the tags of another.
    AWS: EC2's query API numbers list members `Name.N` from 1
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html), and the tags of every resource the
    call names are decided (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html). Held: the
    other group's tag is kept in every spelling; the spelled-plainly `ResourceId.2` is AccessDenied (control)."""
    account = "202000000004"
    ec2 = server.client("ec2", key=account)
    allowed = ec2.create_security_group(GroupName="rd20-allowed", Description="a")["GroupId"]
    other = ec2.create_security_group(GroupName="rd20-other", Description="b")["GroupId"]
    ec2.create_tags(Resources=[allowed, other], Tags=[{"Key": "k", "Value": "v"}])
    key, secret = user(
        server,
        account,
        "tagger",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "ec2:DeleteTags",
                    "Resource": f"arn:aws:ec2:us-east-1:{account}:security-group/{allowed}",
                }
            ],
        },
    )
    spellings = [
        "ResourceId.01",
        "ResourceId.1.",
        "ResourceId.+1",
        "resourceid.2",
        "ResourceId.0",
        "ResourceId.2.0",
        "ResourceId.١",
        "ResourceId.2 ",
        "ResourceId. 2",
        "ResourceID.2",
        "ResourceId.2.Value",
    ]
    form_h = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    outcomes = {}
    for spelling in spellings:
        body = _ec2_form({"ResourceId.1": allowed, spelling: other, "Tag.1.Key": "k"})
        status, _, answer = signed(server, "ec2", "us-east-1", "POST", "/", form_h, body, key, secret)
        outcomes[spelling] = (status, answer[:300])
        ec2.create_tags(Resources=[allowed], Tags=[{"Key": "k", "Value": "v"}])  # restore: a success deletes it
    assert all(status < 500 for status, _ in outcomes.values()), outcomes
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [other]}])["Tags"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("k", "v")], outcomes
    body = _ec2_form({"ResourceId.1": allowed, "ResourceId.2": other, "Tag.1.Key": "k"})
    status, _, answer = signed(server, "ec2", "us-east-1", "POST", "/", form_h, body, key, secret)
    assert b"UnauthorizedOperation" in answer, (status, answer)


def test_a_presigned_url_with_an_authorization_header_is_refused(server: Endpoint) -> None:
    """Attack: a presigned GET URL (its X-Amz-* query parameters) sent with an `Authorization` header of another
    principal, and a presigned URL with an X-Amz-Date/X-Amz-Content-Sha256 header disagreeing with its query. If
    the server authenticated one and another part of it read the other, the call would run as a principal that did
    not sign it. AWS: one request carries one authentication — S3 answers 400 InvalidArgument "Only one auth
    mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the
    Authorization header should be specified"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html). Held: refused in both orders;
    the object's bytes are never answered."""
    account = "202000000005"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="rd20-presigned")
    s3.put_object(Bucket="rd20-presigned", Key="secret", Body=b"top secret")
    nobody_key, nobody_secret = user(
        server,
        account,
        "nobody",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
    )
    nobody = server.client("s3", key=nobody_key, secret=nobody_secret)
    results = {}
    for presigner, header_key, header_secret in ((nobody, account, "x"), (s3, nobody_key, nobody_secret)):
        url = presigner.generate_presigned_url("get_object", Params={"Bucket": "rd20-presigned", "Key": "secret"})
        request = AWSRequest("GET", url, headers={})
        S3SigV4Auth(Credentials(header_key, header_secret), "s3", "us-east-1").add_auth(request)
        prepared = request.prepare()
        req = urllib.request.Request(prepared.url, headers=dict(prepared.headers), method="GET")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                results[header_key] = (resp.status, resp.read())
        except urllib.error.HTTPError as err:
            results[header_key] = (err.code, err.read())
    assert all(status == 400 and b"top secret" not in body for status, body in results.values()), results


def _raw(server: Endpoint, data: bytes) -> bytes:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as s:
        s.sendall(data)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    return answer


def _signed_head(server: Endpoint, method: str, path: str, headers: dict[str, str], body: bytes, key: str) -> str:
    request = AWSRequest(method, f"{server.url}{path}", data=body, headers=headers)
    S3SigV4Auth(Credentials(key, "x"), "s3", "us-east-1").add_auth(request)
    prepared = request.prepare()
    host = urlsplit(server.url).netloc
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in prepared.headers.items() if k.lower() not in ("host", "content-length")]
    return "\r\n".join(lines)


def test_transfer_encoding_beside_content_length_never_stores_a_second_reading(server: Endpoint) -> None:
    """Attack: a signed S3 PutObject (UNSIGNED-PAYLOAD) with both `Transfer-Encoding: chunked` and `Content-Length`,
    the classic request-smuggling shape: framed by Content-Length, the body is the chunk text; framed by chunks, it is
    the decoded bytes and what follows is a second request (here a PutObject of `smuggled`). RFC 9112 §6.1: a
    request with both "ought to be handled as an error", and a server that does not must let Transfer-Encoding
    override (https://www.rfc-editor.org/rfc/rfc9112#section-6.1); S3 does not store a body read two ways. Held: the
    stored object (if any) is one reading, and `smuggled` is never written by this connection."""
    account = "202000000006"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="rd20-framing")
    chunked = b"5\r\nhello\r\n0\r\n\r\n"
    inner = (
        _signed_head(
            server, "PUT", "/rd20-framing/smuggled", {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, b"", account
        )
        + "\r\nContent-Length: 0\r\n\r\n"
    )
    body = chunked + inner.encode()
    head = _signed_head(
        server, "PUT", "/rd20-framing/first", {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"}, b"", account
    )
    data = (
        head + f"\r\nTransfer-Encoding: chunked\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    answer = _raw(server, data)
    assert b" 500 " not in answer.split(b"\r\n", 1)[0], answer[:300]
    try:
        stored: bytes | None = s3.get_object(Bucket="rd20-framing", Key="first")["Body"].read()
    except ClientError:
        stored = None
    assert stored in (None, b"hello"), stored
    with pytest.raises(ClientError):
        s3.head_object(Bucket="rd20-framing", Key="smuggled")


# Lambda operations that take a function name, each with what they need beyond it.
def _lambda_calls(name: str, arn: str) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "GetFunction": ("get_function", {"FunctionName": name}),
        "GetFunctionConfiguration": ("get_function_configuration", {"FunctionName": name}),
        "GetPolicy": ("get_policy", {"FunctionName": name}),
        "ListAliases": ("list_aliases", {"FunctionName": name}),
        "ListVersionsByFunction": ("list_versions_by_function", {"FunctionName": name}),
        "Invoke": ("invoke", {"FunctionName": name, "Payload": b"{}"}),
        "UpdateFunctionConfiguration": (
            "update_function_configuration",
            {"FunctionName": name, "Description": "hacked"},
        ),
        "PutFunctionConcurrency": (
            "put_function_concurrency",
            {"FunctionName": name, "ReservedConcurrentExecutions": 1},
        ),
        "AddPermission": (
            "add_permission",
            {
                "FunctionName": name,
                "StatementId": "rd20",
                "Action": "lambda:InvokeFunction",
                "Principal": "999999999999",
            },
        ),
        "CreateAlias": ("create_alias", {"FunctionName": name, "Name": "rd20", "FunctionVersion": "$LATEST"}),
        "PublishVersion": ("publish_version", {"FunctionName": name}),
        "CreateFunctionUrlConfig": ("create_function_url_config", {"FunctionName": name, "AuthType": "NONE"}),
        "GetFunctionUrlConfig": ("get_function_url_config", {"FunctionName": name}),
        "PutFunctionEventInvokeConfig": (
            "put_function_event_invoke_config",
            {"FunctionName": name, "MaximumRetryAttempts": 0},
        ),
        "DeleteFunction": ("delete_function", {"FunctionName": name}),
        "TagResource": ("tag_resource", {"Resource": arn, "Tags": {"rd20": "x"}}),
    }


def test_lambda_function_names_in_every_spelling_are_decided_on_the_function(server: Endpoint) -> None:
    """Attack: a caller allowed `lambda:*` except on function `secret` names it in every spelling the API takes —
    a partial ARN (`A:function:secret`), `function:secret`, a name or partial ARN with a `:$LATEST` qualifier, the
    full ARN — in every operation that takes a FunctionName. If the decision read a spelling as another resource
    (a function literally named `A:function:secret`, or an unqualified Deny missed by a qualified name) while the
    service resolved it to `secret`, the Deny would be bypassed. AWS: FunctionName takes a name, a partial ARN or
    a full ARN, and the Deny on the function's ARN (and `:*` for its qualifiers) applies to every spelling
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_RequestSyntax,
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html). Held: every call in every
    spelling is refused, and the function is unchanged (no alias, version, permission, URL, concurrency, tag)."""
    account = "202000000007"
    root = server.client("lambda", key=account)
    role = make_role(server.client("iam", key=account), "rd20-fn-role")
    root.create_function(
        FunctionName="secret",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})},
        Description="original",
    )
    root.get_waiter("function_active_v2").wait(FunctionName="secret")
    fn = f"arn:aws:lambda:us-east-1:{account}:function:secret"
    key, secret = user(
        server,
        account,
        "almost",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "lambda:*", "Resource": [fn, f"{fn}:*"]},
            ],
        },
    )
    lam = server.client("lambda", key=key, secret=secret)
    spellings = [
        f"{account}:function:secret",
        "function:secret",
        f"{account}:function:secret:$LATEST",
        "secret:$LATEST",
        fn,
        f"{fn}:$LATEST",
        "secret",
    ]
    allowed: dict[tuple[str, str], Any] = {}
    codes: set[str] = set()
    for spelling in spellings:
        for operation, (method, params) in _lambda_calls(spelling, fn).items():
            try:
                allowed[(spelling, operation)] = getattr(lam, method)(**params)
            except ClientError as err:
                codes.add(err.response["Error"]["Code"])
    assert allowed == {}, sorted(allowed)
    assert "AccessDeniedException" in codes, codes
    config = root.get_function_configuration(FunctionName="secret")
    assert config["Description"] == "original"
    assert root.list_aliases(FunctionName="secret")["Aliases"] == []
    assert [v["Version"] for v in root.list_versions_by_function(FunctionName="secret")["Versions"]] == ["$LATEST"]
    assert "Concurrency" not in root.get_function(FunctionName="secret")
    assert root.list_tags(Resource=fn)["Tags"] == {}
    with pytest.raises(ClientError):
        root.get_policy(FunctionName="secret")
    with pytest.raises(ClientError):
        root.get_function_url_config(FunctionName="secret")


def test_percent_encoded_function_names_in_the_path_are_one_reading(server: Endpoint) -> None:
    """Attack: the function name is a path segment of Lambda's REST API; spelled with `%3A` (a partial ARN), `%2F`
    (a slash inside the segment), a doubled `%253A`, or `%2E%2E` (a dot-dot segment), one reader could decode it
    and another route on the raw bytes. A caller denied function `secret` (allowed `public`) asks for
    `public%2F..%2Fsecret`, `public%2F%2E%2E%2Fsecret`, `A%3Afunction%3Asecret`, `A%253Afunction%253Asecret`.
    AWS: FunctionName is one segment and must match the model pattern (no `/`, no `%`)
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html). Held: none answers
    `secret`'s configuration; none is a 500."""
    account = "202000000008"
    root = server.client("lambda", key=account)
    role = make_role(server.client("iam", key=account), "rd20-path-role")
    package = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
    for name in ("secret", "public"):
        root.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": package},
            Description=f"{name}-description",
        )
    fn = f"arn:aws:lambda:us-east-1:{account}:function:secret"
    key, secret = user(
        server,
        account,
        "pathy",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "lambda:*", "Resource": [fn, f"{fn}:*"]},
            ],
        },
    )
    paths = [
        "public%2F..%2Fsecret",
        "public%2F%2E%2E%2Fsecret",
        f"{account}%3Afunction%3Asecret",
        f"{account}%253Afunction%253Asecret",
        "secret%3A%24LATEST",
        "secret%00",
        "%73ecret",
    ]
    outcomes = {}
    for segment in paths:
        status, _, answer = signed(
            server, "lambda", "us-east-1", "GET", f"/2015-03-31/functions/{segment}/configuration", {}, b"", key, secret
        )
        outcomes[segment] = (status, answer[:200])
    assert all(b"secret-description" not in answer and status < 500 for status, answer in outcomes.values()), outcomes
    status, _, answer = signed(
        server, "lambda", "us-east-1", "GET", "/2015-03-31/functions/public/configuration", {}, b"", key, secret
    )
    assert status == 200 and b"public-description" in answer  # control


# AttributeValues a reader could take as one datatype or another: raw JSON text, each not exactly one datatype.
_NOT_ONE_DATATYPE = {
    "two datatypes": '{"S": "1", "N": "2"}',
    "two datatypes, N first": '{"N": "2", "S": "1"}',
    "no datatype": "{}",
    "two datatypes inside M": '{"M": {"inner": {"S": "1", "BOOL": true}}}',
    "no datatype inside L": '{"L": [{"S": "ok"}, {}]}',
    "NULL beside S": '{"NULL": true, "S": "1"}',
}


def _attribute_value_requests(table: str, value: str) -> dict[str, tuple[str, str]]:
    """Every place a DynamoDB request carries a (non-key) AttributeValue: operation → raw JSON body."""
    key = '{"pk": {"S": "target"}}'
    item = f'{{"pk": {{"S": "new"}}, "a": {value}}}'
    return {
        "PutItem Item": ("PutItem", f'{{"TableName": "{table}", "Item": {item}}}'),
        "UpdateItem ExpressionAttributeValues": (
            "UpdateItem",
            f'{{"TableName": "{table}", "Key": {key}, "UpdateExpression": "SET a = :v",'
            f' "ExpressionAttributeValues": {{":v": {value}}}}}',
        ),
        "DeleteItem condition value": (
            "DeleteItem",
            f'{{"TableName": "{table}", "Key": {key}, "ConditionExpression": "attribute_exists(pk) OR a = :v",'
            f' "ExpressionAttributeValues": {{":v": {value}}}}}',
        ),
        "BatchWriteItem PutRequest": (
            "BatchWriteItem",
            f'{{"RequestItems": {{"{table}": [{{"PutRequest": {{"Item": {item}}}}}]}}}}',
        ),
        "TransactWriteItems Put": (
            "TransactWriteItems",
            f'{{"TransactItems": [{{"Put": {{"TableName": "{table}", "Item": {item}}}}}]}}',
        ),
        "ExecuteStatement Parameters": (
            "ExecuteStatement",
            f'{{"Statement": "UPDATE \\"{table}\\" SET a = ? WHERE pk = \'target\'", "Parameters": [{value}]}}',
        ),
        "UpdateItem legacy AttributeUpdates": (
            "UpdateItem",
            f'{{"TableName": "{table}", "Key": {key},'
            f' "AttributeUpdates": {{"a": {{"Value": {value}, "Action": "PUT"}}}}}}',
        ),
    }


def test_an_attribute_value_that_is_not_exactly_one_datatype_is_refused_wherever_it_is(server: Endpoint) -> None:
    """Attack: a DynamoDB AttributeValue holding two datatypes (`{"S": "1", "N": "2"}`), or none, anywhere in a
    request — an Item, ExpressionAttributeValues of an update or a condition, a BatchWriteItem/TransactWriteItems put,
    PartiQL Parameters, legacy AttributeUpdates, nested inside an M or an L. Only `Key` was checked
    (dataplane/dynamodb_key_types.py): elsewhere the backend picked one datatype (it stored `{"S": "1"}`) where
    another reader — or DynamoDB, when a condition compares it — reads the other, and DynamoDB itself refuses the
    request. AWS: an AttributeValue "is described as a name-value pair. The name is the data type"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html), and DynamoDB answers
    400 ValidationException "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the
    supported datatypes" (or "…is empty…"). Found by this round (fidelity; no wrong allow: no decision reads a
    non-key value); failed first. Every shape in every place is refused and nothing is written; one datatype is
    written (control)."""
    account = "202000000009"
    ddb = server.client("dynamodb", key=account)
    table = "rd20-values"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=table, Item={"pk": {"S": "target"}, "a": {"S": "before"}})
    outcomes: dict[tuple[str, str], tuple[int, bytes]] = {}
    for shape, value in _NOT_ONE_DATATYPE.items():
        for place, (operation, body) in _attribute_value_requests(table, value).items():
            status, answer = _ddb(server, operation, body.encode(), account, "x")
            outcomes[(shape, place)] = (status, answer[:200])
    wrong = {k: v for k, v in outcomes.items() if v[0] != 400 or b"Supplied AttributeValue" not in v[1]}
    assert wrong == {}, wrong
    assert ddb.scan(TableName=table)["Items"] == [{"pk": {"S": "target"}, "a": {"S": "before"}}]
    for place, (operation, body) in _attribute_value_requests(table, '{"S": "one"}').items():
        status, answer = _ddb(server, operation, body.encode(), account, "x")
        assert status == 200, (place, answer)  # control: one datatype is taken in every place


def test_a_decoded_content_length_that_disagrees_with_the_body_is_refused_for_every_key(server: Endpoint) -> None:
    """Attack: an `aws-chunked` PutObject whose `x-amz-decoded-content-length` (the object's length, which the
    protocol layer answers as the call's Content-Length) says one more or one less byte than the chunks carry. The
    agreement was checked only after a signature verification (authn/verify.py), so a request that is not verified —
    a root key, which accepts any secret — was stored with a ContentLength that is not its body's. AWS: the header
    gives "the length of the object in bytes" (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html)
    and S3 answers a body that disagrees with the length it was told 400 IncompleteBody
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). Found by this round (fidelity; no wrong
    allow: no decision reads the length); failed first. Refused in both directions, nothing stored; the agreeing
    length is stored (control)."""
    account = "202000000010"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="rd20-decoded")
    data = b"hello world"
    body = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"
    outcomes = {}
    for key, declared in (("longer", len(data) + 1), ("shorter", len(data) - 1), ("exact", len(data))):
        request = AWSRequest(
            "PUT",
            f"{server.url}/rd20-decoded/{key}",
            data=body,
            headers={
                "Content-Encoding": "aws-chunked",
                "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                "x-amz-decoded-content-length": str(declared),
            },
        )
        SigV4Auth(Credentials(account, "any"), "s3", "us-east-1").add_auth(request)  # keeps the streaming hash
        prepared = request.prepare()
        req = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method="PUT")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                outcomes[key] = (resp.status, resp.read())
        except urllib.error.HTTPError as err:
            outcomes[key] = (err.code, err.read())
    assert outcomes["exact"][0] == 200, outcomes
    assert s3.get_object(Bucket="rd20-decoded", Key="exact")["Body"].read() == data
    for key in ("longer", "shorter"):
        status, answer = outcomes[key]
        assert status == 400 and b"<Code>IncompleteBody</Code>" in answer, (key, outcomes[key])
        with pytest.raises(ClientError):
            s3.head_object(Bucket="rd20-decoded", Key=key)
