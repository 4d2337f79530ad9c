"""Attack class 1, region: a call is authorized in the region of its SigV4 credential scope, so that is the
region it must act in. A Host header, a User-Agent `region/…` token or a query string naming another
region is refused the way AWS refuses a credential scope that does not match the endpoint (spec §12.3,
§12.8), and the other region's resources are untouched. docs/fidelity.md ("One reading", region).
"""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Endpoint
from tests.security.signed_http import send

JSON10 = "application/x-amz-json-1.0"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
MINE, OTHER = "us-west-2", "eu-west-1"


def regional_user(server: Endpoint, account: str, name: str, service: str, resource: str) -> tuple[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": f"{service}:*", "Resource": resource}],
            }
        ),
    )
    created = iam.create_access_key(UserName=name)["AccessKey"]
    return created["AccessKeyId"], created["SecretAccessKey"]


def tables(server: Endpoint, account: str, name: str) -> dict[str, Any]:
    clients = {region: server.client("dynamodb", key=account, region=region) for region in (MINE, OTHER)}
    for client in clients.values():
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return clients


def test_a_dynamodb_call_signed_for_one_region_never_acts_in_another(server: Endpoint) -> None:
    account = "222200000301"
    clients = tables(server, account, "orders")
    key, secret = regional_user(server, account, "west", "dynamodb", f"arn:aws:dynamodb:{MINE}:{account}:table/orders")
    delete = [("Content-Type", JSON10), ("X-Amz-Target", "DynamoDB_20120810.DeleteTable")]
    body = b'{"TableName": "orders"}'
    by_host = send(
        server,
        "dynamodb",
        MINE,
        "POST",
        key=key,
        secret=secret,
        headers=delete,
        body=body,
        host=f"dynamodb.{OTHER}.amazonaws.com",
    )
    assert (by_host.status, by_host.code) == (400, "InvalidSignatureException"), by_host.text
    assert f"Credential should be scoped to a valid region, not '{MINE}'." in by_host.text
    signed_agent = send(
        server,
        "dynamodb",
        MINE,
        "POST",
        key=key,
        secret=secret,
        body=body,
        sign_user_agent=True,
        headers=[*delete, ("User-Agent", f"aws-sdk-go/1.44 (go1.21; linux) region/{OTHER}")],
    )
    assert (signed_agent.status, signed_agent.code) == (400, "InvalidSignatureException"), signed_agent.text
    unsigned_agent = send(
        server,
        "dynamodb",
        MINE,
        "POST",
        key=key,
        secret=secret,
        headers=delete,
        body=body,
        unsigned=[("User-Agent", f"Boto3/1.34 region/{OTHER}")],
    )
    assert (unsigned_agent.status, unsigned_agent.code) == (400, "InvalidSignatureException"), unsigned_agent.text
    by_query = send(
        server,
        "dynamodb",
        MINE,
        "POST",
        key=key,
        secret=secret,
        headers=delete,
        body=body,
        query=f"endpoint=dynamodb.{OTHER}.amazonaws.com",
    )
    assert (by_query.status, by_query.code) == (400, "SerializationException"), by_query.text
    for region, client in clients.items():
        assert client.describe_table(TableName="orders")["Table"]["TableStatus"] == "ACTIVE", region


def test_the_signed_region_still_works(server: Endpoint) -> None:
    account = "222200000302"
    clients = tables(server, account, "ledger")
    key, secret = regional_user(server, account, "west", "dynamodb", f"arn:aws:dynamodb:{MINE}:{account}:table/ledger")
    reply = send(
        server,
        "dynamodb",
        MINE,
        "POST",
        key=key,
        secret=secret,
        host=f"dynamodb.{MINE}.amazonaws.com",
        headers=[("Content-Type", JSON10), ("X-Amz-Target", "DynamoDB_20120810.DeleteTable")],
        body=b'{"TableName": "ledger"}',
    )
    assert reply.status == 200, reply.text
    assert "ledger" not in clients[MINE].list_tables()["TableNames"]
    assert "ledger" in clients[OTHER].list_tables()["TableNames"]


def test_an_sqs_host_of_another_region_is_refused(server: Endpoint) -> None:
    account = "222200000303"
    other = server.client("sqs", key=account, region=OTHER)
    victim = other.create_queue(QueueName="jobs")["QueueUrl"]
    server.client("sqs", key=account, region=MINE).create_queue(QueueName="jobs")
    key, secret = regional_user(server, account, "west", "sqs", f"arn:aws:sqs:{MINE}:{account}:jobs")
    reply = send(
        server,
        "sqs",
        MINE,
        "POST",
        f"/{account}/jobs",
        key=key,
        secret=secret,
        host=f"sqs.{OTHER}.amazonaws.com",
        headers=[("Content-Type", FORM)],
        body=b"Action=DeleteQueue&Version=2012-11-05",
    )
    assert (reply.status, reply.code) == (403, "SignatureDoesNotMatch"), reply.text
    assert victim in other.list_queues()["QueueUrls"]


def test_an_s3_host_of_another_region_is_refused_with_the_expected_region(server: Endpoint) -> None:
    account = "222200000304"
    s3 = server.client("s3", key=account, region=OTHER)
    s3.create_bucket(Bucket="eu-archive", CreateBucketConfiguration={"LocationConstraint": OTHER})
    s3.put_object(Bucket="eu-archive", Key="report", Body=b"kept")
    reply = send(server, "s3", MINE, "DELETE", "/report", key=account, host=f"eu-archive.s3.{OTHER}.amazonaws.com")
    assert (reply.status, reply.code) == (400, "AuthorizationHeaderMalformed"), reply.text
    assert f"the region '{MINE}' is wrong; expecting '{OTHER}'" in reply.text
    assert f"<Region>{OTHER}</Region>" in reply.text
    assert s3.get_object(Bucket="eu-archive", Key="report")["Body"].read() == b"kept"


def test_an_s3_host_naming_another_region_than_the_scope_is_refused(server: Endpoint) -> None:
    account = "222200000305"
    s3 = server.client("s3", key=account, region=MINE)
    s3.create_bucket(Bucket="west-archive", CreateBucketConfiguration={"LocationConstraint": MINE})
    s3.put_object(Bucket="west-archive", Key="report", Body=b"kept")
    for host, path in (
        (f"west-archive.s3.{OTHER}.amazonaws.com", "/report"),
        (f"s3-{OTHER}.amazonaws.com", "/west-archive/report"),
    ):
        reply = send(server, "s3", MINE, "DELETE", path, key=account, host=host)
        assert (reply.status, reply.code) == (400, "AuthorizationHeaderMalformed"), (host, reply.text)
        assert f"<Region>{OTHER}</Region>" in reply.text
    assert s3.get_object(Bucket="west-archive", Key="report")["Body"].read() == b"kept"
