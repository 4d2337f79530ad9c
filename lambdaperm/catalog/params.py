"""Reading values out of boto3-style request parameters with small path expressions.

Path syntax (used by the data tables): segments separated by `.`; `Name[]` iterates the list at `Name`;
`Name{}` iterates the keys of the map at `Name`; `.` alone is the value itself (for per-item rules).
Examples: `Delete.Objects[].Key`, `RequestItems{}`, `TransactItems[].Put.TableName`, `VpcConfig.SubnetIds[]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

_SEGMENT = re.compile(r"^([A-Za-z0-9_\-]+)(\[\]|\{\})?$")


@cache
def _compile(path: str) -> tuple[tuple[str, str], ...]:
    if path == ".":
        return ()
    out: list[tuple[str, str]] = []
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            raise ValueError(f"bad parameter path {path!r}")
        out.append((match.group(1), match.group(2) or ""))
    return tuple(out)


def lookup(value: object, path: str) -> list[object]:
    """Every value `path` reaches inside `value` (missing members and None are skipped)."""
    current: list[object] = [value]
    for name, iterate in _compile(path):
        step: list[object] = []
        for item in current:
            if not isinstance(item, Mapping):
                continue
            child = item.get(name)
            if child is None:
                continue
            if iterate == "[]":
                if isinstance(child, Sequence) and not isinstance(child, str | bytes):
                    step.extend(c for c in child if c is not None)
            elif iterate == "{}":
                if isinstance(child, Mapping):
                    step.extend(str(k) for k in child)
            else:
                step.append(child)
        current = step
    return current


def text(value: object) -> str | None:
    """A scalar parameter as the string IAM compares (booleans as `true`/`false`); None otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return None


def strings(value: object, *paths: str) -> tuple[str, ...]:
    """The scalar values of all `paths`, as strings, in order, without duplicates. Lists are flattened."""
    out: list[str] = []
    for path in paths:
        for found in lookup(value, path):
            items = found if isinstance(found, Sequence) and not isinstance(found, str | bytes) else [found]
            for item in items:
                s = text(item)
                if s is not None and s not in out:
                    out.append(s)
    return tuple(out)


def present(value: object, path: str) -> bool:
    """True when `path` reaches at least one value (an empty string or list counts as absent)."""
    for found in lookup(value, path):
        if isinstance(found, str | bytes | Sequence | Mapping) and len(found) == 0:
            continue
        return True
    return False
