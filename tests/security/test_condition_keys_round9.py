"""Condition keys, review round 9 (attack class 6: missing or wrong condition context keys).

Round 8's tag-on-create lead, made systematic: every served operation whose input has a tag member (`Tags`,
`tags`, `TagSpecifications`, `Tagging`, `CreateBucketConfiguration.Tags`: found by walking the botocore models of
the served services) must, when tags are given, also be decided as the service's tagging action on the new
resource, with the request's `aws:RequestTag/*` and `aws:TagKeys` (or S3's object-tag keys) on that check; and
without tags, not. In-process over `required_actions` (the table `TAGGED` covers every such operation: a new one
fails `test_every_tagged_operation_is_in_the_table`); e2e for the gap found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from lambdaperm.catalog import mapped_operations, required_actions
from lambdaperm.cli.condition_keys import served
from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
LOGS = f"arn:aws:logs:{REGION}:{ACCOUNT}"
_TAG_LIST = [{"Key": "team", "Value": "blue"}]
_TAG_MAP = {"team": "blue"}
_AWS_KEYS = {"aws:requesttag/team": ("blue",), "aws:tagkeys": ("team",)}
_S3_KEYS = {"s3:requestobjecttag/team": ("blue",), "s3:requestobjecttagkeys": ("team",)}


def _ec2(
    op: str, params: dict[str, Any], kind: str
) -> tuple[str, str, dict[str, Any], dict[str, Any], str, str, dict[str, Any]]:
    spec = [{"ResourceType": kind, "Tags": _TAG_LIST}]
    return (
        "ec2",
        op,
        params,
        {"TagSpecifications": spec},
        "ec2:CreateTags",
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/*",
        _AWS_KEYS,
    )


# (service, operation, params without tags, the tag member(s), tagging action, its resource, the keys on it)
TAGGED: list[tuple[str, str, dict[str, Any], dict[str, Any], str, str, dict[str, Any]]] = [
    (
        "iam",
        "CreateUser",
        {"UserName": "u"},
        {"Tags": _TAG_LIST},
        "iam:TagUser",
        f"arn:aws:iam::{ACCOUNT}:user/u",
        _AWS_KEYS,
    ),
    (
        "iam",
        "CreateRole",
        {"RoleName": "r", "AssumeRolePolicyDocument": "{}"},
        {"Tags": _TAG_LIST},
        "iam:TagRole",
        ROLE,
        _AWS_KEYS,
    ),
    (
        "iam",
        "CreatePolicy",
        {"PolicyName": "p", "PolicyDocument": "{}"},
        {"Tags": _TAG_LIST},
        "iam:TagPolicy",
        f"arn:aws:iam::{ACCOUNT}:policy/p",
        _AWS_KEYS,
    ),
    (
        "sts",
        "AssumeRole",
        {"RoleArn": ROLE, "RoleSessionName": "s"},
        {"Tags": _TAG_LIST},
        "sts:TagSession",
        ROLE,
        _AWS_KEYS,
    ),
    (
        "lambda",
        "CreateFunction",
        {"FunctionName": "f", "Role": ROLE, "Code": {"ZipFile": b"x"}},
        {"Tags": _TAG_MAP},
        "lambda:TagResource",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",
        _AWS_KEYS,
    ),
    (
        "dynamodb",
        "CreateTable",
        {
            "TableName": "t",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
        {"Tags": _TAG_LIST},
        "dynamodb:TagResource",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t",
        _AWS_KEYS,
    ),
    (
        "s3",
        "CreateBucket",
        {"Bucket": "b"},
        {"CreateBucketConfiguration": {"Tags": _TAG_LIST}},
        "s3:TagResource",
        "arn:aws:s3:::b",
        _AWS_KEYS,
    ),
    (
        "s3",
        "PutObject",
        {"Bucket": "b", "Key": "k"},
        {"Tagging": "team=blue"},
        "s3:PutObjectTagging",
        "arn:aws:s3:::b/k",
        _S3_KEYS,
    ),
    (
        "s3",
        "CopyObject",
        {"Bucket": "b", "Key": "k", "CopySource": "b/s"},
        {"Tagging": "team=blue", "TaggingDirective": "REPLACE"},
        "s3:PutObjectTagging",
        "arn:aws:s3:::b/k",
        _S3_KEYS,
    ),
    (
        "s3",
        "CreateMultipartUpload",
        {"Bucket": "b", "Key": "k"},
        {"Tagging": "team=blue"},
        "s3:PutObjectTagging",
        "arn:aws:s3:::b/k",
        _S3_KEYS,
    ),
    (
        "sqs",
        "CreateQueue",
        {"QueueName": "q"},
        {"tags": _TAG_MAP},
        "sqs:TagQueue",
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
        _AWS_KEYS,
    ),
    (
        "sns",
        "CreateTopic",
        {"Name": "t"},
        {"Tags": _TAG_LIST},
        "sns:TagResource",
        f"arn:aws:sns:{REGION}:{ACCOUNT}:t",
        _AWS_KEYS,
    ),
    (
        "logs",
        "CreateLogGroup",
        {"logGroupName": "g"},
        {"tags": _TAG_MAP},
        "logs:TagResource",
        f"{LOGS}:log-group:g:log-stream:",
        _AWS_KEYS,
    ),
    (
        "logs",
        "PutDestination",
        {"destinationName": "d", "targetArn": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s", "roleArn": ROLE},
        {"tags": _TAG_MAP},
        "logs:TagResource",
        f"{LOGS}:destination:d",
        _AWS_KEYS,
    ),
    (
        "logs",
        "PutDeliveryDestination",
        {"name": "dd", "deliveryDestinationConfiguration": {"destinationResourceArn": "arn:aws:s3:::b"}},
        {"tags": _TAG_MAP},
        "logs:TagResource",
        f"{LOGS}:delivery-destination:dd",
        _AWS_KEYS,
    ),
    (
        "logs",
        "PutDeliverySource",
        {"name": "ds", "resourceArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "logType": "APPLICATION_LOGS"},
        {"tags": _TAG_MAP},
        "logs:TagResource",
        f"{LOGS}:delivery-source:ds",
        _AWS_KEYS,
    ),
    (
        "logs",
        "CreateDelivery",
        {"deliverySourceName": "ds", "deliveryDestinationArn": f"{LOGS}:delivery-destination:dd"},
        {"tags": _TAG_MAP},
        "logs:TagResource",
        f"{LOGS}:delivery:*",
        _AWS_KEYS,
    ),
    (
        "logs",
        "CreateLogAnomalyDetector",
        {"logGroupArnList": [f"{LOGS}:log-group:g"]},
        {"tags": _TAG_MAP},
        "logs:TagResource",
        f"{LOGS}:anomaly-detector:*",
        _AWS_KEYS,
    ),
    (
        "logs",
        "CreateLookupTable",
        {"lookupTableName": "t", "tableBody": "a"},
        {"tags": _TAG_MAP},
        "logs:TagResource",
        f"{LOGS}:lookup-table:t",
        _AWS_KEYS,
    ),
    (
        "logs",
        "CreateScheduledQuery",
        {
            "name": "q",
            "queryLanguage": "CWLI",
            "queryString": "x",
            "scheduleExpression": "rate(1 hour)",
            "executionRoleArn": ROLE,
        },
        {"tags": _TAG_MAP},
        "logs:TagResource",
        f"{LOGS}:scheduled-query:*",
        _AWS_KEYS,
    ),
    _ec2("CreateVpc", {"CidrBlock": "10.0.0.0/16"}, "vpc"),
    _ec2("CreateSubnet", {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24"}, "subnet"),
    _ec2("CreateSecurityGroup", {"GroupName": "g", "Description": "d", "VpcId": "vpc-1"}, "security-group"),
    _ec2("CreateNetworkInterface", {"SubnetId": "subnet-1"}, "network-interface"),
    _ec2("CreateVpcEndpoint", {"VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3"}, "vpc-endpoint"),
    _ec2("AuthorizeSecurityGroupIngress", {"GroupId": "sg-1"}, "security-group-rule"),
    _ec2("AuthorizeSecurityGroupEgress", {"GroupId": "sg-1"}, "security-group-rule"),
    # served since issue 8 §5; a key pair is named by its name (key-pair/<KeyName>), so the tagging is decided on it
    (*_ec2("CreateKeyPair", {"KeyName": "k"}, "key-pair")[:5], f"arn:aws:ec2:{REGION}:{ACCOUNT}:key-pair/k", _AWS_KEYS),
]

# Served operations with a tag member that create nothing tagged, with the reason (checked by the test below).
NOT_TAG_ON_CREATE = {
    ("iam", "TagRole"),
    ("iam", "TagUser"),
    ("lambda", "TagResource"),
    ("dynamodb", "TagResource"),
    ("s3", "PutBucketTagging"),
    ("s3", "PutObjectTagging"),
    ("sqs", "TagQueue"),
    ("sns", "TagResource"),
    ("logs", "TagLogGroup"),
    ("logs", "TagResource"),
    ("ec2", "CreateTags"),  # the tagging actions themselves
    ("ec2", "DeleteTags"),  # removes tags
    ("ec2", "RunInstances"),  # decided (tags included), then refused 501: it runs no instance (issue 8 §5)
    ("s3", "CompleteMultipartUpload"),
    ("s3", "DeleteObjects"),  # `ETag` members
    # tag FILTERS of a configuration, no tags written
    ("s3", "PutBucketAnalyticsConfiguration"),
    ("s3", "PutBucketIntelligentTieringConfiguration"),
    ("s3", "PutBucketLifecycleConfiguration"),
    ("s3", "PutBucketMetricsConfiguration"),
    ("s3", "PutBucketReplication"),
    ("s3", "RestoreObject"),  # SELECT restores into an output location: refused by the data plane (see the docs)
    ("lambda", "CreateEventSourceMapping"),  # tags refused 501 (round 8)
}


def _tag_paths(shape: Any, path: str = "", seen: tuple[str, ...] = ()) -> Iterator[str]:
    if shape.name in seen or len(seen) > 6:
        return
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            here = f"{path}.{name}" if path else name
            if "tag" in name.lower():
                yield here
            yield from _tag_paths(member, here, (*seen, shape.name))
    elif shape.type_name == "list":
        yield from _tag_paths(shape.member, f"{path}[]", (*seen, shape.name))


def _served_with_tags() -> set[tuple[str, str]]:
    session = botocore.session.get_session()
    ops = served()
    out = set()
    for service, operation, _ in mapped_operations():
        if service not in ops or (ops[service] is not None and operation not in ops[service]):
            continue
        shape = session.get_service_model(service).operation_model(operation).input_shape
        if shape is None or operation.startswith(("List", "Describe", "Get", "Untag")):
            continue
        if any(True for _ in _tag_paths(shape)):
            out.add((service, operation))
    return out


def test_every_tagged_operation_is_in_the_table() -> None:
    """Every served operation with a tag member is either a create checked below or listed with its reason."""
    covered = {(s, o) for s, o, *_ in TAGGED} | NOT_TAG_ON_CREATE
    assert _served_with_tags() - covered == set()


@pytest.mark.parametrize(
    ("service", "operation", "params", "tags", "action", "resource", "keys"),
    TAGGED,
    ids=[f"{s}:{o}" for s, o, *_ in TAGGED],
)
def test_tags_on_create_are_the_tagging_action_too(
    service: str,
    operation: str,
    params: dict[str, Any],
    tags: dict[str, Any],
    action: str,
    resource: str,
    keys: dict[str, Any],
) -> None:
    """A create carrying tags is also decided as the service's tagging action on the new resource, with the
    request's tag keys; without tags it is not (the guides' tag-on-create rule, cited on each catalog row)."""
    tagged = required_actions(service, operation, {**params, **tags}, account=ACCOUNT, region=REGION)
    checks = [ra for ra in tagged if ra.action == action]
    assert len(checks) == 1, tagged
    assert resource in checks[0].resources, checks[0]
    for key, value in keys.items():
        assert checks[0].context.get(key) == value, (key, checks[0].context)
    untagged = required_actions(service, operation, params, account=ACCOUNT, region=REGION)
    assert [ra for ra in untagged if ra.action == action and ra.action.split(":")[1] != operation] == [], untagged


# --- e2e: CloudWatch Logs destinations and delivery resources ------------------------------------------------------


def _error(call: Callable[..., Any], **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**params)
    return refused.value.response["Error"]["Code"], refused.value.response["Error"]["Message"]


def test_a_delivery_destination_tagged_on_creation_needs_tag_resource(server: Endpoint) -> None:
    """Attack: a user allowed logs:PutDeliveryDestination but denied logs:TagResource creates a delivery destination
    with `tags` (team=prod). AWS rule: CloudWatch Logs authorizes tags given at creation as logs:TagResource as well
    ("User ... is not authorized to perform CreateLogGroup with Tags. An additional permission "logs:TagResource" is
    required"; logs:TagResource lists destination, delivery, delivery-source and delivery-destination among its
    resource types: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html).
    lambdaperm decided the call as logs:PutDeliveryDestination alone and stored the tags; now AccessDenied, and no
    delivery destination."""
    account = "780800000903"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="dest-r9")
    admin = server.client("logs", key=account)
    logs = server.client(
        "logs",
        **user_keys(
            server,
            account,
            "tagger",
            document={
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
                    {"Effect": "Deny", "Action": "logs:TagResource", "Resource": "*"},
                ],
            },
        ),
        region=REGION,
    )
    config = {"destinationResourceArn": "arn:aws:s3:::dest-r9"}
    code, _ = _error(
        logs.put_delivery_destination, name="dd9", deliveryDestinationConfiguration=config, tags={"team": "prod"}
    )
    assert code == "AccessDeniedException"
    assert admin.describe_delivery_destinations()["deliveryDestinations"] == []
    # (the same call without tags needs no logs:TagResource: the in-process table above; it is not made here because
    # the structural oracle does not map CloudWatch Logs delivery resources yet)
