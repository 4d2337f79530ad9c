"""Condition keys, review round 4 (attack class 6: missing or wrong condition context keys).

Each test sends a request whose condition key lambdaperm could supply differently from AWS — a key AWS
supplies left out, a value taken from the wrong place — and asserts AWS's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

REGION = "us-east-1"
S3_SERVICE = f"com.amazonaws.{REGION}.s3"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _user_client(server: Endpoint, account: str, name: str, service: str, policy: dict[str, Any]) -> Any:
    return server.client(service, **user_keys(server, account, name, document=policy), region=REGION)


def _denied(call: Callable[..., Any], code: str, **params: Any) -> str:
    with pytest.raises(ClientError) as denied:
        call(**params)
    got = denied.value.response["Error"]["Code"]
    message = denied.value.response["Error"]["Message"]
    assert got == code, (got, message)
    return message


# --- ec2:VpceServiceName is the endpoint's, not a request parameter --------------------------------------------

_NO_S3_ENDPOINT_CHANGES = _policy(
    {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
    {
        "Effect": "Deny",
        "Action": [
            "ec2:CreateVpcEndpoint",
            "ec2:ModifyVpcEndpoint",
            "ec2:DeleteVpcEndpoints",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ],
        "Resource": "*",
        "Condition": {"StringEquals": {"ec2:VpceServiceName": S3_SERVICE}},
    },
)


def test_a_deny_on_the_endpoint_service_name_applies_to_calls_on_an_existing_endpoint(server: Endpoint) -> None:
    """Attack: a Deny on `ec2:VpceServiceName` = the S3 service protects the account's S3 gateway endpoint from
    being modified, re-tagged or deleted. lambdaperm read the key from the request's `ServiceName` parameter,
    which only CreateVpcEndpoint has: for ModifyVpcEndpoint, DeleteVpcEndpoints, CreateTags and DeleteTags on
    the endpoint the key was absent, the Deny did not apply, and the endpoint's policy was replaced.
    AWS rule: the Service Authorization Reference lists `ec2:VpceServiceName` ("Filters access by the name of
    the VPC endpoint service") among the condition keys of the `vpc-endpoint` resource type: AWS gives every
    action on an endpoint the endpoint's own service name.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html#amazonec2-resources-for-iam-policies
    """
    account = "640000000001"
    ec2 = server.client("ec2", key=account, region=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=S3_SERVICE)["VpcEndpoint"]["VpcEndpointId"]
    user = _user_client(server, account, "netops", "ec2", _NO_S3_ENDPOINT_CHANGES)

    _denied(user.modify_vpc_endpoint, "UnauthorizedOperation", VpcEndpointId=endpoint, ResetPolicy=True)
    _denied(user.create_tags, "UnauthorizedOperation", Resources=[endpoint], Tags=[{"Key": "k", "Value": "v"}])
    _denied(user.delete_tags, "UnauthorizedOperation", Resources=[endpoint], Tags=[{"Key": "k"}])
    _denied(user.delete_vpc_endpoints, "UnauthorizedOperation", VpcEndpointIds=[endpoint])
    _denied(user.create_vpc_endpoint, "UnauthorizedOperation", VpcId=vpc, ServiceName=S3_SERVICE)
    assert [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]] == [endpoint]


def test_the_endpoint_service_name_is_absent_on_other_resources(server: Endpoint) -> None:
    """Held (no wrong deny): the same Deny does not apply to CreateTags on a security group, which has no
    `ec2:VpceServiceName` (the key is documented on the vpc-endpoint resource type only); and an endpoint of
    another service may still be modified.
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html"""
    account = "640000000002"
    ec2 = server.client("ec2", key=account, region=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="g", Description="g", VpcId=vpc)["GroupId"]
    user = _user_client(server, account, "netops", "ec2", _NO_S3_ENDPOINT_CHANGES)
    user.create_tags(Resources=[group], Tags=[{"Key": "k", "Value": "v"}])
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [group]}])["Tags"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("k", "v")]
