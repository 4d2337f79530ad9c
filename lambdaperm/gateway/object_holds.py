"""S3 objects are held from a call's authorization to its execution: a read cannot be decided on one object and
served another.

`s3:ExistingObjectTag/<key>` is the tag of the object the request acts on, read from the backend when the call
is decided (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html), and S3 is strongly
consistent (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel): a call's answer
must be one that some serial order of the calls gives. Without a hold, a GetObject decided on `report`'s public
tags executed on the secret object written over it in between (races review round 3), a CopyObject copied a
source overwritten since its decision, a GetObject decided on a version's tags served the older version a
DeleteObjects of that version made current again — and, within the embedded backend itself, a read decided
while a PutObject was executing saw the new object before its tags were written (moto stores the object, then
its tags).

So every S3 call holds each object it names — `Bucket`/`Key`, a copy's source (`CopySource`), each key of a
DeleteObjects — for its whole life (authorize → execute), on a readers–writer lock per (bucket, key) stripe:
shared for the calls that leave the object and its tags as they are (`_SHARED`: the reads, and the parts of a
multipart upload, which do not touch the object until CompleteMultipartUpload), exclusive for every other call
(fail closed: an operation not listed is a writer). The locks of one call are taken in ascending stripe order,
after its bucket-name hold (`bucket_names`), so two calls never wait for each other in a cycle. What the decision
read is covered by construction: after the decision, `Held.check` refuses (501) a call authorized on an object
`arn:aws:s3:::bucket/key` it does not hold, before anything executes. (DeleteObject and DeleteObjectVersion have
no `s3:ExistingObjectTag` in AWS's Service Authorization Reference, so a delete reads no tag; it is held as a
writer.)

Not held: S3 accesses that no S3 call makes — the embedded backend's own writes (a DynamoDB export, a CloudWatch
Logs export task, under generated names). Lambda's read of a function's code from S3 (CreateFunction,
UpdateFunctionCode) is decided and read outside the pipeline, under the same holds (`code_read_holds`), and so
are DynamoDB ImportTable's reads (`import_holds`, races review round 5).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.s3_copy_source import copy_source
from lambdaperm.protocol import ServiceError

_STRIPES = 1024
_OBJECT_ARN = "arn:aws:s3:::"

# Operations that change neither the object a key names nor its tags: they hold it shared.
_SHARED = frozenset(
    {
        "GetObject",
        "HeadObject",
        "GetObjectTagging",
        "GetObjectAcl",
        "GetObjectAttributes",
        "GetObjectRetention",
        "GetObjectLegalHold",
        "GetObjectTorrent",
        "SelectObjectContent",
        "ListParts",
        "UploadPart",  # a part is not the object (the parts of one upload run in parallel)
        "UploadPartCopy",
    }
)


class _Stripe:
    """A readers–writer lock, writers preferred (a write is not starved by a stream of reads), with plain
    acquire/release methods: it is taken on every S3 object call, so it costs no generator per call."""

    __slots__ = ("_cond", "_readers", "_waiting_writers", "_writer")

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    def acquire(self, exclusive: bool) -> None:
        with self._cond:
            if exclusive:
                self._waiting_writers += 1
                while self._writer or self._readers:
                    self._cond.wait()
                self._waiting_writers -= 1
                self._writer = True
            else:
                while self._writer or self._waiting_writers:
                    self._cond.wait()
                self._readers += 1

    def release(self, exclusive: bool) -> None:
        with self._cond:
            if exclusive:
                self._writer = False
                self._cond.notify_all()
            else:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()


_LOCKS = [_Stripe() for _ in range(_STRIPES)]


def objects(service: str, operation: str, params: Mapping[str, Any] | None) -> dict[str, bool]:
    """{"bucket/key": exclusive} for each object an S3 call names (its copy source read, shared)."""
    if service != "s3" or params is None:
        return {}
    bucket = params.get("Bucket")
    if not isinstance(bucket, str):
        return {}
    named: dict[str, bool] = {}
    writes = operation not in _SHARED
    key = params.get("Key")
    if isinstance(key, str):
        named[f"{bucket}/{key}"] = writes
    if params.get("CopySource") is not None:
        try:
            source = copy_source(params["CopySource"], operation)
        except InvalidRequest:
            pass  # refused by the authorization (S3's error): nothing is read
        else:
            name = f"{source.bucket}/{source.key}"
            named[name] = named.get(name, False)
    delete = params.get("Delete") if operation == "DeleteObjects" else None
    entries = delete.get("Objects") if isinstance(delete, Mapping) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("Key"), str):
            named[f"{bucket}/{entry['Key']}"] = True
    return named


class Held:
    """The objects one call holds."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def check(self, service: str, resources: list[str]) -> None:
        """501 NotImplemented when the call was authorized on an S3 object it does not hold (its decision may
        have read that object's tags): it is not executed."""
        if service != "s3":
            return
        for resource in resources:
            name = resource.removeprefix(_OBJECT_ARN)
            if name != resource and "/" in name and name not in self.names:
                raise ServiceError(
                    "NotImplemented",
                    f"lambdaperm does not hold the object {resource} this call was authorized on until the call "
                    "executes, so it cannot execute it as authorized",
                    501,
                    sender_fault=False,
                )


@contextmanager
def held(service: str, operation: str, params: Mapping[str, Any] | None) -> Iterator[Held]:
    """Hold every object an S3 call names (see the module) while the call is authorized and executed."""
    with held_names(objects(service, operation, params)) as held_objects:
        yield held_objects


@contextmanager
def held_names(named: Mapping[str, bool]) -> Iterator[Held]:
    """Hold the objects `named` ({"bucket/key": exclusive}) in the one order every holder uses (see the module);
    for accesses an S3 call does not name (DynamoDB ImportTable's reads, `import_holds`)."""
    if not named:
        yield Held(frozenset())
        return
    stripes: dict[int, bool] = {}
    for name, exclusive in named.items():
        stripe = zlib.crc32(name.encode("utf-8", "surrogatepass")) % _STRIPES
        stripes[stripe] = stripes.get(stripe, False) or exclusive
    taken: list[tuple[_Stripe, bool]] = []
    try:
        for stripe in sorted(stripes):  # one order for every call: no cycle of waits
            lock, exclusive = _LOCKS[stripe], stripes[stripe]
            lock.acquire(exclusive)
            taken.append((lock, exclusive))
        yield Held(frozenset(named))
    finally:
        for lock, exclusive in reversed(taken):
            lock.release(exclusive)
