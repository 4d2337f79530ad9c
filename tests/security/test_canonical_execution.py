"""Attack class: the executor reads the request differently from the authorizer (region, account, host).

The embedded backend gets only the canonical re-serialization of the authorized call, in the signed
region and the authorized account. Each test plays the attack against a real server with real clients and
asserts AWS's outcome and that nothing happened on the victim resource.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint


def user(server: Endpoint, account: str, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def only_region(region: str, actions: list[str]) -> dict[str, Any]:
    """An allow for `actions` limited to one region, the usual guardrail."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": region}}}]}


def signed(server: Endpoint, service: str, region: str, method: str, path: str, headers: dict[str, str],
           body: bytes, key: str, secret: str) -> tuple[int, dict[str, str], bytes]:
    """A raw request signed for `region`, sent with exactly these headers (Host included in the signature)."""
    request = AWSRequest(method, f"{server.url}{path}", data=body, headers=headers)
    (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(key, secret), service, region).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body or None, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_s3_bucket_of_another_region_is_refused_as_s3_does(server: Endpoint) -> None:
    account = "333300000001"
    s3_eu = server.client("s3", key=account, region="eu-west-1")
    s3_eu.create_bucket(Bucket="eu-only-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3_eu.put_object(Bucket="eu-only-bucket", Key="secret", Body=b"eu data")
    key, secret = user(server, account, "usonly", only_region("us-west-2", ["s3:GetObject", "s3:PutObject",
                                                                           "s3:DeleteObject"]))
    status, headers, body = signed(server, "s3", "us-west-2", "GET", "/eu-only-bucket/secret", {}, b"", key, secret)
    assert status == 400
    assert b"<Code>AuthorizationHeaderMalformed</Code>" in body
    assert b"<Region>eu-west-1</Region>" in body
    assert headers.get("x-amz-bucket-region") == "eu-west-1"
    assert b"eu data" not in body
    status, _, body = signed(server, "s3", "us-west-2", "DELETE", "/eu-only-bucket/secret", {}, b"", key, secret)
    assert status == 400 and b"AuthorizationHeaderMalformed" in body
    assert s3_eu.get_object(Bucket="eu-only-bucket", Key="secret")["Body"].read() == b"eu data"


def test_boto3_follows_the_region_redirect_like_against_aws(server: Endpoint) -> None:
    """botocore's S3RegionRedirector reads the error's Region and retries: the legitimate client works."""
    account = "333300000002"
    server.client("s3", key=account, region="eu-west-1").create_bucket(
        Bucket="redirected-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3_us = boto3.client("s3", endpoint_url=server.url, region_name="us-west-2", aws_access_key_id=account,
                         aws_secret_access_key="x", config=Config(s3={"addressing_style": "path"}))
    s3_us.put_object(Bucket="redirected-bucket", Key="k", Body=b"v")
    assert s3_us.get_object(Bucket="redirected-bucket", Key="k")["Body"].read() == b"v"


def test_sqs_legacy_queue_url_of_another_region_is_refused(server: Endpoint) -> None:
    account = "333300000003"
    sqs_eu = server.client("sqs", key=account, region="eu-west-1")
    eu_url = sqs_eu.create_queue(QueueName="victim-queue")["QueueUrl"]
    key, secret = user(server, account, "sqsus", only_region("us-west-2", ["sqs:SendMessage", "sqs:DeleteQueue",
                                                                          "sqs:ReceiveMessage"]))
    sqs_us = server.client("sqs", key=key, secret=secret, region="us-west-2")
    for url in (f"https://eu-west-1.queue.amazonaws.com/{account}/victim-queue",
                f"https://sqs.eu-west-1.amazonaws.com/{account}/victim-queue",
                f"https://queue.amazonaws.com/{account}/victim-queue"):
        with pytest.raises(ClientError) as refused:
            sqs_us.send_message(QueueUrl=url, MessageBody="smuggled")
        assert refused.value.response["Error"]["Code"] in ("InvalidAddress", "AWS.SimpleQueueService.InvalidAddress")
    attributes = sqs_eu.get_queue_attributes(QueueUrl=eu_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_sqs_local_queue_url_acts_in_the_signed_region(server: Endpoint) -> None:
    """A URL on the local endpoint names no region: the queue is the signed region's, as on AWS."""
    account = "333300000004"
    server.client("sqs", key=account, region="eu-west-1").create_queue(QueueName="same-name")
    us = server.client("sqs", key=account, region="us-west-2")
    us_url = us.create_queue(QueueName="same-name")["QueueUrl"]
    local = f"{server.url}/{account}/same-name"
    us.send_message(QueueUrl=local, MessageBody="to us-west-2")
    got = us.receive_message(QueueUrl=us_url, WaitTimeSeconds=0)["Messages"]
    assert [m["Body"] for m in got] == ["to us-west-2"]
    eu = server.client("sqs", key=account, region="eu-west-1")
    eu_url = eu.get_queue_url(QueueName="same-name")["QueueUrl"]
    assert eu.get_queue_attributes(QueueUrl=eu_url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_dynamodb_table_arn_of_another_region_is_refused(server: Endpoint) -> None:
    account = "333300000005"
    schema = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
              "BillingMode": "PAY_PER_REQUEST"}
    eu = server.client("dynamodb", key=account, region="eu-west-1")
    eu.create_table(TableName="twin", **schema)
    us_root = server.client("dynamodb", key=account, region="us-west-2")
    us_root.create_table(TableName="twin", **schema)
    key, secret = user(server, account, "ddbus", only_region("us-west-2", ["dynamodb:PutItem"]))
    us = server.client("dynamodb", key=key, secret=secret, region="us-west-2")
    with pytest.raises(ClientError) as refused:
        us.put_item(TableName=f"arn:aws:dynamodb:eu-west-1:{account}:table/twin", Item={"pk": {"S": "x"}})
    assert refused.value.response["Error"]["Code"] in ("ValidationException", "AccessDeniedException")
    assert eu.scan(TableName="twin")["Count"] == 0
    assert us_root.scan(TableName="twin")["Count"] == 0


def test_unsigned_user_agent_and_host_do_not_choose_the_region(server: Endpoint) -> None:
    """moto reads a region from the Host and from a `region/…` User-Agent token: a token naming another
    region than the signed one is refused, and without it the call acts in the signed region only."""
    account = "333300000006"
    schema = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
              "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
              "BillingMode": "PAY_PER_REQUEST"}
    for region in ("eu-west-1", "us-west-2"):
        server.client("dynamodb", key=account, region=region).create_table(TableName="t", **schema)
    key, secret = user(server, account, "uaus", only_region("us-west-2", ["dynamodb:PutItem"]))
    body = json.dumps({"TableName": "t", "Item": {"pk": {"S": "from-ua"}}}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.PutItem"}
    request = AWSRequest("POST", f"{server.url}/", data=body, headers=headers)
    SigV4Auth(Credentials(key, secret), "dynamodb", "us-west-2").add_auth(request)
    sent = dict(request.prepare().headers)
    sent["User-Agent"] = "Boto3/1.0 region/eu-west-1"  # unsigned: added after signing
    req = urllib.request.Request(f"{server.url}/", data=body, headers=sent, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:  # two regions named: refused, never guessed
        urllib.request.urlopen(req, timeout=10)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["__type"].endswith("InvalidSignatureException")
    sent["User-Agent"] = "Boto3/1.0"
    req = urllib.request.Request(f"{server.url}/", data=body, headers=sent, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    eu = server.client("dynamodb", key=account, region="eu-west-1").scan(TableName="t")
    us = server.client("dynamodb", key=account, region="us-west-2").scan(TableName="t")
    assert eu["Count"] == 0
    assert [i["pk"]["S"] for i in us["Items"]] == ["from-ua"]


def test_backend_headers_never_reach_the_client(server: Endpoint) -> None:
    """The reply is re-serialized by lambdaperm: the request id is ours (the trail's), moto's is gone."""
    account = "333300000007"
    sqs = server.client("sqs", key=account, region="us-west-2")
    created = sqs.create_queue(QueueName="ids")
    request_id = created["ResponseMetadata"]["RequestId"]
    headers = created["ResponseMetadata"]["HTTPHeaders"]
    assert "server" not in {k.lower() for k in headers} or headers.get("server") != "amazon.com"
    trail = server.client("cloudtrail", key=account, region="us-west-2")
    events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateQueue"}])
    assert request_id in {json.loads(e["CloudTrailEvent"])["requestID"] for e in events["Events"]}


def test_cross_account_bucket_calls_act_in_the_owners_account(server: Endpoint) -> None:
    """A bucket policy grants another account DeleteBucket and PutObject: the call acts on the owner's
    bucket (no 500, no bucket left without an owner whose name anyone could take)."""
    owner, other = "333300000008", "333300000009"
    s3_owner = server.client("s3", key=owner)
    s3_owner.create_bucket(Bucket="shared-owner-bucket")
    s3_owner.put_bucket_policy(Bucket="shared-owner-bucket", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{other}:root"},
            "Action": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteBucket"],
            "Resource": ["arn:aws:s3:::shared-owner-bucket", "arn:aws:s3:::shared-owner-bucket/*"]}]}))
    s3_other = server.client("s3", key=other)
    s3_other.put_object(Bucket="shared-owner-bucket", Key="from-other", Body=b"x")
    assert s3_owner.get_object(Bucket="shared-owner-bucket", Key="from-other")["Body"].read() == b"x"
    s3_other.delete_object(Bucket="shared-owner-bucket", Key="from-other")
    s3_other.delete_bucket(Bucket="shared-owner-bucket")
    assert "shared-owner-bucket" not in {b["Name"] for b in s3_owner.list_buckets()["Buckets"]}
    s3_other.create_bucket(Bucket="shared-owner-bucket")  # the name is free again, and now the other's
    assert "shared-owner-bucket" in {b["Name"] for b in s3_other.list_buckets()["Buckets"]}


def test_the_backend_makes_no_second_decision_on_bucket_policies(server: Endpoint) -> None:
    """moto evaluated bucket policies itself on object requests and answered 403 "Forbidden" whenever a Deny
    statement matched the action, whatever its conditions: a second reader that can only deny (wrong denies,
    with a body that is not S3's). The engine decides; a Deny whose condition does not hold denies nothing,
    and one whose condition holds still denies with S3's AccessDenied."""
    account = "333300000010"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="second-reader")
    s3.put_object(Bucket="second-reader", Key="k", Body=b"data")
    s3.put_bucket_policy(Bucket="second-reader", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::second-reader/*",
         "Condition": {"StringEquals": {"aws:username": "nobody-ever"}}}]}))
    assert s3.get_object(Bucket="second-reader", Key="k")["Body"].read() == b"data"
    s3.put_bucket_policy(Bucket="second-reader", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::second-reader/*"}]}))
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="second-reader", Key="k")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
