"""Attack class: resource-policy grammar — a Resource/NotResource ARN the engine would read differently from AWS.

A resource-based policy (S3 bucket policy, SQS queue policy, SNS topic policy, DynamoDB table policy) holding a
Resource that is not a well-formed ARN (fewer than six segments, a wildcard or missing vendor, an unknown
partition) was stored and matched literally. How AWS reads such an ARN is not documented; a Deny written with one
that matched nothing here while AWS applied it would be a wrong allow. Such a policy is refused when written, with
the service's error (docs/fidelity.md, "Resource-policy grammar"):
- S3: `MalformedPolicy` "Policy has invalid resource"
  (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html, observed: versity/versitygw#648);
- SQS: `InvalidAttributeValue` "Invalid value for the parameter Policy."
  (observed: hashicorp/terraform-provider-aws#42209);
- SNS: `InvalidParameter` "Invalid parameter: Policy Error: …" (observed: aws/serverless-application-model#1591);
- DynamoDB: `ValidationException`
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html).

Each test plays against a real `lambdaperm serve` with real boto3.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"
ACCOUNT = "792000000021"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def _policy(resource: str, action: str, *, key: str = "Resource") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": action, key: resource}],
        }
    )


def _refused(call: Any, code: str, **kw: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kw)
    err = info.value.response["Error"]
    assert err["Code"] == code, err
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(err["Message"])


# Each is refused by IAM's identity-policy grammar (policy/resource_arns.py); the first is five segments.
def _malformed(service: str, name: str) -> list[str]:
    return [
        f"arn:aws:{service}:{name}",
        f"arn:aws:*:{REGION}:{ACCOUNT}:{name}",
        f"arn:aws::{REGION}:{ACCOUNT}:{name}",
        f"arn:error:{service}:{REGION}:{ACCOUNT}:{name}",
    ]


@pytest.mark.parametrize("key", ["Resource", "NotResource"])
def test_s3_bucket_policy_with_a_malformed_resource_is_refused(server: Endpoint, key: str) -> None:
    s3 = server.client("s3", key=ACCOUNT)
    bucket = f"grammar-{key.lower()}"
    s3.create_bucket(Bucket=bucket)
    for arn in [f"arn:aws:s3::{bucket}", f"arn:aws:*:::{bucket}", f"arn:aws:s3:{REGION}::{bucket}/*"]:
        message = _refused(
            s3.put_bucket_policy, "MalformedPolicy", Bucket=bucket, Policy=_policy(arn, "s3:GetObject", key=key)
        )
        assert message == "Policy has invalid resource", (arn, message)
    with pytest.raises(ClientError) as info:
        s3.get_bucket_policy(Bucket=bucket)
    assert info.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(f"arn:aws:s3:::{bucket}/*", "s3:GetObject", key=key))
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0][key] == f"arn:aws:s3:::{bucket}/*"


def test_sqs_queue_policy_with_a_malformed_resource_is_refused(server: Endpoint) -> None:
    sqs = server.client("sqs", key=ACCOUNT)
    url = sqs.create_queue(QueueName="grammar-q")["QueueUrl"]
    for arn in _malformed("sqs", "grammar-q"):
        message = _refused(
            sqs.set_queue_attributes,
            "InvalidAttributeValue",
            QueueUrl=url,
            Attributes={"Policy": _policy(arn, "sqs:SendMessage")},
        )
        assert message.startswith("Invalid value for the parameter Policy."), (arn, message)
        _refused(
            sqs.create_queue,
            "InvalidAttributeValue",
            QueueName="grammar-q2",
            Attributes={"Policy": _policy(arn, "sqs:SendMessage")},
        )
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    good = _policy(f"arn:aws:sqs:{REGION}:{ACCOUNT}:grammar-q", "sqs:SendMessage")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": good})
    assert "Policy" in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]


def test_sns_topic_policy_with_a_malformed_resource_is_refused(server: Endpoint) -> None:
    sns = server.client("sns", key=ACCOUNT)
    topic = sns.create_topic(Name="grammar-t")["TopicArn"]
    before = sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]
    for arn in _malformed("sns", "grammar-t"):
        message = _refused(
            sns.set_topic_attributes,
            "InvalidParameter",
            TopicArn=topic,
            AttributeName="Policy",
            AttributeValue=_policy(arn, "sns:Publish"),
        )
        assert message.startswith("Invalid parameter: Policy Error"), (arn, message)
        _refused(
            sns.create_topic, "InvalidParameter", Name="grammar-t2", Attributes={"Policy": _policy(arn, "sns:Publish")}
        )
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"] == before
    good = _policy(topic, "sns:Publish")
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=good)
    assert (
        json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"][0]["Resource"]
        == topic
    )


def test_dynamodb_table_policy_with_a_malformed_resource_is_refused(server: Endpoint) -> None:
    ddb = server.client("dynamodb", key=ACCOUNT)
    table = ddb.create_table(
        TableName="grammar-tbl",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    for arn in _malformed("dynamodb", "table/grammar-tbl"):
        _refused(
            ddb.put_resource_policy, "ValidationException", ResourceArn=table, Policy=_policy(arn, "dynamodb:GetItem")
        )
    with pytest.raises(ClientError) as info:
        ddb.get_resource_policy(ResourceArn=table)
    assert info.value.response["Error"]["Code"] == "PolicyNotFoundException"
    ddb.put_resource_policy(ResourceArn=table, Policy=_policy(table, "dynamodb:GetItem"))
    assert json.loads(ddb.get_resource_policy(ResourceArn=table)["Policy"])["Statement"][0]["Resource"] == table
