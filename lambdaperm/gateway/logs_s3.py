"""CloudWatch Logs' S3 writes, authorized as the caller before the backend makes them.

CreateExportTask writes a log group's events into the `destination` bucket: "When you perform a
CreateExportTask operation, you must use credentials that have permission to write to the S3 bucket that you
specify as the destination". The embedded backend wrote into any bucket it found by name (bucket names are
global: another account's too), authorized as logs:CreateExportTask on the log group only. The caller now needs
s3:PutObject (a forward access session of logs.amazonaws.com, so the bucket policy decides across accounts)
on every key the export writes — `{destinationPrefix}/aws-logs-write-test` and
`{destinationPrefix}/{taskId}/{logStreamName}/000000.gz` per exported stream — and so does the logs service
principal (`logs_export_service`). The keys are those of the export pinned before the decision
(`dataplane.logs_exports`: the task id lambdaperm chooses, the streams with events in range), which is what the
backend then executes. Through `--upstream` the upstream chooses the task id, so the keys cannot be known before
the call: CreateExportTask is refused there. The bucket must be in the signed region, as S3 exports require.
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdaperm.dataplane import MotoBackend, logs_exports
from lambdaperm.dataplane.s3_buckets import bucket_region
from lambdaperm.protocol import ServiceError
from lambdaperm.services.context import RequestContext

from . import logs_export_service
from .call import Call
from .implicit import ImplicitAccess

if TYPE_CHECKING:
    from .server import Server

_VIA = "logs.amazonaws.com"


def authorize(server: Server, call: Call, operation: str, params: dict[str, Any]) -> None:
    """Pin the export (`call.export`) and raise AccessDeniedException when the caller may not write each of its
    objects; InvalidParameterException for a bucket of another region (or none), or when the logs service may
    not write them."""
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
    if not isinstance(server.dataplane, MotoBackend):
        raise ServiceError(
            "InvalidOperationException",
            "lambdaperm cannot authorize CreateExportTask through --upstream: the upstream chooses the task id, so "
            "the object keys the export writes are not known before the call.",
            400,
        )
    export = logs_exports.plan(params, call.identity.account or "000000000000", call.region)
    implicit = ImplicitAccess(server)
    for key in export.object_keys():
        denial = implicit.authorize(ctx, "s3", "PutObject", {"Bucket": bucket, "Key": key}, via=_VIA)
        if denial is not None:
            raise ServiceError("AccessDeniedException", f"Access denied by S3 for {bucket}: {denial}", 400)
    logs_export_service.authorize(server, call, params, export.object_keys())  # review round 4
    call.resources.extend(f"arn:aws:s3:::{bucket}/{key}" for key in export.object_keys())  # authorized, for the trail
    call.export = export  # what the backend executes (data_plane.run)
