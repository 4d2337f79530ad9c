"""JSON bodies (AWS JSON 1.0/1.1 and restJson1) back into boto3 call values: blobs are base64, timestamps
epoch seconds by default, floats may be "NaN"/"Infinity", documents pass through.
https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html

One reading: the body is UTF-8 (no other encoding guessed from its first bytes), an object never repeats a
key at any depth (JSON leaves that reading open, RFC 8259 §4; Jackson's strict mode answers `Duplicate
field 'x'`), and the bare `NaN`/`Infinity` literals, which are not JSON, are refused.
"""

from __future__ import annotations

import json

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.scalars import FLOAT_TYPES, INTEGER_TYPES, decode_base64, parse_float
from lambdaperm.protocol.timestamps import UNIX, parse_timestamp


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _NotJson(ValueError):
    pass


def _unique_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return found


def _no_constant(name: str) -> object:
    raise _NotJson(f"Non-standard token '{name}'")


def loads_strict(text: str | bytes) -> object:
    """json.loads, one reading only. Raises BadInput: `ambiguous` for a repeated key, `body` otherwise."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, object_pairs_hook=_unique_object, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        raise BadInput("ambiguous", f"Duplicate field '{exc.key}'") from exc
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadInput("body", _decode_message(exc)) from exc


def decode_json(body: bytes) -> object:
    """The JSON value of a body; an empty body is `{}`. Raises BadInput ("body", or "ambiguous" for a
    repeated key)."""
    if not body.strip():
        return {}
    return loads_strict(body)


def _decode_message(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "The JSON body is nested too deeply"
    if isinstance(exc, _NotJson):
        return str(exc)
    return "The body is not valid UTF-8 JSON"


def read_json_structure(shape: Shape, value: object, where: str = "", *, body_only: bool = False) -> dict[str, object]:
    """The members of a structure from a JSON object. `body_only` skips members bound elsewhere (REST)."""
    if not isinstance(value, dict):
        raise BadInput("value", _mismatch("structure", value, where))
    found: dict[str, object] = {}
    for name, member in shape.members.items():
        if body_only and "location" in member.serialization:
            continue
        key = member.serialization.get("name", name)
        raw = value.get(key)
        if raw is None:
            continue
        found[name] = read_json(member, raw, _path(where, key))
    return found


def read_json(shape: Shape, value: object, where: str) -> object:
    """One value of a shape from its JSON form. Raises BadInput("value") on a type mismatch."""
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return value
        return read_json_structure(shape, value, where)
    if kind == "list":
        if not isinstance(value, list):
            raise BadInput("value", _mismatch("list", value, where))
        member = shape.member
        return [None if item is None else read_json(member, item, f"{where}[{i}]") for i, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise BadInput("value", _mismatch("map", value, where))
        value_shape = shape.value
        return {key: read_json(value_shape, item, _path(where, key)) for key, item in value.items() if item is not None}
    return _read_scalar(shape, value, where)


def _read_scalar(shape: Shape, value: object, where: str) -> object:
    kind = shape.type_name
    if kind in ("string", "character"):
        if isinstance(value, str):
            return value
    elif kind in INTEGER_TYPES:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif kind in FLOAT_TYPES:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
            return parse_float(value, where)
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
    elif kind == "blob":
        if isinstance(value, str):
            return decode_base64(value, where)
    elif kind == "timestamp" and isinstance(value, int | float | str) and not isinstance(value, bool):
        fmt = shape.serialization.get("timestampFormat", UNIX)
        try:
            return parse_timestamp(value, fmt)
        except BadInput as exc:
            raise BadInput("value", f"Invalid timestamp at '{where}': {value!r}") from exc
    raise BadInput("value", _mismatch(kind, value, where))


def _path(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


_JSON_KINDS = {dict: "STRUCTURE_OR_MAP", list: "LIST", str: "STRING_VALUE", bool: "BOOLEAN_VALUE"}


def _mismatch(expected: str, value: object, where: str) -> str:
    """Coral's wording: `NUMBER_VALUE cannot be converted to String`, and where it happened."""
    found = _JSON_KINDS.get(type(value), "NUMBER_VALUE")
    target = {"structure": "a structure", "map": "a map", "list": "a list"}.get(expected, expected.capitalize())
    at = f" (at '{where}')" if where else ""
    return f"{found} cannot be converted to {target}{at}"
