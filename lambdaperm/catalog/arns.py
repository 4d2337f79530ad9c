"""ARN templates of the Service Authorization Reference: fill them from bindings, parse ARNs with them.

A template looks like `arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}`.
Bindings map a variable to one or more values; a template with several multi-valued variables yields
every combination (S3 DeleteObjects: one bucket, many keys).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from functools import cache

Bindings = dict[str, tuple[str, ...]]

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")

# How much of an ARN a variable may match when an ARN is parsed with a template. Most identifiers stop at
# `:` and `/`; paths, object keys and log group names do not.
_DEFAULT_PATTERN = r"[^:/]+"
_PATTERNS: dict[str, str] = {
    "Partition": r"aws[a-zA-Z0-9-]*",
    "Region": r"[a-z0-9-]*",
    "Account": r"[0-9]{12}|aws|\*|",
    "ObjectName": r".+",
    "EntityPath": r".+",
    "LogGroupName": r"[^:]+",
    "LogStreamName": r"[^:]*",
    "StreamLabel": r"[^/]+",
    "QualifierSuffix": r"(?::[^:/]+)?",
    "Token": r".+",
}


def variables(template: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_VARIABLE.findall(template)))


def _pattern(name: str) -> str:
    if name.endswith("WithPath"):
        return r".+"
    return _PATTERNS.get(name, _DEFAULT_PATTERN)


def fill(template: str, bindings: Mapping[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    """Every ARN the template yields, or None when a variable has no value."""
    names = variables(template)
    values: list[tuple[str, ...]] = []
    for name in names:
        bound = bindings.get(name)
        if not bound:
            return None
        values.append(bound)
    out: list[str] = []
    for combo in itertools.product(*values):
        arn = _substitute(template, dict(zip(names, combo, strict=True)))
        if arn not in out:
            out.append(arn)
    return tuple(out)


def _substitute(template: str, env: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: env[m.group(1)], template)


@cache
def _regex(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    last = 0
    seen: set[str] = set()
    for match in _VARIABLE.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        name = match.group(1)
        if name in seen:
            parts.append(f"(?P={name})")
        else:
            parts.append(f"(?P<{name}>{_pattern(name)})")
            seen.add(name)
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts))


def parse(template: str, arn: str) -> Bindings | None:
    """The variables of `arn` when it has the template's shape, else None."""
    match = _regex(template).fullmatch(arn)
    if match is None:
        return None
    return {name: (value,) for name, value in match.groupdict().items() if value is not None}
