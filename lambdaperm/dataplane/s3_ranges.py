"""S3 GetObject / HeadObject `Range`: one the service cannot read is ignored.

S3 reads `Range: bytes=first-last` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, `Range`;
one range per request), and a recipient ignores a Range header it cannot parse or whose unit it does not know
(RFC 9110 §14.2, https://www.rfc-editor.org/rfc/rfc9110#section-14.2): the whole object is returned. The embedded
backend split the header on '=' and failed on one without exactly one '=' (500 InternalFailure; found by the fuzz
campaign, docs/reliability.md), so such a Range, or one of another unit, is dropped before it runs.
"""

from __future__ import annotations

import re
from typing import Any

_READABLE = re.compile(r"bytes=[^=]*")


def canonical(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` without a Range S3 would ignore."""
    if operation not in ("GetObject", "HeadObject") or "Range" not in params:
        return params
    value = params["Range"]
    if isinstance(value, str) and _READABLE.fullmatch(value.strip()):
        return params
    return {k: v for k, v in params.items() if k != "Range"}
