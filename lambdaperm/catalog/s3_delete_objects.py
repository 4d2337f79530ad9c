"""S3 DeleteObjects, authorized key by key: each entry needs exactly what a DeleteObject of that key (and
version) with the request's headers needs — s3:DeleteObject, s3:DeleteObjectVersion for a `VersionId`,
s3:BypassGovernanceRetention with `x-amz-bypass-governance-retention: true`.

AWS: "When performing this action on an MFA Delete enabled bucket ... If you want to delete objects with a
version ID, you must have the s3:DeleteObjectVersion permission" and each refused key is reported as an
`<Error>` with `AccessDenied` in the 200 `<DeleteResult>`
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html). The request carries at most
1,000 keys; more, none, or an entry without a key is S3's 400 MalformedXML.
"""

from __future__ import annotations

from collections.abc import Mapping

from .invalid import InvalidRequest
from .model import RequiredAction
from .required import required_actions

MAX_KEYS = 1000
MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"
# DeleteObjects' request-level members that a DeleteObject of one key takes too (the same headers).
_SHARED = ("Bucket", "MFA", "RequestPayer", "BypassGovernanceRetention", "ExpectedBucketOwner")


def _malformed() -> InvalidRequest:
    return InvalidRequest("s3", "DeleteObjects", "MalformedXML", MALFORMED, 400)


def entries(params: Mapping[str, object]) -> list[Mapping[str, object]]:
    """The `Delete.Objects` entries, 1 to 1,000 of them, each with a non-empty string `Key`."""
    delete = params.get("Delete")
    objects = delete.get("Objects") if isinstance(delete, Mapping) else None
    if not isinstance(objects, list) or not 1 <= len(objects) <= MAX_KEYS:
        raise _malformed()
    for entry in objects:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("Key"), str) or not entry["Key"]:
            raise _malformed()
    return objects


def per_key_required_actions(
    params: Mapping[str, object], *, account: str, region: str, partition: str = "aws"
) -> list[list[RequiredAction]]:
    """For each entry of the request, in order, the actions deleting it needs (as DeleteObject)."""
    shared = {name: params[name] for name in _SHARED if name in params}
    needs: list[list[RequiredAction]] = []
    for entry in entries(params):
        single: dict[str, object] = {**shared, "Key": entry["Key"]}
        if entry.get("VersionId") is not None:
            single["VersionId"] = entry["VersionId"]
        needs.append(
            required_actions("s3", "DeleteObject", single, account=account, region=region, partition=partition)
        )
    return needs
