"""Query and EC2 protocol input: flat `Name.member.N` / `Name.entry.N.key` parameters back into the nested
values a boto3 call takes.
https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#request-serialization
https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html

One reading: a name given twice is refused, and so is a parameter under a member's name that this reading
does not use (`GroupId.01` beside `GroupId.1`, `Tags.member.x`): another reader could take it for a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.naming import EC2_INPUT_NAMING, MODEL_NAMING, Naming, flattened
from lambdaperm.protocol.query_parameter_names import refuse_unknown
from lambdaperm.protocol.scalars import from_text
from lambdaperm.protocol.timestamps import ISO8601

_MISSING = object()
_INDEX = re.compile(r"[1-9][0-9]{0,8}")
_CONTROL = frozenset({"Action", "Version"})


class _Params:
    """The flat parameters, with every dotted prefix indexed so walking the shape visits only what was
    sent (recursive shapes stay finite)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.values: dict[str, str] = {}
        self.used: set[str] = set()
        for key, value in pairs:
            if key in self.values:
                raise BadInput("ambiguous", f"The parameter '{key}' is given more than once; each may appear once.")
            if key not in _CONTROL:
                self.values[key] = value
        self.prefixes: set[str] = set()
        self.children: dict[str, set[str]] = {}
        for key in self.values:
            parts = key.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                self.prefixes.add(prefix)
                if end < len(parts):
                    self.children.setdefault(prefix, set()).add(parts[end])

    def indices(self, prefix: str) -> list[int]:
        """The item numbers under `prefix`: 1 … n, each once (a gap would let readers stop at different
        places)."""
        found = self.children.get(prefix, set())
        numbers = sorted(int(part) for part in found if _INDEX.fullmatch(part))
        if numbers != list(range(1, len(numbers) + 1)):
            raise BadInput("ambiguous", f"The items of '{prefix}' must be numbered 1 to {len(numbers)}, without gaps.")
        return numbers

    def take(self, key: str) -> str:
        self.used.add(key)
        return self.values[key]

    def is_empty(self, key: str) -> bool:
        """`Name=` (an empty list or map, as botocore writes one)."""
        if self.values.get(key) == "":
            self.used.add(key)
            return True
        return False


def parse_query_params(shape: Shape | None, pairs: Iterable[tuple[str, str]], naming: Naming) -> dict[str, object]:
    """The input parameters of a query/ec2 request. Raises BadInput for values of the wrong form."""
    params = _Params(pairs)
    refuse_unknown(shape, params.values, naming)
    if shape is None:
        return {}
    value = _read_structure(shape, "", params, naming)
    _refuse_unread(shape, params, naming)
    return value if isinstance(value, dict) else {}


def _refuse_unread(shape: Shape, params: _Params, naming: Naming) -> None:
    """A parameter under one of the input's member names that the reading above did not use."""
    members = {naming.member(shape, name, member) for name, member in shape.members.items()}
    for key in params.values:
        if key not in params.used and key.split(".", 1)[0] in members:
            raise BadInput("ambiguous", f"The parameter '{key}' is not understood.")


def naming_for(protocol: str) -> Naming:
    return EC2_INPUT_NAMING if protocol == "ec2" else MODEL_NAMING


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _read(shape: Shape, key: str, params: _Params, naming: Naming) -> object:
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(shape, key, params, naming)
    if kind == "list":
        return _read_list(shape, key, params, naming)
    if kind == "map":
        return _read_map(shape, key, params, naming)
    if key not in params.values:
        return _MISSING
    return from_text(shape, params.take(key), key, ISO8601)


def _read_structure(shape: Shape, key: str, params: _Params, naming: Naming) -> object:
    if key and key not in params.prefixes:
        return _MISSING
    found: dict[str, object] = {}
    for name, member in shape.members.items():
        sub = _join(key, naming.member(shape, name, member))
        if sub not in params.prefixes:
            continue
        value = _read(member, sub, params, naming)
        if value is not _MISSING:
            found[name] = value
    if key and not found:
        return _MISSING
    return found


def _read_list(shape: Shape, key: str, params: _Params, naming: Naming) -> object:
    if key not in params.prefixes:
        return _MISSING
    if naming.lists_nest and not flattened(shape):
        items_prefix = _join(key, naming.list_item(shape) or "member")
    else:
        items_prefix = key
    items: list[object] = []
    for index in params.indices(items_prefix):
        value = _read(shape.member, f"{items_prefix}.{index}", params, naming)
        if value is not _MISSING:
            items.append(value)
    if not items and not params.is_empty(key):
        return _MISSING
    return items


def _read_map(shape: Shape, key: str, params: _Params, naming: Naming) -> object:
    if key not in params.prefixes:
        return _MISSING
    entries_prefix = key if flattened(shape) else _join(key, "entry")
    key_name, value_name = naming.map_entry(shape)
    result: dict[object, object] = {}
    for index in params.indices(entries_prefix):
        entry = f"{entries_prefix}.{index}"
        map_key = _read(shape.key, f"{entry}.{key_name}", params, naming)
        map_value = _read(shape.value, f"{entry}.{value_name}", params, naming)
        if map_key is _MISSING or map_value is _MISSING:
            continue
        if map_key in result:
            raise BadInput("ambiguous", f"The key '{map_key}' is given more than once in '{key}'.")
        result[map_key] = map_value
    if not result and not params.is_empty(key):
        return _MISSING
    return result
