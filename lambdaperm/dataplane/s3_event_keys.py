"""The object key of an S3 event notification record, encoded as S3 encodes it.

S3: "The object key name value is URL encoded. For example, "red flower.jpg" becomes "red+flower.jpg" (Amazon S3
returns "application/x-www-form-urlencoded" as the content type in the response)"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html) — in every record,
whatever the destination (Lambda, SQS, SNS). AWS's records keep `/` as it is while encoding the rest form-style
(observed: minio/minio#11665; `+` → `%2B`, aws/aws-sdk-net#640; `=` → `%3D`, aws/aws-sam-cli#379). The key is
UTF-8 before it is percent-encoded. Not documented, and left to Python's form encoder: `*` (encoded) and `~` (kept).

moto 5.2.1 encodes `/` as well (`quote_plus(key.name)` in `moto/s3/notifications.py`), and lambdaperm's own
S3 → Lambda records carried the key as written; both now use `event_key`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus


def event_key(key: str) -> str:
    """The key as an S3 event record carries it: form-encoded (space → `+`), `/` kept."""
    return quote_plus(key, safe="/", encoding="utf-8", errors="surrogatepass")


def with_event_key(event: dict[str, Any], key: str) -> dict[str, Any]:
    """`event` (moto's S3 notification body) with each record's object key encoded as S3 encodes it."""
    for record in event.get("Records", []):
        obj = record.get("s3", {}).get("object") if isinstance(record, dict) else None
        if isinstance(obj, dict) and "key" in obj:
            obj["key"] = event_key(key)
    return event
