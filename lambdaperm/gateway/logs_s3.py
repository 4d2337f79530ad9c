"""CloudWatch Logs' S3 writes, authorized as the caller before the backend makes them.

CreateExportTask writes a log group's events into the `destination` bucket: "When you perform a
CreateExportTask operation, you must use credentials that have permission to write to the S3 bucket that you
specify as the destination". The embedded backend wrote into any bucket it found by name (bucket names are
global: another account's too), authorized as logs:CreateExportTask on the log group only. The caller now needs
s3:PutObject (a forward access session of logs.amazonaws.com, so the bucket policy decides across accounts)
on the keys the backend writes: `{destinationPrefix}/…` and its `aws-logs-write-test` object, which it writes
at the bucket's root (stricter than AWS, which writes it under the prefix: docs/fidelity.md). The bucket must
be in the signed region, as S3 exports require.
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdaperm.dataplane.s3_buckets import bucket_region
from lambdaperm.protocol import ServiceError
from lambdaperm.services.context import RequestContext

from . import logs_export_service
from .call import Call
from .implicit import ImplicitAccess

if TYPE_CHECKING:
    from .server import Server

_VIA = "logs.amazonaws.com"
DEFAULT_PREFIX = "exportedlogs"  # CreateExportTask's documented default for destinationPrefix


def s3_writes(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The PutObject parameters of the objects CreateExportTask writes."""
    bucket = params.get("destination")
    prefix = str(params.get("destinationPrefix") or DEFAULT_PREFIX).strip("/")
    return [{"Bucket": bucket, "Key": "aws-logs-write-test"}, {"Bucket": bucket, "Key": f"{prefix}/"}]


def authorize(server: Server, call: Call, operation: str, params: dict[str, Any]) -> None:
    """Raise AccessDeniedException when the caller may not write the export's objects; InvalidParameterException
    for a bucket of another region (or none)."""
    if operation != "CreateExportTask" or call.identity is None:
        return
    bucket = params.get("destination")
    if not isinstance(bucket, str) or bucket_region(bucket) != call.region:
        raise ServiceError(
            "InvalidParameterException", "The given bucket does not exist. Please make sure the bucket is valid.", 400
        )
    ctx = RequestContext(
        identity=call.identity,
        region=call.region,
        request_id=call.request_id,
        now=call.now,
        records=server.records,
        source_ip=call.req.remote_addr,
        user_agent=call.req.header("user-agent", "") or "",
    )
    implicit = ImplicitAccess(server)
    for write in s3_writes(params):
        denial = implicit.authorize(ctx, "s3", "PutObject", write, via=_VIA)
        if denial is not None:
            raise ServiceError("AccessDeniedException", f"Access denied by S3 for {bucket}: {denial}", 400)
        call.resources.append(f"arn:aws:s3:::{bucket}/{write['Key']}")  # authorized, for the trail
    logs_export_service.authorize(server, call, params, [w["Key"] for w in s3_writes(params)])  # review round 4
