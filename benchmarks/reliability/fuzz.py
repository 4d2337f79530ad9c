"""Bad input over HTTP (issue 8 §3): mutated requests of every protocol lambdaperm speaks — query (IAM, STS, SNS,
SQS's query form), EC2, JSON 1.0 (DynamoDB, SQS), JSON 1.1 (Logs, CloudTrail), rest-json (Lambda), rest-xml (S3) —
sent to a real `lambdaperm serve --state DIR`, signed after the mutation (botocore's SigV4Auth / S3SigV4Auth:
a properly signed bad request reaches the parsers and the services) with the key of an IAM user allowed everything
or with the account's root key (for which lambdaperm takes any secret), unsigned, and tampered after signing with
the user's key (body or X-Amz-Date changed).

Asserted for every request: an HTTP answer below 500, and no traceback or server path in the body. Asserted per
batch: a batch in which the trail shows no executed write (no record with readOnly false and no errorCode) leaves
the state digest unchanged — the IAM/Lambda records, the data-plane journal, and what the list calls of every
service show (no state change from a refused request).

Templates are valid requests serialized by botocore (captured before sending); the mutator is seeded
(`random.Random(seed, index)`), so a finding is replayed with `--replay INDEX`.

    python benchmarks/reliability/fuzz.py --requests 100000 --threads 4 --batch 200 [--seed 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2]))  # lambdaperm, to read the journal's entries
from server_process import Server, start

ACCOUNT = "000000000000"
ROOT_CREDS = Credentials("test", "test")  # a root key: lambdaperm takes any secret for it (docs/architecture.md)
CREDS: list[Credentials] = []  # an IAM user allowed everything (setup): its signatures are verified
TRACE = re.compile(rb"Traceback \(most recent call last\)|File \"/|site-packages|lambdaperm/[a-z_]+\.py|\.py\", line")
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::fz-bucket/*"}],
    }
)
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/fz-role"
QUEUE = f"http://127.0.0.1/{ACCOUNT}/fz-queue"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:fz-topic"
ZIP = bytes.fromhex("504b0506" + "00" * 18)  # an empty zip archive

# (service, operation, parameters): valid requests, each serialized by botocore into a template.
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("iam", "ListUsers", {}),
    ("iam", "CreateUser", {"UserName": "fz-user", "Path": "/fz/"}),
    ("iam", "PutUserPolicy", {"UserName": "fz-user", "PolicyName": "p", "PolicyDocument": POLICY}),
    ("iam", "CreatePolicy", {"PolicyName": "fz-policy", "PolicyDocument": POLICY}),
    (
        "iam",
        "CreatePolicyVersion",
        {"PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/fz-policy", "PolicyDocument": POLICY, "SetAsDefault": True},
    ),
    ("iam", "AttachRolePolicy", {"RoleName": "fz-role", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/fz-policy"}),
    ("iam", "GetRole", {"RoleName": "fz-role"}),
    ("iam", "CreateRole", {"RoleName": "fz-role2", "AssumeRolePolicyDocument": TRUST}),
    ("sts", "GetCallerIdentity", {}),
    ("sts", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "sess", "DurationSeconds": 900}),
    ("sts", "GetSessionToken", {"DurationSeconds": 900}),
    ("lambda", "ListFunctions", {}),
    ("lambda", "GetFunction", {"FunctionName": "fz-fn"}),
    ("lambda", "GetPolicy", {"FunctionName": "fz-fn"}),
    (
        "lambda",
        "AddPermission",
        {
            "FunctionName": "fz-fn",
            "StatementId": "s1",
            "Action": "lambda:InvokeFunction",
            "Principal": "s3.amazonaws.com",
            "SourceArn": "arn:aws:s3:::fz-bucket",
        },
    ),
    ("lambda", "RemovePermission", {"FunctionName": "fz-fn", "StatementId": "s1"}),
    (
        "lambda",
        "CreateFunction",
        {
            "FunctionName": "fz-fn2",
            "Runtime": "python3.11",
            "Role": ROLE,
            "Handler": "app.handler",
            "Code": {"ZipFile": ZIP},
        },
    ),
    ("lambda", "UpdateFunctionConfiguration", {"FunctionName": "fz-fn", "Timeout": 5, "MemorySize": 256}),
    ("lambda", "TagResource", {"Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fz-fn", "Tags": {"a": "b"}}),
    ("dynamodb", "ListTables", {}),
    ("dynamodb", "PutItem", {"TableName": "fz-table", "Item": {"id": {"S": "1"}, "n": {"N": "2"}}}),
    ("dynamodb", "GetItem", {"TableName": "fz-table", "Key": {"id": {"S": "1"}}}),
    (
        "dynamodb",
        "UpdateItem",
        {
            "TableName": "fz-table",
            "Key": {"id": {"S": "1"}},
            "UpdateExpression": "SET a = :v",
            "ExpressionAttributeValues": {":v": {"L": [{"S": "x"}, {"N": "1"}]}},
        },
    ),
    (
        "dynamodb",
        "Query",
        {"TableName": "fz-table", "KeyConditionExpression": "id = :i", "ExpressionAttributeValues": {":i": {"S": "1"}}},
    ),
    (
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "fz-table", "Item": {"id": {"S": "2"}}}}]},
    ),
    (
        "dynamodb",
        "CreateTable",
        {
            "TableName": "fz-table2",
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        },
    ),
    ("s3", "ListBuckets", {}),
    ("s3", "PutObject", {"Bucket": "fz-bucket", "Key": "k/1.txt", "Body": b"hello", "Metadata": {"a": "b"}}),
    ("s3", "GetObject", {"Bucket": "fz-bucket", "Key": "k/1.txt"}),
    ("s3", "ListObjectsV2", {"Bucket": "fz-bucket", "Prefix": "k/"}),
    ("s3", "DeleteObjects", {"Bucket": "fz-bucket", "Delete": {"Objects": [{"Key": "k/2.txt"}]}}),
    (
        "s3",
        "PutBucketPolicy",
        {
            "Bucket": "fz-bucket",
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                            "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::fz-bucket/*",
                        }
                    ],
                }
            ),
        },
    ),
    ("s3", "PutBucketTagging", {"Bucket": "fz-bucket", "Tagging": {"TagSet": [{"Key": "a", "Value": "b"}]}}),
    ("s3", "CreateBucket", {"Bucket": "fz-bucket2"}),
    (
        "s3",
        "PutBucketNotificationConfiguration",
        {
            "Bucket": "fz-bucket",
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    {"QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:fz-queue", "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        },
    ),
    ("sqs", "ListQueues", {}),
    (
        "sqs",
        "SendMessage",
        {
            "QueueUrl": QUEUE,
            "MessageBody": "hi",
            "MessageAttributes": {"a": {"DataType": "String", "StringValue": "b"}},
        },
    ),
    ("sqs", "ReceiveMessage", {"QueueUrl": QUEUE, "MaxNumberOfMessages": 1, "VisibilityTimeout": 0}),
    ("sqs", "SendMessageBatch", {"QueueUrl": QUEUE, "Entries": [{"Id": "1", "MessageBody": "a"}]}),
    ("sqs", "SetQueueAttributes", {"QueueUrl": QUEUE, "Attributes": {"VisibilityTimeout": "30"}}),
    ("sqs", "CreateQueue", {"QueueName": "fz-queue2"}),
    ("sns", "ListTopics", {}),
    ("sns", "CreateTopic", {"Name": "fz-topic2", "Attributes": {"DisplayName": "d"}}),
    (
        "sns",
        "Publish",
        {"TopicArn": TOPIC, "Message": "m", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "b"}}},
    ),
    (
        "sns",
        "Subscribe",
        {"TopicArn": TOPIC, "Protocol": "sqs", "Endpoint": f"arn:aws:sqs:us-east-1:{ACCOUNT}:fz-queue"},
    ),
    ("sns", "SetTopicAttributes", {"TopicArn": TOPIC, "AttributeName": "DisplayName", "AttributeValue": "x"}),
    ("logs", "DescribeLogGroups", {}),
    ("logs", "CreateLogGroup", {"logGroupName": "/fz/group2"}),
    (
        "logs",
        "PutLogEvents",
        {
            "logGroupName": "/fz/group",
            "logStreamName": "s",
            "logEvents": [{"timestamp": 1_700_000_000_000, "message": "m"}],
        },
    ),
    ("logs", "FilterLogEvents", {"logGroupName": "/fz/group", "filterPattern": "m"}),
    ("ec2", "DescribeVpcs", {}),
    ("ec2", "CreateSecurityGroup", {"GroupName": "fz-sg2", "Description": "d"}),
    (
        "ec2",
        "AuthorizeSecurityGroupIngress",
        {
            "GroupName": "fz-sg",
            "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}
            ],
        },
    ),
    ("ec2", "CreateVpc", {"CidrBlock": "10.9.0.0/16"}),
    ("ec2", "DescribeSecurityGroups", {"GroupNames": ["fz-sg"]}),
    ("cloudtrail", "LookupEvents", {"MaxResults": 5}),
]


@dataclass
class Template:
    service: str
    signing_name: str
    operation: str
    protocol: str
    method: str
    path: str  # path and query string
    headers: dict[str, str]
    body: bytes


class Captured(Exception):
    pass


def templates(url: str) -> list[Template]:
    """Each call of CALLS as botocore sends it (captured in before-send), plus SQS's query form."""
    session = botocore.session.get_session()
    out: list[Template] = []
    for service, operation, params in CALLS:
        client = session.create_client(
            service,
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=botocore.config.Config(s3={"addressing_style": "path"}),
        )
        grabbed: list[Any] = []

        def grab(request: Any, grabbed: list[Any] = grabbed, **_: Any) -> None:
            grabbed.append(request)
            raise Captured()

        client.meta.events.register("before-send", grab)
        with contextlib.suppress(Captured):
            getattr(client, botocore.xform_name(operation))(**params)
        req = grabbed[0]
        split = urllib.parse.urlsplit(req.url)
        body = req.body if isinstance(req.body, bytes) else (req.body or b"")
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        headers = {
            k: (v.decode() if isinstance(v, bytes) else str(v))
            for k, v in req.headers.items()
            if k.lower()
            not in (
                "authorization",
                "x-amz-date",
                "x-amz-security-token",
                "user-agent",
                "amz-sdk-invocation-id",
                "amz-sdk-request",
                "x-amz-content-sha256",
                "content-md5",
                "expect",
                "transfer-encoding",
            )
        }
        out.append(
            Template(
                service,
                client.meta.service_model.signing_name or service,
                operation,
                client.meta.service_model.protocol,
                req.method,
                split.path + (f"?{split.query}" if split.query else ""),
                headers,
                body,
            )
        )
    for action, params in [
        ("SendMessage", {"QueueUrl": QUEUE, "MessageBody": "hi"}),
        ("ListQueues", {}),
        ("CreateQueue", {"QueueName": "fz-queue3"}),
    ]:
        body = urllib.parse.urlencode({"Action": action, "Version": "2012-11-05", **params}).encode()
        out.append(
            Template(
                "sqs",
                "sqs",
                action,
                "query",
                "POST",
                "/",
                {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                body,
            )
        )
    return out


WEIRD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    1e308,
    -0.0,
    "",
    " ",
    "x" * 5000,
    "\u0000",
    "\ud7ff\uffff",
    "../../etc/passwd",
    "%00",
    "${jndi:x}",
    "<a>",
    "*",
    "arn:aws:iam::*:*",
    [],
    {},
    [[[[]]]],
    {"S": 1},
    {"N": "1e999999"},
    {"B": "!!"},
    {"SS": []},
    {"L": [{"L": [{"L": []}]}]},
]
CONTENT_TYPES = [
    "application/json",
    "application/x-amz-json-1.0",
    "application/x-amz-json-1.1",
    "application/x-www-form-urlencoded",
    "text/xml",
    "application/xml",
    "text/plain",
    "",
    "garbage/;;",
    "multipart/form-data; boundary=x",
]
METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"]
OPERATIONS: dict[str, list[str]] = {}
VERBOSE = False


def _weird(rng: random.Random) -> Any:
    value = rng.choice(WEIRD_VALUES)
    if rng.random() < 0.05:  # deep nesting
        for _ in range(rng.choice([50, 200, 2000])):
            value = [value] if rng.random() < 0.5 else {"a": value}
    return value


def _mutate_tree(node: Any, rng: random.Random) -> Any:
    if isinstance(node, dict) and node:
        key = rng.choice(list(node))
        roll = rng.random()
        if roll < 0.2:
            del node[key]
        elif roll < 0.35:
            node[rng.choice(["Unknown", "__proto__", key + "x", "", "$type"])] = _weird(rng)
        elif roll < 0.6:
            node[key] = _weird(rng)
        else:
            node[key] = _mutate_tree(node[key], rng)
        return node
    if isinstance(node, list) and node:
        i = rng.randrange(len(node))
        if rng.random() < 0.3:
            node.append(node[i] if rng.random() < 0.5 else _weird(rng))
        else:
            node[i] = _mutate_tree(node[i], rng)
        return node
    return _weird(rng)


def _mutate_bytes(body: bytes, rng: random.Random) -> bytes:
    data = bytearray(body)
    roll = rng.random()
    if not data or roll < 0.1:
        return rng.randbytes(rng.choice([0, 1, 10, 1000]))
    if roll < 0.3:
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif roll < 0.45:
        data = data[: rng.randrange(len(data))]
    elif roll < 0.6:
        i = rng.randrange(len(data) + 1)
        data[i:i] = rng.choice([b"\x00", b"\xff\xfe", b'"', b"{", b"<", b"&", b"%", b"]]>", rng.randbytes(8)])
    elif roll < 0.75:
        i = rng.randrange(len(data))
        j = rng.randrange(i, len(data) + 1)
        data[j:j] = data[i:j] * rng.randint(1, 50)
    else:
        i = rng.randrange(len(data))
        del data[i : i + rng.randint(1, 20)]
    return bytes(data)


def _mutate_form(body: bytes, rng: random.Random, service: str) -> bytes:
    pairs = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    roll = rng.random()
    if pairs and roll < 0.2:
        pairs.pop(rng.randrange(len(pairs)))
    elif pairs and roll < 0.35:
        pairs.append(rng.choice(pairs))
    elif roll < 0.5:
        names = OPERATIONS.get(service) or ["X"]
        pairs = [
            (k, rng.choice([*names, "", "ListUsers", "Foo", "listusers"]) if k == "Action" else v) for k, v in pairs
        ]
    elif roll < 0.65:
        pairs.append(
            (
                rng.choice(
                    [
                        "X.member.1",
                        "Attributes.entry.999999999.key",
                        "Version",
                        "Action",
                        "MessageAttribute.1.Name",
                        "Tags.member.0.Key",
                        "a.b.c.d.e",
                    ]
                ),
                str(_weird(rng)),
            )
        )
    elif pairs:
        i = rng.randrange(len(pairs))
        pairs[i] = (pairs[i][0], str(_weird(rng)))
    encoded = urllib.parse.urlencode(pairs).encode()
    if rng.random() < 0.1:
        encoded += rng.choice([b"&%zz=1", b"&=", b"&&&", b"&a=%ff%fe", b"&Action"])
    return encoded


def _mutate_xml(body: bytes, rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.25:
        return (
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">'
            b'<!ENTITY b "bbbbbbbb"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>' + body.replace(b">", b">&e;&c;", 1)
        )
    if roll < 0.5:
        return re.sub(rb">[^<]+<", lambda m: b">" + str(_weird(rng)).encode() + b"<", body, count=rng.randint(1, 3))
    if roll < 0.7:
        return b"<a>" * rng.choice([10, 1000]) + body
    return _mutate_bytes(body, rng)


def mutate(t: Template, rng: random.Random) -> tuple[str, str, dict[str, str], bytes]:
    method, path, headers, body = t.method, t.path, dict(t.headers), t.body
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        ctype = headers.get("Content-Type", "")
        if roll < 0.4 and body:
            if "json" in ctype:
                try:
                    body = json.dumps(_mutate_tree(json.loads(body), rng)).encode()
                except (ValueError, RecursionError):
                    body = _mutate_bytes(body, rng)
            elif "form" in ctype:
                body = _mutate_form(body, rng, t.service)
            elif body.lstrip().startswith(b"<"):
                body = _mutate_xml(body, rng)
            else:
                body = _mutate_bytes(body, rng)
        elif roll < 0.5:
            body = _mutate_bytes(body, rng)
        elif roll < 0.6:
            headers["Content-Type"] = rng.choice(CONTENT_TYPES)
        elif roll < 0.68:
            target = headers.get("X-Amz-Target", "")
            prefix = target.split(".")[0] if target else rng.choice(["DynamoDB_20120810", "AmazonSQS", "Logs_20140328"])
            names = OPERATIONS.get(t.service) or ["X"]
            headers["X-Amz-Target"] = rng.choice(
                [
                    f"{prefix}.{rng.choice(names)}",
                    f"{prefix}.",
                    prefix,
                    "",
                    ".",
                    f"{prefix}.{t.operation}x",
                    f"Other_1.{t.operation}",
                ]
            )
        elif roll < 0.8:
            split = urllib.parse.urlsplit(path)
            segments = split.path.split("/")
            i = rng.randrange(len(segments))
            segments[i] = rng.choice(
                [
                    "..",
                    "%2e%2e",
                    "%00",
                    "x" * 2000,
                    "%ff",
                    "a%2Fb",
                    "~",
                    "",
                    "*",
                    "$LATEST",
                    "2015-03-31",
                    "functions",
                    "fz-fn:1:2",
                    "%C0%AF",
                    "arn:aws:lambda:x",
                ]
            )
            query = split.query
            if rng.random() < 0.5:
                query = "&".join(
                    filter(
                        None,
                        [
                            query,
                            rng.choice(
                                [
                                    "acl",
                                    "policy",
                                    "uploads",
                                    "versionId=%zz",
                                    "x-id=GetObject",
                                    "Action=ListUsers",
                                    "a=1&a=2",
                                    "list-type=2&max-keys=-1",
                                    "Qualifier=%00",
                                    "Marker=" + "m" * 3000,
                                    "tagging&versioning",
                                ]
                            ),
                        ],
                    )
                )
            path = "/".join(segments) + (f"?{query}" if query else "")
            if not path.startswith("/"):
                path = "/" + path
        elif roll < 0.88:
            method = rng.choice(METHODS)
        else:
            headers[
                rng.choice(
                    [
                        "x-amz-meta-a",
                        "x-amz-copy-source",
                        "x-amz-acl",
                        "Range",
                        "x-amz-grant-read",
                        "X-Amz-Invocation-Type",
                        "x-amz-tagging",
                        "x-amz-server-side-encryption",
                        "X-Amz-Client-Context",
                        "x-amz-website-redirect-location",
                        "If-Match",
                    ]
                )
            ] = rng.choice(
                [
                    "",
                    "bytes=5-1",
                    "bytes=-0",
                    "a=b&c",
                    'uri="x"',
                    "!!",
                    "fz-bucket/k/1.txt",
                    "public-read-write",
                    "Event",
                    "aws:kms",
                    "e30=",
                    "x" * 3000,
                ]
            )
    return method, path, headers, body


def sign(
    t: Template, method: str, url: str, headers: dict[str, str], body: bytes, creds: Credentials
) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    auth = (
        S3SigV4Auth(creds, "s3", "us-east-1")
        if t.signing_name == "s3"
        else SigV4Auth(creds, t.signing_name, "us-east-1")
    )
    auth.add_auth(request)
    return {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}


@dataclass
class Outcome:
    index: int
    template: str
    mode: str
    status: int
    finding: str = ""
    refusal: str = ""


class Sender:
    """One keep-alive connection per thread."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.local = threading.local()

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers.items():
                    if k.lower() != "content-length":  # the real length: the framing is not what is fuzzed
                        conn.putheader(k, v)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                resp = conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    conn.close()
                    self.local.conn = None
                return resp.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def one(index: int, seed: int, temps: list[Template], sender: Sender, url: str, refusal: bool = False) -> Outcome:
    """Request `index`: a template, mutated, then signed, unsigned or tampered after signing (`refusal`: only
    the last two, which AWS refuses whatever the request says)."""
    rng = random.Random(f"{seed}:{index}")
    t = rng.choice(temps)
    method, path, headers, body = mutate(t, rng)
    host = url.split("//", 1)[1]
    headers["Host"] = host
    mode = rng.choice(["unsigned", "tampered"] if refusal else ["signed", "signed", "root", "unsigned", "tampered"])
    if mode != "unsigned":
        try:
            headers = sign(t, method, url + path, headers, body, ROOT_CREDS if mode == "root" else CREDS[0])
        except Exception as err:  # botocore cannot sign it (e.g. a path it will not canonicalize)
            return Outcome(index, f"{t.service}.{t.operation}", mode, 0, f"unsignable: {type(err).__name__}")
        if mode == "tampered":
            if body and rng.random() < 0.5:
                tampered = _mutate_bytes(body, rng)
                body = tampered if tampered != body else body + b" "  # the signed body, changed for certain
            else:
                headers["X-Amz-Date"] = rng.choice(["20000101T000000Z", "garbage", ""])
    name = f"{t.service}.{t.operation}"
    try:
        status, data = sender.send(method, path, headers, body)
    except (http.client.InvalidURL, ValueError, UnicodeEncodeError) as err:  # not sendable as HTTP/1.1
        return Outcome(index, name, mode, 0, f"unsendable: {type(err).__name__}")
    except (OSError, http.client.HTTPException) as err:
        return Outcome(index, name, mode, -1, f"no answer: {type(err).__name__}: {err}")
    finding = ""
    if status == 501 and (
        b"NotImplemented" in data or (method == "HEAD" and not data)
    ):  # HEAD: no body  # lambdaperm's fail-closed refusal of what it does not serve
        return Outcome(index, name, mode, status, "", data[:200].decode("utf-8", "replace"))
    if status >= 500:
        finding = f"{status}: {data[:300]!r}"
    elif TRACE.search(data):
        finding = f"traceback/path in body ({status}): {data[:300]!r}"
    if VERBOSE:
        print(method, path, headers, body[:300], "->", status, data[:300])
    return Outcome(index, name, mode, status, finding)


def digest(server: Server) -> dict[str, str]:
    """The state as the records, the journal and the list calls show it: a hash per part."""
    parts: dict[str, Any] = {}
    conn = sqlite3.connect(f"file:{server.state / 'state.db'}?mode=ro", uri=True, timeout=30)
    try:
        for ns, account, key, data in conn.execute("SELECT namespace, account, key, data FROM records"):
            parts[f"record {ns}/{account}/{key}"] = data
        parts["journal"] = conn.execute("SELECT count(*), max(seq) FROM dataplane_journal").fetchone()
    finally:
        conn.close()
    c = {s: server.client(s) for s in ("iam", "lambda", "dynamodb", "s3", "sqs", "sns", "logs", "ec2")}
    views: dict[str, Callable[[], Any]] = {  # a mutated request may delete what a view reads: its error is the view
        "iam users": lambda: c["iam"].list_users()["Users"],
        "iam roles": lambda: c["iam"].list_roles()["Roles"],
        "iam policies": lambda: c["iam"].list_policies(Scope="Local")["Policies"],
        "lambda functions": lambda: c["lambda"].list_functions()["Functions"],
        "lambda policy": lambda: c["lambda"].get_policy(FunctionName="fz-fn")["Policy"],
        "dynamodb tables": lambda: c["dynamodb"].list_tables()["TableNames"],
        "dynamodb items": lambda: c["dynamodb"].scan(TableName="fz-table")["Items"],
        "s3 buckets": lambda: c["s3"].list_buckets()["Buckets"],
        "s3 objects": lambda: c["s3"].list_objects_v2(Bucket="fz-bucket").get("Contents", []),
        "sqs queues": lambda: c["sqs"].list_queues().get("QueueUrls", []),
        "sqs queue": lambda: c["sqs"].get_queue_attributes(
            QueueUrl=c["sqs"].get_queue_url(QueueName="fz-queue")["QueueUrl"], AttributeNames=["All"]
        )["Attributes"],
        "sns topics": lambda: c["sns"].list_topics()["Topics"],
        "sns subscriptions": lambda: c["sns"].list_subscriptions()["Subscriptions"],
        "logs groups": lambda: c["logs"].describe_log_groups()["logGroups"],
        "ec2 vpcs": lambda: c["ec2"].describe_vpcs()["Vpcs"],
        "ec2 groups": lambda: c["ec2"].describe_security_groups()["SecurityGroups"],
    }
    for name, view in views.items():
        try:
            parts[name] = view()
        except ClientError as err:
            parts[name] = err.response.get("Error", {}).get("Code")
    return {
        k: hashlib.sha256(json.dumps(v, sort_keys=True, default=str).encode()).hexdigest() for k, v in parts.items()
    }


# Calls the trail marks read-only that change what `digest` sees, as AWS documents them: ReceiveMessage hides the
# messages it returns for the visibility timeout; AssumeRole sets RoleLastUsed; STS keeps each session it issues.
CHANGING_READS = {
    "ReceiveMessage",
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithSAML",
    "GetSessionToken",
    "GetFederationToken",
}


def executed_writes(server: Server, after: int) -> tuple[int, list[str]]:
    """(last trail seq, the write calls the trail shows executed after `after`)."""
    conn = sqlite3.connect(f"file:{server.state / 'state.db'}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            "SELECT seq, event_name, read_only, json_extract(record, '$.errorCode'), "
            "json_extract(record, '$.responseElements.deleted') FROM trail_events "
            "WHERE seq > ? ORDER BY seq",
            (after,),
        ).fetchall()
    finally:
        conn.close()
    last = rows[-1][0] if rows else after
    # DeleteObjects answers 200 with a per-key error for each key it did not delete: it executed nothing then
    return last, [
        name
        for _, name, ro, err, deleted in rows
        if (not ro or name in CHANGING_READS) and err is None and (name != "DeleteObjects" or deleted)
    ]


def last_journal_seq(server: Server) -> int:
    conn = sqlite3.connect(f"file:{server.state / 'state.db'}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT coalesce(max(seq), 0) FROM dataplane_journal").fetchone()[0])
    finally:
        conn.close()


def journal_ops(server: Server, after: int) -> list[str]:
    """service:operation of the data-plane journal entries after sequence number `after` (a diagnosis)."""
    import pickle

    conn = sqlite3.connect(f"file:{server.state / 'state.db'}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT entry FROM dataplane_journal WHERE seq > ?", (after,)).fetchall()
    finally:
        conn.close()
    entries = [pickle.loads(blob) for (blob,) in rows]  # the server's own journal, in its private directory
    return [f"{getattr(e, 'service', '?')}:{getattr(e, 'operation', '?')}" for e in entries]


def setup(server: Server) -> None:
    iam, lam = server.client("iam"), server.client("lambda")
    iam.create_role(RoleName="fz-role", AssumeRolePolicyDocument=TRUST)
    iam.create_user(UserName="fz-admin")
    iam.put_user_policy(
        UserName="fz-admin",
        PolicyName="all",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="fz-admin")["AccessKey"]
    CREDS[:] = [Credentials(key["AccessKeyId"], key["SecretAccessKey"])]
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(e, c):\n    return 1\n")
    lam.create_function(
        FunctionName="fz-fn", Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": buf.getvalue()}
    )
    lam.add_permission(
        FunctionName="fz-fn", StatementId="base", Action="lambda:InvokeFunction", Principal="sns.amazonaws.com"
    )
    server.client("dynamodb").create_table(
        TableName="fz-table",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    server.client("s3").create_bucket(Bucket="fz-bucket")
    server.client("sqs").create_queue(QueueName="fz-queue")
    server.client("sns").create_topic(Name="fz-topic")
    server.client("logs").create_log_group(logGroupName="/fz/group")
    server.client("logs").create_log_stream(logGroupName="/fz/group", logStreamName="s")
    server.client("ec2").create_security_group(GroupName="fz-sg", Description="d")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--start", type=int, default=0, help="first request index (continue an interrupted run)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--refusal-every",
        type=int,
        default=3,
        help="every Nth batch holds only unsigned and tampered requests (none may change anything)",
    )
    ap.add_argument("--replay", type=int, help="send only request INDEX and print it")
    ap.add_argument("--refusal", action="store_true", help="with --replay: the request as a refusal batch sent it")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the state directory and server log")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.setrecursionlimit(20_000)  # deeply nested mutated documents are built and printed here

    session = botocore.session.get_session()
    for service in ("iam", "sts", "lambda", "dynamodb", "s3", "sqs", "sns", "logs", "ec2", "cloudtrail"):
        OPERATIONS[service] = list(session.get_service_model(service).operation_names)
    work = Path(tempfile.mkdtemp(prefix="lambdaperm-fuzz-"))
    keep = args.keep
    server = start(work / "state", work)
    try:
        setup(server)
        temps = templates(server.url)
        host, port = server.url.split("//", 1)[1].split(":")
        sender = Sender(host, int(port))
        if args.replay is not None:
            global VERBOSE
            VERBOSE = True
            print(one(args.replay, args.seed, temps, sender, server.url, args.refusal))
            return 0
        statuses: Counter[int] = Counter()
        by_protocol: Counter[str] = Counter()
        by_mode: Counter[str] = Counter()
        findings: list[str] = []
        skipped: Counter[str] = Counter()
        not_implemented: Counter[str] = Counter()
        checked = rebased = 0
        protocol_of = {f"{t.service}.{t.operation}": t.protocol for t in temps}
        base = digest(server)
        journal_seq = last_journal_seq(server)
        last_seq, _ = executed_writes(server, 0)
        started = time.monotonic()
        with ThreadPoolExecutor(args.threads) as pool:
            for lo in range(args.start, args.requests, args.batch):
                hi = min(lo + args.batch, args.requests)
                refusal = (lo // args.batch) % args.refusal_every == args.refusal_every - 1
                outcomes = list(
                    pool.map(lambda i, r=refusal: one(i, args.seed, temps, sender, server.url, r), range(lo, hi))
                )
                for o in outcomes:
                    if o.status <= 0 and o.finding.startswith("uns"):
                        skipped[o.finding] += 1
                        continue
                    statuses[o.status // 100 * 100 if o.status > 0 else o.status] += 1
                    by_protocol[protocol_of.get(o.template, "?")] += 1
                    by_mode[o.mode] += 1
                    if o.refusal:
                        not_implemented[re.sub(r"<RequestId>.*|[0-9a-f-]{36}", "", o.refusal)] += 1
                    if o.finding:
                        findings.append(f"#{o.index} {o.template} {o.mode}: {o.finding}")
                        print(f"FINDING #{o.index} {o.template} {o.mode}: {o.finding}", flush=True)
                last_seq, writes = executed_writes(server, last_seq)
                now = digest(server)
                if writes and refusal:
                    answered = [f"#{o.index} {o.template} {o.mode}" for o in outcomes if 200 <= o.status < 300]
                    findings.append(
                        f"batch {lo}-{hi}: unsigned/tampered requests executed writes: {writes}; "
                        f"answered 2xx: {answered}"
                    )
                    print(f"FINDING batch {lo}-{hi}: unsigned/tampered requests executed writes {writes}", flush=True)
                elif writes:
                    rebased += 1
                elif not refusal and "journal" in now:
                    # a write the backend refused is journaled all the same (docs/architecture.md: its unit may
                    # have changed something before failing); only a refusal batch must leave the journal alone
                    now_views = {k: v for k, v in now.items() if k != "journal"}
                    base_views = {k: v for k, v in base.items() if k != "journal"}
                    checked += 1
                    if now_views != base_views:
                        changed = sorted(k for k in set(now_views) | set(base_views) if now.get(k) != base.get(k))
                        findings.append(
                            f"batch {lo}-{hi}: state changed although the trail shows no executed write: {changed}"
                        )
                        print(
                            f"FINDING batch {lo}-{hi}: state changed without an executed write: {changed}", flush=True
                        )
                elif now != base:
                    checked += 1
                    changed = sorted(k for k in set(now) | set(base) if now.get(k) != base.get(k))
                    if "journal" in changed:
                        changed.append(f"journal entries: {journal_ops(server, journal_seq)}")
                    findings.append(
                        f"batch {lo}-{hi}: state changed although the trail shows no executed write: {changed}"
                    )
                    print(f"FINDING batch {lo}-{hi}: state changed without an executed write: {changed}", flush=True)
                else:
                    checked += 1
                base = now
                journal_seq = last_journal_seq(server)
                if (hi // args.batch) % 25 == 0 or hi == args.requests:
                    rate = (hi - args.start) / (time.monotonic() - started)
                    print(
                        f"{hi} requests ({rate:.0f}/s), statuses {dict(statuses)}, findings {len(findings)}, "
                        f"batches checked {checked}, with writes {rebased}",
                        flush=True,
                    )
        alive = server.healthy()
    finally:
        code = server.stop()
    log_text = server.log.read_text(errors="replace")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    crash_sites: Counter[str] = Counter()  # the server's logged failures: operation, last frame, exception
    for block in log_text.split("Traceback (most recent call last):")[1:]:
        head = log_text[: log_text.find(block)].rsplit("\n", 2)[-2][-120:]
        frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', block)
        error = next((ln for ln in block.splitlines() if re.match(r"^[A-Za-z_.]+(Error|Exception|Exit)\b", ln)), "?")
        where = f"{Path(frames[-1][0]).name}:{frames[-1][1]} {frames[-1][2]}" if frames else "?"
        crash_sites[f"{head.split(' ERROR ')[-1]} | {where} | {error[:120]}"] += 1
    report = {
        "requests": args.requests,
        "start": args.start,
        "seed": args.seed,
        "threads": args.threads,
        "batch": args.batch,
        "sent": sum(statuses.values()),
        "statuses": {str(k): v for k, v in statuses.items()},
        "by_protocol": dict(by_protocol),
        "by_mode": dict(by_mode),
        "not_sendable": dict(skipped),
        "not_implemented_501": dict(not_implemented.most_common()),
        "digest_batches_checked": checked,
        "digest_batches_with_writes": rebased,
        "findings": findings,
        "server_alive_at_end": alive,
        "server_exit_code": code,
        "tracebacks_in_server_log": log_text.count("Traceback (most recent call last)"),
        "server_failure_sites": dict(crash_sites.most_common()),
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
