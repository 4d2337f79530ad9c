"""S3 operations naming an object version that moto would carry out on the current version instead.

S3 acts on the version a `versionId` names: PutObjectAcl "uses the acl subresource to set the access control
list (ACL) permissions for a new or existing object ... To set the ACL of a different version, use the
versionId subresource" and needs s3:PutObjectVersionAcl instead of s3:PutObjectAcl
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectAcl.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html); RestoreObject restores
the version it names (https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html).

moto 5.2.1 reads no `versionId` in these two handlers (moto/s3/responses.py `put_object_acl`, `_key_response_post`
"restore") and acts on the current version: a caller allowed s3:PutObjectVersionAcl and denied s3:PutObjectAcl
made the current version public-read by naming an old one (review round 9). Every other served S3 object
operation that takes `VersionId` reads it (checked in moto 5.2.1's handlers). These two are therefore not served
with a `VersionId`: 501 NotImplemented naming the parameter, in both modes (an upstream moto reads them alike).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_IGNORED = frozenset({"PutObjectAcl", "RestoreObject"})


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """501 NotImplemented for an operation above that names a version."""
    if service == "s3" and operation in _IGNORED and params.get("VersionId") is not None:
        raise ServiceError("NotImplemented", f"lambdaperm does not serve {operation} with VersionId", 501)
