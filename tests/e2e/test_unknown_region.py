"""A credential scope naming no region of the aws partition is refused as AWS refuses a scope that does not
match the endpoint — a 4xx in the client's protocol, never a 500 and never a region of its own
(issue 8 §4: `--region mars-1` gave a bare 500 for DynamoDB, SQS, SNS, Logs and EC2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint

ACCOUNT = "777740000001"
CALLS: dict[str, tuple[Callable[[Any], Any], int, str]] = {
    # service: (a call, AWS's status, AWS's code) — spec §12.8; S3 §12.3
    "dynamodb": (lambda c: c.list_tables(), 400, "InvalidSignatureException"),
    "sqs": (lambda c: c.list_queues(), 400, "InvalidSignatureException"),  # SQS speaks JSON (awsJson1_0)
    "sns": (lambda c: c.list_topics(), 403, "SignatureDoesNotMatch"),
    "logs": (lambda c: c.describe_log_groups(), 400, "InvalidSignatureException"),
    "ec2": (lambda c: c.describe_vpcs(), 403, "SignatureDoesNotMatch"),
    "lambda": (lambda c: c.list_functions(), 403, "InvalidSignatureException"),
    "sts": (lambda c: c.get_caller_identity(), 403, "SignatureDoesNotMatch"),
    "s3": (lambda c: c.list_buckets(), 400, "AuthorizationHeaderMalformed"),
}


@pytest.mark.parametrize("region", ["mars-1", "EU", "xx"])
@pytest.mark.parametrize("service", sorted(CALLS))
def test_a_scope_of_no_known_region_is_refused_in_the_clients_protocol(
    server: Endpoint, service: str, region: str
) -> None:
    call, status, code = CALLS[service]
    with pytest.raises(ClientError) as refused:
        call(server.client(service, key=ACCOUNT, region=region))
    error = refused.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (status, code), error
    assert region in error["Error"]["Message"]


def test_a_known_region_is_served(server: Endpoint) -> None:
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        assert "TableNames" in server.client("dynamodb", key=ACCOUNT, region=region).list_tables()


def test_an_s3_request_naming_a_bucket_is_refused_expecting_the_buckets_region(server: Endpoint) -> None:
    """S3 names the bucket's own region in its refusal; a bucket that does not exist is the global endpoint's
    (us-east-1): nothing is created in a region of no partition. (Raw signed requests: boto3 would follow the
    x-amz-bucket-region redirect and retry in the right region, as it does against AWS.)"""
    from tests.security.signed_http import send

    owner = server.client("s3", key=ACCOUNT, region="eu-west-1")
    owner.create_bucket(Bucket="unknown-region-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    put = send(server, "s3", "mars-1", "PUT", "/unknown-region-eu/k", key=ACCOUNT, body=b"x")
    assert (put.status, put.code) == (400, "AuthorizationHeaderMalformed") and "expecting 'eu-west-1'" in put.text
    create = send(server, "s3", "mars-1", "PUT", "/unknown-region-new", key=ACCOUNT)
    assert (create.status, create.code) == (400, "AuthorizationHeaderMalformed")
    assert "expecting 'us-east-1'" in create.text
    names = [b["Name"] for b in owner.list_buckets()["Buckets"]]
    assert "unknown-region-eu" in names and "unknown-region-new" not in names
    assert owner.list_objects_v2(Bucket="unknown-region-eu").get("KeyCount") == 0
