"""EC2 DeleteVpcEndpoints answers as EC2 does, never a 500.

CreateVpcEndpoint's `VpcEndpointType` defaults to `Gateway`
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html); the embedded backend kept no
type for an endpoint created without one and crashed deleting it (500 InternalFailure for an authorized call).
DeleteVpcEndpoints answers 200 with the endpoints it could not delete in `Unsuccessful`, each with its error and
`ResourceId` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpcEndpoints.html); an endpoint
that does not exist is `InvalidVpcEndpoint.NotFound` there.
"""

from __future__ import annotations

from .conftest import Endpoint

ACCOUNT = "444400000001"


def test_an_endpoint_created_without_a_type_is_a_gateway_and_can_be_deleted(server: Endpoint) -> None:
    ec2 = server.client("ec2", key=ACCOUNT)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3")["VpcEndpoint"]
    assert endpoint["VpcEndpointType"] == "Gateway"
    deleted = ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])
    assert deleted["Unsuccessful"] == []
    described = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])["VpcEndpoints"]
    assert [e["State"].lower() for e in described] == ["deleted"]


def test_an_endpoint_that_does_not_exist_is_reported_unsuccessful(server: Endpoint) -> None:
    ec2 = server.client("ec2", key=ACCOUNT)
    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    real = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway")
    missing = "vpce-0123456789abcdef0"
    answer = ec2.delete_vpc_endpoints(VpcEndpointIds=[missing, real["VpcEndpoint"]["VpcEndpointId"]])
    assert answer["Unsuccessful"] == [
        {
            "Error": {
                "Code": "InvalidVpcEndpoint.NotFound",
                "Message": f"The Vpc Endpoint Id '{missing}' does not exist",
            },
            "ResourceId": missing,
        }
    ]
