"""CloudWatch Logs' own checks on an export's destination bucket, made as its service principal.

Besides the caller's permission to write the bucket (`logs_s3`), CreateExportTask checks the destination as the
regional service principal `logs.<region>.amazonaws.com`: s3:GetBucketAcl on the bucket, then s3:PutObject (with
the canned ACL `bucket-owner-full-control`) on the objects it writes. A service principal has no identity
policies: only the bucket's policy can allow it — for a bucket of the caller's own account as for another's
("If the bucket is in your account, use the following policy"), with aws:SourceAccount the exporting account and
aws:SourceArn the exported log group. A refusal is 400 InvalidParameterException "GetBucketAcl call on the given
bucket failed. Please check if CloudWatch Logs has been granted permission to perform this operation." (the
PutObject check says "PutObject call ...").
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasksConsole.html
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lambdaperm.authz import request_context
from lambdaperm.catalog import RequiredAction
from lambdaperm.policy import Caller, PrincipalKind
from lambdaperm.protocol import ServiceError
from lambdaperm.state.identity import Identity

from .call import Call

if TYPE_CHECKING:
    from .server import Server

_ACL = {"s3:x-amz-acl": ("bucket-owner-full-control",)}


def _refused(what: str) -> ServiceError:
    return ServiceError(
        "InvalidParameterException",
        f"{what} call on the given bucket failed. Please check if CloudWatch Logs has been granted permission to "
        "perform this operation.",
        400,
    )


def authorize(server: Server, call: Call, params: dict[str, Any], keys: Sequence[str]) -> None:
    """Raise InvalidParameterException unless the bucket policy of `params["destination"]` lets the logs service
    read the bucket's ACL and write each of `keys`, for this account's log group."""
    bucket, group = params.get("destination"), params.get("logGroupName")
    account = call.identity.account if call.identity is not None else ""
    if not isinstance(bucket, str) or not isinstance(group, str) or not account:
        raise _refused("GetBucketAcl")  # nothing to decide on: fail closed
    service = f"logs.{call.region}.amazonaws.com"
    identity = Identity(Caller(service, PrincipalKind.SERVICE, "", name=service), service)
    context = request_context(identity, now=call.now, region=call.region, source_ip="", tags={})
    context["aws:sourceaccount"] = (account,)
    context["aws:sourcearn"] = (f"arn:aws:logs:{call.region}:{account}:log-group:{group}",)
    if server.authorizer.enforce(identity, [RequiredAction("s3:GetBucketAcl", (f"arn:aws:s3:::{bucket}",))], context):
        raise _refused("GetBucketAcl")
    objects = tuple(f"arn:aws:s3:::{bucket}/{key}" for key in keys)
    if server.authorizer.enforce(identity, [RequiredAction("s3:PutObject", objects, dict(_ACL))], context):
        raise _refused("PutObject")
