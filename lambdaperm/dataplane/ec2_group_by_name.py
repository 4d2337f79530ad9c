"""A security group named by `GroupName` alone: the default VPC's group of that name, resolved once.

AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress, DeleteSecurityGroup and
UpdateSecurityGroupRuleDescriptions{Ingress,Egress} take "[Default VPC] The name of the security group. ... you can
specify either the security group name or the security group ID"
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html). The name is read in the
caller's account and signed region's default VPC, in any case ("Names are case-insensitive and must be unique
within the VPC", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html;
`ec2_group_names` keeps them unique so). The group found is named by its `GroupId` in the parameters that are both
decided on (`security-group/<id>`) and executed: the backend acts on the group decided on and never resolves the
name itself (parameter confusion review round 17; before, the call was denied as unmapped).

No such group in the default VPC: EC2's 400 `InvalidGroup.NotFound` "The security group 'X' does not exist in
default VPC 'vpc-…'"; no default VPC: 400 `VPCIdNotSpecified` "No default VPC for this user. GroupName is only
supported for EC2-Classic and default VPC." With `--upstream` the groups live upstream and cannot be resolved here:
the parameters stay as sent and the call is denied as unmapped (fail closed).
"""

from __future__ import annotations

from typing import Any

from lambdaperm.protocol.errors import ServiceError

# the operations that take a group by GroupId or, in the default VPC, by GroupName (botocore's EC2 model)
BY_NAME = frozenset(
    {
        "AuthorizeSecurityGroupIngress",
        "RevokeSecurityGroupIngress",
        "DeleteSecurityGroup",
        "UpdateSecurityGroupRuleDescriptionsIngress",
        "UpdateSecurityGroupRuleDescriptionsEgress",
    }
)


def with_group_id(operation: str, params: dict[str, Any], account: str, region: str, embedded: bool) -> dict[str, Any]:
    """`params` naming the default VPC's group `GroupName` by its `GroupId` instead; unchanged unless `GroupName`
    comes alone (beside `GroupId` it is refused later: `ec2_groups.check_groups`)."""
    name = params.get("GroupName")
    if operation not in BY_NAME or not isinstance(name, str) or params.get("GroupId") is not None or not embedded:
        return params
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    vpc = backend.get_default_vpc()
    if vpc is None:
        raise ServiceError(
            "VPCIdNotSpecified",
            "No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.",
            400,
        )
    groups = list(backend.groups.get(vpc.id, {}).values())  # a copy: another call may create a group meanwhile
    found = [g for g in groups if str(g.name).lower() == name.lower()]
    if len(found) != 1:  # none (two cannot exist: ec2_group_names); either way nothing is acted on
        raise ServiceError(
            "InvalidGroup.NotFound", f"The security group '{name}' does not exist in default VPC '{vpc.id}'", 400
        )
    resolved = {k: v for k, v in params.items() if k != "GroupName"}
    resolved["GroupId"] = str(found[0].id)
    return resolved
