"""Attack class: region and account confusion (review round 18).

Round 17 found a function URL answered on another region's host. This round takes that shape — a region read from a
host — to every place a request's host can name a region: the `Host` header of every served protocol (query, EC2,
JSON, REST-JSON, REST-XML; S3 path-style, virtual-hosted, dualstack, `s3-<region>` and `s3.<region>` hosts; SQS's
`queue.amazonaws.com` forms; VPC endpoint, FIPS, dualstack `api.aws` and local hosts), signed in the Authorization
header or presigned in the query. One reading: a host naming another region than the credential scope is refused,
and nothing is created in either region. Then destinations AWS requires in the function's region or account, given
another region's or account's ARN (a Lambda dead-letter target, an environment KMS key, a layer).

AWS: "Credential should be scoped to a valid region" — a request is signed for the region of the endpoint it is sent
to (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html); S3 answers
AuthorizationHeaderMalformed "the region '<signed>' is wrong; expecting '<region>'"
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html). Each test runs a real `lambdaperm serve`
(tests/e2e/conftest.py) with raw signed HTTP or real boto3.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import HANDLER, make_role, zip_of

A = "079170000018"
B = "079170000019"
EAST, WEST = "us-east-1", "eu-west-1"

_FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def _send(
    server: Endpoint,
    method: str,
    path: str,
    host: str,
    headers: dict[str, str],
    body: bytes,
    service: str,
    *,
    presigned: bool = False,
) -> tuple[int, bytes]:
    """A request signed for us-east-1 by A's root key, sent to the server with exactly `host` as its Host header."""
    request = AWSRequest(method, f"{server.url}{path}", data=body, headers={**headers, "Host": host})
    credentials = Credentials(A, "secret")
    if presigned:
        SigV4QueryAuth(credentials, service, EAST, expires=300).add_auth(request)
    else:
        (S3SigV4Auth if service == "s3" else SigV4Auth)(credentials, service, EAST).add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(prepared.url, data=body or None, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(sent, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


@dataclass(frozen=True)
class Create:
    """A call that creates `name` (signed for us-east-1), and how to see whether `name` exists in a region."""

    service: str
    prefix: str  # the service's host prefix
    request: Callable[[str], tuple[str, str, dict[str, str], bytes]]  # name -> (method, path, headers, body)
    exists: Callable[[Endpoint, str, str], bool]  # (server, region, name)
    presignable: bool = False


def _query(action: str, version: str, **members: str) -> Callable[[str], tuple[str, str, dict[str, str], bytes]]:
    def make(name: str) -> tuple[str, str, dict[str, str], bytes]:
        pairs = {"Action": action, "Version": version, **{k: v.format(name=name) for k, v in members.items()}}
        return "POST", "/", _FORM, "&".join(f"{k}={v}" for k, v in pairs.items()).encode()

    return make


def _json(target: str, document: dict[str, Any], version: str = "1.0") -> Callable[..., Any]:
    def make(name: str) -> tuple[str, str, dict[str, str], bytes]:
        body = json.dumps(document).replace("{name}", name).encode()
        return "POST", "/", {"Content-Type": f"application/x-amz-json-{version}", "X-Amz-Target": target}, body

    return make


def _queue_exists(server: Endpoint, region: str, name: str) -> bool:
    urls = server.client("sqs", key=A, region=region).list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    return any(url.endswith(f"/{name}") for url in urls)


def _topic_exists(server: Endpoint, region: str, name: str) -> bool:
    topics = server.client("sns", key=A, region=region).list_topics()["Topics"]
    return any(t["TopicArn"].endswith(f":{name}") for t in topics)


def _group_exists(server: Endpoint, region: str, name: str) -> bool:
    groups = server.client("logs", key=A, region=region).describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return any(g["logGroupName"] == name for g in groups)


def _table_exists(server: Endpoint, region: str, name: str) -> bool:
    return name in server.client("dynamodb", key=A, region=region).list_tables()["TableNames"]


def _security_group_exists(server: Endpoint, region: str, name: str) -> bool:
    found = server.client("ec2", key=A, region=region).describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return bool(found)


def _bucket_exists(server: Endpoint, region: str, name: str) -> bool:
    """Whether bucket `name` exists in `region` (bucket names are global: its location says where)."""
    s3 = server.client("s3", key=A, region=region)
    if not any(b["Name"] == name for b in s3.list_buckets()["Buckets"]):
        return False
    location = server.client("s3", key=A, region=EAST).get_bucket_location(Bucket=name)["LocationConstraint"]
    return (location or EAST) == region


def _alias_exists(server: Endpoint, region: str, name: str) -> bool:
    try:
        server.client("lambda", key=A, region=region).get_alias(FunctionName="r18-host-f", Name=name)
    except ClientError:
        return False
    return True


def _create_bucket(name: str) -> tuple[str, str, dict[str, str], bytes]:
    return "PUT", f"/{name}", {}, b""


def _create_alias(name: str) -> tuple[str, str, dict[str, str], bytes]:
    body = json.dumps({"Name": name, "FunctionVersion": "$LATEST"}).encode()
    return "POST", "/2015-03-31/functions/r18-host-f/aliases", {"Content-Type": "application/json"}, body


CREATES = {
    "sqs": Create("sqs", "sqs", _query("CreateQueue", "2012-11-05", QueueName="{name}"), _queue_exists, True),
    "sns": Create("sns", "sns", _query("CreateTopic", "2010-03-31", Name="{name}"), _topic_exists, True),
    "ec2": Create(
        "ec2",
        "ec2",
        _query("CreateSecurityGroup", "2016-11-15", GroupName="{name}", GroupDescription="d"),
        _security_group_exists,
        True,
    ),
    "logs": Create(
        "logs", "logs", _json("Logs_20140328.CreateLogGroup", {"logGroupName": "{name}"}, "1.1"), _group_exists
    ),
    "dynamodb": Create(
        "dynamodb",
        "dynamodb",
        _json(
            "DynamoDB_20120810.CreateTable",
            {
                "TableName": "{name}",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            },
        ),
        _table_exists,
    ),
    "lambda": Create("lambda", "lambda", _create_alias, _alias_exists),
    "s3": Create("s3", "s3", _create_bucket, _bucket_exists),
}

# Hosts naming eu-west-1, as `{p}` (the service's host prefix) fills them: every form a region appears in
HOSTS = [
    "{p}.eu-west-1.amazonaws.com",
    "{P}.EU-WEST-1.AMAZONAWS.COM",
    "{p}.eu-west-1.amazonaws.com.",
    "{p}.eu-west-1.amazonaws.com:443",
    "{p}.eu-west-1.amazonaws.com.:443",
    "{p}.eu-west-1.api.aws",
    "{p}.dualstack.eu-west-1.amazonaws.com",
    "{p}-fips.eu-west-1.amazonaws.com",
    "{p}-fips.dualstack.eu-west-1.amazonaws.com",
    "vpce-0a1b2c3d4e5f-abcdefgh.{p}.eu-west-1.vpce.amazonaws.com",
    "{p}.eu-west-1.amazonaws.com.cn",
    "{p}.eu-west-1.localhost",
    "{p}.eu-west-1.localhost:4566",
    "{p}.eu-west-1",
    "eu-west-1.{p}.amazonaws.com",
]
# Forms only one service answers on
EXTRA_HOSTS = {
    "sqs": ["eu-west-1.queue.amazonaws.com", "EU-WEST-1.QUEUE.AMAZONAWS.COM"],
    "s3": [
        "s3-eu-west-1.amazonaws.com",
        "s3.dualstack.eu-west-1.amazonaws.com",
        "s3-website-eu-west-1.amazonaws.com",
        "s3-website.eu-west-1.amazonaws.com",
        "{bucket}.s3.eu-west-1.amazonaws.com",
        "{bucket}.s3-eu-west-1.amazonaws.com",
        "{bucket}.s3.dualstack.eu-west-1.amazonaws.com",
        "{bucket}.s3.eu-west-1.localhost:4566",
        "{bucket}.S3.EU-WEST-1.AMAZONAWS.COM",
    ],
}

# Hosts that are no region's for one service: for S3 they name a bucket, as S3 reads them (virtual-hosted style on
# the global endpoint, `eu-west-1.s3.amazonaws.com` is bucket `eu-west-1`; lambdaperm's local convention
# `<bucket>.localhost`, protocol/hosts.py) — the request is then read as one on that bucket, in the signed region.
NOT_A_REGION = {
    "s3": {"{p}.eu-west-1.localhost", "{p}.eu-west-1.localhost:4566", "eu-west-1.{p}.amazonaws.com"},
}

_CASES = [
    (service, host, presigned)
    for service, create in CREATES.items()
    for host in HOSTS + EXTRA_HOSTS.get(service, [])
    if host not in NOT_A_REGION.get(service, set())
    for presigned in ((False, True) if create.presignable else (False,))
]


@pytest.fixture(scope="module")
def lambda_function(server: Endpoint) -> str:
    """A's function in us-east-1, the parent of the Lambda case's alias."""
    role = make_role(server.client("iam", key=A), "r18-host-exec")
    for attempt in range(60):  # a new role may take a moment to be assumable, as on AWS: bounded
        try:
            server.client("lambda", key=A).create_function(
                FunctionName="r18-host-f",
                Runtime="python3.12",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": zip_of({"app.py": HANDLER})},
            )
            break
        except ClientError as err:
            if attempt == 59 or "cannot be assumed" not in str(err):
                raise
    return "r18-host-f"


def _name(service: str, index: int, presigned: bool) -> str:
    return f"r18-h{index}{'p' if presigned else ''}-{service}"


@pytest.mark.parametrize(
    ("service", "host", "presigned"), _CASES, ids=[f"{s}-{h}-{'query' if p else 'header'}" for s, h, p in _CASES]
)
def test_a_host_naming_another_region_is_refused_and_creates_nothing(
    server: Endpoint, lambda_function: str, service: str, host: str, presigned: bool
) -> None:
    """Attack: a create signed for us-east-1 (its credential scope) sent with a Host naming eu-west-1, in every form a
    region appears in a host, for every protocol. AWS: the endpoint a request reaches is the region of its host, and
    a credential scoped to another region is refused (query/EC2 403 SignatureDoesNotMatch, JSON/REST-JSON
    InvalidSignatureException, S3 400 AuthorizationHeaderMalformed or AuthorizationQueryParametersError)
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html). One reading: never acted
    on, in eu-west-1 (the host's) or in us-east-1 (the scope's)."""
    create = CREATES[service]
    index = _CASES.index((service, host, presigned))
    name = _name(service, index, presigned)
    written = host.format(p=create.prefix, P=create.prefix.upper(), bucket=name)
    method, path, headers, body = create.request(name)
    if "{bucket}" in host:  # virtual-hosted style: the bucket is in the host
        path = "/"
    if presigned:  # a query-protocol call in the query string, signed there (a presigned URL)
        method, path, headers, body = "GET", f"/?{body.decode()}", {}, b""
    status, answer = _send(server, method, path, written, headers, body, service, presigned=presigned)
    assert 400 <= status < 500, (status, answer[:300])
    assert b"region" in answer.lower() or b"Region" in answer, answer[:300]
    assert not create.exists(server, EAST, name), f"{name} was created in us-east-1"
    assert not create.exists(server, WEST, name), f"{name} was created in eu-west-1"


@pytest.mark.parametrize("service", sorted(CREATES))
def test_the_same_create_on_the_signed_regions_host_is_served(
    server: Endpoint, lambda_function: str, service: str
) -> None:
    """Control: each create of the table, on a host naming us-east-1 (the scope's), is served and creates `name`
    there only — the table's refusals are the host's, not the call's."""
    create = CREATES[service]
    name = f"r18-ok-{service}"
    method, path, headers, body = create.request(name)
    host = "s3.us-east-1.amazonaws.com" if service == "s3" else f"{create.prefix}.us-east-1.amazonaws.com"
    status, answer = _send(server, method, path, host, headers, body, service)
    assert 200 <= status < 300, (status, answer[:300])
    assert create.exists(server, EAST, name)
    assert not create.exists(server, WEST, name)


# ---------------------------------------------------------------- settings naming another region or account

_SETTINGS = {
    "dlq-queue-of-another-region": {"DeadLetterConfig": {"TargetArn": f"arn:aws:sqs:{WEST}:{A}:r18-dlq"}},
    "dlq-topic-of-another-region": {"DeadLetterConfig": {"TargetArn": f"arn:aws:sns:{WEST}:{A}:r18-dlq"}},
    "dlq-queue-of-another-account": {"DeadLetterConfig": {"TargetArn": f"arn:aws:sqs:{EAST}:{B}:r18-dlq"}},
    "kms-key-of-another-region": {"KMSKeyArn": f"arn:aws:kms:{WEST}:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
    "kms-key-of-another-account": {"KMSKeyArn": f"arn:aws:kms:{EAST}:{B}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
    "layer-of-another-account": {"Layers": [f"arn:aws:lambda:{EAST}:{B}:layer:r18-layer:1"]},
    "layer-of-another-region": {"Layers": [f"arn:aws:lambda:{WEST}:{A}:layer:r18-layer:1"]},
}


@pytest.fixture(scope="module")
def targets(server: Endpoint) -> str:
    """The named targets exist (a queue and a topic named r18-dlq in A's eu-west-1 and B's us-east-1), so a refusal is
    the region's or the account's, not a missing target's; A's execution role may write to any of them."""
    for account, region in ((A, WEST), (B, EAST)):
        server.client("sqs", key=account, region=region).create_queue(QueueName="r18-dlq")
        server.client("sns", key=account, region=region).create_topic(Name="r18-dlq")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    return make_role(server.client("iam", key=A), "r18-dest-exec", everything)


def _create(server: Endpoint, role: str, name: str, **settings: Any) -> None:
    for attempt in range(60):  # a new role may take a moment to be assumable, as on AWS: bounded
        try:
            server.client("lambda", key=A).create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": zip_of({"app.py": HANDLER})},
                **settings,
            )
            return
        except ClientError as err:
            if attempt == 59 or "cannot be assumed" not in str(err):
                raise


@pytest.mark.parametrize("case", sorted(_SETTINGS))
def test_a_setting_naming_another_region_or_account_is_not_stored(server: Endpoint, targets: str, case: str) -> None:
    """Attack: A's function in us-east-1 created (and updated) with a dead-letter target, an environment KMS key or a
    layer of another region or account. AWS: Lambda writes a failed event to the dead-letter queue or topic with the
    execution role (https://docs.aws.amazon.com/lambda/latest/api/API_DeadLetterConfig.html), encrypts the environment
    with the key using the caller's KMS permissions (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html),
    and reads each layer as the caller (lambda:GetLayerVersion, granted by the layer's owner across accounts:
    https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer-cross-account.html); a setting lambdaperm does not
    perform must not be stored as if it were (fail closed). Either way the call is refused here and nothing of it is
    stored: no function at creation, the configuration unchanged at an update."""
    lam = server.client("lambda", key=A)
    settings = _SETTINGS[case]
    name = f"r18-set-{case}"
    with pytest.raises(ClientError) as created:
        _create(server, targets, name, **settings)
    assert created.value.response["ResponseMetadata"]["HTTPStatusCode"] >= 400
    with pytest.raises(ClientError) as missing:
        lam.get_function(FunctionName=name)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    _create(server, targets, name)  # control: the same function without the setting
    before = lam.get_function_configuration(FunctionName=name)
    with pytest.raises(ClientError):
        lam.update_function_configuration(FunctionName=name, **settings)
    after = lam.get_function_configuration(FunctionName=name)
    for member in ("DeadLetterConfig", "KMSKeyArn", "Layers"):
        assert after.get(member) == before.get(member), member
    assert after["RevisionId"] == before["RevisionId"]


# ---------------------------------------------------------------- S3 endpoints that are no bucket endpoint of a region

_MRAP = "mfzwi23gnjvgw.mrap"  # a Multi-Region Access Point alias, as AWS's documentation writes one


def test_a_multi_region_access_point_host_is_not_read_as_a_bucket(server: Endpoint) -> None:
    """Attack: requests signed (SigV4) for us-east-1 sent to the Multi-Region Access Point endpoint
    `<alias>.accesspoint.s3-global.amazonaws.com`. lambdaperm read any `<label>.s3-<anything>` host as a
    virtual-hosted bucket in the signed region: the host was taken for bucket `<alias>.accesspoint` — a CreateBucket
    there created that bucket in us-east-1, and a GetObject read that bucket's object. AWS: that host is a Multi-Region
    Access Point, "a global endpoint" that routes to buckets of several Regions, named by
    `arn:aws:s3::<account>:accesspoint/<alias>` (no Region), and its requests are signed with SigV4A for every Region
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/MultiRegionAccessPointRequests.html,
    https://docs.aws.amazon.com/sdkref/latest/guide/feature-s3-mrap.html); it is no bucket endpoint of one Region.
    lambdaperm serves no Multi-Region Access Point: 501 NotImplemented naming the endpoint, as for the other S3
    endpoints it does not serve (protocol/s3_endpoints.py), and nothing is created or read."""
    host = f"{_MRAP}.accesspoint.s3-global.amazonaws.com"
    status, answer = _send(server, "PUT", "/", host, {}, b"", "s3")
    assert status == 501 and b"NotImplemented" in answer and b"Multi-Region Access Points" in answer, answer[:300]
    assert not _bucket_exists(server, EAST, f"{_MRAP}.accesspoint")
    s3 = server.client("s3", key=A)
    s3.create_bucket(Bucket="r18mrap.accesspoint")  # a bucket the host's labels would name, holding an object
    s3.put_object(Bucket="r18mrap.accesspoint", Key="k", Body=b"the bucket's own object")
    for method, path in (("GET", "/k"), ("PUT", "/k2"), ("GET", "/")):
        status, answer = _send(server, method, path, "r18mrap.accesspoint.s3-global.amazonaws.com", {}, b"", "s3")
        assert status == 501 and b"the bucket's own object" not in answer, (method, path, status, answer[:300])
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="r18mrap.accesspoint")["Contents"]] == ["k"]
    status, _ = _send(server, "GET", "/", "s3-global.amazonaws.com", {}, b"", "s3")  # the endpoint, path style
    assert status == 501


def _s3_host_templates() -> list[str]:
    """Every host botocore's S3 endpoint rule set addresses a request to (`{Bucket}.s3.{Region}.{dnsSuffix}` …), with
    its placeholders filled; a custom endpoint's (`{url#authority}`) is left out: it is the caller's."""
    import re

    from botocore.loaders import Loader

    rules = json.dumps(Loader().load_service_model("s3", "endpoint-rule-set-1"))
    fill = {
        "Bucket": "bkt",
        "accessPointName": "ap",
        "bucketArn#accountId": A,
        "Region": EAST,
        "bucketArn#region": EAST,
        "s3expressAvailabilityZoneId": "use1-az4",
        "outpostId": "op-01234567890123456",
    }
    hosts = set()
    for url in re.findall(r'"url": "https?://([^"/]*)', rules):
        if "{url#" in url:
            continue
        hosts.add(re.sub(r"\{([^}]+)\}", lambda m: fill.get(m.group(1), "amazonaws.com"), url))
    return sorted(hosts)


# The endpoint labels of the S3 hosts lambdaperm serves as a bucket endpoint of the signed region (path style, or a
# virtual-hosted bucket): S3's regional and FIPS endpoints, IPv4 or dualstack. Every other host of the rule set is
# refused before it is read (protocol/s3_endpoints.py), or noted here with why it is served.
_BUCKET_ENDPOINT_LABELS = {"s3", "s3-fips"}
_NOTED: dict[str, str] = {}  # round 18 noted s3-accelerate as served; refused since round 19 (s3_endpoints.py)


def test_every_s3_endpoint_is_a_bucket_endpoint_or_refused() -> None:
    """Structural (round 18's shape): each host of botocore's S3 endpoint rule set is either a bucket endpoint of a
    Region — read as path style or virtual-hosted, in the signed region — or refused before it is read as one. Failed
    first with the Multi-Region Access Point host (`ap.accesspoint.s3-global.amazonaws.com`)."""
    from lambdaperm.protocol.hosts import virtual_host_label
    from lambdaperm.protocol.s3_endpoints import unserved_endpoint

    hosts = _s3_host_templates()
    assert any(".s3-global." in h for h in hosts) and any(h.startswith("s3.") for h in hosts), hosts  # it can fail
    wrong = []
    for host in hosts:
        bucket = virtual_host_label(host)
        endpoint = host[len(bucket) + 1 :] if bucket is not None else host
        label = endpoint.split(".", 1)[0]
        served = label in _BUCKET_ENDPOINT_LABELS or label in _NOTED
        if served == (unserved_endpoint(host) is not None):
            wrong.append((host, label, unserved_endpoint(host)))
    assert wrong == []
