"""S3's bucket naming rules, applied before any decision: a name is read one way by everyone or refused.

General purpose bucket names "must be between 3 (min) and 63 (max) characters long", "can consist only of lowercase
letters, numbers, periods (.), and hyphens (-)", "must begin and end with a letter or number", "must not contain
two adjacent periods", "must not be formatted as an IP address", must not start with `xn--`, `sthree-` or
`amzn-s3-demo-` and must not end with `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3` (directory buckets) or `--table-s3`.
Buckets created in us-east-1 before March 1, 2018 could hold uppercase letters and underscores and run to 255
characters, so a call on an existing bucket may name one in that legacy alphabet; S3 answers any other name with
400 `InvalidBucketName` "The specified bucket is not valid."
https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html

Why before the decision (parameter confusion review round 15): the decision reads the name as parsed
(`team data` from the path `/team%20data`), the backend keys buckets by the path segment as written, so a name
with a character a URL encodes was stored under its encoding (`team%20data`), which no later reader of the parsed
name found: another account's call on it was decided as a call on a bucket of its own and executed, through the
backend's cross-account fallback, on the creator's. Every character of the legacy alphabet is unreserved in a URL,
so a name that passes here is the same text in the decision, the request line and every store.
Directory buckets (`…--zone--x-s3`) are not served (`dataplane/s3_support.py`), so `--x-s3` is refused here too.
An access point ARN in `Bucket` (`arn:…`) is not a bucket name and is left to `dataplane/s3_access_points.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.operation import Operation

# the widest alphabet any bucket ever had (legacy us-east-1); also botocore's own client-side check
_LEGACY = re.compile(r"[A-Za-z0-9._-]{1,255}")
# CreateBucket: the general purpose bucket naming rules
_GENERAL = re.compile(r"[a-z0-9](?:[a-z0-9.-]{1,61}[a-z0-9])")
_IP_ADDRESS = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}", re.ASCII)
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def valid_for_create(name: str) -> bool:
    """Whether CreateBucket accepts `name` (the general purpose bucket naming rules)."""
    return (
        _GENERAL.fullmatch(name) is not None
        and ".." not in name
        and _IP_ADDRESS.fullmatch(name) is None
        and not name.startswith(_RESERVED_PREFIXES)
        and not name.endswith(_RESERVED_SUFFIXES)
    )


def valid_name(name: str) -> bool:
    """Whether `name` can name an existing bucket (the legacy alphabet; every character unreserved in a URL)."""
    return _LEGACY.fullmatch(name) is not None


def check(op: Operation, params: Mapping[str, object]) -> None:
    """400 InvalidBucketName when an S3 call's `Bucket` is no bucket name (for CreateBucket: not a valid new one)."""
    if op.service_name != "s3":
        return
    bucket = params.get("Bucket")
    if not isinstance(bucket, str) or bucket.startswith("arn:"):
        return
    if valid_for_create(bucket) if op.name == "CreateBucket" else valid_name(bucket):
        return
    raise ServiceError("InvalidBucketName", "The specified bucket is not valid.", 400, fields={"BucketName": bucket})
