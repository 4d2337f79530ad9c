"""Attack class: Lambda management actions across accounts (review finding, stricter reading).

A function policy can grant another account "most" actions on an existing function
(https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html), but not all: testing
reported in https://github.com/awsdocs/aws-lambda-developer-guide/issues/139 found AddPermission, RemovePermission
(the IAM action of the API's DeletePermission) and UpdateFunctionConfiguration refused across accounts even when
the function policy allows them, and AWS's documentation was amended after it. lambdaperm takes that stricter
reading: a caller of another account is denied these three whatever the function policy says, with the
AccessDeniedException Lambda answers any cross-account call no resource-based policy allows (docs/fidelity.md).
Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of

REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})


def user(server: Endpoint, account: str, name: str) -> tuple[str, Callable[..., Any]]:
    """A user of `account` whose own policy allows every Lambda action: (its ARN, a client factory)."""
    iam = server.client("iam", key=account)
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    iam.put_user_policy(
        UserName=name,
        PolicyName="all-lambda",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return arn, lambda service: server.client(
        service, key=key["AccessKeyId"], secret=key["SecretAccessKey"], region=REGION
    )


def shared_function(server: Endpoint, owner: str, name: str, grantee: str, action: str) -> tuple[Any, str]:
    """A function of `owner` whose policy grants `action` to the account `grantee`: (owner's client, ARN)."""
    role = make_role(server.client("iam", key=owner), f"{name}-role")
    lam = server.client("lambda", key=owner)
    arn = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )["FunctionArn"]
    lam.add_permission(FunctionName=name, StatementId="manage", Action=action, Principal=grantee)
    return lam, str(arn)


def denial(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = err.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def sids(lam: Any, name: str) -> list[str]:
    return [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]]


@pytest.mark.parametrize("granted", ["lambda:*", "*"])
def test_a_function_policy_does_not_let_another_account_manage_permissions_or_configuration(
    server: Endpoint, granted: str
) -> None:
    """Attack: account B's function policy grants account A `lambda:*` (or `*`); A, whose own policy allows
    lambda:*, adds a statement letting everyone invoke B's function, removes B's statements, and changes its
    configuration. lambdaperm honoured all three.

    AWS (the stricter reading, issue #139): 403 AccessDeniedException "User: <A's user> is not authorized to
    perform: lambda:<action> on resource: <function ARN>" — the bare sentence AWS gives a cross-account caller —
    and nothing changes. The function policy still grants A what Lambda does allow across accounts (GetPolicy,
    GetFunctionConfiguration: the positive control).
    """
    a, b = ("666600000001", "666600000002") if granted == "lambda:*" else ("666600000003", "666600000004")
    owner, arn = shared_function(server, b, f"shared-{a[-1]}", a, granted)
    name = arn.rsplit(":", 1)[1]
    caller, client = user(server, a, "manager")
    lam = client("lambda")

    with pytest.raises(ClientError) as err:
        lam.add_permission(FunctionName=arn, StatementId="everyone", Action="lambda:InvokeFunction", Principal="*")
    assert denial(err) == (
        "AccessDeniedException",
        f"User: {caller} is not authorized to perform: lambda:AddPermission on resource: {arn}",
        403,
    )
    with pytest.raises(ClientError) as err:
        lam.remove_permission(FunctionName=arn, StatementId="manage")
    assert denial(err) == (
        "AccessDeniedException",
        f"User: {caller} is not authorized to perform: lambda:RemovePermission on resource: {arn}",
        403,
    )
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName=arn, Timeout=42, Environment={"Variables": {"XA": "a"}})
    assert denial(err) == (
        "AccessDeniedException",
        f"User: {caller} is not authorized to perform: lambda:UpdateFunctionConfiguration on resource: {arn}",
        403,
    )
    # nothing was acted on
    assert sids(owner, name) == ["manage"]
    config = owner.get_function_configuration(FunctionName=name)
    assert config["Timeout"] == 3 and "Environment" not in config
    # positive control: the grant is read for what Lambda allows across accounts
    assert lam.get_function_configuration(FunctionName=arn)["FunctionArn"] == arn
    assert sids(lam, arn) == ["manage"]
    # and the owner itself manages its function
    owner.add_permission(FunctionName=name, StatementId="own", Action="lambda:GetFunction", Principal=a)
    owner.remove_permission(FunctionName=name, StatementId="own")
    assert owner.update_function_configuration(FunctionName=name, Timeout=42)["Timeout"] == 42


def test_a_qualified_function_policy_does_not_either(server: Endpoint) -> None:
    """The same through a version's policy: B grants A `lambda:*` on version 1; A's AddPermission/RemovePermission
    on `:1` are denied with the qualified ARN as the resource (the one the call was authorized on)."""
    a, b = "666600000005", "666600000006"
    role = make_role(server.client("iam", key=b), "versioned-role")
    owner = server.client("lambda", key=b)
    arn = owner.create_function(
        FunctionName="versioned",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        Publish=True,
    )["FunctionArn"]
    base = arn  # CreateFunction(Publish=True) answers with the unqualified ARN, as AWS does
    owner.add_permission(FunctionName="versioned", Qualifier="1", StatementId="v1", Action="lambda:*", Principal=a)
    caller, client = user(server, a, "versions")
    lam = client("lambda")
    with pytest.raises(ClientError) as err:
        lam.add_permission(
            FunctionName=base, Qualifier="1", StatementId="x", Action="lambda:InvokeFunction", Principal="*"
        )
    assert denial(err) == (
        "AccessDeniedException",
        f"User: {caller} is not authorized to perform: lambda:AddPermission on resource: {base}:1",
        403,
    )
    with pytest.raises(ClientError) as err:
        lam.remove_permission(FunctionName=f"{base}:1", StatementId="v1")
    assert denial(err) == (
        "AccessDeniedException",
        f"User: {caller} is not authorized to perform: lambda:RemovePermission on resource: {base}:1",
        403,
    )
    assert [
        s["Sid"] for s in json.loads(owner.get_policy(FunctionName="versioned", Qualifier="1")["Policy"])["Statement"]
    ] == ["v1"]
    # positive control: the version's grant is read for GetPolicy on that version
    assert json.loads(lam.get_policy(FunctionName=base, Qualifier="1")["Policy"])["Statement"][0]["Sid"] == "v1"
