"""Attack class: region and account confusion (review round 9).

The implicit resources of an EC2 create call — the VPC's default security group a network interface or an
interface VPC endpoint gets when the request names none — must be the caller's own, in the signed region, and be
decided on like a named one; CloudWatch Logs reads taking a log group ARN as `logGroupIdentifier` must be decided
on that group, in the ARN's account and region. Each test plays the attack against a real `lambdaperm serve` with
real boto3 and asserts AWS's outcome; the structural oracle (acted-on ⊆ authorized) checks every request when the
server stops.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

REGION = "us-east-1"
OTHER = "eu-west-1"
A = "111111110009"  # the owner
B = "222222220009"  # another account


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def vpc_with_subnet(ec2: Any, cidr: str) -> tuple[str, str, str]:
    """(VPC, subnet, the VPC's default security group)."""
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.1.0/24")["Subnet"]["SubnetId"]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return vpc, subnet, groups[0]["GroupId"]


# ---- EC2: the default security group is a resource of the call, the caller's own -------------------------------


def _eni(ec2: Any, vpc: str, subnet: str) -> Any:
    return ec2.create_network_interface(SubnetId=subnet)


def _vpce(ec2: Any, vpc: str, subnet: str) -> Any:
    region = ec2.meta.region_name
    return ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{region}.sqs", VpcEndpointType="Interface", SubnetIds=[subnet]
    )


DEFAULTED = [("create_network_interface", _eni), ("create_vpc_endpoint_interface", _vpce)]


@pytest.mark.parametrize(("name", "call"), DEFAULTED, ids=[d[0] for d in DEFAULTED])
def test_default_security_group_denied_is_not_attached(server: Endpoint, name: str, call: Any) -> None:
    """Attack: a user allowed `ec2:*` but denied the VPC's default security group creates a network interface (or
    an interface VPC endpoint) naming no group, so EC2 attaches the default group — the denied one.
    AWS rule: without `Groups` / `SecurityGroupIds` "we use the default security group for the VPC"
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInterface.html,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html), and `security-group` is a
    resource of both actions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
    the group attached is the group authorized, so the Deny applies (UnauthorizedOperation)."""
    owner = server.client("ec2", key=A)
    vpc, subnet, default = vpc_with_subnet(owner, "10.91" if name.startswith("create_network") else "10.92")
    keys = user_keys(
        server,
        A,
        f"r9-{name}"[:60].replace("_", "-"),
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ec2:*", "Resource": f"arn:aws:ec2:{REGION}:{A}:security-group/{default}"},
    )
    ec2 = server.client("ec2", **keys)
    with pytest.raises(ClientError) as err:
        call(ec2, vpc, subnet)
    assert code(err) == "UnauthorizedOperation"
    enis = owner.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])["NetworkInterfaces"]
    assert enis == []


@pytest.mark.parametrize("signed", [REGION, OTHER])
def test_default_security_group_is_the_signed_regions(server: Endpoint, signed: str) -> None:
    """Attack: the owner has a VPC in each region; a user denied every security group of one region creates a
    network interface without `Groups` in the other region's subnet.
    AWS rule: resources belong to one account and region and the default group attached is the subnet VPC's, in the
    signed region (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkInterface.html): the Deny
    on the other region's groups does not apply (a dry run answers DryRunOperation,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html), the one on the signed region's
    groups does (UnauthorizedOperation), and also to the default group's own ARN there."""
    denied = OTHER if signed == REGION else REGION
    ec2 = server.client("ec2", key=A, region=signed)
    _, subnet, default = vpc_with_subnet(ec2, "10.93" if signed == REGION else "10.94")
    outcomes = {}
    for label, resource in [
        ("other-region", f"arn:aws:ec2:{denied}:{A}:security-group/*"),
        ("signed-region", f"arn:aws:ec2:{signed}:{A}:security-group/*"),
        ("default-group", f"arn:aws:ec2:{signed}:{A}:security-group/{default}"),
    ]:
        keys = user_keys(
            server,
            A,
            f"r9-{label}-{signed}",
            {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:*", "Resource": resource},
        )
        with pytest.raises(ClientError) as err:
            server.client("ec2", region=signed, **keys).create_network_interface(SubnetId=subnet, DryRun=True)
        outcomes[label] = code(err)
    assert outcomes == {
        "other-region": "DryRunOperation",
        "signed-region": "UnauthorizedOperation",
        "default-group": "UnauthorizedOperation",
    }


@pytest.mark.parametrize(("account", "region"), [(B, REGION), (A, OTHER), (B, OTHER)])
def test_owner_subnet_without_groups_from_elsewhere(server: Endpoint, account: str, region: str) -> None:
    """Attack: another account, or the owner signing for another region, creates a network interface (no
    `Groups`) in the owner's us-east-1 subnet, hoping for the owner's default group.
    AWS rule: the subnet is looked up in the caller's account and region: InvalidSubnetID.NotFound
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html); nothing is created."""
    owner = server.client("ec2", key=A)
    _, subnet, _ = vpc_with_subnet(
        owner, "10.95" if account == B and region == REGION else "10.96" if account == A else "10.97"
    )
    with pytest.raises(ClientError) as err:
        server.client("ec2", key=account, region=region).create_network_interface(SubnetId=subnet)
    assert code(err) == "InvalidSubnetID.NotFound"
    assert (
        owner.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [subnet]}])["NetworkInterfaces"]
        == []
    )


# ---- Logs: reads with a log group ARN as logGroupIdentifier -------------------------------------------------------


@pytest.fixture(scope="module")
def owner_group(server: Endpoint) -> str:
    logs = server.client("logs", key=A)
    logs.create_log_group(logGroupName="r9-group")
    logs.create_log_stream(logGroupName="r9-group", logStreamName="s")
    logs.put_log_events(
        logGroupName="r9-group",
        logStreamName="s",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "secret"}],
    )
    return f"arn:aws:logs:{REGION}:{A}:log-group:r9-group"


READS = [
    ("get_log_events", {"logStreamName": "s", "startFromHead": True}),
    ("filter_log_events", {}),
    ("describe_log_streams", {}),
]


@pytest.mark.parametrize(("method", "extra"), READS, ids=[r[0] for r in READS])
def test_owner_reads_by_arn_identifier(server: Endpoint, owner_group: str, method: str, extra: dict[str, Any]) -> None:
    """The owner's read of its own log group by ARN as `logGroupIdentifier` is served, as by name.
    AWS rule: `logGroupIdentifier` is "the name or ARN of the log group"
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html); the action is
    decided on the group (GetLogEvents: its log stream). Round 8 saw GetLogEvents denied here (a wrong deny)."""
    logs = server.client("logs", key=A)
    by_arn = getattr(logs, method)(logGroupIdentifier=owner_group, **extra)
    by_name = getattr(logs, method)(logGroupIdentifier="r9-group", **extra)
    by_arn.pop("ResponseMetadata")
    by_name.pop("ResponseMetadata")
    assert by_arn == by_name
    if method == "get_log_events":
        assert [e["message"] for e in by_arn["events"]] == ["secret"]


def test_get_log_group_fields_by_arn_as_by_name(server: Endpoint, owner_group: str) -> None:
    """GetLogGroupFields is not served by the embedded backend: by ARN as by name, 501 NotImplemented after the
    decision (never another group's fields)."""
    logs = server.client("logs", key=A)
    codes = set()
    for identifier in (owner_group, "r9-group"):
        with pytest.raises(ClientError) as err:
            logs.get_log_group_fields(logGroupIdentifier=identifier)
        codes.add(code(err))
    assert codes == {"NotImplemented"}


@pytest.mark.parametrize(("method", "extra"), READS, ids=[r[0] for r in READS])
def test_user_denied_stream_reads_nothing_by_arn(
    server: Endpoint, owner_group: str, method: str, extra: dict[str, Any]
) -> None:
    """Attack: a user allowed `logs:*` but denied the group (and its streams) names it by ARN.
    AWS rule: the Deny on the group's ARN applies whatever form names it
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/permissions-reference-cwl.html): AccessDenied."""
    keys = user_keys(
        server,
        A,
        f"r9-logs-{method}".replace("_", "-"),
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "logs:*", "Resource": [f"{owner_group}", f"{owner_group}:*"]},
    )
    with pytest.raises(ClientError) as err:
        getattr(server.client("logs", **keys), method)(logGroupIdentifier=owner_group, **extra)
    assert code(err) == "AccessDeniedException"


@pytest.mark.parametrize(("method", "extra"), READS, ids=[r[0] for r in READS])
@pytest.mark.parametrize(("account", "region"), [(B, REGION), (A, OTHER), (B, OTHER)])
def test_reads_by_arn_from_elsewhere(
    server: Endpoint, owner_group: str, method: str, extra: dict[str, Any], account: str, region: str
) -> None:
    """Attack: another account (no resource policy), or the owner signing for another region, reads the owner's
    us-east-1 log group by ARN.
    AWS rule: a log group belongs to one account and region; without cross-account sharing the read is denied or
    not found, and never answers with the group's events
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatchLogs-Unified-Cross-Account.html)."""
    logs = server.client("logs", key=account, region=region)
    with pytest.raises(ClientError) as err:
        getattr(logs, method)(logGroupIdentifier=owner_group, **extra)
    assert code(err) in {"AccessDeniedException", "ResourceNotFoundException"}
