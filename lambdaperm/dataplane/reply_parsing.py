"""botocore's response parser for the embedded backend's replies, with two of its inputs made cheaper and
nothing of its output changed.

- `ResponseHeaders`: the reply's headers as botocore's `HeadersDict` presents them to the parser (names
  iterated as first given, with the last value given; looked up case-insensitively), with one dict lookup
  per access instead of HeadersDict's key objects. The REST parsers look up every header member of the
  output shape (GetObject: ~40 lookups per reply).
- `timestamp`: botocore's `parse_timestamp` for the form of moto's date headers — RFC 7231
  (`Last-Modified: Thu, 03 Dec 2026 08:00:00 GMT`), read by dateutil as the same aware datetime in
  `tzutc()` (botocore maps `GMT` to it) — without dateutil's general parser; any other text, and a
  date that does not exist or whose weekday disagrees, goes to `parse_timestamp` itself. (ISO 8601
  with `Z` is left to it too: dateutil answers `tzlocal()` for `Z` on a machine whose zone is UTC.)

https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_ResponseSyntax
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from botocore.parsers import PROTOCOL_PARSERS, ResponseParser  # type: ignore[import-untyped]
from botocore.utils import parse_timestamp as _botocore_parse  # type: ignore[import-untyped]
from dateutil.tz import tzutc  # type: ignore[import-untyped]

_MONTHS = {
    m: i
    for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)
}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC7231 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d\d\d\d) (\d\d):(\d\d):(\d\d) GMT",
    re.ASCII,
)


def parse_timestamp(value: Any) -> datetime:
    """botocore's own `parse_timestamp`."""
    parsed: datetime = _botocore_parse(value)
    return parsed


def timestamp(value: Any) -> datetime:
    """botocore's `parse_timestamp(value)`, read directly for RFC 7231 dates in GMT."""
    if isinstance(value, str):
        m = _RFC7231.fullmatch(value)
        if m is not None:
            try:
                parsed = datetime(int(m[4]), _MONTHS[m[3]], int(m[2]), int(m[5]), int(m[6]), int(m[7]), tzinfo=tzutc())
            except ValueError:
                return parse_timestamp(value)  # let botocore word the error
            if _DAYS[parsed.weekday()] == m[1]:
                return parsed
            return parse_timestamp(value)
    return parse_timestamp(value)


class ResponseHeaders(dict[str, Any]):
    """Headers as botocore's HeadersDict shows them to a parser: iteration, `items()` and `len()` give each
    name as first given (with its last value); `[]`, `in` and `get` ignore case."""

    __slots__ = ("_lower",)

    def __init__(self, items: Iterable[tuple[str, Any]]) -> None:
        super().__init__()
        lower: dict[str, Any] = {}
        first: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            dict.__setitem__(self, first.setdefault(key, name), value)
            lower[key] = value
        self._lower = lower

    def __getitem__(self, name: str) -> Any:
        return self._lower[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lower

    def get(self, name: str, default: Any = None) -> Any:
        return self._lower.get(name.lower(), default)

    def __setitem__(self, name: str, value: Any) -> None:
        raise TypeError("the backend's reply headers are read-only")


@cache
def parser(protocol: str) -> ResponseParser:
    """botocore's parser of `protocol` (as `create_parser` makes it) reading timestamps with `timestamp`."""
    return PROTOCOL_PARSERS[protocol](timestamp_parser=timestamp)
