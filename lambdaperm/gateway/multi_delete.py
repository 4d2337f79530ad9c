"""S3 DeleteObjects: each key is authorized on its own, as a single DeleteObject of that key (and version)
would be; the refused keys are reported per key and the rest are deleted.

S3 answers 200 with a `<DeleteResult>` whose `<Error>` entries carry `AccessDenied` / "Access Denied" for
each key the caller may not delete, beside the `<Deleted>` entries of the others (Quiet mode lists only
errors). A 403 for the whole request would be a wrong deny.
https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lambdaperm.catalog import RequiredAction
from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.catalog.s3_delete_objects import per_key_required_actions
from lambdaperm.protocol import ServiceError

MAX_KEYS = 1000


def entries(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    delete = params.get("Delete")
    objects = delete.get("Objects") if isinstance(delete, dict) else None
    if not isinstance(objects, list) or not objects:
        raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", 400)
    if len(objects) > MAX_KEYS or any(not isinstance(o, dict) or not isinstance(o.get("Key"), str) or not o["Key"]
                                      for o in objects):  # at most 1,000 entries, each with its Key
        raise ServiceError("MalformedXML", "The XML you provided was not well-formed or did not validate against "
                           "our published schema", 400)
    return [dict(o) for o in objects]


def per_key_actions(params: Mapping[str, Any], account: str, region: str) -> list[list[RequiredAction]]:
    """What deleting each entry needs: exactly what a DeleteObject of that key (and version) with the
    request's headers (x-amz-bypass-governance-retention...) needs (catalog.s3_delete_objects)."""
    entries(params)
    try:
        return per_key_required_actions(params, account=account, region=region)
    except InvalidRequest as err:
        raise ServiceError(err.code, err.message, err.status, fields=err.fields) from None


def refused(needs: Sequence[Sequence[RequiredAction]],
            allowed: Callable[[Sequence[RequiredAction]], bool]) -> list[int]:
    """The indexes of the entries whose actions are not all allowed."""
    return [i for i, need in enumerate(needs) if not allowed(need)]


def allowed_params(params: Mapping[str, Any], refused_indexes: Sequence[int]) -> dict[str, Any] | None:
    """The request with the refused entries removed, or None when none remains."""
    skip = set(refused_indexes)
    kept = [o for i, o in enumerate(entries(params)) if i not in skip]
    if not kept:
        return None
    return {**params, "Delete": {**params["Delete"], "Objects": kept}}


def with_refusals(output: dict[str, Any], params: Mapping[str, Any], refused_indexes: Sequence[int]) -> dict[str, Any]:
    """The backend's DeleteResult plus one AccessDenied error per refused entry (Quiet: errors only)."""
    objects = entries(params)
    errors = list(output.get("Errors") or [])
    for i in refused_indexes:
        error: dict[str, Any] = {"Key": objects[i].get("Key")}
        if objects[i].get("VersionId") is not None:
            error["VersionId"] = objects[i]["VersionId"]
        error.update({"Code": "AccessDenied", "Message": "Access Denied"})
        errors.append(error)
    result = dict(output)
    if errors:
        result["Errors"] = errors
    delete = params.get("Delete")
    if isinstance(delete, dict) and delete.get("Quiet") is True:
        result.pop("Deleted", None)  # quiet mode: only the keys that could not be deleted
    return result
