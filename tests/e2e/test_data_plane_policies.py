"""Resource-based policies of the data plane (S3 bucket, SQS queue policies) are enforced: cross-account
access needs them, anonymous access goes through them alone, and a document the engine cannot read is
refused when written."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint
from .test_iam_sts import error, make_user

OWNER, OTHER = "000000000000", "111122223333"


def test_bucket_policy_governs_cross_account_and_anonymous_reads(server: Endpoint) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="shared-bucket")
    s3.put_object(Bucket="shared-bucket", Key="public/readme.txt", Body=b"hello")
    s3.put_object(Bucket="shared-bucket", Key="private/secret.txt", Body=b"no")
    other = server.client("s3", key=OTHER)
    with pytest.raises(ClientError) as before:
        other.get_object(Bucket="shared-bucket", Key="public/readme.txt")
    assert error(before)[0] == "AccessDenied"
    s3.delete_public_access_block(Bucket="shared-bucket")  # a new bucket blocks public policies (S3's default)
    s3.put_bucket_policy(Bucket="shared-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::shared-bucket/public/*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::shared-bucket/public/readme.txt"}]}))
    assert other.get_object(Bucket="shared-bucket", Key="public/readme.txt")["Body"].read() == b"hello"
    with pytest.raises(ClientError) as private:
        other.get_object(Bucket="shared-bucket", Key="private/secret.txt")
    assert error(private)[0] == "AccessDenied"
    with urllib.request.urlopen(f"{server.url}/shared-bucket/public/readme.txt", timeout=10) as resp:
        assert resp.read() == b"hello"  # anonymous, through the "*" statement alone
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{server.url}/shared-bucket/private/secret.txt", timeout=10)
    assert anonymous.value.code == 403
    # a same-account user with no identity policy is not helped by a policy that names another account
    key, secret = make_user(server, "s3-nobody")
    with pytest.raises(ClientError) as nobody:
        server.client("s3", key=key, secret=secret).get_object(Bucket="shared-bucket", Key="private/secret.txt")
    assert error(nobody)[0] == "AccessDenied"


def test_bad_resource_policies_are_refused(server: Endpoint) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="strict-bucket")
    with pytest.raises(ClientError) as bad:
        s3.put_bucket_policy(Bucket="strict-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringEqualsMaybe": {"aws:username": "x"}}}]}))
    assert error(bad)[0] == "MalformedPolicy" and "Invalid Condition type : StringEqualsMaybe" in error(bad)[1]
    sqs = server.client("sqs", region="us-west-2")
    url = sqs.create_queue(QueueName="guarded")["QueueUrl"]
    with pytest.raises(ClientError) as bad_queue:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": '{"Statement": "nope"}'})
    assert error(bad_queue)[0] in ("InvalidAttributeValue", "InvalidParameterValue")


def test_queue_policy_allows_another_account(server: Endpoint) -> None:
    sqs = server.client("sqs", region="us-west-2")
    url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    arn = f"arn:aws:sqs:us-west-2:{OWNER}:inbox"
    other = server.client("sqs", key=OTHER, region="us-west-2")
    with pytest.raises(ClientError) as before:
        other.send_message(QueueUrl=url, MessageBody="hi")
    assert "AccessDenied" in error(before)[0]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sqs:SendMessage", "Resource": arn}]})})
    other.send_message(QueueUrl=url, MessageBody="hi")
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hi"
