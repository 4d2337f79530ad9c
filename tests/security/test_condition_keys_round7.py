"""Condition keys, review round 7 (attack class 6: missing or wrong condition context keys).

Round 6's lesson, continued over every served operation with a default or a directive: a key whose value the
service fills in (a default, a directive, state the resource already has) must be absent, the request's value or
the effective value as AWS documents — and UNSUPPLIED where AWS is silent (docs/fidelity.md, "Condition keys whose
value the service defaults").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import user_keys

REGION = "us-east-1"
VPC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ok'\n"})


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _user_client(server: Endpoint, account: str, name: str, service: str, policy: dict[str, Any]) -> Any:
    return server.client(service, **user_keys(server, account, name, document=policy), region=REGION)


def _error(call: Callable[..., Any], **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**params)
    return refused.value.response["Error"]["Code"], refused.value.response["Error"]["Message"]


# --- Lambda: the VPC a configuration connects to ----------------------------------------------------------------


def _vpc_user(server: Endpoint, account: str) -> tuple[Any, str, str, str, str]:
    """A user allowed to create and update functions and to pass the role, except in the VPC `vpc-forbidden`
    stands for (the guide's `StringEquals lambda:VpcIds` Deny); returns (lambda client, role, vpc, subnet, group)."""
    iam = server.client("iam", key=account)
    role = make_role(iam, "vpc-role", managed=[VPC_ROLE])
    ec2 = server.client("ec2", key=account, region=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    policy = _policy(
        {"Effect": "Allow", "Action": ["lambda:*", "iam:PassRole", "ec2:Describe*"], "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"],
            "Resource": "*",
            "Condition": {"StringEquals": {"lambda:VpcIds": [vpc]}},
        },
    )
    return _user_client(server, account, "deployer", "lambda", policy), role, vpc, subnet, group


def test_a_security_group_alone_does_not_hide_the_vpc_from_lambda_vpc_ids(server: Endpoint) -> None:
    """`lambda:VpcIds`: "VPC ID is not an input parameter to the CreateFunction or UpdateFunctionConfiguration
    request. Lambda retrieves the VPC ID value based on the subnet and security group parameters"
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#vpc-conditions), and Lambda refuses a
    VpcConfig naming security groups without subnets (or subnets without security groups): 400
    InvalidParameterValueException "SubnetIds and SecurityIds must coexist or be both empty list." (observed,
    aws/aws-sdk-js#1293). Attack: lambdaperm read the VPC from the subnets only and accepted a VpcConfig of
    security groups alone: the key was absent, the guide's `StringEquals lambda:VpcIds` Deny did not apply, and
    the function was created (and an existing one moved) into the forbidden VPC. Now refused as Lambda refuses it,
    and the key is read from the security groups too (unsupplied when it cannot be told)."""
    account = "777700000701"
    lam, role, vpc, subnet, group = _vpc_user(server, account)
    code, message = _error(
        lam.create_function,
        FunctionName="sg-only",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        VpcConfig={"SecurityGroupIds": [group]},
    )
    assert code in ("InvalidParameterValueException", "AccessDeniedException"), (code, message)
    admin = server.client("lambda", key=account, region=REGION)
    assert _error(admin.get_function, FunctionName="sg-only")[0] == "ResourceNotFoundException"
    # an existing function is not moved into the VPC either
    lam.create_function(
        FunctionName="plain", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    code, message = _error(
        lam.update_function_configuration, FunctionName="plain", VpcConfig={"SecurityGroupIds": [group]}
    )
    assert code in ("InvalidParameterValueException", "AccessDeniedException"), (code, message)
    assert not admin.get_function_configuration(FunctionName="plain").get("VpcConfig", {}).get("VpcId")
    # positive control: the Deny applies to the complete configuration; another VPC's is allowed
    assert (
        _error(
            lam.create_function,
            FunctionName="full",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": CODE},
            VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]},
        )[0]
        == "AccessDeniedException"
    )
    ec2 = server.client("ec2", key=account, region=REGION)
    other = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    other_subnet = ec2.create_subnet(VpcId=other, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    other_group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=other)["GroupId"]
    made = lam.create_function(
        FunctionName="elsewhere",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        VpcConfig={"SubnetIds": [other_subnet], "SecurityGroupIds": [other_group]},
    )
    assert made["VpcConfig"]["VpcId"] == other and vpc != other


@pytest.mark.parametrize(
    "config", [{"SecurityGroupIds": ["GROUP"]}, {"SubnetIds": ["SUBNET"]}], ids=["groups-only", "subnets-only"]
)
def test_a_partial_vpc_config_is_refused_as_lambda_refuses_it(server: Endpoint, config: dict[str, Any]) -> None:
    """Lambda: "SubnetIds and SecurityIds must coexist or be both empty list." (400 InvalidParameterValueException,
    observed: aws/aws-sdk-js#1293, XT-i/aws-lambda-jenkins-plugin#56). lambdaperm created the function with half a
    configuration (and a VpcId no condition key had shown)."""
    account = "777700000702" if "SecurityGroupIds" in config else "777700000703"
    iam = server.client("iam", key=account)
    role = make_role(iam, "vpc-role", managed=[VPC_ROLE])
    ec2 = server.client("ec2", key=account, region=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    vpc_config = {k: [subnet if v == ["SUBNET"] else group] for k, v in config.items()}
    lam = server.client("lambda", key=account, region=REGION)
    assert _error(
        lam.create_function,
        FunctionName="half",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        VpcConfig=vpc_config,
    ) == (
        "InvalidParameterValueException",
        "SubnetIds and SecurityIds must coexist or be both empty list.",
    )
    # both empty: no VPC (accepted, as Lambda)
    made = lam.create_function(
        FunctionName="none",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        VpcConfig={"SubnetIds": [], "SecurityGroupIds": []},
    )
    assert not made.get("VpcConfig", {}).get("VpcId")


def test_detaching_a_function_from_its_vpc_leaves_lambda_vpc_ids_absent(server: Endpoint) -> None:
    """Held. "To ensure that all users deploy only VPC-connected functions, you can deny function create and update
    operations that don't include a valid VPC ID" — a Deny on `Null lambda:VpcIds true`
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#vpc-conditions). Attack: an update with
    `VpcConfig={SubnetIds: [], SecurityGroupIds: []}` removes the function's VPC; the key must not carry the VPC
    the function had (the service's state) — it is absent, and the Deny applies."""
    account = "777700000704"
    iam = server.client("iam", key=account)
    role = make_role(iam, "vpc-role", managed=[VPC_ROLE])
    ec2 = server.client("ec2", key=account, region=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.6.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.6.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    lam = _user_client(
        server,
        account,
        "deployer",
        "lambda",
        _policy(
            {"Effect": "Allow", "Action": ["lambda:*", "iam:PassRole", "ec2:Describe*"], "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"],
                "Resource": "*",
                "Condition": {"Null": {"lambda:VpcIds": "true"}},
            },
        ),
    )
    made = lam.create_function(
        FunctionName="in-vpc",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": CODE},
        VpcConfig={"SubnetIds": [subnet], "SecurityGroupIds": [group]},
    )
    assert made["VpcConfig"]["VpcId"] == vpc
    assert (
        _error(
            lam.update_function_configuration,
            FunctionName="in-vpc",
            VpcConfig={"SubnetIds": [], "SecurityGroupIds": []},
        )[0]
        == "AccessDeniedException"
    )
    admin = server.client("lambda", key=account, region=REGION)
    assert admin.get_function_configuration(FunctionName="in-vpc")["VpcConfig"]["VpcId"] == vpc


def test_a_role_created_without_a_boundary_is_not_decided_on_one(server: Endpoint) -> None:
    """Held. `iam:PermissionsBoundary` on CreateRole is the boundary the request sets; IAM sets none by default
    and the key is then absent: the IAM guide's delegation policy (Allow iam:CreateRole with `StringEquals
    iam:PermissionsBoundary <boundary>`) refuses a role created without it, while `StringEqualsIfExists` accepts
    it — "If the key is not present, the condition evaluates to true"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-delegate,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists)."""
    account = "777700000705"
    admin = server.client("iam", key=account)
    boundary = admin.create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps(_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})),
    )["Policy"]["Arn"]
    trust = json.dumps(
        _policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    )

    def creator(name: str, operator: str) -> Any:
        return _user_client(
            server,
            account,
            name,
            "iam",
            _policy(
                {
                    "Effect": "Allow",
                    "Action": "iam:CreateRole",
                    "Resource": "*",
                    "Condition": {operator: {"iam:PermissionsBoundary": boundary}},
                }
            ),
        )

    strict = creator("strict", "StringEquals")
    assert _error(strict.create_role, RoleName="unbounded", AssumeRolePolicyDocument=trust)[0] == "AccessDenied"
    strict.create_role(RoleName="bounded", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary)
    lenient = creator("lenient", "StringEqualsIfExists")
    lenient.create_role(RoleName="unbounded", AssumeRolePolicyDocument=trust)
    other = admin.create_policy(
        PolicyName="other", PolicyDocument=json.dumps(_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    )["Policy"]["Arn"]
    assert (
        _error(lenient.create_role, RoleName="wide", AssumeRolePolicyDocument=trust, PermissionsBoundary=other)[0]
        == "AccessDenied"
    )
