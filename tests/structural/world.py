"""The resources and the real requests the parser-differential fuzz starts from.

Three places hold a resource of each kind under the same names: the caller's account in the signed region
(`A`, `R`), the caller's account in another region (`OTHER`), another account (`B`). Each kind has an
`allowed` resource (what the seed requests act on) and a `victim`. A mutation that makes lambdaperm and
the executor read two different resources out of one request has a real one to land on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .wire import Raw, captured, serialized

A, B = "123400000001", "123400000002"
R, OTHER = "us-west-2", "eu-west-1"
PLACES = ((A, R), (A, OTHER), (B, R))
KEYS = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}

Send = Callable[[Raw], tuple[int, bytes]]


@dataclass(frozen=True)
class Seed:
    """A real request and what a mutation may swap in: `slots` maps a parameter (a JSON member or query
    parameter) to values naming other resources; `bucket`/`key` are S3's path parts."""

    raw: Raw
    operation: str
    slots: dict[str, list[str]] = field(default_factory=dict)
    bucket: str | None = None
    key: str | None = None


@dataclass
class World:
    host: str  # the Host the client addresses (127.0.0.1:port, or a placeholder in-process)
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    groups: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (account, region, name) -> sg id

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}"

    def bucket(self, which: str) -> str:
        return f"dp-{which}-{self.suffix}"

    def queue_url(self, account: str, region: str, name: str) -> str:
        return f"https://sqs.{region}.amazonaws.com/{account}/{name}"

    def request(self, service: str, operation: str, params: dict[str, Any], account: str = A, region: str = R) -> Raw:
        return captured(service, operation, params, account, region, self.endpoint)

    # --- setup ------------------------------------------------------------------------------------------

    def build(self, send: Send, places: tuple[tuple[str, str], ...] = PLACES) -> None:
        """Create every resource through `send` (lambdaperm, in-process or over HTTP) in `places`."""

        def call(service: str, operation: str, params: dict[str, Any], account: str, region: str) -> bytes:
            status, body = send(self.request(service, operation, params, account, region))
            assert status < 300, (service, operation, params, status, body[:500])
            return body

        for account, region in places:
            for name in ("allowed", "victim"):
                call("dynamodb", "CreateTable", {"TableName": name, **KEYS}, account, region)
                call("sqs", "CreateQueue", {"QueueName": name}, account, region)
                call("sns", "CreateTopic", {"Name": name}, account, region)
                call("logs", "CreateLogGroup", {"logGroupName": name}, account, region)
                call("logs", "CreateLogStream", {"logGroupName": name, "logStreamName": "s"}, account, region)
                vpc = (
                    call(
                        "ec2",
                        "DescribeVpcs",
                        {"Filters": [{"Name": "is-default", "Values": ["true"]}]},
                        account,
                        region,
                    )
                    .split(b"<vpcId>")[1]
                    .split(b"</vpcId>")[0]
                    .decode()
                )
                body = call(
                    "ec2",
                    "CreateSecurityGroup",
                    {"GroupName": f"dp-{name}", "Description": name, "VpcId": vpc},
                    account,
                    region,
                )
                self.groups[(account, region, name)] = body.split(b"<groupId>")[1].split(b"</groupId>")[0].decode()
        for which, account, region in (("allowed", A, R), ("victim", A, R), ("far", A, OTHER), ("theirs", B, R)):
            if (account, region) not in places:
                continue
            config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            call("s3", "CreateBucket", {"Bucket": self.bucket(which), **config}, account, region)
            for key in ("k", "victim-key", "dir/k"):
                call("s3", "PutObject", {"Bucket": self.bucket(which), "Key": key, "Body": b"data"}, account, region)

    # --- seeds ------------------------------------------------------------------------------------------

    def seeds(self) -> list[Seed]:
        q = self.queue_url
        table = ["victim", f"arn:aws:dynamodb:{OTHER}:{A}:table/allowed", f"arn:aws:dynamodb:{R}:{B}:table/allowed"]
        queue = [
            q(A, R, "victim"),
            q(A, OTHER, "allowed"),
            f"https://{OTHER}.queue.amazonaws.com/{A}/allowed",
            f"{self.endpoint}/{B}/allowed",
            f"{self.endpoint}/{A}/victim",
        ]
        topic = [f"arn:aws:sns:{R}:{A}:victim", f"arn:aws:sns:{OTHER}:{A}:allowed", f"arn:aws:sns:{R}:{B}:allowed"]
        group = ["victim", f"arn:aws:logs:{OTHER}:{A}:log-group:allowed"]
        sg = [
            g
            for g in (
                self.groups.get((A, R, "victim")),
                self.groups.get((A, OTHER, "allowed")),
                self.groups.get((B, R, "allowed")),
            )
            if g is not None
        ]
        allowed_sg = self.groups[(A, R, "allowed")]
        buckets = [self.bucket("victim"), self.bucket("far"), self.bucket("theirs")]
        allowed = self.bucket("allowed")
        item = {"pk": {"S": "x"}}
        s: list[Seed] = [
            Seed(
                self.request("dynamodb", "PutItem", {"TableName": "allowed", "Item": item}),
                "PutItem",
                {"TableName": table},
            ),
            Seed(
                self.request("dynamodb", "GetItem", {"TableName": "allowed", "Key": item}),
                "GetItem",
                {"TableName": table},
            ),
            Seed(
                self.request("dynamodb", "DeleteItem", {"TableName": "allowed", "Key": item}),
                "DeleteItem",
                {"TableName": table},
            ),
            Seed(
                self.request(
                    "dynamodb",
                    "Query",
                    {
                        "TableName": "allowed",
                        "KeyConditionExpression": "pk = :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}},
                    },
                ),
                "Query",
                {"TableName": table},
            ),
            Seed(
                self.request("dynamodb", "BatchGetItem", {"RequestItems": {"allowed": {"Keys": [item]}}}),
                "BatchGetItem",
                {"allowed": table},
            ),
            Seed(
                self.request(
                    "dynamodb",
                    "TransactWriteItems",
                    {"TransactItems": [{"Put": {"TableName": "allowed", "Item": item}}]},
                ),
                "TransactWriteItems",
                {"TableName": table},
            ),
            Seed(
                self.request("dynamodb", "ExecuteStatement", {"Statement": 'SELECT * FROM "allowed"'}),
                "ExecuteStatement",
                {"Statement": ['SELECT * FROM "victim"', "DELETE FROM \"allowed\" WHERE pk='x'"]},
            ),
            Seed(
                self.request("dynamodb", "DescribeTable", {"TableName": "allowed"}),
                "DescribeTable",
                {"TableName": table},
            ),
            Seed(
                self.request("sqs", "SendMessage", {"QueueUrl": q(A, R, "allowed"), "MessageBody": "m"}),
                "SendMessage",
                {"QueueUrl": queue},
            ),
            Seed(
                self.request("sqs", "ReceiveMessage", {"QueueUrl": q(A, R, "allowed")}),
                "ReceiveMessage",
                {"QueueUrl": queue},
            ),
            Seed(
                self.request("sqs", "GetQueueAttributes", {"QueueUrl": q(A, R, "allowed"), "AttributeNames": ["All"]}),
                "GetQueueAttributes",
                {"QueueUrl": queue},
            ),
            Seed(
                serialized(
                    "sqs", "SendMessage", {"QueueUrl": q(A, R, "allowed"), "MessageBody": "m"}, A, R, self.host, "query"
                ),
                "SendMessage",
                {"QueueUrl": queue},
            ),
            Seed(
                serialized(
                    "sqs",
                    "GetQueueAttributes",
                    {"QueueUrl": q(A, R, "allowed"), "AttributeNames": ["All"]},
                    A,
                    R,
                    self.host,
                    "query",
                ),
                "GetQueueAttributes",
                {"QueueUrl": queue},
            ),
            Seed(
                self.request("sns", "Publish", {"TopicArn": f"arn:aws:sns:{R}:{A}:allowed", "Message": "m"}),
                "Publish",
                {"TopicArn": topic},
            ),
            Seed(
                self.request("sns", "GetTopicAttributes", {"TopicArn": f"arn:aws:sns:{R}:{A}:allowed"}),
                "GetTopicAttributes",
                {"TopicArn": topic},
            ),
            Seed(
                self.request(
                    "sns",
                    "SetTopicAttributes",
                    {"TopicArn": f"arn:aws:sns:{R}:{A}:allowed", "AttributeName": "DisplayName", "AttributeValue": "d"},
                ),
                "SetTopicAttributes",
                {"TopicArn": topic},
            ),
            Seed(
                self.request(
                    "logs",
                    "PutLogEvents",
                    {"logGroupName": "allowed", "logStreamName": "s", "logEvents": [{"timestamp": 1, "message": "m"}]},
                ),
                "PutLogEvents",
                {"logGroupName": group},
            ),
            Seed(
                self.request("logs", "DescribeLogStreams", {"logGroupName": "allowed"}),
                "DescribeLogStreams",
                {"logGroupName": group},
            ),
            Seed(
                self.request("ec2", "DescribeSecurityGroups", {"GroupIds": [allowed_sg]}),
                "DescribeSecurityGroups",
                {"GroupId.1": sg},
            ),
            Seed(
                self.request(
                    "ec2",
                    "AuthorizeSecurityGroupIngress",
                    {
                        "GroupId": allowed_sg,
                        "IpPermissions": [
                            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2, "IpRanges": [{"CidrIp": "10.9.9.9/32"}]}
                        ],
                    },
                ),
                "AuthorizeSecurityGroupIngress",
                {"GroupId": sg},
            ),
            Seed(
                self.request("ec2", "CreateTags", {"Resources": [allowed_sg], "Tags": [{"Key": "k", "Value": "v"}]}),
                "CreateTags",
                {"ResourceId.1": sg},
            ),
            Seed(
                self.request("s3", "GetObject", {"Bucket": allowed, "Key": "k"}), "GetObject", bucket=allowed, key="k"
            ),
            Seed(
                self.request("s3", "PutObject", {"Bucket": allowed, "Key": "k", "Body": b"new"}),
                "PutObject",
                bucket=allowed,
                key="k",
            ),
            Seed(
                self.request("s3", "HeadObject", {"Bucket": allowed, "Key": "dir/k"}),
                "HeadObject",
                bucket=allowed,
                key="dir/k",
            ),
            Seed(
                self.request("s3", "DeleteObject", {"Bucket": allowed, "Key": "gone"}),
                "DeleteObject",
                bucket=allowed,
                key="gone",
            ),
            Seed(
                self.request("s3", "CopyObject", {"Bucket": allowed, "Key": "copy", "CopySource": f"{allowed}/k"}),
                "CopyObject",
                bucket=allowed,
                key="copy",
            ),
            Seed(
                self.request("s3", "DeleteObjects", {"Bucket": allowed, "Delete": {"Objects": [{"Key": "gone"}]}}),
                "DeleteObjects",
                bucket=allowed,
            ),
            Seed(self.request("s3", "ListObjectsV2", {"Bucket": allowed}), "ListObjectsV2", bucket=allowed),
            Seed(
                self.request("s3", "GetObjectTagging", {"Bucket": allowed, "Key": "k"}),
                "GetObjectTagging",
                bucket=allowed,
                key="k",
            ),
            Seed(
                self.request(
                    "s3",
                    "PutObjectTagging",
                    {"Bucket": allowed, "Key": "k", "Tagging": {"TagSet": [{"Key": "t", "Value": "v"}]}},
                ),
                "PutObjectTagging",
                bucket=allowed,
                key="k",
            ),
        ]
        del buckets
        return s

    @property
    def s3_victims(self) -> list[str]:
        return [self.bucket("victim"), self.bucket("far"), self.bucket("theirs")]
