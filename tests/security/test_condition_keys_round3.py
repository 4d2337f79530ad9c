"""Condition keys, review round 3 (attack class 6: missing or wrong condition context keys).

Each test sends a request whose condition key lambdaperm could supply differently from AWS — a key AWS
supplies left out, a value taken from the wrong place — and asserts AWS's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, payload, zip_of
from tests.security.iam_users import key_pair, user_keys

REGION = "us-east-1"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _user(server: Endpoint, account: str, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    return key_pair(user_keys(server, account, name, document=policy))


def _denied(call: Callable[..., Any], code: str, **params: Any) -> str:
    with pytest.raises(ClientError) as denied:
        call(**params)
    got = denied.value.response["Error"]["Code"]
    message = denied.value.response["Error"]["Message"]
    assert got == code, (got, message)
    return message


# --- lambda:SourceFunctionArn on calls made by function code ---------------------------------------------------

_LIST_ROLES = """
import boto3

def handler(event, context):
    try:
        boto3.client("iam").list_roles()
        return {"ok": True}
    except Exception as err:
        return {"ok": False, "error": str(err)}
"""


def test_calls_from_function_code_carry_the_source_function_arn(server: Endpoint) -> None:
    """Attack: the execution role shared by two functions denies iam:ListRoles to calls made from the code of
    `untrusted-*` functions (ArnLike lambda:SourceFunctionArn) and to calls made outside any function (Null
    lambda:SourceFunctionArn true). Without the key in the handler session's request context, the ArnLike
    Deny never applies and the untrusted function's code lists roles.
    AWS rule: "Lambda injects the source function ARN into the credentials context if the request is an AWS
    API request that comes from within your execution environment"; the key is usable in identity policies.
    https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html"""
    account = "630000000001"
    iam = server.client("iam", key=account)
    role = make_role(
        iam,
        "shared-exec",
        _policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "iam:ListRoles",
                "Resource": "*",
                "Condition": {"ArnLike": {"lambda:SourceFunctionArn": "arn:aws:lambda:*:*:function:untrusted-*"}},
            },
        ),
    )
    lam = server.client("lambda", key=account, region=REGION)
    code = zip_of({"app.py": _LIST_ROLES})
    for name in ("trusted-fn", "untrusted-fn"):
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
        )
    trusted = payload(lam.invoke(FunctionName="trusted-fn", Payload=b"{}"))
    assert trusted == {"ok": True}, trusted  # positive control: the role may list roles
    untrusted = payload(lam.invoke(FunctionName="untrusted-fn", Payload=b"{}"))
    assert untrusted["ok"] is False, untrusted
    assert "iam:ListRoles" in untrusted["error"] and "explicit deny" in untrusted["error"], untrusted


def test_source_function_arn_names_the_function_of_the_region_it_runs_in(server: Endpoint) -> None:
    """Attack: two functions of the same name and role in two regions. If the handler credentials of one
    were reused for the other (keyed by role and name only), the code of the eu-west-1 function would act
    with the us-east-1 function's lambda:SourceFunctionArn and pass a Deny aimed at eu-west-1's.
    AWS rule: the key is the ARN of the function whose execution environment makes the call.
    https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html"""
    account = "630000000002"
    iam = server.client("iam", key=account)
    role = make_role(
        iam,
        "twin-exec",
        _policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "iam:ListRoles",
                "Resource": "*",
                "Condition": {"ArnLike": {"lambda:SourceFunctionArn": "arn:aws:lambda:eu-west-1:*:function:*"}},
            },
        ),
    )
    code = zip_of({"app.py": _LIST_ROLES})
    east = server.client("lambda", key=account, region="us-east-1")
    west = server.client("lambda", key=account, region="eu-west-1")
    for lam in (east, west):
        lam.create_function(
            FunctionName="twin", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
        )
    assert payload(east.invoke(FunctionName="twin", Payload=b"{}")) == {"ok": True}
    denied = payload(west.invoke(FunctionName="twin", Payload=b"{}"))
    assert denied["ok"] is False and "explicit deny" in denied["error"], denied


def test_a_session_not_issued_to_function_code_has_no_source_function_arn(server: Endpoint) -> None:
    """Attack (the other direction): the same role assumed through sts:AssumeRole (not by Lambda for a
    function's code) must not carry lambda:SourceFunctionArn: a Deny on `Null lambda:SourceFunctionArn true`
    (calls not made from function code) applies to it, and not to the function's code.
    AWS rule: the key is injected only into the credentials Lambda gives the execution environment.
    https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html"""
    account = "630000000003"
    iam = server.client("iam", key=account)
    trust = _policy(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"},
    )
    role = make_role(
        iam,
        "code-only",
        _policy(
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "iam:ListRoles",
                "Resource": "*",
                "Condition": {"Null": {"lambda:SourceFunctionArn": "true"}},
            },
        ),
        trust=trust,
    )
    lam = server.client("lambda", key=account, region=REGION)
    lam.create_function(
        FunctionName="fn",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": _LIST_ROLES})},
    )
    ran = payload(lam.invoke(FunctionName="fn", Payload=b"{}"))
    assert ran == {"ok": True}, ran
    creds = _user(server, account, "u", _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    sts = server.client("sts", key=creds[0], secret=creds[1])
    session = sts.assume_role(RoleArn=role, RoleSessionName="fn")["Credentials"]
    outside = server.client(
        "iam", key=session["AccessKeyId"], secret=session["SecretAccessKey"], token=session["SessionToken"]
    )
    _denied(outside.list_roles, "AccessDenied")


# --- aws:PrincipalTag of transitive session tags -----------------------------------------------------------------


def test_a_transitive_tag_key_given_in_another_case_persists_in_a_role_chain(server: Endpoint) -> None:
    """Attack: a session is tagged `clearance=low` and marks it transitive as `Clearance` (another case). The
    key is accepted (session tag keys are case-insensitive), but if the chained session looks the inherited
    tag up by the transitive key's exact text it finds nothing: the chained session sheds the tag, and a Deny
    on aws:PrincipalTag/clearance=low no longer applies to it.
    AWS rule: tag keys are case-insensitive; a chained session inherits the calling session's transitive tags.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_role-chaining"""
    account = "630000000004"
    iam = server.client("iam", key=account)
    trust = json.dumps(
        _policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        )
    )
    iam.create_role(RoleName="hop", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(
        RoleName="hop",
        PolicyName="p",
        PolicyDocument=json.dumps(
            _policy(
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "iam:ListRoles",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/clearance": "low"}},
                },
            )
        ),
    )
    creds = _user(server, account, "assumer", _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    sts = server.client("sts", key=creds[0], secret=creds[1])
    arn = f"arn:aws:iam::{account}:role/hop"

    def session_client(service: str, c: dict[str, Any]) -> Any:
        return server.client(service, key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])

    untagged = sts.assume_role(RoleArn=arn, RoleSessionName="plain")["Credentials"]
    assert session_client("iam", untagged).list_roles()["Roles"]  # positive control
    try:
        first = sts.assume_role(
            RoleArn=arn,
            RoleSessionName="first",
            Tags=[{"Key": "clearance", "Value": "low"}],
            TransitiveTagKeys=["Clearance"],
        )["Credentials"]
    except ClientError as refused:  # refusing the key's other case is AWS-compatible too (fails closed)
        assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 400, refused.response
        return
    _denied(session_client("iam", first).list_roles, "AccessDenied")
    second = session_client("sts", first).assume_role(RoleArn=arn, RoleSessionName="second")["Credentials"]
    _denied(session_client("iam", second).list_roles, "AccessDenied")
