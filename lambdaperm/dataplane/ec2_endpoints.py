"""EC2 VPC endpoints as EC2 creates and deletes them.

- CreateVpcEndpoint: `VpcEndpointType` "Default: Gateway"
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html). The embedded backend kept
  no type for an endpoint created without one (DescribeVpcEndpoints showed none) and crashed deleting it: the
  backend is given the documented default.
- DeleteVpcEndpoints answers 200 with the endpoints it could not delete in `Unsuccessful`, each with its `Error`
  and `ResourceId` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpcEndpoints.html); the
  backend left out an endpoint that does not exist, as if it had been deleted. An ID the backend does not hold (in
  the acting account and region) is reported `InvalidVpcEndpoint.NotFound`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_TYPE = "Gateway"


def with_default_type(service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` of a CreateVpcEndpoint with `VpcEndpointType` made explicit; any other call unchanged."""
    fixed = dict(params)
    if (service, operation) == ("ec2", "CreateVpcEndpoint") and not fixed.get("VpcEndpointType"):
        fixed["VpcEndpointType"] = DEFAULT_TYPE
    return fixed


def missing(service: str, operation: str, params: Mapping[str, Any], account: str, region: str) -> list[str]:
    """The endpoint IDs of a DeleteVpcEndpoints that do not exist in `account` and `region` (before the call)."""
    if (service, operation) != ("ec2", "DeleteVpcEndpoints"):
        return []
    from moto.ec2.models import ec2_backends

    held = ec2_backends[account][region].vpc_end_points
    return [str(i) for i in params.get("VpcEndpointIds") or [] if str(i) not in held]


def report_missing(output: dict[str, Any], ids: list[str]) -> None:
    """Add each of `ids` to the DeleteVpcEndpoints `output` as an unsuccessful deletion."""
    if not ids:
        return
    unsuccessful = output.setdefault("Unsuccessful", [])
    for resource in ids:
        error = {"Code": "InvalidVpcEndpoint.NotFound", "Message": f"The Vpc Endpoint Id '{resource}' does not exist"}
        unsuccessful.append({"Error": error, "ResourceId": resource})
