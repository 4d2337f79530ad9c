"""Scalar values written as text (query parameters, URI labels, headers, XML text) read back into the
Python types a boto3 call takes, and written out again."""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import datetime

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.timestamps import format_timestamp, parse_timestamp

_INTEGER = re.compile(r"[+-]?[0-9]+")
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
SCALAR_TYPES = frozenset(
    {
        "string",
        "character",
        "integer",
        "long",
        "short",
        "byte",
        "boolean",
        "float",
        "double",
        "timestamp",
        "blob",
        "bigInteger",
        "bigDecimal",
    }
)
INTEGER_TYPES = frozenset({"integer", "long", "short", "byte", "bigInteger"})
FLOAT_TYPES = frozenset({"float", "double", "bigDecimal"})


def what(shape: Shape) -> str:
    """The shape's type as AWS validation messages name it."""
    return str(shape.type_name)


def from_text(shape: Shape, text: str, where: str, default_timestamp: str) -> object:
    """A scalar shape's value from its text form. Raises BadInput naming `where`."""
    kind = shape.type_name
    if kind in ("string", "character"):
        return text
    if kind in INTEGER_TYPES:
        if not _INTEGER.fullmatch(text.strip()):
            raise BadInput("value", f"Value '{text}' at '{where}' is not a valid {kind}")
        try:
            return int(text)
        except ValueError as exc:  # more digits than int() converts
            raise BadInput("value", f"Value at '{where}' is not a valid {kind}") from exc
    if kind in FLOAT_TYPES:
        return parse_float(text, where)
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise BadInput("value", f"Value '{text}' at '{where}' is not a valid boolean")
        return lowered == "true"
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", default_timestamp)
        try:
            return parse_timestamp(text, fmt)
        except BadInput as exc:
            raise BadInput("value", f"Value '{text}' at '{where}' is not a valid timestamp") from exc
    if kind == "blob":
        return decode_base64(text, where)
    raise BadInput("value", f"Value at '{where}' cannot be given as text ({kind})")


def parse_float(text: str, where: str) -> float:
    special = _SPECIAL_FLOATS.get(text.strip())
    if special is not None:
        return special
    try:
        return float(text)
    except ValueError as exc:
        raise BadInput("value", f"Value '{text}' at '{where}' is not a valid number") from exc


def decode_base64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise BadInput("value", f"Value at '{where}' is not valid base64") from exc


def encode_base64(value: object) -> str:
    if isinstance(value, str):
        return base64.b64encode(value.encode("utf-8")).decode("ascii")
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"A blob must be bytes or str, not {type(value).__name__}")


def as_int(value: object) -> int:
    """An output number as an int (a service handing over something else is a bug: TypeError)."""
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError(f"Not an integer: {value!r}")


def as_float(value: object) -> float:
    if isinstance(value, int | float | str):
        return float(value)
    raise TypeError(f"Not a number: {value!r}")


def to_text(shape: Shape, value: object, default_timestamp: str) -> str:
    """A scalar output value in its text form (XML text, header value, query parameter)."""
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        fmt = shape.serialization.get("timestampFormat", default_timestamp)
        return str(format_timestamp(value, fmt))
    if kind == "blob":
        return encode_base64(value)
    if kind in FLOAT_TYPES:
        return float_text(value)
    if isinstance(value, datetime):
        return str(format_timestamp(value, default_timestamp))
    return str(value)


def float_text(value: object) -> str:
    number = as_float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return repr(number)
