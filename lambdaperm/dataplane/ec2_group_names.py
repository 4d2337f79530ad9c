"""A security group's name is unique within its VPC whatever its case, as EC2 reads it.

CreateSecurityGroup `GroupName`: "The name of the security group. Names are case-insensitive and must be unique
within the VPC" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html); a name an
existing group of the VPC holds, in any case, is 400 `InvalidGroup.Duplicate`. The embedded backend compared names
exactly, so `WEB` was created beside `web` (and `DEFAULT` beside the VPC's `default` group): two groups AWS reads as
one name, which a call naming a group by `GroupName` could not tell apart (parameter confusion review round 16).
Checked after the decision, before the backend; without `VpcId` the group goes in the default VPC. Only the
embedded backend is checked (an upstream enforces its own uniqueness).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def check(service: str, operation: str, params: Mapping[str, Any], account: str, region: str, embedded: bool) -> None:
    """Refuse CreateSecurityGroup with a name a group of the same VPC already holds in another (or the same) case."""
    if (service, operation) != ("ec2", "CreateSecurityGroup") or not embedded:
        return
    name = params.get("GroupName")
    if not isinstance(name, str):
        return
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    vpc_id = params.get("VpcId")
    if vpc_id is None:
        default = backend.get_default_vpc()
        vpc_id = default.id if default is not None else None
    groups = backend.groups.get(vpc_id, {}) if isinstance(vpc_id, str) else {}
    taken = next((g.name for g in groups.values() if str(g.name).lower() == name.lower()), None)
    if taken is not None:
        raise ServiceError(
            "InvalidGroup.Duplicate", f"The security group '{name}' already exists for VPC '{vpc_id}'", 400
        )
