"""Parameter confusion, review round 19 (issue 7): the readers added since round 18 against the executor.

Each test states the attack, AWS's rule and its documentation page, and runs against a real `lambdaperm serve`
(tests/e2e/conftest.py) with real boto3 and raw signed HTTP. No wrong allow found; one fidelity gap (an empty SQS
MessageBody accepted) failed first and is fixed; the other tests held first time.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.test_canonical_execution import signed, user


def _signed_bytes(
    server: Endpoint, service: str, method: str, path: str, headers: dict[str, str], body: bytes, key: str, secret: str
) -> bytes:
    """One request as raw HTTP/1.1 bytes, signed (SigV4) exactly as sent."""
    request = AWSRequest(method, f"{server.url}{path}", data=body, headers=headers)
    (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(key, secret), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    host = urlsplit(server.url).netloc
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in prepared.headers.items() if k.lower() not in ("host", "content-length")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _send_all(server: Endpoint, data: bytes) -> bytes:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as s:
        s.sendall(data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return answer


def test_a_request_pipelined_behind_an_oversized_head_never_reaches_the_application(server: Endpoint) -> None:
    """Attack: one write holds a request whose head is beyond the 64 KiB bound (gateway/request_heads.py) and, right
    behind it, a signed S3 PutObject. The bound refuses the first in `on_headers_complete` and closes the connection,
    but the parser goes on through the same buffer: the pipelined request's head completes too. If it reached the
    application, a request on a connection the server declared refused (and whose body callbacks are suppressed)
    would run — possibly with a body the client did not send. AWS: S3 answers an oversized head 400
    RequestHeaderSectionTooLarge (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) and the
    connection ends. Held: the pipelined PutObject is never executed; the same bytes alone are (control)."""
    account = "191900000001"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="rd19-heads")
    put = _signed_bytes(
        server,
        "s3",
        "PUT",
        "/rd19-heads/behind",
        {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
        b"smuggled",
        account,
        "test",
    )
    big = f"GET /rd19-heads/x HTTP/1.1\r\nHost: {urlsplit(server.url).netloc}\r\nX-Big: {'a' * 70_000}\r\n\r\n"
    answer = _send_all(server, big.encode() + put)
    assert b"RequestHeaderSectionTooLarge" in answer
    with pytest.raises(ClientError) as err:
        s3.head_object(Bucket="rd19-heads", Key="behind")
    assert err.value.response["Error"]["Code"] == "404"
    control = _signed_bytes(
        server,
        "s3",
        "PUT",
        "/rd19-heads/control",
        {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
        b"sent alone",
        account,
        "test",
    )
    assert _send_all(server, control).startswith(b"HTTP/1.1 200 ")
    assert s3.get_object(Bucket="rd19-heads", Key="control")["Body"].read() == b"sent alone"


@pytest.mark.parametrize("first,second", [("rd19-open", "rd19-closed"), ("rd19-closed", "rd19-open")])
def test_a_transact_item_naming_put_twice_in_its_json_is_refused_and_writes_nothing(
    server: Endpoint, first: str, second: str
) -> None:
    """Attack: one TransactWriteItems item whose JSON object holds the key "Put" twice — one on a table the caller
    may write, one on a table an explicit Deny protects. A decision reading one of the duplicates and an executor
    reading the other would write the denied table. AWS: a request body is one JSON document and each
    TransactWriteItem holds one operation (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
    API_TransactWriteItem.html); lambdaperm's one reader refuses duplicate keys (protocol/parse_json.py). Held: 400
    SerializationException before any decision, in either order, and neither table has an item. Also held: an item
    spelled "Check" (the error message's word, not a member) is DynamoDB's ValidationException, not a ConditionCheck."""
    account = "191900000002"
    ddb = server.client("dynamodb", key=account)
    for table in ("rd19-open", "rd19-closed"):
        try:
            ddb.create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        except ClientError as err:
            assert err.response["Error"]["Code"] == "ResourceInUseException"
    key, secret = user(
        server,
        account,
        f"tx-{first}",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "dynamodb:*",
                    "Resource": f"arn:aws:dynamodb:us-east-1:{account}:table/rd19-closed",
                },
            ],
        },
    )
    put = '"Put": {"TableName": "%s", "Item": {"pk": {"S": "%s"}}}'
    body = ('{"TransactItems": [{' + put % (first, "a") + ", " + put % (second, "b") + "}]}").encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.TransactWriteItems"}
    status, _, answer = signed(server, "dynamodb", "us-east-1", "POST", "/", headers, body, key, secret)
    assert status == 400, answer
    assert b"SerializationException" in answer
    check = b'{"TransactItems": [{"Check": {"TableName": "rd19-open", "Key": {"pk": {"S": "a"}}}}]}'
    status, _, answer = signed(server, "dynamodb", "us-east-1", "POST", "/", headers, check, key, secret)
    assert status == 400 and b"ValidationException" in answer, answer
    for table in ("rd19-open", "rd19-closed"):
        assert ddb.scan(TableName=table)["Items"] == []


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"AWS:SOURCEACCOUNT": "191900000009"}},
        {"stringequals": {"aws:sourceaccount": "191900000009"}},
        {"ForAnyValue:StringEquals": {"aws:SourceAccount": ["191900000009"]}},
        {"IpAddress": {"aws:SourceIp": "::ffff:0.0.0.0/96"}},
    ],
)
def test_a_policy_s3_calls_non_public_grants_nothing_to_a_direct_caller(
    server: Endpoint, condition: dict[str, object]
) -> None:
    """Attack: a `Principal: *` bucket policy that S3's "public" test calls non-public because of a fixed value of
    aws:SourceAccount (a key named in another case, a lower-case operator, a ForAnyValue: prefix) or an IPv6 range
    no broader than /32 that is the IPv4-mapped block (::ffff:0:0/96 holds every IPv4 address). BlockPublicPolicy
    lets it be stored (dataplane/s3_public_policies.is_public); if the engine then read the key or the range
    differently from the test — the key present for a direct call, an IPv4 requester matched against the mapped
    block — another account would read the bucket although S3 counts the policy non-public. AWS: aws:SourceAccount
    is present only in a request a service makes on a resource's behalf, aws:SourceIp is the requester's address
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html), and such a policy is
    non-public (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html).
    Held: each is accepted (the lower-case operator is refused MalformedPolicy: the grammar reads operator names as
    IAM lists them, before the public test) and the other account's GetObject is denied."""
    owner, other = "191900000003", "191900000009"
    s3 = server.client("s3", key=owner)
    bucket = f"rd19-pub-{abs(hash(json.dumps(condition, sort_keys=True))) % 10**8}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"owner only")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": condition,
            }
        ],
    }
    try:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Condition"] == condition
    except ClientError as err:  # only the lower-case operator may be refused (IAM's operator names are as listed)
        assert "stringequals" in condition and err.response["Error"]["Code"] == "MalformedPolicy", err.response
    with pytest.raises(ClientError) as denied:
        server.client("s3", key=other).get_object(Bucket=bucket, Key="k")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


@pytest.mark.parametrize("batch", [False, True])
def test_an_empty_sqs_message_body_is_refused_as_missing(server: Endpoint, batch: bool) -> None:
    """Attack (required members present but empty, dataplane/required_members.py): `MessageBody` sent as "" is not
    null, so the required-member check let it through and the backend queued a message with no body. AWS:
    "MessageBody: The message to send. The minimum size is one character."
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html, and
    API_SendMessageBatchRequestEntry.html); SQS answers 400 MissingParameter "The request must contain the parameter
    MessageBody." (CommonErrors.html: MissingParameter, "A required parameter for the specified action is not
    supplied"). Fidelity (no wrong allow: the decided queue and action were the executed ones), already listed as a
    known gap in tests/e2e/test_bad_input_never_500.py (DATA_PLANE_ACCEPTS, case 137, entry removed). Fixed."""
    sqs = server.client("sqs", key="191900000005")
    url = sqs.create_queue(QueueName=f"rd19-empty-{int(batch)}")["QueueUrl"]
    with pytest.raises(ClientError) as err:
        if batch:
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}, {"Id": "b", "MessageBody": ""}]
            )
        else:
            sqs.send_message(QueueUrl=url, MessageBody="")
    assert err.value.response["Error"]["Code"] == "MissingParameter"
    assert err.value.response["Error"]["Message"] == "The request must contain the parameter MessageBody."
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []
    sqs.send_message(QueueUrl=url, MessageBody=" ")  # one character: accepted (control)
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)["Messages"]] == [" "]
