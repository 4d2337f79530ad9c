"""Reading a Content-Type header strictly: one media type, and no parameter that could change how the body
reads (only `charset=utf-8`, which botocore adds to form bodies).
https://www.rfc-editor.org/rfc/rfc9110#section-8.3
"""

from __future__ import annotations

FORM = "application/x-www-form-urlencoded"


def media_type(value: str) -> str:
    """`Application/X-Amz-JSON-1.0; charset=UTF-8` → `application/x-amz-json-1.0`."""
    return value.split(";", 1)[0].strip().lower()


def is_exactly(value: str | None, expected: str) -> bool:
    """True when `value` is the media type `expected`, with at most a `charset=utf-8` parameter."""
    if value is None or media_type(value) != expected:
        return False
    for parameter in value.split(";")[1:]:
        name, _, setting = parameter.partition("=")
        if name.strip().lower() != "charset" or setting.strip().strip('"').lower() != "utf-8":
            return False
    return True
