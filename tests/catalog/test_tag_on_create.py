"""Tag on create (review round 1): a create that carries tags needs the service's tagging action too, on the new
resource, with the request's tags in its context; without tags it needs the create alone."""

from __future__ import annotations

from typing import Any

import pytest

from lambdaperm.catalog import required_actions

ACCOUNT, REGION = "111111111111", "us-east-1"
TAGS = [{"Key": "env", "Value": "prod"}]
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"

CASES = [  # service, operation, params without tags, tag parameter and value, tagging action, resource
    ("iam", "CreateUser", {"UserName": "u"}, ("Tags", TAGS), "iam:TagUser", f"arn:aws:iam::{ACCOUNT}:user/u"),
    (
        "iam",
        "CreateRole",
        {"RoleName": "r", "AssumeRolePolicyDocument": "{}"},
        ("Tags", TAGS),
        "iam:TagRole",
        f"arn:aws:iam::{ACCOUNT}:role/r",
    ),
    (
        "iam",
        "CreatePolicy",
        {"PolicyName": "p", "PolicyDocument": "{}"},
        ("Tags", TAGS),
        "iam:TagPolicy",
        f"arn:aws:iam::{ACCOUNT}:policy/p",
    ),
    (
        "iam",
        "CreateInstanceProfile",
        {"InstanceProfileName": "ip"},
        ("Tags", TAGS),
        "iam:TagInstanceProfile",
        f"arn:aws:iam::{ACCOUNT}:instance-profile/ip",
    ),
    (
        "sqs",
        "CreateQueue",
        {"QueueName": "q"},
        ("tags", {"env": "prod"}),
        "sqs:TagQueue",
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:q",
    ),
    ("sns", "CreateTopic", {"Name": "t"}, ("Tags", TAGS), "sns:TagResource", f"arn:aws:sns:{REGION}:{ACCOUNT}:t"),
    (
        "lambda",
        "CreateFunction",
        {"FunctionName": "f", "Role": ROLE},
        ("Tags", {"env": "prod"}),
        "lambda:TagResource",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",
    ),
    (
        "dynamodb",
        "CreateTable",
        {"TableName": "t"},
        ("Tags", TAGS),
        "dynamodb:TagResource",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t",
    ),
]


def needs(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    return {n.action: n for n in required_actions(service, operation, params, account=ACCOUNT, region=REGION)}


@pytest.mark.parametrize(("service", "operation", "params", "tags", "action", "resource"), CASES)
def test_create_with_tags_needs_the_tagging_action(
    service: str, operation: str, params: dict[str, Any], tags: tuple[str, Any], action: str, resource: str
) -> None:
    found = needs(service, operation, {**params, tags[0]: tags[1]})
    assert f"{service}:{operation}" in found
    assert found[action].resources == (resource,)
    assert found[action].context["aws:requesttag/env"] == ("prod",)
    assert found[action].context["aws:tagkeys"] == ("env",)


@pytest.mark.parametrize(("service", "operation", "params", "tags", "action", "resource"), CASES)
def test_create_without_tags_needs_no_tagging_action(
    service: str, operation: str, params: dict[str, Any], tags: tuple[str, Any], action: str, resource: str
) -> None:
    assert action not in needs(service, operation, params)
    empty = [] if isinstance(tags[1], list) else {}
    assert action not in needs(service, operation, {**params, tags[0]: empty})
