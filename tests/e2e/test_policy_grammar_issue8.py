"""Issue 8 §5 "Policy grammar": IAM's CreatePolicy, CreatePolicyVersion, Put{User,Group,Role}Policy, CreateRole
and UpdateAssumeRolePolicy accept and refuse documents as IAM does, with IAM's MalformedPolicyDocument wording,
through a real `lambdaperm serve` and real boto3 (docs/fidelity.md, "Issue 8 §5: policy grammar")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint

ACCOUNT = "000000000000"


def _doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> str:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        out = {"Version": version, **out}
    return json.dumps(out)


def _stmt(resource: str = "arn:aws:s3:::example_bucket", action: str = "s3:ListBucket", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


TRUST = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}


def _malformed(call: Any, **kw: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**kw)
    err = info.value.response["Error"]
    assert err["Code"] == "MalformedPolicyDocument", err
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(err["Message"])


@pytest.fixture(scope="module")
def iam(server: Endpoint) -> Any:
    client = server.client("iam")
    client.create_user(UserName="grammar8-user")
    client.create_group(GroupName="grammar8-group")
    client.create_role(RoleName="grammar8-role", AssumeRolePolicyDocument=_doc(TRUST))
    client.create_policy(PolicyName="grammar8-versions", PolicyDocument=_doc(_stmt()))
    return client


VERSIONS_ARN = f"arn:aws:iam::{ACCOUNT}:policy/grammar8-versions"


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_managed_policies_must_be_version_2012(iam: Any, version: str | None) -> None:
    expected = "Policy document must be version 2012-10-17 or greater."
    assert _malformed(iam.create_policy, PolicyName="g8-v", PolicyDocument=_doc(_stmt(), version=version)) == expected
    assert (
        _malformed(iam.create_policy_version, PolicyArn=VERSIONS_ARN, PolicyDocument=_doc(_stmt(), version=version))
        == expected
    )


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_inline_and_trust_policies_take_the_documented_default_version(iam: Any, version: str | None) -> None:
    document = _doc(_stmt(), version=version)
    iam.put_user_policy(UserName="grammar8-user", PolicyName="p", PolicyDocument=document)
    iam.put_group_policy(GroupName="grammar8-group", PolicyName="p", PolicyDocument=document)
    iam.put_role_policy(RoleName="grammar8-role", PolicyName="p", PolicyDocument=document)
    iam.update_assume_role_policy(RoleName="grammar8-role", PolicyDocument=_doc(TRUST, version=version))
    got = iam.get_role(RoleName="grammar8-role")["Role"]["AssumeRolePolicyDocument"]
    assert got.get("Version") == version


@pytest.mark.parametrize("text", ["This is not a json document", '{"Version": "2012-10-17",'])
def test_non_json_documents_get_iams_message(iam: Any, text: str) -> None:
    expected = "This policy contains invalid Json"
    assert _malformed(iam.create_policy, PolicyName="g8-json", PolicyDocument=text) == expected
    assert _malformed(iam.put_user_policy, UserName="grammar8-user", PolicyName="j", PolicyDocument=text) == expected
    assert _malformed(iam.create_role, RoleName="g8-json", AssumeRolePolicyDocument=text) == expected
    assert _malformed(iam.update_assume_role_policy, RoleName="grammar8-role", PolicyDocument=text) == expected


IAM_PATH = (
    'IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, instance-profile/, '
    "mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/."
)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            "arn:error:s3:::example_bucket",
            'Partition "error" is not valid for resource "arn:error:s3:::example_bucket".',
        ),
        (
            "arn:aws:iam:us-east-1::user/x",
            "IAM resource arn:aws:iam:us-east-1::user/x cannot contain region information.",
        ),
        (
            "arn:aws:s3:us-east-1::example_bucket",
            "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.",
        ),
        ("arn:aws", "Resource vendor must be fully qualified and cannot contain regexes."),
        ("arn:aws:s3::x", "The policy failed legacy parsing"),
        ("arn:aws::::x", "The policy failed legacy parsing"),
        ("arn:aws:iam:::example_bucket", IAM_PATH),
    ],
)
def test_resource_arns_iam_refuses(iam: Any, resource: str, expected: str) -> None:
    document = _doc(_stmt(resource))
    assert _malformed(iam.create_policy, PolicyName="g8-arn", PolicyDocument=document) == expected
    assert (
        _malformed(iam.put_role_policy, RoleName="grammar8-role", PolicyName="a", PolicyDocument=document) == expected
    )


@pytest.mark.parametrize(
    "statement",
    [
        _stmt(Condition={}),
        _stmt(Condition={"DateGreaterThan": {}}),
        _stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": []}}),
        _stmt(Condition={"DateGreaterThan": {"aws:CurrentTime": "2019-01-01T"}}),
        _stmt(Condition={"DateLessThanEquals": {"aws:CurrentTime": "2016-12-13t2:00:00.593194+23"}}),
        _stmt(action="s3.s:ListBucket"),
        _stmt("arn:aws-cn:s3:::example_bucket"),
    ],
    ids=[
        "empty-condition",
        "empty-operator-block",
        "empty-value-list",
        "date-trailing-T",
        "date-offset-hours",
        "vendor-with-dot",
        "partition-aws-cn",
    ],
)
def test_documents_iam_accepts(iam: Any, statement: dict[str, Any]) -> None:
    document = _doc(statement)
    arn = iam.create_policy(PolicyName="g8-ok", PolicyDocument=document)["Policy"]["Arn"]
    try:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=document, SetAsDefault=True)
    finally:
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=arn)
    iam.put_group_policy(GroupName="grammar8-group", PolicyName="ok", PolicyDocument=document)
