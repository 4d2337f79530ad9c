"""CloudWatch Logs exports to S3, pinned before they are authorized: the objects decided on are the objects written.

An export writes `{destinationPrefix}/aws-logs-write-test` first, then one object per exported log stream,
`{destinationPrefix}/{taskId}/{logStreamName}/000000.gz` — the streams of the log group (matching
`logStreamNamePrefix` when given) with events between `from` and `to` ("Events with a timestamp earlier than this
time are not exported", "… later than this time are not exported": both ends included).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/S3ExportTasks.html
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateExportTask.html

The embedded backend chose its own keys (a fresh random folder per stream, not the task id; its write test at
the bucket's root; an object for every stream, events or not), so they could not be authorized beforehand.
Here lambdaperm pins the export instead (`plan`: the task id it chooses and the streams it will export, read from
the backend before the decision), the gateway authorizes every key of the plan, and the backend's
`create_export_task` is replaced by one that writes exactly the plan's keys (`executing`): a stream that gained
events between the decision and the write is not exported, and without a plan for the same call nothing is
written at all (fail closed). One object per stream (AWS splits a large stream into several `00000N.gz`).
"""

from __future__ import annotations

import contextvars
import gzip
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambdaperm.protocol.errors import ServiceError

DEFAULT_PREFIX = "exportedlogs"  # CreateExportTask's documented default for destinationPrefix
WRITE_TEST = "aws-logs-write-test"


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """One CreateExportTask as it will execute: the task's id and the streams it exports."""

    task_id: str
    group: str
    bucket: str
    prefix: str
    start: int
    end: int
    streams: tuple[str, ...]

    def object_keys(self) -> list[str]:
        """Every object key the export writes, in the order it writes them."""
        return [f"{self.prefix}/{WRITE_TEST}"] + [f"{self.prefix}/{self.task_id}/{s}/000000.gz" for s in self.streams]


_PINNED: contextvars.ContextVar[ExportPlan | None] = contextvars.ContextVar("lambdaperm_export_plan", default=None)


def prefix_of(params: Mapping[str, Any]) -> str:
    """The key prefix of the export's objects (without a trailing `/`): `destinationPrefix`, else `exportedlogs`."""
    raw = params.get("destinationPrefix")
    prefix = DEFAULT_PREFIX if raw is None else str(raw).strip("/")
    if not prefix:  # "" or "/": no reading of AWS's keys for it is documented: refused, not guessed
        raise ServiceError("InvalidParameterException", "destinationPrefix must name a key prefix.", 400)
    return prefix


def plan(params: Mapping[str, Any], account: str, region: str) -> ExportPlan:
    """Pin the export `params` asks for, in `account` and `region`: a new task id and the streams with events in
    range, as the backend holds them now. A log group that does not exist pins no stream (the backend then
    answers ResourceNotFoundException)."""
    _replace_backend_export()
    from moto.logs.models import logs_backends

    group, start, end = str(params.get("logGroupName", "")), params.get("from"), params.get("to")
    if not isinstance(start, int) or not isinstance(end, int):
        raise ServiceError("InvalidParameterException", "from and to must be timestamps in milliseconds.", 400)
    stream_prefix = str(params.get("logStreamNamePrefix") or "")
    streams: list[str] = []
    log_group = logs_backends[account][region].groups.get(group)
    if log_group is not None and start <= end:
        for name, stream in list(log_group.streams.items()):
            if name.startswith(stream_prefix) and _events(stream, start, end):
                streams.append(name)
    return ExportPlan(
        str(uuid.uuid4()),
        group,
        str(params.get("destination", "")),
        prefix_of(params),
        start,
        end,
        tuple(sorted(streams)),
    )


@contextmanager
def executing(pinned: ExportPlan | None) -> Iterator[None]:
    """Let the backend's CreateExportTask run (within this block, on this thread) as `pinned` only."""
    token = _PINNED.set(pinned)
    try:
        yield
    finally:
        _PINNED.reset(token)


def _events(stream: Any, start: int, end: int) -> list[Any]:
    return [e for e in list(stream.events) if start <= int(e.timestamp) <= end]


def _line(event: Any) -> str:
    stamp = datetime.fromtimestamp(int(event.timestamp) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return f"{stamp}Z {event.message}"


_REPLACED = False


def install() -> None:
    """Install the pinned CreateExportTask before the journal is replayed (`replay.restore`): a replayed export
    writes the plan on its entry's tape, never the backend's own export (its write test at the bucket's root,
    every stream of the group under random folders, another task id — persistence review round 9)."""
    _replace_backend_export()


def _replace_backend_export() -> None:
    """Install the pinned CreateExportTask in the backend (idempotent)."""
    global _REPLACED
    if _REPLACED:
        return
    from moto.logs import models
    from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    def create_export_task(
        self: Any, taskName: str, logGroupName: str, destination: str, destinationPrefix: str, fromTime: int, to: int
    ) -> str:
        pinned = _PINNED.get()
        call = (logGroupName, destination, fromTime, to)
        if pinned is None or call != (pinned.group, pinned.bucket, pinned.start, pinned.end):
            raise RuntimeError("CreateExportTask without the export plan it was authorized with")
        s3 = s3_backends[self.account_id][self.partition]
        try:
            s3.get_bucket(destination)
        except MissingBucket:
            raise InvalidParameterException(
                "The given bucket does not exist. Please make sure the bucket is valid."
            ) from None
        group = self.groups.get(logGroupName)
        if group is None:
            raise ResourceNotFoundException()
        task = models.ExportTask(pinned.task_id, taskName, logGroupName, destination, destinationPrefix, fromTime, to)
        self.export_tasks[pinned.task_id] = task
        s3.put_object(
            bucket_name=destination, key_name=f"{pinned.prefix}/{WRITE_TEST}", value=b"Permission Check Successful"
        )
        for name in pinned.streams:
            stream = group.streams.get(name)
            lines = [_line(e) for e in _events(stream, fromTime, to)] if stream is not None else []
            s3.put_object(
                bucket_name=destination,
                key_name=f"{pinned.prefix}/{pinned.task_id}/{name}/000000.gz",
                value=gzip.compress("\n".join(lines).encode("utf-8")),
            )
        task.status = {"code": "COMPLETED", "message": "Completed successfully"}
        return pinned.task_id

    models.LogsBackend.create_export_task = create_export_task  # type: ignore[method-assign]
    _REPLACED = True
