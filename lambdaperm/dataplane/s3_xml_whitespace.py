"""S3 XML request values the backend would read without their leading or trailing whitespace.

S3 reads an XML request's values as given: a tag key or value is a case-sensitive string that may hold
spaces (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html), and an enumerated value
(`<Mode>`, `<Status>`) is one of its names or the request is refused
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_ObjectLockRetention.html). moto 5.2.1 reads the XML
bodies of S3 requests with `xmltodict.parse`, which by default strips every value (`str.strip`: spaces,
tabs, line breaks, no-break and ideographic spaces...). The authorizer decides on the value as sent — the
`s3:RequestObjectTag/<key>`, `s3:RequestObjectTagKeys`, `s3:object-lock-mode` and
`s3:object-lock-legal-hold` condition keys among others — while the backend would store another one:
`role=" admin "` passed a Deny on `role=admin` and was stored as `role=admin`, which `s3:ExistingObjectTag`
policies then trusted; `<Mode> COMPLIANCE </Mode>` passed a Deny on COMPLIANCE and locked the object in
compliance mode (review round 6). Such a value is refused, 501 NotImplemented naming where it is, before
the backend (embedded or upstream) reads it.

Not checked: DeleteObjects (moto reads its keys with `strip_whitespace=False`), CompleteMultipartUpload
(read with minidom, whole text) and SelectObjectContent (an SQL expression and serialization options
decide nothing the authorizer sees).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel  # type: ignore[import-untyped]

from lambdaperm.protocol.errors import ServiceError

_KEPT = frozenset({"DeleteObjects", "CompleteMultipartUpload", "SelectObjectContent"})


def _stripped_at(value: object, where: str) -> str | None:
    """The path of the first string within `value` that `str.strip` would change, or None."""
    if isinstance(value, str):
        return where if value != value.strip() else None
    if isinstance(value, Mapping):
        for name, item in value.items():
            found = _stripped_at(name, f"{where} (a key)") or _stripped_at(item, f"{where}.{name}")
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _stripped_at(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def check(service: str, operation: OperationModel, params: Mapping[str, Any]) -> None:
    """Raises 501 NotImplemented for a value of an S3 XML payload with leading or trailing whitespace."""
    if service != "s3" or operation.name in _KEPT or operation.input_shape is None:
        return
    payload = operation.input_shape.serialization.get("payload")
    if not isinstance(payload, str) or operation.input_shape.members[payload].type_name != "structure":
        return
    where = _stripped_at(params.get(payload), payload)
    if where is not None:
        raise ServiceError(
            "NotImplemented",
            f"A value with leading or trailing whitespace in the XML body ({where}) is not served: "
            "lambdaperm's data plane would store it without that whitespace",
            501,
        )
