"""The VPC's default security group an EC2 create call attaches when it names no security group.

CreateNetworkInterface without `Groups` and an interface CreateVpcEndpoint without `SecurityGroupIds` attach
the default security group of the VPC ("If this parameter is not specified, we use the default security group for
the VPC": https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInterface.html). `security-group` is a
resource of both actions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html),
so the group attached is authorized like a named one — as `ec2_defaults` does for CreateSecurityGroup's default
VPC — otherwise a Deny on that group would not apply to what is created with it (review round 9, region and
account confusion). The group is the one of the subnet's (or the named) VPC in the caller's account and signed
region; a subnet or VPC the caller does not hold there is left to EC2's NotFound (`ec2_foreign_ids`, the
backend). With `--upstream` the default group lives upstream: the call is refused (MissingParameter) rather than
authorized without it.
"""

from __future__ import annotations

from typing import Any


def _refuse(member: str) -> None:
    from lambdaperm.protocol.errors import ServiceError

    raise ServiceError(
        "MissingParameter",
        f"The default security group cannot be determined through --upstream; specify {member}.",
        400,
    )


def with_default_group(
    operation: str, params: dict[str, Any], account: str, region: str, embedded: bool
) -> dict[str, Any]:
    """`params` with the VPC's default security group named where the call would attach it; unchanged otherwise."""
    if operation == "CreateNetworkInterface" and not params.get("Groups"):
        member = "Groups"
    elif (
        operation == "CreateVpcEndpoint"
        and str(params.get("VpcEndpointType", "")).lower() == "interface"
        and not params.get("SecurityGroupIds")
    ):
        member = "SecurityGroupIds"
    else:
        return params
    if not embedded:
        _refuse(member)
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    if member == "Groups":
        subnet = next(
            (
                s
                for per_zone in backend.subnets.values()
                for sid, s in per_zone.items()
                if sid == params.get("SubnetId")
            ),
            None,
        )
        vpc_id = subnet.vpc_id if subnet is not None else None
    else:
        vpc_id = params.get("VpcId") if params.get("VpcId") in backend.vpcs else None
    if vpc_id is None:  # not the caller's here: EC2's NotFound comes later, nothing attached
        return params
    group = next((g for g in backend.groups.get(vpc_id, {}).values() if g.is_default), None)
    return params if group is None else {**params, member: [group.id]}
