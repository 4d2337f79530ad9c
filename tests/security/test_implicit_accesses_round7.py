"""Attack class: implicit accesses, review round 7 — accesses a service makes itself, on a caller's behalf or as
its own service principal, each authorized as AWS authorizes it; and what the durable data plane does with them
at a restart.

Each test plays the attack against a real `lambdaperm serve` with real boto3 (or raw signed HTTP) and asserts
AWS's outcome. The structural oracle (tests/structural) also checks *acted-on ⊆ authorized* when each test's
server stops.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import key_pair, user_keys

REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def to_host(
    server: Endpoint, method: str, path: str, host: str, *, key: str, scope: str = "s3", body: bytes = b""
) -> tuple[int, bytes]:
    """A request signed by botocore for `scope`/us-east-1 with exactly this Host, sent to the server."""
    request = AWSRequest(method, f"http://{host}{path}", data=body)
    (S3SigV4Auth if scope.startswith("s3") else SigV4Auth)(Credentials(key, "test"), scope, REGION).add_auth(request)
    netloc = urlsplit(server.url).netloc
    name, port = netloc.split(":")
    conn = http.client.HTTPConnection(name, int(port), timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for header, value in request.prepare().headers.items():
            if str(header).lower() != "content-length":
                conn.putheader(str(header), str(value))
        conn.putheader("Host", host)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ---- S3 endpoints that are not bucket endpoints ------------------------------------------------------------------

UNSERVED_HOSTS = [
    ("olap-{a}.s3-object-lambda.us-east-1.amazonaws.com", "/secret"),  # an Object Lambda access point
    ("olap-{a}.s3-object-lambda-fips.us-east-1.amazonaws.com", "/secret"),
    ("s3-object-lambda.us-east-1.amazonaws.com", "/olap-{a}/secret"),  # path style to the Object Lambda endpoint
    ("olap-{a}.s3-accesspoint.us-east-1.amazonaws.com", "/secret"),  # an access point
    ("olap-{a}.s3-accesspoint.dualstack.us-east-1.amazonaws.com", "/secret"),
    ("olap-{a}.s3-control.us-east-1.amazonaws.com", "/secret"),  # S3 Control (signed as s3)
    ("olap-{a}.s3-outposts.us-east-1.amazonaws.com", "/secret"),
]


@pytest.mark.parametrize(("host", "path"), UNSERVED_HOSTS)
def test_object_lambda_and_access_point_hosts_are_not_read_as_buckets(server: Endpoint, host: str, path: str) -> None:
    """Attack: a request signed for `s3` sent to an S3 Object Lambda access point host
    (`<name>-<account>.s3-object-lambda.<region>.amazonaws.com`), an access point host, S3 Control's or Outposts'
    was read as a plain S3 call on a bucket named by the host's first label (`olap-<account>`): GetObject answered
    that bucket's object, PutObject wrote into it — a call AWS never makes on that bucket.
    AWS rule: those hosts name an Object Lambda access point (authorized as `s3-object-lambda:*` on its ARN, its
    reads run a Lambda function, https://docs.aws.amazon.com/AmazonS3/latest/userguide/olap-use.html), an access
    point (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-naming.html), the S3 Control API or
    S3 on Outposts — never a bucket. lambdaperm serves none of them: 501 NotImplemented, nothing read or written."""
    account = "770700000001"
    s3 = server.client("s3", key=account)
    bucket = f"olap-{account}"
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as err:  # parametrized: created by the first case
        assert err.response["Error"]["Code"] == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket=bucket, Key="secret", Body=b"the bucket's own object")
    host, path = host.format(a=account), path.format(a=account)
    status, body = to_host(server, "GET", path, host, key=account)
    assert status == 501, body
    assert b"<Code>NotImplemented</Code>" in body
    assert b"the bucket's own object" not in body
    status, body = to_host(server, "PUT", path, host, key=account, body=b"overwritten")
    assert status == 501, body
    assert s3.get_object(Bucket=bucket, Key="secret")["Body"].read() == b"the bucket's own object"


def test_bucket_endpoints_still_serve_virtual_hosted_requests(server: Endpoint) -> None:
    """Positive control: a bucket's own virtual-hosted endpoints (`s3`, `s3-<region>`, `s3-external-1`, `s3-fips`,
    dualstack) are read as that bucket, and a request signed for the `s3-object-lambda` service is refused as a
    service lambdaperm does not serve."""
    account = "770700000002"
    s3 = server.client("s3", key=account)
    bucket = f"plain-{account}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"plain")
    for host in (
        f"{bucket}.s3.us-east-1.amazonaws.com",
        f"{bucket}.s3.amazonaws.com",
        f"{bucket}.s3-external-1.amazonaws.com",
        f"{bucket}.s3-fips.us-east-1.amazonaws.com",
        f"{bucket}.s3.dualstack.us-east-1.amazonaws.com",
        f"{bucket}.localhost",
    ):
        status, body = to_host(server, "GET", "/k", host, key=account)
        assert (status, body) == (200, b"plain"), host
    status, body = to_host(
        server, "GET", "/k", f"{bucket}.s3-object-lambda.us-east-1.amazonaws.com", key=account, scope="s3-object-lambda"
    )
    assert status == 400 and b"plain" not in body


# ---- function settings whose accesses Lambda makes, and lambdaperm does not serve --------------------------------


def _user(server: Endpoint, account: str, name: str, document: dict[str, Any]) -> tuple[str, str]:
    return key_pair(user_keys(server, account, name, document=document))


def test_a_required_code_signing_config_is_not_dropped(server: Endpoint) -> None:
    """Attack: the account lets developers create functions only with the organization's code signing
    configuration (`lambda:CodeSigningConfigArn` in the policy's condition), whose policy enforces signatures. A
    developer passes that ARN with an unsigned package: lambdaperm authorized the call on the ARN, then dropped the
    configuration — an unsigned function ran, with no configuration attached.
    AWS rule: Lambda reads the code signing configuration named and checks the package against its signing
    profiles; with UntrustedArtifactOnDeployment Enforce an unsigned package is refused
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-codesigning.html; the condition key:
    https://docs.aws.amazon.com/lambda/latest/dg/code-signing-policies.html). lambdaperm serves no code signing
    configuration: 501 NotImplemented, and no function."""
    account = "770700000003"
    csc = f"arn:aws:lambda:{REGION}:{account}:code-signing-config:csc-0123456789abcdef0"
    role = make_role(server.client("iam", key=account), "signed-only-role")
    key, secret = _user(
        server,
        account,
        "developer",
        policy(
            {
                "Effect": "Allow",
                "Action": "lambda:CreateFunction",
                "Resource": "*",
                "Condition": {"StringEquals": {"lambda:CodeSigningConfigArn": csc}},
            },
            {"Effect": "Allow", "Action": ["iam:PassRole", "lambda:GetFunction"], "Resource": "*"},
        ),
    )
    lam = server.client("lambda", key=key, secret=secret)
    create = {"Runtime": "python3.11", "Role": role, "Handler": "app.handler", "Code": {"ZipFile": CODE}}
    with pytest.raises(ClientError) as denied:  # the policy's condition holds without the configuration
        lam.create_function(FunctionName="unsigned", **create)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as refused:
        lam.create_function(FunctionName="unsigned", CodeSigningConfigArn=csc, **create)
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert "CodeSigningConfigArn" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        lam.get_function(FunctionName="unsigned")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


UNSERVED_SETTINGS = [
    ("Layers", {"Layers": ["arn:aws:lambda:us-east-1:770700000004:layer:shared:1"]}),
    ("KMSKeyArn", {"KMSKeyArn": "arn:aws:kms:us-east-1:770700000004:key/1234abcd-12ab-34cd-56ef-1234567890ab"}),
    (
        "FileSystemConfigs",
        {
            "FileSystemConfigs": [
                {
                    "Arn": "arn:aws:elasticfilesystem:us-east-1:770700000004:access-point/fsap-0123456789abcdef0",
                    "LocalMountPath": "/mnt/shared",
                }
            ]
        },
    ),
    ("LoggingConfig.LogGroup", {"LoggingConfig": {"LogFormat": "Text", "LogGroup": "/another/group"}}),
]


@pytest.mark.parametrize(("setting", "extra"), UNSERVED_SETTINGS, ids=[s for s, _ in UNSERVED_SETTINGS])
def test_settings_lambda_would_act_on_are_refused_not_dropped(
    server: Endpoint, setting: str, extra: dict[str, Any]
) -> None:
    """Attack: a setting that makes Lambda reach another resource — read a layer version as the caller, encrypt
    with a customer managed key as the caller, mount an EFS access point or write logs to a chosen group as the
    role — was accepted and silently dropped: the function was created (or updated) and answered as if configured,
    while none of those accesses was decided, and an account's own layer ARN was accepted though no such layer
    exists.
    AWS rule: each setting is an access Lambda makes and decides (layers:
    https://docs.aws.amazon.com/lambda/latest/dg/chapter-layers.html; keys:
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html; file systems:
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-filesystem.html; log groups:
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html). lambdaperm serves none
    of them: 501 NotImplemented naming the setting, at CreateFunction and UpdateFunctionConfiguration, and
    nothing changes."""
    account = "770700000004"
    lam = server.client("lambda", key=account)
    role = make_role(server.client("iam", key=account), f"settings-{setting.replace('.', '-')}")
    name = f"settings-{setting.replace('.', '-')}"
    base = {"Runtime": "python3.11", "Role": role, "Handler": "app.handler", "Code": {"ZipFile": CODE}}
    with pytest.raises(ClientError) as refused:
        lam.create_function(FunctionName=name, **base, **extra)
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    assert setting in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        lam.get_function(FunctionName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    before = lam.create_function(FunctionName=name, **base)  # positive control: without the setting
    with pytest.raises(ClientError) as refused:
        lam.update_function_configuration(FunctionName=name, Timeout=9, **extra)
    assert refused.value.response["Error"]["Code"] == "NotImplemented"
    after = lam.get_function_configuration(FunctionName=name)
    assert after["Timeout"] == before["Timeout"] and after["RevisionId"] == before["RevisionId"]
    empty = {"Layers": [], "KMSKeyArn": "", "FileSystemConfigs": []}
    lam.update_function_configuration(FunctionName=name, Timeout=9, **empty)  # what lambdaperm does is accepted
    lam.update_function_configuration(
        FunctionName=name, LoggingConfig={"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    )


# ---- the durable data plane's restart: deliveries are not decided again, functions not invoked again ------------

RECORDER = """
import boto3

def handler(event, context):
    for record in event.get("Records", []):
        what = record["s3"]["object"]["key"] if "s3" in record else record["Sns"]["Message"]
        boto3.client("dynamodb", region_name="us-east-1").put_item(
            TableName="events", Item={"id": {"S": context.aws_request_id + what}, "what": {"S": what}})
"""


def _recorded(server: Endpoint, count: int) -> list[str]:
    """What the recorder function recorded, once at least `count` records are there (bounded wait)."""
    ddb = server.client("dynamodb")
    deadline = time.monotonic() + 30
    while True:
        items = ddb.scan(TableName="events", ConsistentRead=True)["Items"]
        if len(items) >= count:
            return sorted(i["what"]["S"] for i in items)
        assert time.monotonic() < deadline, f"{len(items)} of {count} invocations recorded"
        time.sleep(0.2)


def _queue_policy(queue_arn: str, bucket: str) -> str:
    return json.dumps(
        policy(
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{bucket}"}},
            }
        )
    )


def test_a_restart_neither_decides_deliveries_again_nor_invokes_functions(
    tmp_path: Path, make_server: Callable[..., Endpoint]
) -> None:
    """Attack: with --state, the data plane is rebuilt at start-up by running the journal again. If a push
    delivery were decided again at replay, a delivery S3 dropped (the queue policy denied it then) would be made
    with today's policy (a wrong allow, after the fact); if S3 → Lambda or SNS → Lambda deliveries ran again, every
    restart would invoke functions a second time (a side effect nobody asked for).
    AWS rule: a notification is authorized when the event happens, against the destination's policy of that time
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html); a delivery
    is made once, not again when the service restarts. After a kill -9 (the journal replayed, no snapshot): the
    dropped delivery is still absent, the allowed one present once, each function invocation recorded once, and a
    new event after the restart is delivered (positive control)."""
    account = "000000000000"
    state = tmp_path / "state"
    first = make_server(state)
    ddb, s3, sqs, sns = first.client("dynamodb"), first.client("s3"), first.client("sqs"), first.client("sns")
    lam = first.client("lambda")
    ddb.create_table(
        TableName="events",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = f"arn:aws:dynamodb:{REGION}:{account}:table/events"
    role = make_role(
        first.client("iam"),
        "recorder-role",
        policy({"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}),
    )
    function = lam.create_function(
        FunctionName="recorder",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": RECORDER})},
        Timeout=20,
    )["FunctionArn"]
    bucket, other = "replayed-src", "some-other-bucket"
    s3.create_bucket(Bucket=bucket)
    topic = sns.create_topic(Name="replayed-topic")["TopicArn"]
    lam.add_permission(
        FunctionName="recorder",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount=account,
    )
    lam.add_permission(
        FunctionName="recorder",
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    queue = sqs.create_queue(QueueName="replayed-sink")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{account}:replayed-sink"
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": _queue_policy(queue_arn, bucket)})
    prefix = lambda value: {"Key": {"FilterRules": [{"Name": "prefix", "Value": value}]}}  # noqa: E731
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function, "Events": ["s3:ObjectCreated:*"], "Filter": prefix("lam/")}
            ],
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"], "Filter": prefix("q/")}],
        },
    )
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)
    s3.put_object(Bucket=bucket, Key="lam/1", Body=b"x")
    sns.publish(TopicArn=topic, Message="sns/1")
    assert _recorded(first, 2) == ["lam/1", "sns/1"]
    s3.put_object(Bucket=bucket, Key="q/allowed", Body=b"x")
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": _queue_policy(queue_arn, other)})
    s3.put_object(Bucket=bucket, Key="q/denied", Body=b"x")  # dropped: the queue's policy denies it now
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": _queue_policy(queue_arn, bucket)})  # open again
    first.proc.kill()  # SIGKILL: no snapshot, the start-up replays the journal
    first.proc.wait()

    second = make_server(state)
    second.client("s3").put_object(Bucket=bucket, Key="lam/2", Body=b"x")  # positive control: delivered now
    assert _recorded(second, 3) == ["lam/1", "lam/2", "sns/1"]
    keys: list[str] = []
    while messages := second.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            body = json.loads(message["Body"])
            keys += [unquote_plus(r["s3"]["object"]["key"]) for r in body.get("Records", [])]  # TestEvent: none
    assert keys == ["q/allowed"]
