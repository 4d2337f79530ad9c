"""S3 object and bucket tags name each key once.

- `x-amz-tagging` (PutObject, CopyObject, CreateMultipartUpload) is a URL-encoded query string of tags
  "without tag name duplicates"; S3 answers 400 InvalidArgument otherwise.
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html#API_PutObject_RequestSyntax
- A `Tagging` body (PutObjectTagging, PutBucketTagging) with one key twice is 400 InvalidTag "Cannot provide
  multiple Tags with the same key" (with `TagKey`).
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html

The wording of both errors is S3's as S3-compatible servers reproduce it (versity/versitygw#1214, #1215).
A repeated tag has two readings: the `s3:RequestObjectTag/<key>` condition took the last value while the
backend stores the first, so a policy allowing only `classification=public` let `secret` through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from lambdaperm.protocol.errors import ServiceError

_HEADER_OPERATIONS = frozenset({"PutObject", "CopyObject", "CreateMultipartUpload"})
_BODY_OPERATIONS = frozenset({"PutObjectTagging", "PutBucketTagging"})


def check_tags(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Raises S3's error for a tag key given twice."""
    if service != "s3":
        return
    tagging = params.get("Tagging")
    if operation in _HEADER_OPERATIONS and isinstance(tagging, str):
        names = [name for name, _ in parse_qsl(tagging, keep_blank_values=True)]
        if len(names) != len(set(names)):
            raise ServiceError(
                "InvalidArgument",
                "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without "
                "tag name duplicates.",
                400,
                fields={"ArgumentName": "x-amz-tagging", "ArgumentValue": tagging},
            )
    if operation in _BODY_OPERATIONS and isinstance(tagging, Mapping):
        seen: set[str] = set()
        for tag in tagging.get("TagSet") or []:
            key = tag.get("Key") if isinstance(tag, Mapping) else None
            if key in seen:
                raise ServiceError(
                    "InvalidTag", "Cannot provide multiple Tags with the same key", 400, fields={"TagKey": str(key)}
                )
            if isinstance(key, str):
                seen.add(key)
