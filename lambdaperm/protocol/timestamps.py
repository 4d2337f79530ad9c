"""Timestamps on the wire. Each protocol has a default format (query/XML bodies: ISO 8601; JSON bodies:
epoch seconds; HTTP headers: RFC 822 dates; URI/query string: ISO 8601) that a shape's `timestampFormat`
overrides: https://smithy.io/2.0/spec/protocol-traits.html#timestampformat-trait
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from lambdaperm.protocol.bad_input import BadInput

ISO8601 = "iso8601"
UNIX = "unixtimestamp"
RFC822 = "rfc822"


def parse_timestamp(value: object, fmt: str) -> datetime:
    """A timezone-aware UTC datetime from a wire value; the declared format first, then the others
    (clients are not always exact). Raises BadInput."""
    if isinstance(value, bool):
        raise BadInput("value", f"Invalid timestamp: {value!r}")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str):
        raise BadInput("value", f"Invalid timestamp: {value!r}")
    text = value.strip()
    order = {UNIX: (_epoch_text, _iso, _rfc), RFC822: (_rfc, _iso, _epoch_text)}.get(
        fmt.lower(), (_iso, _epoch_text, _rfc)
    )
    for attempt in order:
        result = attempt(text)
        if result is not None:
            return result
    raise BadInput("value", f"Invalid timestamp: {value!r}")


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise BadInput("value", f"Invalid timestamp: {seconds!r}")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise BadInput("value", f"Invalid timestamp: {seconds!r}") from exc


def _epoch_text(text: str) -> datetime | None:
    try:
        seconds = float(text)
    except ValueError:
        return None
    return _from_epoch(seconds)


def _iso(text: str) -> datetime | None:
    if len(text) < 10 or not text[:4].isdigit():
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _aware(parsed)


def _rfc(text: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return _aware(parsed)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_datetime(value: object) -> datetime:
    """An output value (datetime, ISO string or epoch number) as an aware UTC datetime."""
    if isinstance(value, datetime):
        return _aware(value)
    return parse_timestamp(value, ISO8601)


def format_timestamp(value: object, fmt: str) -> str | int | float:
    """The wire form of an output timestamp. ISO 8601 and epoch values keep milliseconds (as AWS does);
    RFC 822 dates have whole seconds."""
    moment = to_datetime(value)
    fmt = fmt.lower()
    if fmt == UNIX:
        whole = int(moment.replace(microsecond=0).timestamp())
        millis = moment.microsecond // 1000
        return whole if millis == 0 else whole + millis / 1000
    if fmt == RFC822:
        return format_datetime(moment.replace(microsecond=0), usegmt=True)
    base = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    millis = moment.microsecond // 1000
    return f"{base}Z" if moment.microsecond == 0 else f"{base}.{millis:03d}Z"
