"""Attack class: region and account confusion (review round 20).

Round 19 left the source account of push deliveries (`aws:SourceAccount` as the destination's resource policy reads
it) and the regions read outside the signature. Each test runs a real `lambdaperm serve` (tests/e2e/conftest.py)
with real boto3.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.e2e.test_sns_lambda_cross_region import sns_invokes, wait_for

A, B = "079190000020", "079190000021"
EAST, WEST = "us-east-1", "eu-west-1"


def _logging_policy(bucket: str, source_account: str) -> str:
    """The destination bucket policy S3's guide gives for server access logs (logging.s3.amazonaws.com)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": source_account}},
                }
            ],
        }
    )


def test_server_access_logs_go_to_a_bucket_of_the_source_buckets_owner(server: Endpoint) -> None:
    """Attack: A's bucket logs into B's bucket, whose policy lets logging.s3.amazonaws.com write for source
    account A. AWS: "You can have your logs delivered to any bucket that you own"
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_LoggingEnabled.html): PutBucketLogging answers
    InvalidTargetBucketForLogging, and nothing is written into B's bucket."""
    a, b = server.client("s3", key=A), server.client("s3", key=B)
    a.create_bucket(Bucket="r20-logged")
    b.create_bucket(Bucket="r20-b-logs")
    b.put_bucket_policy(Bucket="r20-b-logs", Policy=_logging_policy("r20-b-logs", A))
    with pytest.raises(ClientError) as refused:
        a.put_bucket_logging(
            Bucket="r20-logged",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "r20-b-logs", "TargetPrefix": "a/"}},
        )
    assert refused.value.response["Error"]["Code"] == "InvalidTargetBucketForLogging"
    a.put_object(Bucket="r20-logged", Key="k", Body=b"x")
    assert b.list_objects_v2(Bucket="r20-b-logs").get("KeyCount", 0) == 0


def _queue_policy(queue_arn: str, service: str, source_arn: str, source_account: str) -> str:
    """The destination queue policy the SNS and S3 guides give: the service, aws:SourceArn and aws:SourceAccount."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": source_arn},
                        "StringEquals": {"aws:SourceAccount": source_account},
                    },
                }
            ],
        }
    )


def _received(server: Endpoint, url: str) -> int:
    """Messages in A's queue, read until two empty long polls in a row (a positive signal bounded in time)."""
    sqs, count, empty = server.client("sqs", key=A), 0, 0
    while empty < 2:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        count, empty = count + len(got), 0 if got else empty + 1
    return count


@pytest.mark.parametrize("condition_account", ["owner", "caller"])
def test_sns_to_sqs_source_account_is_the_topic_owner(server: Endpoint, condition_account: str) -> None:
    """Attack: B publishes to A's topic (the topic policy lets B publish); A's queue lets sns.amazonaws.com send
    only for aws:SourceAccount B, the publisher. AWS: aws:SourceAccount is the account of the resource making the
    service-to-service request — the topic's owner, A (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_condition-keys.html#condition-keys-sourceaccount, https://docs.aws.amazon.com/sns/latest/dg/
    subscribe-sqs-queue-to-sns-topic.html): delivered for A, never for B."""
    name = f"r20-sns-{condition_account}"
    sns, sqs = server.client("sns", key=A), server.client("sqs", key=A)
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sns:Publish", "Resource": topic}],
            }
        ),
    )
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue = f"arn:aws:sqs:{EAST}:{A}:{name}"
    account = A if condition_account == "owner" else B
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": _queue_policy(queue, "sns.amazonaws.com", topic, account)}
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue)
    server.client("sns", key=B).publish(TopicArn=topic, Message="from B")
    assert _received(server, url) == (1 if condition_account == "owner" else 0)


@pytest.mark.parametrize("condition_account", ["owner", "caller"])
def test_s3_to_sqs_source_account_is_the_bucket_owner(server: Endpoint, condition_account: str) -> None:
    """Attack: B writes into A's bucket (the bucket policy lets B put objects); A's queue lets s3.amazonaws.com send
    only for aws:SourceAccount B, the writer. AWS: aws:SourceAccount is the bucket owner's account
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html): the
    configuration is refused for B (its validation is S3's own delivery), accepted and delivered for A."""
    name = f"r20-s3-{condition_account}"
    s3, sqs = server.client("s3", key=A), server.client("sqs", key=A)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{name}/*",
                    }
                ],
            }
        ),
    )
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue = f"arn:aws:sqs:{EAST}:{A}:{name}"
    account = A if condition_account == "owner" else B
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": _queue_policy(queue, "s3.amazonaws.com", f"arn:aws:s3:::{name}", account)}
    )
    config = {"QueueConfigurations": [{"QueueArn": queue, "Events": ["s3:ObjectCreated:*"]}]}
    if condition_account == "caller":
        with pytest.raises(ClientError) as refused:
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)
        assert refused.value.response["Error"]["Code"] == "InvalidArgument"
        return
    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)
    server.client("s3", key=B).put_object(Bucket=name, Key="k", Body=b"x")
    bodies = []
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        bodies += [m["Body"] for m in got]
        if any("ObjectCreated" in body for body in bodies):
            break
    assert any("ObjectCreated" in body for body in bodies)


@pytest.mark.parametrize("condition_account", ["owner", "caller"])
def test_sns_to_lambda_source_account_is_the_topic_owner(server: Endpoint, condition_account: str) -> None:
    """Attack: B publishes to A's topic (the topic policy lets B publish); A's function policy lets
    sns.amazonaws.com invoke for this topic only with aws:SourceAccount B, the publisher (AddPermission
    `SourceAccount`). AWS: aws:SourceAccount is the topic owner's account
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount,
    https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html): the delivery is allowed for A, denied for B (the
    trail's record of SNS's Invoke says which)."""
    name = f"r20-fn-{condition_account}"
    lam, sns = server.client("lambda", key=A), server.client("sns", key=A)
    role = make_role(server.client("iam", key=A), name)
    function = lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(event, context):\n    return 1\n"})},
    )["FunctionArn"]
    topic = sns.create_topic(Name=name)["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sns:Publish", "Resource": topic}],
            }
        ),
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
        SourceAccount=A if condition_account == "owner" else B,
    )
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)
    server.client("sns", key=B).publish(TopicArn=topic, Message="from B")
    records = wait_for(
        "SNS's Invoke record",
        lambda: [
            r
            for r in sns_invokes(server)
            if topic in (r["requestParameters"].get("sourceArn"), r["requestParameters"].get("SourceArn"))
        ],
    )
    assert records[0].get("errorCode") == (None if condition_account == "owner" else "AccessDeniedException")


def _user_key(server: Endpoint, name: str) -> tuple[str, str]:
    """An IAM user of A allowed every SQS action: a key whose signature is verified (not a root key of a test id)."""
    iam = server.client("iam", key=A)
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="sqs",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _absolute(server: Endpoint, key: tuple[str, str], target: str, name: str) -> tuple[int, bytes]:
    """`POST <target> HTTP/1.1` (a CreateQueue of `name`) with Host sqs.us-east-1.amazonaws.com, signed for us-east-1
    with the IAM user's key over that Host."""
    body = f"Action=CreateQueue&Version=2012-11-05&QueueName={name}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": _EAST_HOST}
    request = AWSRequest("POST", f"{server.url}/", data=body, headers=headers)
    SigV4Auth(Credentials(*key), "sqs", EAST).add_auth(request)
    lines = {k: v for k, v in request.prepare().headers.items() if k.lower() != "content-length"}
    head = f"POST {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in lines.items())
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    port = urlsplit(server.url).port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode() + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]


_EAST_HOST = "sqs.us-east-1.amazonaws.com"
_TARGETS = {  # case -> (absolute target, whether AWS serves it)
    "the signed host": (f"http://{_EAST_HOST}/", True),
    "another region": ("http://sqs.eu-west-1.amazonaws.com/", False),
    "another host": ("http://example.com/", False),
    "the signed host on another port": (f"http://{_EAST_HOST}:8443/", False),
}


@pytest.mark.parametrize("case", sorted(_TARGETS))
def test_an_absolute_target_signed_by_an_iam_user_is_served_only_as_signed(server: Endpoint, case: str) -> None:
    """Attack (round 19's open lead): a request line in absolute form whose authority is not the Host the IAM user's
    key signed. AWS: the canonical request's `host` is the request's host (https://docs.aws.amazon.com/IAM/latest/
    UserGuide/create-signed-request.html), and the target's authority is the request's host (RFC 9112 §3.2.2); a
    region other than the scope's is refused (reference_sigv-troubleshooting.html). Served only when the target
    names the signed host; otherwise refused (403) and no queue exists in either region."""
    target, served = _TARGETS[case]
    key = _user_key(server, f"r20abs{sorted(_TARGETS).index(case)}")
    name = f"r20abs{sorted(_TARGETS).index(case)}"
    status, answer = _absolute(server, key, target, name)
    sqs = {region: server.client("sqs", key=A, region=region) for region in (EAST, WEST)}
    exists = {r: bool(c.list_queues(QueueNamePrefix=name).get("QueueUrls")) for r, c in sqs.items()}
    if served:
        assert status == 200, answer
        assert exists == {EAST: True, WEST: False}
    else:
        assert status == 403, answer
        assert exists == {EAST: False, WEST: False}


def _send(server: Endpoint, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    port = urlsplit(server.url).port
    assert port is not None
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode() + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]


def _signed_create(name: str, extra: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """A CreateQueue signed for us-east-1 by A's root key, `extra` headers signed with it."""
    body = f"Action=CreateQueue&Version=2012-11-05&QueueName={name}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": _EAST_HOST, **extra}
    request = AWSRequest("POST", "http://127.0.0.1/", data=body, headers=headers)
    SigV4Auth(Credentials(A, "secret"), "sqs", EAST).add_auth(request)
    return {k: v for k, v in request.prepare().headers.items() if k.lower() != "content-length"}, body


def _sigv4a(headers: dict[str, str]) -> dict[str, str]:
    """The same request claiming SigV4A: its algorithm, no region in the scope, the region set in a header."""
    authorization = headers["Authorization"].replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")
    return {**headers, "Authorization": authorization.replace("/us-east-1/sqs/", "/sqs/")}


def _yesterday_scope(headers: dict[str, str]) -> dict[str, str]:
    """The credential scope's date a day before X-Amz-Date's."""
    day = headers["X-Amz-Date"][:8]
    earlier = f"{int(day) - 1:08d}" if not day.endswith("01") else f"{int(day) + 1:08d}"
    return {**headers, "Authorization": headers["Authorization"].replace(f"/{day}/", f"/{earlier}/")}


_SCOPES = {  # case -> (extra signed headers, rewrite of the signed headers)
    "SigV4A naming eu-west-1 in X-Amz-Region-Set": ({"X-Amz-Region-Set": WEST}, _sigv4a),
    "SigV4A naming every region in X-Amz-Region-Set": ({"X-Amz-Region-Set": "*"}, _sigv4a),
    "a credential scope dated another day than X-Amz-Date": ({}, _yesterday_scope),
}


@pytest.mark.parametrize("case", sorted(_SCOPES))
def test_a_region_or_date_outside_the_sigv4_scope_is_refused(server: Endpoint, case: str) -> None:
    """Attack: a request whose region or date is read outside SigV4's credential scope — SigV4A's
    `X-Amz-Region-Set` (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html; lambdaperm does not
    serve SigV4A: refused as an unsupported algorithm, never read as a region), or a scope dated another day than
    X-Amz-Date ("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP",
    reference_sigv-troubleshooting.html). Refused with a client error (never a 500), no queue in either region."""
    extra, rewrite = _SCOPES[case]
    name = f"r20scope{sorted(_SCOPES).index(case)}"
    headers, body = _signed_create(name, extra)
    status, answer = _send(server, rewrite(headers), body)
    assert status in (400, 403), answer
    for region in (EAST, WEST):
        assert not server.client("sqs", key=A, region=region).list_queues(QueueNamePrefix=name).get("QueueUrls")


def test_an_x_amz_region_set_header_beside_sigv4_is_not_a_region(server: Endpoint) -> None:
    """Attack: a SigV4 (HMAC) request scoped to us-east-1 that also signs `X-Amz-Region-Set: eu-west-1`. The
    region of a SigV4 request is its credential scope's (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_sigv.html): the queue is never created in eu-west-1 (served in us-east-1, or refused)."""
    name = "r20regionset"
    headers, body = _signed_create(name, {"X-Amz-Region-Set": WEST})
    status, answer = _send(server, headers, body)
    assert status < 500, answer
    assert not server.client("sqs", key=A, region=WEST).list_queues(QueueNamePrefix=name).get("QueueUrls")
    created = bool(server.client("sqs", key=A, region=EAST).list_queues(QueueNamePrefix=name).get("QueueUrls"))
    assert created == (status == 200), answer


def test_a_host_naming_no_region_does_not_make_a_bucket_of_another_region_us_east_1(server: Endpoint) -> None:
    """Attack: an IAM user denied S3 where aws:RequestedRegion is eu-west-1 reads a bucket of eu-west-1 through a
    host naming no region (the server's own, as S3's us-east-1 legacy global endpoint `s3.amazonaws.com`, which
    finds every region's buckets by name), signed for us-east-1.
    AWS: a request signed for another region than the bucket's is refused ("the region 'us-east-1' is wrong;
    expecting 'eu-west-1'", https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonResponseHeaders.html,
    reference_sigv-troubleshooting.html); signed for eu-west-1 the Deny applies
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion).
    Either way the listing is not served."""
    server.client("s3", key=A, region=WEST).create_bucket(
        Bucket="r20-west", CreateBucketConfiguration={"LocationConstraint": WEST}
    )
    server.client("s3", key=A, region=WEST).put_object(Bucket="r20-west", Key="secret", Body=b"x")
    server.client("s3", key=A).create_bucket(Bucket="r20-east")
    iam = server.client("iam", key=A)
    iam.create_user(UserName="r20-s3")
    iam.put_user_policy(
        UserName="r20-s3",
        PolicyName="no-west",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:RequestedRegion": WEST}},
                    },
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="r20-s3")["AccessKey"]
    user = server.client("s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"], region=EAST)
    for call in (
        lambda: user.list_objects_v2(Bucket="r20-west"),
        lambda: user.get_object(Bucket="r20-west", Key="secret"),
        lambda: user.head_bucket(Bucket="r20-west"),
    ):
        with pytest.raises(ClientError):
            call()
    assert user.list_objects_v2(Bucket="r20-east")["KeyCount"] == 0  # control: the key and the Allow work
