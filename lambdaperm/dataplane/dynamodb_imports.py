"""DynamoDB ImportTable, pinned before it is authorized: the S3 objects decided on are the objects read.

ImportTable reads every object of `S3BucketSource.S3Bucket` whose key starts with `S3KeyPrefix` (every object of
the bucket without a prefix) — "Source data can either be a single Amazon S3 object or multiple Amazon S3 objects
that use the same prefix" — with the caller's permissions (a forward access session of dynamodb.amazonaws.com):
s3:ListBucket on the bucket and s3:GetObject on each object read.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.HowItWorks.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.Requesting.html

The embedded backend lists and reads the objects itself, in a thread of its own, after the call was decided, so
one GetObject on the prefix (what lambdaperm authorized before review round 5) let it import objects the caller
may not read — a Deny on `secret/*`, or an Allow on `public/*` only, imported `secret/…` into a table the caller
can Scan. Here lambdaperm pins the import instead (`plan`: the objects under the prefix, as the backend holds
them before the decision), the gateway authorizes s3:GetObject on every key of the plan, and the backend's
import reads exactly the plan's objects (`pin` hands the plan to the backend call on the same thread): an object
written under the prefix after the decision is not imported, an object overwritten since is read as it was when
pinned, and a backend import without the plan of its own call reads nothing (fail closed).

One unit (persistence review round 8). The import runs on the request's thread inside the call's journaled unit
(`dynamodb_jobs`), and the plan it ran — every object's key and the bytes read — goes on the unit's tape: a replay
imports exactly those bytes (the pinned import is installed before the replay, `install`), never what the bucket
holds when the journal is replayed, and its writes land in execution order among the entries replayed around it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import dynamodb_jobs, journal

log = logging.getLogger("lambdaperm.dynamodb_imports")


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """One ImportTable as it will execute: the account whose bucket it reads, the bucket, the prefix, and the
    objects (key name, the backend's object) it reads."""

    account: str
    bucket: str
    prefix: str
    objects: tuple[tuple[str, Any], ...]

    def object_keys(self) -> list[str]:
        """The key of every object the import reads."""
        return [name for name, _ in self.objects]


_PINNED = threading.local()


def source_of(params: Mapping[str, Any]) -> tuple[str, str]:
    """(bucket, prefix) of an ImportTable's `S3BucketSource` ("" when no prefix is given)."""
    source = params.get("S3BucketSource")
    source = source if isinstance(source, Mapping) else {}
    return str(source.get("S3Bucket") or ""), str(source.get("S3KeyPrefix") or "")


def plan(params: Mapping[str, Any], account: str) -> ImportPlan:
    """Pin the import `params` asks for: the objects under the prefix in the bucket the backend reads (in
    `account`, the importing account, as the embedded backend looks it up), as they are now."""
    install()
    from moto.s3.models import s3_backends

    bucket_name, prefix = source_of(params)
    bucket = s3_backends[account]["aws"].buckets.get(bucket_name)
    objects: list[tuple[str, Any]] = []
    if bucket is not None:
        for name, key in list(bucket.keys.items()):
            if name.startswith(prefix) and hasattr(key, "value"):  # a delete marker has no content: not read
                objects.append((name, key))
    return ImportPlan(account, bucket_name, prefix, tuple(sorted(objects, key=lambda o: o[0])))


def pin(pinned: ImportPlan | None) -> None:
    """Hand `pinned` to the backend's next ImportTable on this thread (None: whatever was pinned is dropped)."""
    _PINNED.plan = pinned


def _take() -> ImportPlan | None:
    pinned: ImportPlan | None = getattr(_PINNED, "plan", None)
    _PINNED.plan = None
    return pinned


_REPLACED = False


@dataclass(frozen=True, slots=True)
class _Recorded:
    """An object's bytes as the import read them live (what the replayed import reads: `.value`)."""

    value: bytes


Tape = tuple[str, str, str, tuple[tuple[str, bytes], ...]] | None  # what the unit's tape keeps of a plan


def _to_tape(pinned: ImportPlan | None) -> Tape:
    """The plan as the journal keeps it: account, bucket, prefix, and each object's key and bytes."""
    if pinned is None:
        return None
    objects = tuple((name, bytes(key.value)) for name, key in pinned.objects)
    return (pinned.account, pinned.bucket, pinned.prefix, objects)


def _weight(recorded: Tape) -> int:
    return 0 if recorded is None else sum(len(value) for _, value in recorded[3])


def _from_tape(recorded: Tape) -> ImportPlan | None:
    if recorded is None:
        return None
    account, bucket, prefix, objects = recorded
    return ImportPlan(account, bucket, prefix, tuple((name, _Recorded(value)) for name, value in objects))


def _executed_plan() -> ImportPlan | None:
    """The plan the import executing now runs: live, the one its call was authorized with (`pin`), put on the
    unit's tape; on replay, the one read back from the tape — never a listing of the bucket as it is then. A
    replayed entry journaled before the plan was taped has none (its import reads nothing: fail closed)."""
    live = _take()
    unit = journal.current()
    if unit is not None and unit.replayed is not None and unit.position >= len(unit.replayed):
        log.warning("a replayed ImportTable has no import plan on its tape: nothing is imported")
        return None
    return _from_tape(journal.taped(lambda: _to_tape(live), _weight))


def install() -> None:
    """Install the pinned ImportTable in the backend (idempotent): at the first plan, and before a replay."""
    global _REPLACED
    if _REPLACED:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table_import import TableImport

    original_import = DynamoDBBackend.import_table

    def import_table(self: Any, s3_source: dict[str, str], *args: Any, **kwargs: Any) -> Any:
        pinned = _executed_plan()
        bucket, prefix = source_of({"S3BucketSource": s3_source})
        if pinned is None or (pinned.account, pinned.bucket, pinned.prefix) != (str(self.account_id), bucket, prefix):
            raise RuntimeError("ImportTable without the import plan it was authorized with")
        _PINNED.current = pinned
        try:  # builds the TableImport, then runs it here, in the call's unit (dynamodb_jobs.run_here)
            job = original_import(self, s3_source, *args, **kwargs)
        finally:
            _PINNED.current = None
        return dynamodb_jobs.started(
            job, "ImportStatus", ("ProcessedItemCount", "ProcessedSizeBytes", "ErrorCount", "ImportedItemCount")
        )

    original_init = TableImport.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.lambdaperm_plan = getattr(_PINNED, "current", None)  # on the request's thread, before start()

    def process_s3_files(self: Any, s3_backend: Any, bucket: Any) -> None:
        pinned: ImportPlan | None = getattr(self, "lambdaperm_plan", None)
        self.lambdaperm_plan = None  # read once; the bytes are the journal's, not the backend's to keep
        if pinned is None:
            self.status, self.failure_code = "FAILED", "UNKNOWN"
            self.failure_message = "The import was not authorized"
            return
        _read_pinned(self, pinned)

    DynamoDBBackend.import_table = import_table  # type: ignore[method-assign]
    TableImport.__init__ = init  # type: ignore[method-assign]
    TableImport._process_s3_files = process_s3_files  # type: ignore[method-assign]
    TableImport.start = dynamodb_jobs.run_here  # type: ignore[method-assign,assignment]
    _REPLACED = True


def _read_pinned(job: Any, pinned: ImportPlan) -> None:
    """The backend's import (create the table, put every item of every object), over the pinned objects only."""
    from moto.core.utils import gzip_decompress
    from moto.dynamodb.models import dynamodb_backends
    from py_partiql_parser import JsonParser

    dynamo = dynamodb_backends[job.account_id][job.region_name]
    job.table = dynamo.create_table(
        name=job.table_name,
        billing_mode=job.billing_mode,
        throughput=job.throughput,
        schema=job.key_schema,
        global_indexes=job.global_indexes,
        indexes=None,
        attr=job.attrs,
        sse_specification=None,
        streams=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    for _, key in pinned.objects:
        raw = key.value
        content = (gzip_decompress(raw) if job.compression_type == "GZIP" else raw).decode("utf-8")
        for json_object in JsonParser.parse(original=content):
            try:
                job.processed_count += 1
                job.processed_bytes += len(json_object)
                job.table.put_item(item_attrs=json_object["Item"])
                job.imported_count += 1
            except Exception as err:  # an item's error is counted, as the backend does
                job.failure_message = str(err)
                job.error_count += 1
    job.status = "COMPLETED" if job.error_count == 0 else "FAILED"
