"""S3 ListObjects (V1) never answers more entries than its MaxKeys.

"MaxKeys: Sets the maximum number of keys returned in the response. By default, the action returns up to 1,000
key names. The response might contain fewer keys but will never contain more", and "all of the keys rolled up in
a common prefix count as a single return when calculating the number of returns"
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html). `s3:max-keys` is the condition key that
bounds it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html).

moto 5.2.1's ListObjects truncates the keys only and returns every common prefix beside them, so a caller allowed
s3:ListBucket for `max-keys` <= 2 listed every top-level "folder" of the bucket with a delimiter (review round 9);
its ListObjectsV2 counts both (not affected). An embedded answer with more entries than MaxKeys is therefore not
served (501 NotImplemented naming ListObjectsV2, which is), and through `--upstream`, whose answer is forwarded as
it comes, a ListObjects with a Delimiter is refused the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_DEFAULT_MAX_KEYS = 1000


def _not_served(what: str) -> ServiceError:
    return ServiceError("NotImplemented", f"lambdaperm does not serve {what}; ListObjectsV2 is served", 501)


def check(service: str, operation: str, params: Mapping[str, Any], embedded: bool) -> None:
    """Through `--upstream`: 501 for a ListObjects with a Delimiter (its answer cannot be counted)."""
    if (service, operation) == ("s3", "ListObjects") and not embedded and params.get("Delimiter"):
        raise _not_served("ListObjects with a Delimiter through --upstream")


def check_answer(service: str, operation: str, params: Mapping[str, Any], output: Mapping[str, Any]) -> None:
    """501 for an embedded ListObjects answer with more keys and common prefixes than MaxKeys."""
    if (service, operation) != ("s3", "ListObjects"):
        return
    limit = params.get("MaxKeys")
    limit = limit if isinstance(limit, int) else _DEFAULT_MAX_KEYS
    contents = output.get("Contents") or []
    prefixes = output.get("CommonPrefixes") or []
    if len(contents) + len(prefixes) > limit:
        raise _not_served("a ListObjects answer with more keys and common prefixes than MaxKeys")
