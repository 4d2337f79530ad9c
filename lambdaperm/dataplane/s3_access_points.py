"""S3 access points are not served: a `Bucket` given as an ARN is refused before the backend reads it.

AWS: an access point (`arn:aws:s3:<region>:<account>:accesspoint/<name>`) is a resource of its own, with its own
policy, reached through its own endpoint (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-access-points.html).
The catalog authorizes such a Bucket on the access point's ARN, while the embedded backend would look up a bucket
named by the ARN's text: one resource decided, another read (region/account review round 4). lambdaperm serves no
access points, so it answers 501 NotImplemented, naming what is not served.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def refuse_arn_bucket(params: Mapping[str, Any]) -> None:
    """501 NotImplemented for a `Bucket` parameter that is an ARN (an access point, Object Lambda or Outposts one)."""
    bucket = params.get("Bucket")
    if isinstance(bucket, str) and bucket.startswith("arn:"):
        raise ServiceError(
            "NotImplemented",
            f"S3 access points are not served by lambdaperm: Bucket {bucket} is an ARN, not a bucket name",
            501,
            sender_fault=False,
        )
