"""Which services and operations the catalog covers, and the botocore → IAM service prefix map.

Operation names come from botocore's service models (loaded per service on first use). For EC2 only the
VPC, subnet, security group, network interface and VPC endpoint operations that Lambda functions in a VPC
use are covered; every other EC2 operation is unmapped (denied).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from .reviewed import reviewed_operations

# botocore service name -> IAM service prefix.
# Source: each service's page in the Service Authorization Reference ("service prefix: ...").
IAM_PREFIX: dict[str, str] = {
    "iam": "iam",
    "sts": "sts",
    "lambda": "lambda",
    "dynamodb": "dynamodb",
    "s3": "s3",
    "sqs": "sqs",
    "sns": "sns",
    "logs": "logs",
    "ec2": "ec2",
    "cloudtrail": "cloudtrail",
    "accessanalyzer": "access-analyzer",
}

# The EC2 subset (VPC networking for Lambda functions and the objects the data plane serves).
EC2_OPERATIONS: frozenset[str] = frozenset({
    "DescribeVpcs", "CreateVpc", "DeleteVpc", "DescribeVpcAttribute", "ModifyVpcAttribute",
    "CreateDefaultVpc", "CreateDefaultSubnet",
    "DescribeSubnets", "CreateSubnet", "DeleteSubnet", "ModifySubnetAttribute",
    "DescribeSecurityGroups", "DescribeSecurityGroupRules", "CreateSecurityGroup", "DeleteSecurityGroup",
    "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress", "UpdateSecurityGroupRuleDescriptionsIngress",
    "UpdateSecurityGroupRuleDescriptionsEgress", "ModifySecurityGroupRules",
    "DescribeNetworkInterfaces", "CreateNetworkInterface", "DeleteNetworkInterface",
    "DescribeNetworkInterfaceAttribute", "ModifyNetworkInterfaceAttribute", "ResetNetworkInterfaceAttribute",
    "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses", "AssignIpv6Addresses", "UnassignIpv6Addresses",
    "CreateNetworkInterfacePermission", "DescribeNetworkInterfacePermissions",
    "DeleteNetworkInterfacePermission",
    "DescribeVpcEndpoints", "CreateVpcEndpoint", "DeleteVpcEndpoints", "ModifyVpcEndpoint",
    "DescribeVpcEndpointServices",
    "DescribeRouteTables", "DescribeInternetGateways", "DescribePrefixLists", "DescribeManagedPrefixLists",
    "DescribeAvailabilityZones", "DescribeRegions", "DescribeAccountAttributes",
    "CreateTags", "DeleteTags", "DescribeTags",
    # issue 8 §5: DescribeInstances and CreateKeyPair served; RunInstances decided, then refused 501
    # (dataplane/ec2_instances.py: lambdaperm runs no instances)
    "DescribeInstances", "CreateKeyPair", "RunInstances",
})

# Lambda's REST API names carry the API version in CloudTrail event names and some tooling
# (`GetFunction20150331v2`, `ListFunctions20150331`); they are the same operations.
# Source: https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
_VERSIONED_NAME = re.compile(r"^([A-Za-z]+?)(?:20\d{6})(?:v\d+)?$", re.ASCII)
VERSIONED_NAME_SERVICES: frozenset[str] = frozenset({"lambda"})


@cache
def _model(service: str) -> dict[str, Any]:
    from botocore.exceptions import UnknownServiceError  # type: ignore[import-untyped]
    from botocore.loaders import create_loader  # type: ignore[import-untyped]

    try:
        model: dict[str, Any] = create_loader().load_service_model(service, "service-2")
    except UnknownServiceError:
        return {}
    return model


@cache
def botocore_operations(service: str) -> frozenset[str]:
    """Every operation name of the botocore service model (empty for an unknown service)."""
    return frozenset(_model(service).get("operations", {}))


def _input_shape(service: str, operation: str) -> dict[str, Any]:
    model = _model(service)
    shape_name = model.get("operations", {}).get(operation, {}).get("input", {}).get("shape")
    shape: dict[str, Any] = model.get("shapes", {}).get(shape_name, {}) if shape_name else {}
    return shape


@cache
def required_members(service: str, operation: str) -> frozenset[str]:
    """The input members botocore's model marks required for the operation."""
    return frozenset(_input_shape(service, operation).get("required", ()))


@cache
def input_members(service: str, operation: str) -> frozenset[str]:
    """Every top-level input member of the operation."""
    return frozenset(_input_shape(service, operation).get("members", {}))


@cache
def operations(service: str) -> frozenset[str]:
    """The operations the catalog considers for `service`: botocore's, the EC2 subset for ec2 — and only those
    the catalog was reviewed against (the pinned botocore's: `reviewed`); a newer one is unmapped."""
    if service not in IAM_PREFIX:
        return frozenset()
    known = EC2_OPERATIONS if service == "ec2" else botocore_operations(service)
    return known & reviewed_operations(service)


def canonical_operation(service: str, operation: str) -> str | None:
    """The botocore operation name `operation` denotes for `service`, or None."""
    ops = operations(service)
    if operation in ops:
        return operation
    if service in VERSIONED_NAME_SERVICES:
        match = _VERSIONED_NAME.match(operation)
        if match and match.group(1) in ops:
            return match.group(1)
    return None
