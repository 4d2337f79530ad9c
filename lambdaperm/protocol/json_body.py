"""Output values written as JSON by shape (awsJson and restJson1 responses): blobs base64, timestamps
epoch seconds by default, NaN/Infinity as strings, documents as given."""

from __future__ import annotations

import math
from collections.abc import Mapping

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.scalars import FLOAT_TYPES, INTEGER_TYPES, as_float, as_int, encode_base64
from lambdaperm.protocol.timestamps import UNIX, format_timestamp


def json_members(shape: Shape, value: Mapping[str, object], *, body_only: bool = False) -> dict[str, object]:
    found: dict[str, object] = {}
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None or (body_only and "location" in member.serialization):
            continue
        found[str(member.serialization.get("name", name))] = json_value(member, item)
    return found


def json_value(shape: Shape, value: object) -> object:
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False) or not isinstance(value, Mapping):
            return value
        return json_members(shape, value)
    if kind == "list":
        if not isinstance(value, list | tuple):
            raise TypeError(f"A list must be a list, not {type(value).__name__}")
        member = shape.member
        return [None if item is None else json_value(member, item) for item in value]
    if kind == "map":
        if not isinstance(value, Mapping):
            raise TypeError(f"A map must be a mapping, not {type(value).__name__}")
        value_shape = shape.value
        return {str(key): json_value(value_shape, item) for key, item in value.items()}
    if kind == "blob":
        return encode_base64(value)
    if kind == "timestamp":
        return format_timestamp(value, shape.serialization.get("timestampFormat", UNIX))
    if kind in FLOAT_TYPES:
        number = as_float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "Infinity" if number > 0 else "-Infinity"
        return value if isinstance(value, int | float) and not isinstance(value, bool) else number
    if kind in INTEGER_TYPES:
        return as_int(value)
    if kind == "boolean":
        return bool(value)
    return value
