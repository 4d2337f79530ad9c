"""DynamoDB ImportTable's reads hold their objects from the decision to the read, as S3 GetObject does.

ImportTable reads each object under its prefix with the caller's permissions (a forward access session of
dynamodb.amazonaws.com, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.Requesting.html),
so each read is the caller's s3:GetObject, decided on the tags of the object it reads (`s3:ExistingObjectTag`,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html), and S3 is strongly consistent
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel): the bytes imported must be
those of the object whose tags were decided on.

`dataplane.dynamodb_imports` pins the objects an import reads before the decision, but the pin was taken unheld
and the backend read the pinned objects later, in a thread of its own: an object overwritten between the pin and
the decision was decided on its new tags and imported as pinned (races review round 5 — in a versioned bucket the
secret version written over by a public one was imported under the public version's tags; in an unversioned one
the import failed on the disposed object). Here the listing only names what to hold: the bucket's name and every
listed object are held shared (`bucket_names`, then `object_holds`, the order every holder uses), the import is
pinned again under the holds (the listed objects, as they are now), decided, and its bytes are copied before the
holds are released — so the backend's import reads exactly what was decided, whatever is written afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from lambdaperm.dataplane import dynamodb_imports
from lambdaperm.dataplane.dynamodb_imports import ImportPlan

from . import bucket_names, object_holds


@dataclass(frozen=True, slots=True)
class _ReadObject:
    """An object's bytes as read under the hold (what the backend's import reads: `.value`)."""

    value: bytes


class HeldImport:
    """One ImportTable's objects, held (see the module)."""

    def __init__(self, listed: ImportPlan | None) -> None:
        self._listed = frozenset(listed.object_keys()) if listed is not None else frozenset()
        self._pinned: ImportPlan | None = None

    def plan(self, params: Mapping[str, Any], account: str) -> ImportPlan:
        """Pin the import under the holds: the held objects as they are now (a listed object deleted since is
        not read; an object written under the prefix after the listing is not held, so it is not read)."""
        current = dynamodb_imports.plan(params, account)
        objects = tuple(entry for entry in current.objects if entry[0] in self._listed)
        self._pinned = ImportPlan(current.account, current.bucket, current.prefix, objects)
        dynamodb_imports.pin(self._pinned)
        return self._pinned

    def read(self) -> None:
        """Copy the bytes of every pinned object (still held) and hand those to the backend's import."""
        if self._pinned is None:
            return
        pinned = self._pinned
        read = tuple((name, _ReadObject(bytes(key.value))) for name, key in pinned.objects)
        dynamodb_imports.pin(ImportPlan(pinned.account, pinned.bucket, pinned.prefix, read))


@contextmanager
def held(operation: str, params: Mapping[str, Any], account: str, embedded: bool) -> Iterator[HeldImport]:
    """Hold the bucket name and each object an ImportTable of the embedded backend will read (nothing for any
    other call, or through --upstream: the service reads the objects itself)."""
    if operation != "ImportTable" or not embedded:
        yield HeldImport(None)
        return
    listed = dynamodb_imports.plan(params, account)
    names = {f"{listed.bucket}/{key}": False for key in listed.object_keys()}
    with ExitStack() as stack:
        stack.enter_context(bucket_names.held("s3", "GetObject", {"Bucket": listed.bucket}))
        stack.enter_context(object_holds.held_names(names))
        yield HeldImport(listed)
