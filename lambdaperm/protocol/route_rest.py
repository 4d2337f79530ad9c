"""REST routing: the operation whose HTTP method and `requestUri` template match a request.

A template has path labels (`{FunctionName}`, one segment, still percent-encoded when matched), greedy
labels (`{Key+}`, the rest of the path) and literal query requirements (`?list-type=2`, `?tagging`).
Several operations may share a template (S3 `PUT /{Bucket}/{Key+}` is PutObject, CopyObject, UploadPart
and UploadPartCopy); the most specific wins: more literal query requirements, then the required
query/header members that are present (and none missing), then the longer literal path, then fewer
greedy labels; deprecated operations lose ties.
https://smithy.io/2.0/spec/http-bindings.html#http-trait

S3 sub-resources. S3 selects the operation at a path by a query key with no value (`?acl`, `?retention`),
and ignores query keys that are not sub-resources (`?x-id=GetObject`, a cache-busting `?v=1`). A
sub-resource is identified per botocore's S3 model: the keys its `requestUri`s mark (`/{Bucket}?cors`),
plus `uploadId` and the keys S3 knows that the model has no operation for (`_EXTRA_SELECTORS`). A request
naming one is routed only to an operation that claims it, never to the operation of the bare path
(GetObject, PutObject, ListObjects, DeleteBucket...):
- two at once (`DELETE ?cors&policy`): 400 InvalidArgument "Conflicting query string parameters: cors,
  policy", ArgumentName `ResourceType`, ArgumentValue the first, names sorted (S3's answer, as measured by
  S3-compatible servers that copy it, e.g. versity/versitygw's `uploads&uploadId` test);
- one beside a query key that selects another operation by its value (`GET /b?list-type=2&replication`,
  `list-type` selecting ListObjectsV2): the same 400 InvalidArgument conflict. Readers differ on which wins
  (moto's GET dispatch tests `list-type` before `replication` but after `versions`), so neither is chosen;
  stricter than S3, which is not documented to refuse it;
- one that another method at this path serves (`DELETE ?versioning`, `HEAD ?acl`): 405 MethodNotAllowed;
- one no operation at this path serves (`GET /b/k?cors`, `?defaultObjectAcl`): 501 NotImplemented;
- an operation whose required query or header members are missing (`PUT /b/k?uploadId=u` without
  `partNumber`): 400 InvalidRequest, since the backend would read it as another operation.
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.models import SUPPORTED_SERVICES, operation_model, operation_names, protocol_of

_LABEL = re.compile(r"\{([^}]+)\}")

# Quirks as data: operations that lose a tie with an identical template (S3 Express's directory-bucket
# listing answers `GET /` only on the S3 Express control endpoint).
_DEPRIORITIZED: Mapping[str, frozenset[str]] = {"s3": frozenset({"ListDirectoryBuckets"})}

# Services whose operations are selected by sub-resource query keys.
_SELECTOR_SERVICES = frozenset({"s3"})
# Sub-resources S3 knows beyond the model's markers: `uploadId` (ListParts, UploadPart... take it as a
# member, and S3 refuses it beside another sub-resource), and keys S3 treats as sub-resources for which
# botocore has no operation (SigV2's sub-resource list: `defaultObjectAcl`, `storageClass`; S3's object
# annotations: `annotation`).
_EXTRA_SELECTORS: Mapping[str, frozenset[str]] = {
    "s3": frozenset({"uploadId", "defaultObjectAcl", "storageClass", "annotation"}),
}


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
    claims: frozenset[str]  # query keys the operation reads: its literals and its query members

    def missing(self, query: Mapping[str, list[str]], has_header: Callable[[str], bool]) -> list[str]:
        """The wire names of required query/header members the request does not carry."""
        return [
            name
            for location, name in self.required
            if not (name in query if location == "querystring" else has_header(name))
        ]

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


def _query_members(service_name: str, operation: str) -> frozenset[str]:
    shape = operation_model(service_name, operation).input_shape
    if shape is None:
        return frozenset()
    return frozenset(
        str(member.serialization.get("name", name))
        for name, member in shape.members.items()
        if member.serialization.get("location") == "querystring"
    )


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
        literals = _query_literals(query)
        routes.setdefault(method, []).append(
            RestRoute(
                operation=name,
                method=method,
                pattern=pattern,
                labels=labels,
                query_literals=literals,
                required=_required_members(service_name, name),
                literal_length=literal_length,
                greedy=greedy,
                penalty=penalty,
                claims=frozenset(key for key, _ in literals) | _query_members(service_name, name),
            )
        )
    return {method: tuple(found) for method, found in routes.items()}


@cache
def selectors(service_name: str) -> frozenset[str]:
    """The sub-resource query keys of a service: the value-less markers of its `requestUri`s (S3's `acl`,
    `retention`, `delete`...) and the extra ones S3 knows. Empty for services without sub-resources."""
    if service_name not in _SELECTOR_SERVICES:
        return frozenset()
    markers = {
        key
        for routes in rest_routes(service_name).values()
        for route in routes
        for key, value in route.query_literals
        if value is None
    }
    return frozenset(markers) | _EXTRA_SELECTORS.get(service_name, frozenset())


@cache
def valued_selectors(service_name: str) -> frozenset[str]:
    """Query keys that select an operation by their value (`list-type=2`, `select-type=2`): the keys of the
    `requestUri` query literals that carry a value. Empty for services without sub-resources."""
    if service_name not in _SELECTOR_SERVICES:
        return frozenset()
    return frozenset(
        key
        for routes in rest_routes(service_name).values()
        for route in routes
        for key, value in route.query_literals
        if value is not None
    )


def _conflict(named: list[str]) -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        "Conflicting query string parameters: " + ", ".join(named),
        400,
        fields={"ArgumentName": "ResourceType", "ArgumentValue": named[0]},
    )


def _unserved(service_name: str, method: str, path: str, selector: str) -> ServiceError:
    """A sub-resource no operation of this method at this path claims: 405 when another method serves it
    here, else 501 (lambdaperm does not know that sub-resource there)."""
    for other, routes in rest_routes(service_name).items():
        if other == method:
            continue
        for route in routes:
            if selector in route.claims and route.pattern.fullmatch(path):
                return ServiceError(
                    "MethodNotAllowed",
                    "The specified method is not allowed against this resource.",
                    405,
                    fields={"Method": method, "ResourceType": selector.upper()},
                )
    return ServiceError(
        "NotImplemented",
        f"lambdaperm does not serve the S3 sub-resource '?{selector}' for {method} at this path",
        501,
    )


def match_route(
    service_name: str,
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    has_header: Callable[[str], bool],
) -> tuple[RestRoute, dict[str, str]] | None:
    """The best route for a request (raw, percent-encoded path) and its raw label values. For a service with
    sub-resources, raises ServiceError (S3's error) when the request's sub-resource keys select no single
    operation (see the module docstring)."""
    method = method.upper()
    named = sorted(key for key in query if key in selectors(service_name))
    if len(named) > 1:
        raise _conflict(named)
    best: tuple[tuple[int, ...], RestRoute, dict[str, str]] | None = None
    for route in rest_routes(service_name).get(method, ()):
        if named and named[0] not in route.claims:
            continue
        found = route.pattern.fullmatch(path)
        if found is None:
            continue
        if not all(key in query and (value is None or value in query[key]) for key, value in route.query_literals):
            continue
        present = sum(
            1 for location, name in route.required if (name in query if location == "querystring" else has_header(name))
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
        if named:
            raise _unserved(service_name, method, path, named[0])
        return None
    if named:  # a sub-resource beside a key that selects another operation (`list-type`): two readings
        beside = [key for key in valued_selectors(service_name) if key in query and key not in best[1].claims]
        if beside:
            raise _conflict(sorted([*named, *beside]))
    if service_name in _SELECTOR_SERVICES:
        missing = best[1].missing(query, has_header)
        if missing:
            raise ServiceError(
                "InvalidRequest",
                f"{best[1].operation} requires the parameter(s) {', '.join(missing)}, which the request lacks",
                400,
            )
    return best[1], best[2]


def preload() -> None:
    """Load every supported model and compile the REST routes now (at server start), not on the first
    request."""
    for name in SUPPORTED_SERVICES:
        operation_names(name)
        if protocol_of(name) in ("rest-json", "rest-xml"):
            rest_routes(name)
