"""REST routing: the operation whose HTTP method and `requestUri` template match a request.

A template has path labels (`{FunctionName}`, one segment, still percent-encoded when matched), greedy
labels (`{Key+}`, the rest of the path) and literal query requirements (`?list-type=2`, `?tagging`).
Several operations may share a template (S3 `PUT /{Bucket}/{Key+}` is PutObject, CopyObject, UploadPart
and UploadPartCopy); the most specific wins: more literal query requirements, then the required
query/header members that are present (and none missing), then the longer literal path, then fewer
greedy labels; deprecated operations lose ties.
https://smithy.io/2.0/spec/http-bindings.html#http-trait
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from lambdaperm.protocol.models import SUPPORTED_SERVICES, operation_model, operation_names, protocol_of

_LABEL = re.compile(r"\{([^}]+)\}")

# Quirks as data: operations that lose a tie with an identical template (S3 Express's directory-bucket
# listing answers `GET /` only on the S3 Express control endpoint).
_DEPRIORITIZED: Mapping[str, frozenset[str]] = {"s3": frozenset({"ListDirectoryBuckets"})}


@dataclass(frozen=True, slots=True)
class RestRoute:
    operation: str
    method: str
    pattern: re.Pattern[str]
    labels: tuple[tuple[str, str], ...]  # (regex group, label name as written, without '+')
    query_literals: tuple[tuple[str, str | None], ...]  # (key, value or None for "present")
    required: tuple[tuple[str, str], ...]  # ("querystring" | "header", wire name) of required members
    literal_length: int
    greedy: int
    penalty: int

    def labels_of(self, match: re.Match[str]) -> dict[str, str]:
        return {name: match.group(group) for group, name in self.labels}


def _compile_path(path: str) -> tuple[re.Pattern[str], tuple[tuple[str, str], ...], int, int]:
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    parts: list[str] = []
    labels: list[tuple[str, str]] = []
    literal_length = 0
    greedy = 0
    position = 0
    for index, found in enumerate(_LABEL.finditer(path)):
        literal = path[position : found.start()]
        parts.append(re.escape(literal))
        literal_length += len(literal)
        name = found.group(1)
        group = f"g{index}"
        if name.endswith("+"):
            parts.append(f"(?P<{group}>.+)")
            labels.append((group, name[:-1]))
            greedy += 1
        else:
            parts.append(f"(?P<{group}>[^/]+)")
            labels.append((group, name))
        position = found.end()
    tail = path[position:]
    literal_length += len(tail)
    if tail == "/":
        parts.append("/?")
    else:
        parts.append(re.escape(tail) + "/?")
    return re.compile("".join(parts)), tuple(labels), literal_length, greedy


def _query_literals(query: str) -> tuple[tuple[str, str | None], ...]:
    literals: list[tuple[str, str | None]] = []
    for part in query.split("&"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        literals.append((key, value if sep else None))
    return tuple(literals)


def _required_members(service_name: str, operation: str) -> tuple[tuple[str, str], ...]:
    shape = operation_model(service_name, operation).input_shape
    if shape is None:
        return ()
    found: list[tuple[str, str]] = []
    for name in shape.required_members:
        member = shape.members[name]
        location = member.serialization.get("location")
        if location in ("querystring", "header"):
            found.append((location, str(member.serialization.get("name", name))))
    return tuple(found)


@cache
def rest_routes(service_name: str) -> Mapping[str, tuple[RestRoute, ...]]:
    """Every operation's route, by HTTP method (compiled once per service)."""
    routes: dict[str, list[RestRoute]] = {}
    deprioritized = _DEPRIORITIZED.get(service_name, frozenset())
    for name in sorted(operation_names(service_name)):
        model = operation_model(service_name, name)
        method = str(model.http.get("method", "POST")).upper()
        uri = str(model.http.get("requestUri", "/"))
        path, _, query = uri.partition("?")
        pattern, labels, literal_length, greedy = _compile_path(path)
        penalty = int(bool(model.deprecated)) + int(name in deprioritized)
        routes.setdefault(method, []).append(
            RestRoute(
                operation=name,
                method=method,
                pattern=pattern,
                labels=labels,
                query_literals=_query_literals(query),
                required=_required_members(service_name, name),
                literal_length=literal_length,
                greedy=greedy,
                penalty=penalty,
            )
        )
    return {method: tuple(found) for method, found in routes.items()}


def match_route(
    service_name: str,
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    has_header: Callable[[str], bool],
) -> tuple[RestRoute, dict[str, str]] | None:
    """The best route for a request (raw, percent-encoded path) and its raw label values."""
    best: tuple[tuple[int, ...], RestRoute, dict[str, str]] | None = None
    for route in rest_routes(service_name).get(method.upper(), ()):
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if not all(
            key in query and (value is None or value in query[key]) for key, value in route.query_literals
        ):
            continue
        present = sum(
            1
            for location, name in route.required
            if (name in query if location == "querystring" else has_header(name))
        )
        score = (
            len(route.query_literals),
            present - len(route.required),
            present,
            route.literal_length,
            -route.greedy,
            -route.penalty,
        )
        if best is None or score > best[0]:
            best = (score, route, route.labels_of(found))
    if best is None:
        return None
    return best[1], best[2]


def preload() -> None:
    """Load every supported model and compile the REST routes now (at server start), not on the first
    request."""
    for name in SUPPORTED_SERVICES:
        operation_names(name)
        if protocol_of(name) in ("rest-json", "rest-xml"):
            rest_routes(name)
