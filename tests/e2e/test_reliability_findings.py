"""Failures the reliability campaign (benchmarks/reliability/, docs/reliability.md) found, each pinned by a real
server and real boto3.

- DynamoDB: a key attribute is a scalar (S, N or B); a `Key` whose value is a set, list or map can match no key
  schema, and DynamoDB answers 400 ValidationException "The provided key element does not match the schema"
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html#HowItWorks.CoreComponents.PrimaryKey,
  https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html). The fuzzer's UpdateItem with
  `Key: {"id": {"SS": []}}` was answered 500 InternalFailure (moto hashed the set), and GetItem with
  `Key: {"id": {}}` too (moto read the value's first member).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint

NOT_SCALAR: list[dict[str, Any]] = [
    {"SS": ["a"]},
    {"NS": ["1"]},
    {"BS": [b"x"]},
    {"L": [{"S": "a"}]},
    {"M": {"a": {"S": "b"}}},
    {"SS": []},
    {"NULL": True},
    {"BOOL": True},
]
NOT_ONE_VALUE: list[Any] = [{}, {"S": "a", "N": "1"}]


@pytest.fixture(scope="module")
def table(server: Endpoint) -> str:
    server.client("dynamodb").create_table(
        TableName="key-types",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "key-types"


def _calls(table: str, value: dict[str, Any]) -> dict[str, dict[str, Any]]:
    key = {"id": value}
    return {
        "get_item": {"TableName": table, "Key": key},
        "update_item": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "SET a = :v",
            "ExpressionAttributeValues": {":v": {"S": "x"}},
        },
        "delete_item": {"TableName": table, "Key": key},
        "batch_get_item": {"RequestItems": {table: {"Keys": [key]}}},
        "batch_write_item": {"RequestItems": {table: [{"DeleteRequest": {"Key": key}}]}},
        "transact_get_items": {"TransactItems": [{"Get": {"TableName": table, "Key": key}}]},
        "transact_write_items": {"TransactItems": [{"Delete": {"TableName": table, "Key": key}}]},
    }


@pytest.mark.parametrize("value", NOT_SCALAR, ids=lambda v: next(iter(v)) + ("-empty" if not v[next(iter(v))] else ""))
def test_a_key_that_is_not_a_scalar_is_a_validation_error_not_a_500(
    server: Endpoint, table: str, value: dict[str, Any]
) -> None:
    ddb = server.client("dynamodb")
    for operation, params in _calls(table, value).items():
        with pytest.raises(ClientError) as err:
            getattr(ddb, operation)(**params)
        status = err.value.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (status, err.value.response["Error"]["Code"]) == (400, "ValidationException"), (operation, err.value)
    assert "Item" not in ddb.get_item(TableName=table, Key={"id": {"S": "a"}})


@pytest.mark.parametrize("value", NOT_ONE_VALUE, ids=["no-type", "two-types"])
def test_a_key_value_without_exactly_one_type_is_a_validation_error_not_a_500(
    server: Endpoint, table: str, value: Any
) -> None:
    ddb = server.client("dynamodb")
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName=table, Key={"id": value})
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "exactly one of the supported datatypes" in err.value.response["Error"]["Message"]


# Members AWS requires that the embedded backend read without checking (KeyError / AttributeError: 500):
# - DynamoDB CreateTable requires KeySchema and AttributeDefinitions
#   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html, "Required: Yes"; botocore's
#   model marks them optional): 400 ValidationException, DynamoDB's constraint message.
# - SQS and SNS message attributes require DataType
#   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_MessageAttributeValue.html,
#   https://docs.aws.amazon.com/sns/latest/api/API_MessageAttributeValue.html): a missing one is answered as an
#   empty one (400, "must contain non-empty message attribute value").
# - SNS Subscribe with Protocol sqs needs an Endpoint that is a queue ARN: a missing one is answered as a malformed
#   one (400 InvalidParameter "Invalid parameter: SQS endpoint ARN").
def _unchecked(server: Endpoint, service: str) -> Any:
    """A boto3 client that sends what it is given (botocore's own validation off): the fuzzer's requests."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )


def _error(call: Any, **params: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as err:
        call(**params)
    r = err.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


@pytest.mark.parametrize("missing", ["KeySchema", "AttributeDefinitions"])
def test_create_table_without_a_required_member_is_a_validation_error(server: Endpoint, missing: str) -> None:
    params: dict[str, Any] = {
        "TableName": f"no-{missing.lower()}",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    del params[missing]
    ddb = server.client("dynamodb")
    status, code, message = _error(ddb.create_table, **params)
    member = missing[0].lower() + missing[1:]
    assert (status, code) == (400, "ValidationException")
    assert (
        message == f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
        "Member must not be null"
    )
    assert params["TableName"] not in ddb.list_tables()["TableNames"]


def test_a_message_attribute_without_data_type_is_refused_not_a_500(server: Endpoint) -> None:
    sqs, sns = _unchecked(server, "sqs"), _unchecked(server, "sns")
    queue = sqs.create_queue(QueueName="attr-no-type")["QueueUrl"]
    topic = sns.create_topic(Name="attr-no-type")["TopicArn"]
    attrs = {"a": {"StringValue": "x"}}
    for status, _code, message in [
        _error(sqs.send_message, QueueUrl=queue, MessageBody="m", MessageAttributes=attrs),
        _error(
            sqs.send_message_batch,
            QueueUrl=queue,
            Entries=[{"Id": "1", "MessageBody": "m", "MessageAttributes": attrs}],
        ),
        _error(sns.publish, TopicArn=topic, Message="m", MessageAttributes=attrs),
    ]:
        assert status == 400
        assert "message attribute 'a' must contain non-empty message attribute" in message
    assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "0"
    }


def test_subscribe_sqs_without_an_endpoint_is_invalid_parameter(server: Endpoint) -> None:
    sns = _unchecked(server, "sns")
    topic = sns.create_topic(Name="sub-no-endpoint")["TopicArn"]
    assert _error(sns.subscribe, TopicArn=topic, Protocol="sqs") == (
        400,
        "InvalidParameter",
        "Invalid parameter: SQS endpoint ARN",
    )
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


@pytest.mark.parametrize("header", ["!!", "", "bytes", "bytes=0-1=2", "items=0-1"])
def test_a_range_header_s3_cannot_read_is_ignored_not_a_500(server: Endpoint, header: str) -> None:
    """S3 ignores a Range it cannot parse and returns the whole object (RFC 9110 §14.2: a recipient ignores an
    invalid Range; https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, `Range`). moto split it on
    '=' and failed (500)."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket="range-bucket")
    s3.put_object(Bucket="range-bucket", Key="k", Body=b"0123456789")
    got = s3.get_object(Bucket="range-bucket", Key="k", Range=header)
    assert (got["ResponseMetadata"]["HTTPStatusCode"], got["Body"].read()) == (200, b"0123456789")


def test_send_message_without_a_body_is_missing_parameter_not_a_500(server: Endpoint) -> None:
    """SQS requires MessageBody (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html,
    API_SendMessageBatchRequestEntry.html: "Required: Yes") and answers a request without a required parameter with
    400 MissingParameter (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html).
    moto took len() of the missing body (500)."""
    sqs = _unchecked(server, "sqs")
    queue = sqs.create_queue(QueueName="no-body")["QueueUrl"]
    expected = (400, "MissingParameter", "The request must contain the parameter MessageBody.")
    assert _error(sqs.send_message, QueueUrl=queue) == expected
    assert _error(sqs.send_message_batch, QueueUrl=queue, Entries=[{"Id": "1"}]) == expected
    assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "0"
    }


def test_sqs_calls_without_a_required_member_are_missing_parameter_not_a_500(server: Endpoint) -> None:
    """SQS answers a request without a required parameter (the API reference's "Required: Yes"; a batch entry's too)
    with 400 MissingParameter (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html).
    moto compared None with an int (ChangeMessageVisibility) or read the missing key (the batch entries): 500."""
    sqs = _unchecked(server, "sqs")
    queue = sqs.create_queue(QueueName="no-members")["QueueUrl"]
    cases = [
        ("VisibilityTimeout", sqs.change_message_visibility, {"QueueUrl": queue, "ReceiptHandle": "r"}),
        ("Id", sqs.send_message_batch, {"QueueUrl": queue, "Entries": [{"MessageBody": "m"}]}),
        ("ReceiptHandle", sqs.delete_message_batch, {"QueueUrl": queue, "Entries": [{"Id": "1"}]}),
    ]
    for member, call, params in cases:
        assert _error(call, **params) == (400, "MissingParameter", f"The request must contain the parameter {member}.")


@pytest.mark.parametrize(
    ("operation", "params", "member"),
    [
        ("publish", {"TopicArn": ""}, "message"),
        ("delete_platform_application", {}, "platformApplicationArn"),
        ("check_if_phone_number_is_opted_out", {}, "phoneNumber"),
    ],
)
def test_sns_calls_without_a_required_member_are_a_validation_error_not_a_500(
    server: Endpoint, operation: str, params: dict[str, Any], member: str
) -> None:
    """SNS answers a request without a required member (botocore's model; the API reference's "Required: Yes",
    https://docs.aws.amazon.com/sns/latest/api/API_Publish.html) with 400 ValidationError "1 validation error
    detected: Value null at 'message' failed to satisfy constraint: Member must not be null". moto took len() of the
    missing Message or read the missing key (500)."""
    sns = _unchecked(server, "sns")
    topic = sns.create_topic(Name="no-message")["TopicArn"]
    params = {k: topic for k in params}  # Publish to a topic that exists
    assert _error(getattr(sns, operation), **params) == (
        400,
        "ValidationError",
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null",
    )


def _dynamodb_raw(server: Endpoint, operation: str, body: str) -> tuple[int, str, str]:
    """DynamoDB's JSON protocol, signed, with the body exactly as given (a `null` boto3 would not send)."""
    import json
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
    request = AWSRequest("POST", server.url + "/", data=body.encode(), headers=headers)
    SigV4Auth(Credentials("test", "test"), "dynamodb", "us-east-1").add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status), "", ""
    except urllib.error.HTTPError as err:
        data = json.loads(err.read() or b"{}")
        return int(err.code), str(data.get("__type", "")).rsplit("#", 1)[-1], str(data.get("message", ""))


def test_list_exports_without_a_table_arn_lists_the_accounts_exports_not_a_500(server: Endpoint) -> None:
    """ListExports' TableArn is optional: without it DynamoDB lists the account's exports
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ListExports.html). moto read the missing key
    (500)."""
    ddb, s3 = server.client("dynamodb"), server.client("s3")
    s3.create_bucket(Bucket="list-exports")
    exported = set()
    for name in ("export-one", "export-two"):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]
        started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="list-exports", S3Prefix=name)
        exported.add(started["ExportDescription"]["ExportArn"])
    got = ddb.list_exports()
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert {e["ExportArn"] for e in got["ExportSummaries"]} >= exported  # both tables' exports
    one = ddb.list_exports(TableArn=ddb.describe_table(TableName="export-one")["Table"]["TableArn"])
    assert len(one["ExportSummaries"]) == 1 and one["ExportSummaries"][0]["ExportArn"] in exported


def test_describe_export_of_an_unknown_export_is_export_not_found(server: Endpoint) -> None:
    """DescribeExport of an export that does not exist: 400 ExportNotFoundException
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeExport.html, Errors). moto: KeyError."""
    account = server.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:dynamodb:us-east-1:{account}:table/key-types/export/01234567890123-abcdefgh"
    status, code, _message = _error(server.client("dynamodb").describe_export, ExportArn=arn)
    assert (status, code) == (400, "ExportNotFoundException")


NO_OPERATION = "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request"
TWO_OPERATIONS = "TransactItems can only contain one of Check, Put, Update or Delete"
KEY = '{"TableName": "key-types", "Key": {"id": {"S": "a"}}}'
ITEM = '{"TableName": "key-types", "Item": {"id": {"S": "a"}}}'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '{"TransactItems": null}',
            "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: "
            "Member must not be null",
        ),
        ('{"TransactItems": [null]}', NO_OPERATION),
        ('{"TransactItems": [{"Put": null}]}', NO_OPERATION),
        ('{"TransactItems": [{}]}', NO_OPERATION),
        (f'{{"TransactItems": [{{"Delete": {KEY}, "Put": {ITEM}}}]}}', TWO_OPERATIONS),
    ],
    ids=["null-list", "null-item", "null-put", "empty-item", "two-operations"],
)
def test_transact_write_items_without_exactly_one_operation_per_item_is_a_validation_error(
    server: Endpoint, table: str, body: str, message: str
) -> None:
    """DynamoDB refuses a TransactWriteItems whose TransactItems is null, or an item of which does not hold exactly
    one of ConditionCheck, Put, Update, Delete: 400 ValidationException
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html,
    API_TransactWriteItem.html). lambdaperm denied the null and empty items as unmapped (AccessDeniedException)."""
    assert _dynamodb_raw(server, "TransactWriteItems", body) == (400, "ValidationException", message)


def _rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_an_overwritten_item_is_not_kept_in_memory(server: Endpoint) -> None:
    """moto tracked every model instance for ever (dataplane/untracked_models.py): each DynamoDB item version a
    PutItem replaced stayed in the server's memory (and each SQS message, each log event). DynamoDB's PutItem
    "replaces the old item" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html).
    100 more overwrites of a 300 KB item kept ~26 MiB more; now the server's RSS after them stays within 13 MiB of
    what it was after the first 20 (a request's buffers are reused, not accumulated)."""
    dynamodb = server.client("dynamodb")
    dynamodb.create_table(
        TableName="overwritten-items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"pk": {"S": "one"}, "v": {"S": "y" * 300_000}}
    for _ in range(20):
        dynamodb.put_item(TableName="overwritten-items", Item=item)
    before = _rss_mib(server.proc.pid)
    for _ in range(100):
        dynamodb.put_item(TableName="overwritten-items", Item=item)
    grown = _rss_mib(server.proc.pid) - before
    assert grown < 13, f"the server's RSS grew {grown:.1f} MiB over 100 overwrites of a 300 KB item"
    got = dynamodb.get_item(TableName="overwritten-items", Key={"pk": {"S": "one"}})["Item"]
    assert got["v"]["S"] == item["v"]["S"]
