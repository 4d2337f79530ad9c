"""Attack class 2, review round 15: S3 bucket names the decision reads one way and the backend stores another.

S3 allows a bucket name of lowercase letters, digits, dots and hyphens only (3 to 63 characters, beginning and
ending with a letter or digit, no two adjacent periods, not an IP address, none of the reserved prefixes and
suffixes) — https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html — and answers any other
name with 400 `InvalidBucketName` ("The specified bucket is not valid."). Buckets created in us-east-1 before
March 1, 2018 could also hold uppercase letters and underscores and run to 255 characters, so a call on an existing
bucket may name one in that wider alphabet; nothing outside it names a bucket at all (botocore refuses it before
sending: `validate_bucket_name`).

lambdaperm decided on the name as parsed (`team data`, from the path `/team%20data`), then re-serialized it
path-style for the backend, which keys buckets by the URL's first path segment as written: the bucket was stored as
`team%20data`. lambdaperm's own readers (the bucket's owner for the decision and the execution account) looked up
`team data` and found no bucket, so another account's call on it was decided as a call on a bucket of the caller's
own account, and the backend's cross-account fallback executed it on the creator's bucket. Each test runs against a
real `lambdaperm serve` with real boto3 or raw signed HTTP and asserts AWS's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys
from tests.security.test_canonical_execution import signed

_INVALID = b"<Code>InvalidBucketName</Code>"


def _fails(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return str(err.value.response["Error"]["Code"]), int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def test_another_accounts_bucket_is_not_reached_through_a_name_s3_refuses(server: Endpoint) -> None:
    """Attack: account V created `team data` (path `/team%20data`), stored by the backend as `team%20data`;
    account A, which no policy of V's allows anything, read V's object and planted one of its own: the decision
    found no bucket named `team data`, took A as the resource account (A's root: allowed), and the backend's
    cross-account fallback found V's bucket. AWS: `team data` is not a bucket name — every call on it is 400
    InvalidBucketName, and nothing is created."""
    owner, other = "888800001502", "888800001503"
    status, _, body = signed(server, "s3", "us-east-1", "PUT", "/team%20data", {}, b"", owner, "x")
    assert (status, _INVALID in body) == (400, True)
    status, _, body = signed(server, "s3", "us-east-1", "PUT", "/team%20data/secret", {}, b"owner's", owner, "x")
    assert (status, _INVALID in body) == (400, True)
    status, _, body = signed(server, "s3", "us-east-1", "GET", "/team%20data/secret", {}, b"", other, "x")
    assert (status, _INVALID in body) == (400, True)
    assert b"owner's" not in body
    names = [b["Name"] for b in server.client("s3", key=owner).list_buckets()["Buckets"]]
    assert not [n for n in names if "team" in n]


@pytest.mark.parametrize(
    "path",
    [
        "/a%20bucket",  # a space: stored under its percent-encoding
        "/caf%C3%A9-bucket",  # a non-ASCII letter: the same
        "/data%2Fbucket",  # an encoded slash: the backend read bucket `data%2Fbucket`, key shifted by one segment
        "/bucket%7E1",  # `~`: unreserved in a URL, not in a bucket name
        "/bucket%2B1",  # `+`
        "/bucket%251",  # a literal `%`
        "/bucket%0A",  # a line feed
    ],
)
def test_a_name_outside_s3s_alphabet_is_invalid_on_every_call(server: Endpoint, path: str) -> None:
    """AWS: a name outside `[A-Za-z0-9._-]` (the widest, legacy alphabet) is no bucket name: 400 InvalidBucketName,
    on CreateBucket and on a call naming an existing bucket alike; the backend never stores it under another
    spelling."""
    account = "888800001504"
    for method, suffix in (("PUT", ""), ("PUT", "/k"), ("GET", "/k"), ("GET", "?list-type=2"), ("DELETE", "")):
        status, _, body = signed(server, "s3", "us-east-1", method, path + suffix, {}, b"", account, "x")
        assert (method, suffix, status, _INVALID in body) == (method, suffix, 400, True)
    assert server.client("s3", key=account).list_buckets()["Buckets"] == []


@pytest.mark.parametrize(
    "name",
    [
        "Upper-bucket",  # uppercase: legacy us-east-1 only, before March 2018
        "under_score-bucket",  # underscore: the same
        "ab",  # shorter than 3
        "b" * 64,  # longer than 63
        "-leading-hyphen",
        "trailing-dot.",
        "two..dots",
        "192.168.5.4",  # formatted as an IP address
        "xn--punycode-bucket",  # reserved prefixes
        "sthree-bucket",
        "amzn-s3-demo-bucket",
        "bucket-s3alias",  # reserved suffixes
        "bucket--ol-s3",
        "bucket.mrap",
        "bucket--table-s3",
    ],
)
def test_create_bucket_applies_s3s_naming_rules(server: Endpoint, name: str) -> None:
    """AWS: CreateBucket refuses a name outside the general purpose bucket naming rules with 400
    InvalidBucketName, in every region (the legacy alphabet is only for buckets that already exist)."""
    s3 = server.client("s3", key="888800001505")
    assert _fails(lambda: s3.create_bucket(Bucket=name)) == ("InvalidBucketName", 400)
    assert s3.list_buckets()["Buckets"] == []


def test_create_bucket_accepts_every_valid_shape(server: Endpoint) -> None:
    """The rules refuse nothing S3 accepts: dots between labels, digits first, 3 and 63 characters."""
    s3 = server.client("s3", key="888800001506")
    names = ["r15.dotted-name.example", "0r15-digits-first", "r15", "r" * 63]
    for name in names:
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="k", Body=b"v")
        assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == sorted(names)


_QUEUE_REFUSED = ("InvalidParameterValue", 400)
_TOPIC_REFUSED = ("InvalidParameter", 400)
_FIFO_QUEUE = {"FifoQueue": "true"}


@pytest.mark.parametrize(
    ("service", "call", "error"),
    [
        ("sqs", lambda c: c.create_queue(QueueName="orders\n"), _QUEUE_REFUSED),
        ("sqs", lambda c: c.create_queue(QueueName="orders.fifo\n", Attributes=_FIFO_QUEUE), _QUEUE_REFUSED),
        ("sqs", lambda c: c.create_queue(QueueName="q" * 81), _QUEUE_REFUSED),
        ("sqs", lambda c: c.create_queue(QueueName="q" * 76 + ".fifo", Attributes=_FIFO_QUEUE), _QUEUE_REFUSED),
        ("sns", lambda c: c.create_topic(Name="alerts\n"), _TOPIC_REFUSED),
        ("sns", lambda c: c.create_topic(Name="alerts.fifo\n", Attributes={"FifoTopic": "true"}), _TOPIC_REFUSED),
        ("sns", lambda c: c.create_topic(Name="t" * 257), _TOPIC_REFUSED),
    ],
)
def test_a_queue_or_topic_name_outside_aws_alphabet_is_refused(
    server: Endpoint, service: str, call: Callable[[Any], Any], error: tuple[str, int]
) -> None:
    """AWS: queue names are `[A-Za-z0-9_-]`, up to 80 characters with a FIFO queue's `.fifo`
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html), topic names
    `[A-Za-z0-9_-]{1,256}` (`.fifo` for a FIFO topic; https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html).
    A final newline is no such character; the backend's own checks end in `$`, which Python also matches before a
    final newline, so it created them."""
    client = server.client(service, key="888800001509")
    assert _fails(lambda: call(client)) == error
    listed = client.list_queues().get("QueueUrls", []) if service == "sqs" else client.list_topics()["Topics"]
    assert listed == []


def test_queue_and_topic_names_of_every_valid_shape_are_created(server: Endpoint) -> None:
    """The rules refuse nothing SQS or SNS accepts: 80 characters (with `.fifo`), 256 for a topic."""
    account = "888800001511"
    sqs, sns = server.client("sqs", key=account), server.client("sns", key=account)
    assert sqs.create_queue(QueueName="Q_" + "q" * 78)["QueueUrl"].endswith("/Q_" + "q" * 78)
    fifo = "q" * 75 + ".fifo"
    assert sqs.create_queue(QueueName=fifo, Attributes={"FifoQueue": "true"})["QueueUrl"].endswith("/" + fifo)
    assert sns.create_topic(Name="T-" + "t" * 254)["TopicArn"].endswith(":T-" + "t" * 254)
    assert sns.create_topic(Name="t" * 251 + ".fifo", Attributes={"FifoTopic": "true"})["TopicArn"].endswith(".fifo")


def test_a_group_id_with_a_trailing_newline_does_not_act_on_a_group_named_after_it(server: Endpoint) -> None:
    """Attack: the security group `sg-R` is protected by a Deny of ec2:AuthorizeSecurityGroupIngress on its ARN; its
    name is `sg-0123456789abcdef0\\n` (the backend accepted a name of the form `sg-*`). A user allowed ec2:* sent
    `GroupId=sg-0123456789abcdef0\\n`: the ID check (a regular expression ending in `$`, which Python also matches
    before a final newline) passed it, the decision read `security-group/sg-0123456789abcdef0\\n` (no Deny), and the
    backend, finding no group of that ID, took it for a name and opened port 22 to the world on `sg-R`.
    AWS: a GroupId is `sg-` and 8 or 17 hexadecimal digits, else 400 InvalidGroupId.Malformed; and a group name
    "Cannot start with sg-"
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html)."""
    account = "888800001512"
    ec2 = server.client("ec2", key=account)
    lookalike = "sg-0123456789abcdef0"
    code, status = _fails(lambda: ec2.create_security_group(GroupName=lookalike + "\n", Description="protected"))
    assert (code, status) == ("InvalidParameterValue", 400)
    protected = ec2.create_security_group(GroupName="protected", Description="protected")["GroupId"]
    dev = server.client(
        "ec2",
        **user_keys(
            server,
            account,
            "r15-net",
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "ec2:AuthorizeSecurityGroupIngress",
                "Resource": f"arn:aws:ec2:us-east-1:{account}:security-group/{protected}",
            },
        ),
    )
    rule = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
    assert _fails(lambda: dev.authorize_security_group_ingress(GroupId=protected, **rule))[1] == 403
    for group_id in (lookalike + "\n", protected + "\n"):
        assert _fails(lambda g=group_id: dev.authorize_security_group_ingress(GroupId=g, **rule)) == (
            "InvalidGroupId.Malformed",
            400,
        )
    groups = ec2.describe_security_groups(GroupIds=[protected])["SecurityGroups"]
    assert groups[0]["IpPermissions"] == []


@pytest.mark.parametrize("name", ["sg-web", "sg-0123456789abcdef0", "web\u00e9", "web\n", "w" * 256])
def test_create_security_group_applies_ec2s_naming_rules(server: Endpoint, name: str) -> None:
    """AWS: a group name is up to 255 characters of a-z, A-Z, 0-9, spaces and `._-:/()#,@[]+=&;{}!$*`, and cannot
    start with `sg-`: 400 InvalidParameterValue
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html)."""
    ec2 = server.client("ec2", key="888800001513")
    assert _fails(lambda: ec2.create_security_group(GroupName=name, Description="d")) == ("InvalidParameterValue", 400)
    names = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    assert names == ["default"]


def test_create_security_group_accepts_every_valid_character(server: Endpoint) -> None:
    """The rule refuses nothing EC2 accepts: every documented character, 255 characters."""
    ec2 = server.client("ec2", key="888800001514")
    for name in ("web tier ._-:/()#,@[]+=&;{}!$*", "W" * 255):
        ec2.create_security_group(GroupName=name, Description="d")
