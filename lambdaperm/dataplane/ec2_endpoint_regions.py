"""The Region of the service a CreateVpcEndpoint connects to.

EC2: an endpoint connects to a service of its own Region unless `ServiceRegion` names another ("The Region where
the service is hosted. The default is the current Region.",
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html), and the `ServiceName` is one
DescribeVpcEndpointServices lists for that Region (`com.amazonaws.<region>.<service>`,
https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-cross-region-privatelink-support.html); a name of
another Region's service is InvalidServiceName. A cross-Region endpoint also needs the permission-only action
`vpce:AllowMultiRegion` (https://docs.aws.amazon.com/service-authorization/latest/reference/list_vpce.html).

The embedded backend ignores `ServiceRegion` and stores any service name (review round 17, region and account
confusion): an endpoint to eu-west-1's S3 was created in us-east-1, with or without `ServiceRegion`, decided on
ec2:CreateVpcEndpoint alone. A `ServiceRegion` other than the call's is refused 501 NotImplemented (the decision does
not read `vpce:AllowMultiRegion` and the backend would not connect there); a `ServiceName` naming another Region
than the call's is EC2's InvalidServiceName. Checked after the decision and before the backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.region import is_region_name


def check(service: str, operation: str, params: Mapping[str, Any], account: str, region: str, embedded: bool) -> None:
    """Refuse a CreateVpcEndpoint to a service of another Region than the call's. A `VpcId` the embedded backend
    does not hold in `account` and `region` is left to its InvalidVpcID.NotFound (review round 8's answer)."""
    if (service, operation) != ("ec2", "CreateVpcEndpoint"):
        return
    service_region = params.get("ServiceRegion")
    if service_region is not None and service_region != region:
        raise ServiceError(
            "NotImplemented",
            f"A VPC endpoint to a service of another Region (ServiceRegion {service_region!r}) is not implemented: "
            "vpce:AllowMultiRegion is not decided and the embedded backend does not connect across Regions",
            501,
            sender_fault=False,
        )
    if embedded and not _holds_vpc(account, region, params.get("VpcId")):
        return
    name = params.get("ServiceName")
    named = {label for label in name.split(".") if is_region_name(label)} if isinstance(name, str) else set()
    if named - {region}:
        raise ServiceError("InvalidServiceName", f"The Vpc Endpoint Service '{name}' does not exist", 400)


def _holds_vpc(account: str, region: str, vpc: object) -> bool:
    from moto.ec2.models import ec2_backends

    return isinstance(vpc, str) and vpc in ec2_backends[account][region].vpcs
