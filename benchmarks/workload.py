"""The policy-engine benchmark workload (issue: policy engine, §5), shared by every engine measured.

An identity policy of N statements with wildcard actions and resources, two of them with conditions,
plus a Lambda function policy; requests are InvokeFunction / DynamoDB / S3 calls by one IAM user.
Everything is plain JSON so that other engines (cedarpy, iam-simulate) can be fed the same data.
"""

from __future__ import annotations

import random

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
REGION = "us-west-2"
SERVICES = ("dynamodb", "s3", "sqs", "sns", "logs", "kms", "ec2", "iam", "sts", "events")
VERBS = ("Get", "Put", "List", "Describe", "Delete", "Update", "Create", "Batch", "Query", "Scan")


def identity_policy(n: int, seed: int = 7) -> dict[str, object]:
    """n statements: the first ones are the realistic ~10-statement policy, the rest unrelated filler."""
    core = [
        {"Sid": "Invoke", "Effect": "Allow", "Action": "lambda:Invoke*",
         "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-*"},
        {"Sid": "TableRW", "Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"],
         "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/app-*"},
        {"Sid": "Objects", "Effect": "Allow", "Action": "s3:*Object*", "Resource": "arn:aws:s3:::app-bucket/*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": REGION}}},
        {"Sid": "Queues", "Effect": "Allow", "Action": "sqs:*", "Resource": f"arn:aws:sqs:*:{ACCOUNT}:app-*"},
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:Create*", "logs:PutLogEvents"], "Resource": "*"},
        {"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.0.0/16"]},
                       "Bool": {"aws:ViaAWSService": "false"}}},
        {"Sid": "Describe", "Effect": "Allow", "Action": ["ec2:Describe*", "cloudwatch:Get*"], "Resource": "*"},
        {"Sid": "Kms", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"},
        {"Sid": "NoDeleteTables", "Effect": "Deny", "Action": "dynamodb:Delete*", "Resource": "*"},
        {"Sid": "Topics", "Effect": "Allow", "Action": "sns:Publish",
         "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:app-*"},
        {"Sid": "Events", "Effect": "Allow", "Action": "events:PutEvents", "Resource": "*"},
    ]
    rng = random.Random(seed)
    statements = core[:n]
    i = 0
    while len(statements) < n:
        service = SERVICES[rng.randrange(len(SERVICES))]
        verb = VERBS[rng.randrange(len(VERBS))]
        statements.append({
            "Sid": f"Filler{i}", "Effect": "Allow", "Action": f"{service}:{verb}Thing{i}*",
            "Resource": f"arn:aws:{service}:{REGION}:{ACCOUNT}:thing-{i}/*",
        })
        i += 1
    return {"Version": "2012-10-17", "Statement": statements}


def function_policy() -> dict[str, object]:
    fn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-handler"
    return {"Version": "2012-10-17", "Id": "default", "Statement": [
        {"Sid": "s3invoke", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
         "Action": "lambda:InvokeFunction", "Resource": fn,
         "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                       "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::app-bucket"}}},
        {"Sid": "partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "lambda:InvokeFunction", "Resource": fn},
    ]}


def hot_request() -> dict[str, object]:
    return {"principal": USER, "action": "lambda:InvokeFunction",
            "resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-handler",
            "context": {"aws:SourceIp": "203.0.113.10", "aws:ViaAWSService": "false",
                        "aws:RequestedRegion": REGION}}


def distinct_requests(count: int, seed: int = 11) -> list[dict[str, object]]:
    """`count` distinct requests over a mix of actions and resources (allowed and denied)."""
    rng = random.Random(seed)
    kinds = [
        ("lambda:InvokeFunction", lambda i: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:app-{i}"),
        ("dynamodb:PutItem", lambda i: f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/app-{i}"),
        ("dynamodb:DeleteItem", lambda i: f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/app-{i}"),
        ("s3:GetObject", lambda i: f"arn:aws:s3:::app-bucket/key-{i}"),
        ("sqs:SendMessage", lambda i: f"arn:aws:sqs:{REGION}:{ACCOUNT}:app-{i}"),
        ("iam:CreateUser", lambda i: f"arn:aws:iam::{ACCOUNT}:user/u{i}"),
        ("ec2:DescribeInstances", lambda i: "*"),
    ]
    out = []
    for i in range(count):
        action, resource = kinds[rng.randrange(len(kinds))]
        # a distinct source address per request, so that no two requests are equal (1 in 10 from outside)
        inside = rng.random() < 0.9
        ip = f"198.51.{i // 256 % 256}.{i % 256}" if inside else f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"
        out.append({"principal": USER, "action": action, "resource": resource(i),
                    "context": {"aws:SourceIp": ip, "aws:ViaAWSService": "false", "aws:RequestedRegion": REGION}})
    return out
