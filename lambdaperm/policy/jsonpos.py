"""Where a JSON path sits in a JSON text (line and column, 1-based), for error messages.

Only used when a document is rejected, so it favours simplicity over speed. The text is known to be
valid JSON when it is called.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

PathItem = str | int
_WS = " \t\n\r"
_decoder = json.JSONDecoder()


def format_path(path: Sequence[PathItem]) -> str:
    out = ""
    for item in path:
        if isinstance(item, int):
            out += f"[{item}]"
        else:
            out += f".{item}" if out else item
    return out


def line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def locate(text: str, path: Sequence[PathItem]) -> tuple[int, int] | None:
    """Line and column of the value at `path` (or of the deepest prefix of it that exists)."""
    try:
        offset = _find(text, _skip(text, 0), list(path))
    except (ValueError, IndexError):
        return None
    return line_col(text, offset)


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _find(text: str, pos: int, path: list[PathItem]) -> int:
    while path:
        item = path.pop(0)
        ch = text[pos]
        if ch == "{" and isinstance(item, str):
            pos = _object_member(text, pos, item)
        elif ch == "[" and isinstance(item, int):
            pos = _array_element(text, pos, item)
        else:
            return pos
        if pos < 0:
            return -pos
    return pos


def _object_member(text: str, pos: int, key: str) -> int:
    start = pos
    pos = _skip(text, pos + 1)
    while text[pos] != "}":
        name, pos = _decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        pos = _skip(text, pos + 1)  # the colon
        if name == key:
            return pos
        _, pos = _decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return -start


def _array_element(text: str, pos: int, index: int) -> int:
    start = pos
    pos = _skip(text, pos + 1)
    i = 0
    while text[pos] != "]":
        if i == index:
            return pos
        _, pos = _decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
        i += 1
    return -start


def value_span(text: str, path: Sequence[PathItem]) -> tuple[int, int, int, int] | None:
    """Start line/column and end line/column (inclusive of the last character) of the value at `path`."""
    try:
        start = _find(text, _skip(text, 0), list(path))
        _, end = _decoder.raw_decode(text, start)
    except (ValueError, IndexError):
        return None
    return (*line_col(text, start), *line_col(text, end))
