"""Review round 1, tag on create: a caller allowed to create a resource but not to tag one gave the new resource
tags anyway (which then grant or deny access through aws:ResourceTag / aws:PrincipalTag). AWS: a create that
carries tags needs the service's tagging action too, on the new resource — IAM (iam:TagUser, iam:TagRole,
iam:TagPolicy: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html), SQS (sqs:TagQueue), SNS
(sns:TagResource; spec §12.5), Lambda (lambda:TagResource:
https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html), DynamoDB (dynamodb:TagResource).
Real `lambdaperm serve`, real boto3; each test has its positive controls (the create without tags, and with the
tagging action allowed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import LAMBDA_TRUST, zip_of
from tests.e2e.test_iam_sts import make_user

TAGS = [{"Key": "team", "Value": "admins"}]


def creator(server: Endpoint, name: str, create: str, tag: str, service: str) -> tuple[Any, Callable[[], None]]:
    """A client of a new user allowed `create` (and what it needs besides) but not `tag`; and a function that
    then allows `tag` too."""
    allow: list[dict[str, Any]] = [{"Effect": "Allow", "Action": [create, "iam:PassRole"], "Resource": "*"}]
    key, secret = make_user(server, name, {"Version": "2012-10-17", "Statement": allow})

    def grant() -> None:
        allow.append({"Effect": "Allow", "Action": tag, "Resource": "*"})
        server.client("iam").put_user_policy(
            UserName=name, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": allow})
        )

    return server.client(service, key=key, secret=secret), grant


def denied(exc: pytest.ExceptionInfo[ClientError], action: str) -> None:
    err = exc.value.response["Error"]
    assert err["Code"] in ("AccessDenied", "AccessDeniedException", "AuthorizationError"), err
    # SNS writes the action's prefix in capitals ("perform: SNS:TagResource", spec §12.5); the others as IAM does
    written = action.replace("sns:", "SNS:") if err["Code"] == "AuthorizationError" else action
    assert f"perform: {written} on resource" in err["Message"], err["Message"]


def test_iam_create_user_and_role_with_tags_need_tag_permission(server: Endpoint) -> None:
    for op, tag in (("CreateUser", "iam:TagUser"), ("CreateRole", "iam:TagRole"), ("CreatePolicy", "iam:TagPolicy")):
        iam, grant = creator(server, f"iam-{op.lower()}", f"iam:{op}", tag, "iam")

        def create(name: str, tags: list[dict[str, str]] | None, op: str = op, iam: Any = iam) -> Any:
            extra: dict[str, Any] = {"Tags": tags} if tags is not None else {}
            if op == "CreateUser":
                return iam.create_user(UserName=name, **extra)
            if op == "CreateRole":
                return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST), **extra)
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            return iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(policy), **extra)

        with pytest.raises(ClientError) as exc:
            create(f"{op.lower()}-tagged", TAGS)
        denied(exc, tag)
        create(f"{op.lower()}-plain", None)  # the create alone is allowed
        grant()
        create(f"{op.lower()}-tagged", TAGS)


def test_sqs_create_queue_with_tags_needs_tag_queue(server: Endpoint) -> None:
    sqs, grant = creator(server, "sqs-creator", "sqs:CreateQueue", "sqs:TagQueue", "sqs")
    with pytest.raises(ClientError) as exc:
        sqs.create_queue(QueueName="tagged-q", tags={"team": "admins"})
    denied(exc, "sqs:TagQueue")
    admin = server.client("sqs")
    assert "QueueUrls" not in admin.list_queues(QueueNamePrefix="tagged-q")  # nothing was created
    sqs.create_queue(QueueName="plain-q")
    grant()
    sqs.create_queue(QueueName="tagged-q", tags={"team": "admins"})


def test_sns_create_topic_with_tags_needs_tag_resource(server: Endpoint) -> None:
    sns, grant = creator(server, "sns-creator", "sns:CreateTopic", "sns:TagResource", "sns")
    with pytest.raises(ClientError) as exc:
        sns.create_topic(Name="tagged-t", Tags=TAGS)
    # AWS answers 403 AuthorizationError naming "SNS:TagResource" (spec §12.5)
    assert exc.value.response["Error"]["Code"] == "AuthorizationError"
    denied(exc, "sns:TagResource")
    sns.create_topic(Name="plain-t")
    grant()
    sns.create_topic(Name="tagged-t", Tags=TAGS)


def test_lambda_create_function_with_tags_needs_tag_resource(server: Endpoint) -> None:
    role = server.client("iam").create_role(RoleName="tag-fn-role", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))[
        "Role"
    ]["Arn"]
    lam, grant = creator(server, "fn-creator", "lambda:CreateFunction", "lambda:TagResource", "lambda")
    code = {"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 1\n"})}

    def create(name: str, **extra: Any) -> Any:
        return lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code=code, **extra
        )

    with pytest.raises(ClientError) as exc:
        create("tagged-fn", Tags={"team": "admins"})
    denied(exc, "lambda:TagResource")
    create("plain-fn")
    grant()
    create("tagged-fn", Tags={"team": "admins"})


def test_dynamodb_create_table_with_tags_needs_tag_resource(server: Endpoint) -> None:
    ddb, grant = creator(server, "table-creator", "dynamodb:CreateTable", "dynamodb:TagResource", "dynamodb")

    def create(name: str, **extra: Any) -> Any:
        return ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            **extra,
        )

    with pytest.raises(ClientError) as exc:
        create("tagged-table", Tags=TAGS)
    denied(exc, "dynamodb:TagResource")
    create("plain-table")
    grant()
    create("tagged-table", Tags=TAGS)
