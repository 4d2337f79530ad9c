"""S3 `x-amz-grant-*` headers outside S3's grammar: refused as S3 refuses them, never read loosely by the backend.

A grant header is a comma-separated list of grantees, each `id=<canonical user id>`, `uri=<group URI>` or
`emailAddress=<address>`, the value optionally in double quotes
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_RequestSyntax). The condition
keys `s3:x-amz-grant-read`, `-write`, `-read-acp`, `-write-acp`, `-full-control` hold the header as sent.

moto 5.2.1 reads any key but `id` as a group URI, so `foo="http://acs.amazonaws.com/groups/global/AllUsers"`
passed a Deny written on `uri="…AllUsers"` and was stored as a public grant to AllUsers (parameter confusion,
review round 13); `emailAddress=` was stored as a *group* named by the address, and an item without `=` was a 500.
S3 answers, 400 each:

- a grantee that is not `key=value` with one of the three keys (S3 reads the keys in any case): InvalidArgument
  "Argument format not recognized", `ArgumentName` the header, `ArgumentValue` its value;
- a `uri` that is not one of S3's predefined groups
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#specifying-grantee-predefined-groups):
  InvalidArgument "Invalid group uri", `ArgumentName` `uri`;
- an `emailAddress`: S3 resolves it to the account registered with it; no lambdaperm account has an address, so
  UnresolvableGrantByEmailAddress "The e-mail address you provided does not match any account on record."
  (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).

Not checked: that an `id` is a canonical user id of an account (S3: InvalidArgument "Invalid id").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel  # type: ignore[import-untyped]

from lambdaperm.protocol.errors import ServiceError

_GROUPS = frozenset(
    {
        "http://acs.amazonaws.com/groups/global/AllUsers",
        "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
        "http://acs.amazonaws.com/groups/s3/LogDelivery",
    }
)
_GRANTEE = re.compile(r'([A-Za-z]+)=(?:"([^"]+)"|([^"]+))')


def _check_header(header: str, value: str) -> None:
    for item in value.split(","):
        found = _GRANTEE.fullmatch(item.strip())
        key = found.group(1).lower() if found else ""
        if found is None or key not in ("id", "uri", "emailaddress"):
            raise ServiceError(
                "InvalidArgument",
                "Argument format not recognized",
                400,
                fields={"ArgumentName": header, "ArgumentValue": value},
            )
        grantee = found.group(2) or found.group(3) or ""
        if key == "uri" and grantee not in _GROUPS:
            raise ServiceError(
                "InvalidArgument", "Invalid group uri", 400, fields={"ArgumentName": "uri", "ArgumentValue": grantee}
            )
        if key == "emailaddress":
            raise ServiceError(
                "UnresolvableGrantByEmailAddress",
                "The e-mail address you provided does not match any account on record.",
                400,
            )


def check(service: str, operation: OperationModel, params: Mapping[str, Any]) -> None:
    """Refuse, with S3's error, a request whose `x-amz-grant-*` header is outside S3's grammar."""
    if service != "s3" or operation.input_shape is None:
        return
    for name, member in operation.input_shape.members.items():
        header = str(member.serialization.get("name") or "").lower()
        if member.serialization.get("location") == "header" and header.startswith("x-amz-grant-"):
            value = params.get(name)
            if isinstance(value, str):
                _check_header(header, value)
