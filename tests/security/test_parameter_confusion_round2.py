"""Attack class 2, review round 2: one request read two ways — the canonical re-serialization of a call
lambdaperm authorized, read by the embedded backend's own request-reading code (moto's URL router, its
`querystring`, its per-service parameter readers) as another operation, resource or value.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome: the
answer AWS gives, and the victim resource untouched. The structural oracle (tests/structural) also checks
*acted-on ⊆ authorized* for every request when each test's server stops.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    created = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: server.client(service, key=created["AccessKeyId"], secret=created["SecretAccessKey"])


def _error(call: Any, **params: Any) -> tuple[str, int]:
    """(error code, HTTP status) of a boto3 call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_an_object_key_naming_an_aws_host_stays_an_object_operation(server: Endpoint) -> None:
    """An object key is any UTF-8 string (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html);
    `public/x.amazonaws.com/` is one like any other. Attack: a user allowed GetObject / PutObjectTagging /
    PutObjectAcl / DeleteObject on `public/*` only names that key. The backend's URL router matches its host
    pattern `s3(.*)\\.amazonaws.com` greedily into the path, so the request reached its *bucket* handler:
    GetObject answered the bucket's listing (s3:ListBucket), PutObjectTagging replaced the bucket's tags
    (s3:PutBucketTagging), PutObjectAcl the bucket's ACL, DeleteObject deleted the bucket (s3:DeleteBucket).
    S3 answers for the object: AccessDenied for a missing key the caller may not list (GetObject, "If you
    don't have the s3:ListBucket permission, Amazon S3 returns an HTTP status code 403 Access Denied error",
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), NoSuchKey for tagging or an ACL of a
    missing object, and 204 for deleting a missing key; the bucket is untouched.
    """
    account = "555500000001"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="pc2-router")
    admin.delete_public_access_block(Bucket="pc2-router")  # a misrouted public ACL would be stored, not refused
    admin.put_object(Bucket="pc2-router", Key="private/payroll", Body=b"SALARIES")
    admin.create_bucket(Bucket="pc2-router-empty")
    resources = [f"arn:aws:s3:::{bucket}/public/*" for bucket in ("pc2-router", "pc2-router-empty")]
    s3 = user(
        server,
        account,
        "objects-only",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObjectTagging", "s3:PutObjectAcl", "s3:DeleteObject"],
                "Resource": resources,
            }
        ],
    )("s3")
    for key in ("public/x.amazonaws.com/", "public/x.amazonaws.com/y"):
        # S3 answers 403 here (no s3:ListBucket); lambdaperm's 404 is the separate finding of
        # test_a_missing_key_without_list_bucket_is_access_denied: this test is about the listing
        assert _error(s3.get_object, Bucket="pc2-router", Key=key) in {
            ("AccessDenied", 403),
            ("NoSuchKey", 404),
        }
        assert _error(admin.get_object, Bucket="pc2-router", Key=key) == ("NoSuchKey", 404)
        tagging = {"TagSet": [{"Key": "env", "Value": "public"}]}
        assert _error(s3.put_object_tagging, Bucket="pc2-router", Key=key, Tagging=tagging) == (
            "NoSuchKey",
            404,
        )
        assert _error(s3.put_object_acl, Bucket="pc2-router", Key=key, ACL="public-read") == (
            "NoSuchKey",
            404,
        )
        assert s3.delete_object(Bucket="pc2-router-empty", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _error(admin.get_bucket_tagging, Bucket="pc2-router")[0] == "NoSuchTagSet"
    grants = admin.get_bucket_acl(Bucket="pc2-router")["Grants"]
    assert all("URI" not in grant["Grantee"] for grant in grants)  # no AllUsers grant
    admin.head_bucket(Bucket="pc2-router-empty")  # still there
    assert admin.get_object(Bucket="pc2-router", Key="private/payroll")["Body"].read() == b"SALARIES"


def test_a_missing_key_without_list_bucket_is_access_denied(server: Endpoint) -> None:
    """ "If the object that you request doesn't exist, the error that Amazon S3 returns depends on whether you
    also have the s3:ListBucket permission. If you have the s3:ListBucket permission on the bucket, Amazon S3
    returns an HTTP status code 404 Not Found error. If you don't have the s3:ListBucket permission, Amazon S3
    returns an HTTP status code 403 Access Denied error."
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, API_HeadObject.html). Attack (the
    output direction): a caller allowed s3:GetObject on `public/*` but not s3:ListBucket probes which keys
    exist — a 404 tells a missing key from an existing one it may not read.
    """
    account = "555500000002"
    admin = server.client("s3", key=account)
    admin.create_bucket(Bucket="pc2-probe")
    s3 = user(
        server,
        account,
        "reader",
        [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pc2-probe/public/*"}],
    )("s3")
    assert _error(s3.get_object, Bucket="pc2-probe", Key="public/missing") == ("AccessDenied", 403)
    assert _error(s3.head_object, Bucket="pc2-probe", Key="public/missing")[1] == 403


def test_setting_one_queue_attribute_keeps_the_queue_policy(server: Endpoint) -> None:
    """SetQueueAttributes sets the attributes it names ("Sets the value of one or more queue attributes",
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html); the
    others, the queue policy among them, keep their values. Attack: the owner changes the queue's
    VisibilityTimeout — authorized as that — and the backend also reset the queue policy, so its explicit Deny
    on another user's ReceiveMessage vanished and that user read the queue's messages.
    """
    account = "555500000003"
    owner = server.client("sqs", key=account)
    url = owner.create_queue(QueueName="pc2-guarded")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{account}:pc2-guarded"
    reader = user(server, account, "reader", [{"Effect": "Allow", "Action": "sqs:*", "Resource": arn}])("sqs")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": f"arn:aws:iam::{account}:user/reader"},
                "Action": "sqs:ReceiveMessage",
                "Resource": arn,
            }
        ],
    }
    owner.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    owner.send_message(QueueUrl=url, MessageBody="secret")
    assert _error(reader.receive_message, QueueUrl=url) == ("AccessDenied", 403)
    owner.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "60"})
    stored = owner.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "VisibilityTimeout"])["Attributes"]
    assert stored["VisibilityTimeout"] == "60"
    assert json.loads(stored["Policy"]) == policy
    assert _error(reader.receive_message, QueueUrl=url) == ("AccessDenied", 403)


def test_a_queue_attribute_sqs_does_not_know_is_refused(server: Endpoint) -> None:
    """SQS answers InvalidAttributeName for an attribute name it does not know ("The specified attribute
    doesn't exist", https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html;
    names are case-sensitive). Attack: the backend set every name it was given as a field of its queue object
    (`AccountId`, `Name`, `QueueArn`…): SetQueueAttributes authorized on the caller's own queue moved it, as
    ListQueues showed, under another account's URL.
    """
    account = "555500000004"
    sqs = server.client("sqs", key=account)
    url = sqs.create_queue(QueueName="pc2-attrs")["QueueUrl"]
    for attributes in (
        {"AccountId": "555500000009", "Name": "moved"},
        {"QueueArn": "arn:aws:sqs:x"},
        {"visibilityTimeout": "5"},
    ):
        assert _error(sqs.set_queue_attributes, QueueUrl=url, Attributes=attributes) == ("InvalidAttributeName", 400)
        assert _error(sqs.create_queue, QueueName="pc2-attrs-2", Attributes=attributes) == (
            "InvalidAttributeName",
            400,
        )
    assert sqs.list_queues(QueueNamePrefix="pc2-")["QueueUrls"] == [url]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn == f"arn:aws:sqs:us-east-1:{account}:pc2-attrs"


def test_a_topic_attribute_sns_does_not_know_is_refused(server: Endpoint) -> None:
    """SNS takes the topic attributes it documents (DeliveryPolicy, DisplayName, Policy, …) and answers
    InvalidParameter for any other AttributeName
    (https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html,
    https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html). Attack: the backend set any name it was
    given as a field of its topic object: `Arn` set to another account's topic ARN made the attacker's topic
    deliver as that topic (SNS → SQS deliveries are authorized against the queue policy with the topic as
    aws:SourceArn and its account as aws:SourceAccount), and `policy` stored a topic policy past lambdaperm's
    policy checks.
    """
    account = "555500000005"
    sns = server.client("sns", key=account)
    topic = sns.create_topic(Name="pc2-topic")["TopicArn"]
    forged = "arn:aws:sns:us-east-1:555500000009:victim-topic"
    for name, value in (("Arn", forged), ("AccountId", "555500000009"), ("policy", "{}"), ("Name", "x")):
        assert _error(sns.set_topic_attributes, TopicArn=topic, AttributeName=name, AttributeValue=value) == (
            "InvalidParameter",
            400,
        )
        assert _error(sns.create_topic, Name="pc2-topic-2", Attributes={name: value}) == ("InvalidParameter", 400)
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [topic]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["TopicArn"] == topic
