"""Direct reads and writes of the embedded moto backends that the control plane needs: a code archive
from S3, the VPC of subnets and security groups, CloudWatch Logs for function output."""

from __future__ import annotations

from typing import Any

from lambdaperm.protocol.errors import ServiceError


def s3_object(account: str, bucket: str, key: str, version: str | None) -> bytes | None:
    from moto.s3.models import s3_backends

    backend = s3_backends[account]["aws"]
    try:
        obj = backend.get_object(bucket, key, version_id=version)
    except Exception:  # moto raises its own MissingBucket/MissingKey types; absence is the answer
        return None
    return bytes(obj.value) if obj is not None else None


def vpc_of(account: str, region: str, subnet_ids: list[str], security_group_ids: list[str]) -> str:
    """The VPC of the subnets; Lambda's error text when a subnet or a security group does not exist."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    vpcs = set()
    for subnet_id in subnet_ids:
        found = [s for s in backend.describe_subnets() if s.id == subnet_id]
        if not found:
            raise _invalid(f"Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 "
                           f"Error Message: The subnet ID '{subnet_id}' does not exist")
        vpcs.add(found[0].vpc_id)
    known_groups = {g.id: g for g in _security_groups(backend)}
    for group_id in security_group_ids:
        if group_id not in known_groups:
            raise _invalid(f"Error occurred while DescribeSecurityGroups. EC2 Error Code: InvalidGroup.NotFound. "
                           f"EC2 Error Message: The security group '{group_id}' does not exist")
        vpcs.add(known_groups[group_id].vpc_id)
    if len(vpcs) > 1:
        raise _invalid("Security Groups are required to be in the same VPC.")
    return vpcs.pop() if vpcs else ""


def _security_groups(backend: Any) -> list[Any]:
    return list(backend.describe_security_groups())


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterValueException", message, 400, fields={"Type": "User"})


def put_logs(account: str, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    """Append (timestamp ms, message) events to a log stream, creating the group and stream if needed."""
    from moto.logs.models import logs_backends

    backend = logs_backends[account][region]
    if group not in backend.groups:
        backend.create_log_group(group, {})
    if stream not in backend.groups[group].streams:
        backend.create_log_stream(group, stream)
    events = [{"timestamp": ts, "message": msg} for ts, msg in lines]
    if events:
        backend.put_log_events(group, stream, events)
