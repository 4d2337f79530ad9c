"""Enumerated request members outside their value set: refused as the service refuses them, never read loosely.

AWS validates an enumerated member against its value set — case included — before acting on it, and the
condition keys read from one (`dynamodb:Select`, `dynamodb:ReturnValues`, `s3:x-amz-acl`,
`s3:x-amz-server-side-encryption`, `s3:x-amz-metadata-directive`, `s3:object-lock-mode`...) only ever hold one of
its values. moto 5.2.1 reads several of them loosely, so the decision read one value and the backend executed
another (parameter confusion, review round 12):

- DynamoDB: Scan returned whole items for any `Select` but `COUNT` and Query upper-cased it, so `Select:
  all_attributes` passed a Deny on `dynamodb:Select` = `ALL_ATTRIBUTES` and returned every attribute of every
  item. DynamoDB: 400 ValidationException "1 validation error detected: Value 'all_attributes' at 'select' failed
  to satisfy constraint: Member must satisfy enum value set: [...]"
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html). Every enumerated member,
  at any depth, is checked.
- S3: moto stored `x-amz-server-side-encryption: aes256` and `x-amz-object-lock-mode: governance` as given (the
  latter an unlocked object), applied `x-amz-metadata-directive: replace` / `x-amz-tagging-directive: replace`
  as COPY, and answered `x-amz-acl: PUBLIC-READ` with a 500. S3: 400 InvalidArgument naming the header
  (`ArgumentName`/`ArgumentValue`), https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html. The
  headers checked are those below (the checksum and request-payer headers are left to their own checks).

- S3 XML bodies (review round 13): `s3:object-lock-legal-hold` and `s3:object-lock-mode` are read from
  PutObjectLegalHold's `<LegalHold><Status>` and PutObjectRetention's `<Retention><Mode>` as sent; moto stored any
  text there and its lock test compares `== "ON"` / the upper-case modes, so `<Status>off</Status>` passed a Deny
  on `s3:object-lock-legal-hold` = OFF and lifted the hold (the held version was then deleted). The bucket's
  default retention, `ObjectLockEnabled` and the versioning status were stored alike. S3 validates a body against
  its schema: 400 MalformedXML, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html. The bodies
  checked are those of `_S3_BODIES` (others are left: botocore's enums of, say, notification events or location
  constraints may lag what S3 accepts, and refusing those would be a wrong deny).

The check runs before the backend, embedded or upstream. Not checked: EC2 (moto stores `InstanceTenancy:
Dedicated` as given, but `ec2:Tenancy` is unsupplied, so no decision reads it) and the other services.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.errors import ServiceError

# S3 headers whose value is checked, with S3's message for a value outside the set
_S3_HEADERS: Mapping[str, str] = {
    "x-amz-acl": "The canned ACL specified is not valid",
    "x-amz-server-side-encryption": "The encryption method specified is not supported",
    "x-amz-metadata-directive": "Unknown metadata directive.",
    "x-amz-tagging-directive": "Unknown tagging directive.",
    "x-amz-object-lock-mode": "Unknown wormMode directive.",
    "x-amz-object-lock-legal-hold": "Legal Hold must be either of 'ON' or 'OFF'",
    "x-amz-object-ownership": "Invalid x-amz-object-ownership header",
    "x-amz-storage-class": "The storage class you specified is not valid",
}

# S3 operations whose XML body's enumerated values are checked (object lock and versioning: what protects data)
_S3_BODIES = frozenset(
    {"PutObjectLegalHold", "PutObjectRetention", "PutObjectLockConfiguration", "PutBucketVersioning"}
)
_MALFORMED_XML = "The XML you provided was not well-formed or did not validate against our published schema"


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _outside(shape: Shape, value: Any, where: str) -> tuple[str, str, list[str]] | None:
    """(value, path, value set) of the first enumerated value within `value` outside its set, or None."""
    kind = shape.type_name
    if kind == "string":
        allowed = list(getattr(shape, "enum", None) or [])
        if allowed and isinstance(value, str) and value not in allowed:
            return value, where, allowed
        return None
    if kind == "structure" and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if value.get(name) is not None:
                found = _outside(member, value[name], f"{where}.{_camel(name)}" if where else _camel(name))
                if found is not None:
                    return found
    elif kind == "list" and isinstance(value, list | tuple):
        for index, item in enumerate(value, 1):
            found = _outside(shape.member, item, f"{where}.{index}.member")
            if found is not None:
                return found
    elif kind == "map" and isinstance(value, Mapping):
        for key, item in value.items():
            found = _outside(shape.key, key, f"{where}.{key}.key") or _outside(
                shape.value, item, f"{where}.{key}.member"
            )
            if found is not None:
                return found
    return None


def _dynamodb(operation: OperationModel, params: Mapping[str, Any]) -> None:
    found = _outside(operation.input_shape, params, "")
    if found is not None:
        value, where, allowed = found
        raise ServiceError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: Member must "
            f"satisfy enum value set: [{', '.join(allowed)}]",
            400,
        )


def _s3(operation: OperationModel, params: Mapping[str, Any]) -> None:
    payload = operation.input_shape.serialization.get("payload")
    body = params.get(payload) if operation.name in _S3_BODIES and payload in operation.input_shape.members else None
    if body is not None and _outside(operation.input_shape.members[payload], body, "") is not None:
        raise ServiceError("MalformedXML", _MALFORMED_XML, 400)
    for name, member in operation.input_shape.members.items():
        header = str(member.serialization.get("name") or "").lower()
        if member.serialization.get("location") != "header" or header not in _S3_HEADERS:
            continue
        value = params.get(name)
        if isinstance(value, str) and _outside(member, value, header) is not None:
            raise ServiceError(
                "InvalidArgument", _S3_HEADERS[header], 400, fields={"ArgumentName": header, "ArgumentValue": value}
            )


def check(service: str, operation: OperationModel, params: Mapping[str, Any]) -> None:
    """Refuse, with the service's error, a request with an enumerated member outside its value set."""
    if operation.input_shape is None:
        return
    if service == "dynamodb":
        _dynamodb(operation, params)
    elif service == "s3":
        _s3(operation, params)
