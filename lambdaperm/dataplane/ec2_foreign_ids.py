"""EC2 resource IDs a call attaches to what it creates or modifies: they must exist in the caller's account and region.

EC2 resources belong to one account and one region, and an ID is looked up there: CreateSecurityGroup with a
`VpcId` of another account or region is `InvalidVpcID.NotFound`, a security group, subnet or route table ID that
the acting account does not hold in the signed region is `InvalidGroup.NotFound` / `InvalidSubnetID.NotFound` /
`InvalidRouteTableID.NotFound` ("The specified ... does not exist", the resource is in another account or region).
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html

The embedded backend did not look these members up (review round 8, region and account confusion): account B's
CreateSecurityGroup with account A's `VpcId` (or A's own call signed for another region) created a group claiming
to be in that VPC, a network interface or an interface endpoint was created with, or modified to, security groups
the caller's account does not hold, and ModifyVpcEndpoint added any subnet, group or route table ID. They are
refused here, after the decision and before the backend, as EC2 refuses them. Only the embedded backend is checked
(an upstream looks its IDs up itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

# (operation, member) -> kind of the IDs the member holds (a string or a list of strings)
_MEMBERS: dict[tuple[str, str], str] = {
    ("CreateSecurityGroup", "VpcId"): "vpc",
    ("CreateNetworkInterface", "Groups"): "security-group",
    ("ModifyNetworkInterfaceAttribute", "Groups"): "security-group",
    ("CreateVpcEndpoint", "SecurityGroupIds"): "security-group",
    ("ModifyVpcEndpoint", "AddSecurityGroupIds"): "security-group",
    ("ModifyVpcEndpoint", "AddSubnetIds"): "subnet",
    ("ModifyVpcEndpoint", "AddRouteTableIds"): "route-table",
}

_ERRORS: dict[str, tuple[str, str]] = {
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{}' does not exist"),
    "security-group": ("InvalidGroup.NotFound", "The security group '{}' does not exist"),
    "subnet": ("InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist"),
    "route-table": ("InvalidRouteTableID.NotFound", "The routeTable ID '{}' does not exist"),
}


def _held(backend: Any, kind: str) -> set[str]:
    """The IDs of `kind` the backend of one account and region holds (read without acting on any of them)."""
    if kind == "vpc":
        return set(backend.vpcs)
    if kind == "subnet":
        return {sid for per_zone in backend.subnets.values() for sid in per_zone}
    if kind == "route-table":
        return set(backend.route_tables)
    return {group.id for per_vpc in backend.groups.values() for group in per_vpc.values()}


def check(service: str, operation: str, params: Mapping[str, Any], account: str, region: str, embedded: bool) -> None:
    """Refuse an ID of another account or region (or of nothing) that the call would attach, as EC2 does."""
    if service != "ec2" or not embedded:
        return
    members = [(member, kind) for (op, member), kind in _MEMBERS.items() if op == operation and member in params]
    if not members:
        return
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    for member, kind in members:
        value = params[member]
        ids = [value] if isinstance(value, str) else list(value or [])
        held = _held(backend, kind)
        for resource in ids:
            if str(resource) not in held:
                code, message = _ERRORS[kind]
                raise ServiceError(code, message.format(resource), 400)
