"""DynamoDB ExportTableToPointInTime, pinned before it is authorized: the S3 objects decided on are those written.

An export writes, with the caller's permissions (a forward access session of dynamodb.amazonaws.com: s3:PutObject
on each object), under `<S3Prefix>/AWSDynamoDB/<ExportId>/`: an empty `_started` ("verifies that the destination
bucket is writable and that the export has begun"), the manifests and their checksums, and the data files under
`data/`. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html

The embedded backend chose its own keys (a random folder per data file, not the export's id) in a thread of its
own, so lambdaperm authorized one stand-in key, `<S3Prefix>/AWSDynamoDB/`, and the keys actually written were
never decided: a Deny on `…/data/*` (or an Allow of `_started` only) did not apply. Here the export is pinned
(`plan`: its id and the keys it writes), the gateway authorizes s3:PutObject on every key of the plan, and the
backend's export writes exactly those keys (`_started`, then one data file; the manifests are not written by the
embedded backend); a backend export without the plan of its own call writes nothing (fail closed).

One unit (persistence review round 8). The export runs on the request's thread inside the call's journaled unit
(`dynamodb_jobs`): its S3 objects are written in execution order, as part of the call's entry, and the plan
(ExportId, data file name) goes on the unit's tape. A replay (the pinned export installed first, `install`) writes
the same keys with the same bytes — the table's items as the entries before it left them, gzip's header time the
unit's — so an object the export wrote is restored as it was written, and a later overwrite or delete of it, or of
an item, replays after it.
"""

from __future__ import annotations

import gzip
import logging
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import dynamodb_jobs, journal

log = logging.getLogger("lambdaperm.dynamodb_exports")


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """One ExportTableToPointInTime as it will execute."""

    account: str  # the account whose bucket the backend writes (S3BucketOwner, else the exporting account)
    bucket: str
    prefix: str
    export_id: str
    data_file: str

    def folder(self) -> str:
        return f"{self.prefix}/AWSDynamoDB/{self.export_id}"

    def started_key(self) -> str:
        return f"{self.folder()}/_started"

    def data_key(self) -> str:
        return f"{self.folder()}/data/{self.data_file}.json.gz"

    def object_keys(self) -> list[str]:
        """Every object key the export writes, in the order it writes them."""
        return [self.started_key(), self.data_key()]


_PINNED = threading.local()


def plan(params: Mapping[str, Any], account: str) -> ExportPlan:
    """Pin the export `params` asks for, by the exporting `account`: a new export id and data file name."""
    install()
    owner = params.get("S3BucketOwner")
    export_id = f"{uuid.uuid4().int % 10**14:014d}-{uuid.uuid4().hex[:8]}"  # the documented ExportId shape
    return ExportPlan(
        str(owner) if isinstance(owner, str) and owner else account,
        str(params.get("S3Bucket") or ""),
        str(params.get("S3Prefix") or ""),
        export_id,
        uuid.uuid4().hex,
    )


def pin(pinned: ExportPlan | None) -> None:
    """Hand `pinned` to the backend's next export on this thread (None: whatever was pinned is dropped)."""
    _PINNED.plan = pinned


def _take() -> ExportPlan | None:
    pinned: ExportPlan | None = getattr(_PINNED, "plan", None)
    _PINNED.plan = None
    return pinned


_REPLACED = False


def _to_tape(pinned: ExportPlan | None) -> tuple[str, str, str, str, str] | None:
    if pinned is None:
        return None
    return (pinned.account, pinned.bucket, pinned.prefix, pinned.export_id, pinned.data_file)


def _executed_plan() -> ExportPlan | None:
    """The plan the export executing now runs: live, the one its call was authorized with (`pin`), put on the
    unit's tape; on replay, the one read back from it. A replayed entry journaled before the plan was taped has
    none (nothing is written: fail closed)."""
    live = _take()
    unit = journal.current()
    if unit is not None and unit.replayed is not None and unit.position >= len(unit.replayed):
        log.warning("a replayed ExportTableToPointInTime has no export plan on its tape: nothing is written")
        return None
    recorded = journal.taped(lambda: _to_tape(live))
    return None if recorded is None else ExportPlan(*recorded)


def _gzip(data: bytes) -> bytes:
    """gzip with the header's time the unit's (live and on replay: the same bytes), else the clock's."""
    unit = journal.current()
    return gzip.compress(data, mtime=int(unit.time) if unit is not None else None)


def install() -> None:
    """Install the pinned export in the backend (idempotent): at the first plan, and before a replay."""
    global _REPLACED
    if _REPLACED:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table_export import TableExport
    from moto.dynamodb.models.utilities import dynamo_json_dump

    original_export = DynamoDBBackend.export_table

    def export_table(
        self: Any,
        s3_bucket: str,
        s3_prefix: str,
        table_arn: str,
        export_format: str,
        export_type: str,
        s3_bucket_owner: str,
    ) -> Any:
        pinned = _executed_plan()
        account = s3_bucket_owner or str(self.account_id)
        if pinned is None or (pinned.account, pinned.bucket, pinned.prefix) != (account, s3_bucket, s3_prefix or ""):
            raise RuntimeError("ExportTableToPointInTime without the export plan it was authorized with")
        _PINNED.current = pinned
        try:  # builds the TableExport, then runs it here, in the call's unit (dynamodb_jobs.run_here)
            job = original_export(self, s3_bucket, s3_prefix, table_arn, export_format, export_type, s3_bucket_owner)
        finally:
            _PINNED.current = None
        return dynamodb_jobs.started(job, "ExportStatus", ("ItemCount", "BilledSizeBytes"))

    original_init = TableExport.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        pinned = getattr(_PINNED, "current", None)  # on the request's thread, before start()
        self.lambdaperm_plan = pinned
        if pinned is not None:  # AWS's export ARN names the table and the ExportId the objects are written under
            self.arn = f"{self.table.table_arn}/export/{pinned.export_id}"

    def backup(self: Any, s3_backend: Any) -> None:
        pinned: ExportPlan | None = getattr(self, "lambdaperm_plan", None)
        if pinned is None:
            self.status, self.failure_code = "FAILED", "UNKNOWN"
            self.failure_message = "The export was not authorized"
            return
        s3_backend.put_object(bucket_name=self.s3_bucket, key_name=pinned.started_key(), value=b"")
        lines = ""
        for item in self.table.all_items():
            json_item = item.to_json(root_attr_name="Item")
            lines += dynamo_json_dump(json_item) + "\n"
            self.processed_bytes += len(json_item)
            self.item_count += 1
        s3_backend.put_object(bucket_name=self.s3_bucket, key_name=pinned.data_key(), value=_gzip(lines.encode()))
        self.status = "COMPLETED" if self.error_count == 0 else "FAILED"

    DynamoDBBackend.export_table = export_table  # type: ignore[method-assign]
    TableExport.__init__ = init  # type: ignore[method-assign]
    TableExport._backup_to_s3_file = backup  # type: ignore[method-assign]
    TableExport.start = dynamodb_jobs.run_here  # type: ignore[method-assign,assignment]
    _REPLACED = True
