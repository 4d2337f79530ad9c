"""Issue 8 §5: the fidelity differences an independent, AWS-verified test suite found, each checked through a real
`lambdaperm serve` with real boto3 (docs/fidelity.md, "Issue 8 §5")."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Endpoint
from .lambda_helpers import make_role, zip_of

ACCOUNT = "000000000000"
REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'one'\n"})
CODE_2 = zip_of({"app.py": "def handler(event, context):\n    return 'two'\n"})


@pytest.fixture(scope="module")
def lambda_role(server: Endpoint) -> str:
    return make_role(server.client("iam"), "fidelity8-role")


def _function(server: Endpoint, role: str, name: str, **extra: Any) -> dict[str, Any]:
    return dict(
        server.client("lambda").create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}, **extra
        )
    )


# --- Lambda: FunctionArn of $LATEST and of a publishing CreateFunction -------------------------------------------


def test_create_function_with_publish_returns_the_unqualified_arn(server: Endpoint, lambda_role: str) -> None:
    """AWS answers CreateFunction(Publish=True) with the function's unqualified ARN and the published version's
    number (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html)."""
    out = _function(server, lambda_role, "f8-publish", Publish=True)
    assert out["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f8-publish"
    assert out["Version"] == "1"


def test_latest_is_qualified_where_aws_qualifies_it(server: Endpoint, lambda_role: str) -> None:
    """`$LATEST` named explicitly (GetFunction Qualifier=$LATEST) and `$LATEST` listed among versions
    (ListVersionsByFunction, ListFunctions FunctionVersion=ALL) carry the `:$LATEST` suffix; the unqualified
    GetFunction and the default ListFunctions do not
    (https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html)."""
    _function(server, lambda_role, "f8-latest", Publish=True)
    lam = server.client("lambda")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f8-latest"
    assert lam.get_function(FunctionName="f8-latest")["Configuration"]["FunctionArn"] == arn
    assert (
        lam.get_function(FunctionName="f8-latest", Qualifier="$LATEST")["Configuration"]["FunctionArn"]
        == f"{arn}:$LATEST"
    )
    assert (
        lam.get_function_configuration(FunctionName="f8-latest", Qualifier="$LATEST")["FunctionArn"] == f"{arn}:$LATEST"
    )
    assert lam.get_function(FunctionName="f8-latest", Qualifier="1")["Configuration"]["FunctionArn"] == f"{arn}:1"
    versions = {
        v["Version"]: v["FunctionArn"] for v in lam.list_versions_by_function(FunctionName="f8-latest")["Versions"]
    }
    assert versions == {"$LATEST": f"{arn}:$LATEST", "1": f"{arn}:1"}
    everything = [f for f in lam.list_functions(FunctionVersion="ALL")["Functions"] if f["FunctionName"] == "f8-latest"]
    assert {f["Version"]: f["FunctionArn"] for f in everything} == {"$LATEST": f"{arn}:$LATEST", "1": f"{arn}:1"}
    plain = [f for f in lam.list_functions()["Functions"] if f["FunctionName"] == "f8-latest"]
    assert [f["FunctionArn"] for f in plain] == [arn]


def test_publish_version_only_after_a_change(server: Endpoint, lambda_role: str) -> None:
    """PublishVersion makes a new version only when the code or configuration changed since the last published
    one; otherwise it answers with that version
    (https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html)."""
    _function(server, lambda_role, "f8-versions")
    lam = server.client("lambda")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f8-versions"
    first = lam.publish_version(FunctionName="f8-versions")
    assert (first["Version"], first["FunctionArn"]) == ("1", f"{arn}:1")
    assert lam.publish_version(FunctionName="f8-versions")["Version"] == "1"  # nothing changed
    lam.update_function_code(FunctionName="f8-versions", ZipFile=CODE_2)
    second = lam.publish_version(FunctionName="f8-versions")
    assert (second["Version"], second["FunctionArn"]) == ("2", f"{arn}:2")
    assert lam.publish_version(FunctionName="f8-versions")["Version"] == "2"
    lam.update_function_configuration(FunctionName="f8-versions", Timeout=9)
    assert lam.publish_version(FunctionName="f8-versions")["Version"] == "3"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="f8-versions")["Versions"]] == [
        "$LATEST",
        "1",
        "2",
        "3",
    ]


# --- IAM: the Policy shape of CreatePolicy, GetPolicy and ListPolicies -----------------------------------------

DOC = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'


def test_policy_shapes(server: Endpoint) -> None:
    """CreatePolicy echoes `Description` (and the tags given); GetPolicy gives `Description` and omits an empty
    `Tags`; ListPolicies gives neither: "This element is included in the response to the GetPolicy operation. It
    is not included in the response to the ListPolicies operation"
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Policy.html)."""
    iam = server.client("iam")
    created = iam.create_policy(PolicyName="f8-described", PolicyDocument=DOC, Description="what it is for")["Policy"]
    assert created["Description"] == "what it is for" and "Tags" not in created
    plain = iam.create_policy(PolicyName="f8-plain", PolicyDocument=DOC)["Policy"]
    assert "Description" not in plain and "Tags" not in plain
    tagged = iam.create_policy(PolicyName="f8-tagged", PolicyDocument=DOC, Tags=[{"Key": "k", "Value": "v"}])
    assert tagged["Policy"]["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert got["Description"] == "what it is for" and "Tags" not in got
    assert iam.get_policy(PolicyArn=tagged["Policy"]["Arn"])["Policy"]["Tags"] == [{"Key": "k", "Value": "v"}]
    listed = {p["PolicyName"]: p for p in iam.list_policies(Scope="Local")["Policies"]}
    for name in ("f8-described", "f8-plain", "f8-tagged"):
        assert "Description" not in listed[name] and "Tags" not in listed[name], listed[name]
