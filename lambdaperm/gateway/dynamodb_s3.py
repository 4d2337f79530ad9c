"""DynamoDB's S3 accesses, authorized as the caller before the backend makes them.

ExportTableToPointInTime writes the export into `S3Bucket` under `S3Prefix`, and ImportTable reads
`S3BucketSource` — both with the caller's permissions (a forward access session of dynamodb.amazonaws.com):
the caller needs s3:PutObject on the export's objects, or s3:ListBucket and s3:GetObject on the source, as
well as the DynamoDB action. The embedded backend would otherwise write and read those buckets unchecked.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataImport.Requesting.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lambdaperm.dataplane import dynamodb_exports, dynamodb_imports
from lambdaperm.dataplane.moto_backend import MotoBackend
from lambdaperm.protocol import ServiceError
from lambdaperm.services.context import RequestContext

from . import import_holds
from .call import Call
from .implicit import ImplicitAccess

if TYPE_CHECKING:
    from .server import Server

_VIA = "dynamodb.amazonaws.com"


def s3_accesses(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The S3 calls (operation, parameters) a DynamoDB call makes as its caller."""
    if operation == "ExportTableToPointInTime":
        # the export is written under `<S3Prefix>/AWSDynamoDB/…`, the prefix as given (a leading or trailing
        # slash is part of the key written: `/exports` is not `exports`)
        prefix = params.get("S3Prefix")
        key = f"{prefix}/AWSDynamoDB/" if prefix else "AWSDynamoDB/"
        return [("PutObject", {"Bucket": params.get("S3Bucket"), "Key": key})]
    if operation == "ImportTable":
        source = params.get("S3BucketSource") or {}
        prefix = str(source.get("S3KeyPrefix") or "")
        return [("ListObjectsV2", {"Bucket": source.get("S3Bucket"), "Prefix": prefix})]
    return []


def _pinned_accesses(
    server: Server, operation: str, params: dict[str, Any], account: str, held: import_holds.HeldImport
) -> list[tuple[str, dict[str, Any]]]:
    """The object accesses the backend will make, pinned before the decision. ImportTable reads each object under
    its prefix as the caller: s3:GetObject on every key it will read (review round 5: one GetObject on the prefix
    let it read them all)."""
    if operation == "ExportTableToPointInTime":
        return _export_writes(server, params, account)
    if operation != "ImportTable":
        return []
    if not isinstance(server.dataplane, MotoBackend):  # upstream: the service reads the objects as the caller
        source = params.get("S3BucketSource") or {}
        return [("GetObject", {"Bucket": source.get("S3Bucket"), "Key": str(source.get("S3KeyPrefix") or "")})]
    pinned = held.plan(params, account)  # under the objects' holds (races review round 5: import_holds)
    return [("GetObject", {"Bucket": pinned.bucket, "Key": key}) for key in pinned.object_keys()]


def _export_writes(server: Server, params: dict[str, Any], account: str) -> list[tuple[str, dict[str, Any]]]:
    """An export writes each of its objects as the caller: s3:PutObject on every key the backend will write,
    pinned before the decision (review round 5: one stand-in key `<prefix>/AWSDynamoDB/` was decided)."""
    if not isinstance(server.dataplane, MotoBackend):
        return []  # upstream: the service writes the objects itself, as the caller
    if not params.get("S3Prefix"):  # the embedded backend cannot export without a prefix (it crashed)
        raise ServiceError("NotImplemented", "lambdaperm does not serve ExportTableToPointInTime without an "
                           "S3Prefix", 501, sender_fault=False)
    pinned = dynamodb_exports.plan(params, account)
    dynamodb_exports.pin(pinned)
    return [("PutObject", {"Bucket": pinned.bucket, "Key": key}) for key in pinned.object_keys()]


def authorize(server: Server, call: Call, operation: str, params: dict[str, Any]) -> None:
    """Raise DynamoDB's AccessDeniedException when the caller may not make the S3 accesses of the call."""
    accesses = s3_accesses(operation, params)
    dynamodb_imports.pin(None)
    dynamodb_exports.pin(None)
    if not accesses or call.identity is None:
        return
    account = call.identity.account or "000000000000"
    with import_holds.held(operation, params, account, isinstance(server.dataplane, MotoBackend)) as held:
        accesses += _pinned_accesses(server, operation, params, account, held)
        _decide(server, call, accesses)
        held.read()  # the import's bytes, read while still held (races review round 5)


def _decide(server: Server, call: Call, accesses: list[tuple[str, dict[str, Any]]]) -> None:
    """Decide each S3 access as the caller (AccessDeniedException at the first denied one)."""
    assert call.identity is not None
    ctx = RequestContext(identity=call.identity, region=call.region, request_id=call.request_id, now=call.now,
                         records=server.records, source_ip=call.req.remote_addr,
                         user_agent=call.req.header("user-agent", "") or "")
    implicit = ImplicitAccess(server)
    for s3_operation, s3_params in accesses:
        if not isinstance(s3_params.get("Bucket"), str):
            raise ServiceError("ValidationException", "The S3 bucket of the request is missing.", 400)
        denial = implicit.authorize(ctx, "s3", s3_operation, s3_params, via=_VIA)
        if denial is not None:
            dynamodb_imports.pin(None)
            dynamodb_exports.pin(None)
            raise ServiceError("AccessDeniedException", f"Access denied by S3 for {s3_params['Bucket']}: "
                               f"{denial}", 400)
        key = s3_params.get("Key", s3_params.get("Prefix", ""))
        call.resources.append(f"arn:aws:s3:::{s3_params['Bucket']}/{key}")  # authorized, for the trail
