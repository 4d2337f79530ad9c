"""Bad input over HTTP never produces a 500: random bodies, headers and paths, signed (so that they get
past authentication) for each protocol, against a real server."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .conftest import Endpoint

TARGETS = [
    ("iam", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("sts", "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("dynamodb", "POST", "/", {"Content-Type": "application/x-amz-json-1.0",
                               "X-Amz-Target": "DynamoDB_20120810.PutItem"}),
    ("lambda", "POST", "/2015-03-31/functions/fuzz/invocations", {}),
    ("lambda", "POST", "/2015-03-31/functions", {"Content-Type": "application/json"}),
    ("lambda", "POST", "/2015-03-31/functions/fuzz/policy", {"Content-Type": "application/json"}),
    ("s3", "PUT", "/fuzz-bucket?policy", {}),
    ("sqs", "POST", "/", {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"}),
    ("cloudtrail", "POST", "/", {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"}),
]


def bodies(rng: random.Random) -> list[bytes]:
    structured = [json.dumps({"FunctionName": rng.choice([1, None, [], {"a": 1}, "x" * 300]),
                              "Role": rng.choice([True, "arn:aws:iam::1:role/x", ""]),
                              "TableName": rng.choice([0, "", "t" * 300]),
                              "Item": rng.choice([[], "x", {"id": 1}]),
                              "StatementId": rng.choice(["a b", 7]), "Principal": rng.choice(["", None])}).encode()]
    junk = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64))) for _ in range(3)]
    forms = [b"Action=CreateRole&RoleName=" + rng.choice([b"", b"a%20b", b"x" * 80]) + b"&Version=2010-05-08",
             b"Action=AssumeRole&RoleArn=arn&DurationSeconds=abc&Version=2011-06-15",
             b"Action=PutUserPolicy&UserName=u&PolicyName=p&PolicyDocument=%7B&Version=2010-05-08"]
    return structured + junk + forms + [b"{", b"[]", b"null", b"<xml>", b"\xff\xfe"]


def send(server: Endpoint, service: str, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    request = AWSRequest(method, server.url + path, data=body, headers=headers)
    SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.read()
        return int(err.code)


def test_no_5xx_for_bad_input(server: Endpoint) -> None:
    rng = random.Random(20261129)
    statuses: dict[int, int] = {}
    for service, method, path, headers in TARGETS:
        for body in bodies(rng):
            status = send(server, service, method, path, headers, body)
            statuses[status] = statuses.get(status, 0) + 1
            assert status < 500 or status == 501, (service, path, body[:80], status)
    assert sum(n for s, n in statuses.items() if 400 <= s < 500) > 50  # the inputs really were refused
