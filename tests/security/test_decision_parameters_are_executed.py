"""Structural audit (parameter confusion, review round 10): every request member the decision reads is executed.

The shape of rounds 8 and 9: a request member lambdaperm's DECISION depends on — a member bound into a resource
ARN (`lambdaperm/catalog/bindings.py`, `rules/`) or one a condition key is read from (`catalog/context.py`, the
`request` keys of `condition_keys.py`, docs/condition-keys.md) — that the embedded executor (moto 5.2.1) ignores:
TransactGetItems' ProjectionExpression, PutObjectAcl's VersionId, DeleteItem's Expected... The call is authorized
on one reading and carried out on another. Finding them one by one did not converge, so this module enumerates
them all from the catalog's own tables and checks each against moto's source:

1. For every served data-plane operation (`dataplane.moto_backend.SERVED`, the operations moto has a handler for;
   S3: `s3_support.MOTO_S3_OPERATIONS`), the input members the decision reads: the binding sources whose template
   variables the operation's actions' resource types use, the service's ARN parameters, the exception row's
   `each`/`when`/`arn`/`sources` paths and what its derivers read, the extractors of every `request` condition key
   the actions document, and the members `uncertain_keys`, `leading_keys` and the object-version mark read.
   Each is resolved against botocore's input shape (the member's wire names: member name, `locationName`,
   `queryName`, header and query-string names).
2. moto reads the member when its handler for the operation (the `responses.py` method, or the branch of moto's
   S3 dispatcher the operation takes) or what that calls — methods of the response class and of the backend,
   module functions, and model methods by name, three levels deep — names it as a string literal
   (`self._get_param("AttributesToGet")`, `self.body.get(...)`, `querystring.get("versionId")`,
   `headers.get("x-amz-acl")`), or, for S3's URI members, reads `bucket_name` / `key_name`.
3. Otherwise lambdaperm must handle it itself: `HANDLED_BY_LAMBDAPERM` names the module that refuses it or
   post-processes the answer, and each entry must still be needed (not read by moto) or be a post-processing
   module whose reason is recorded.

A static "reads" is necessary, not sufficient (moto's GetItem reads AttributesToGet only to validate it); the
self-check below proves the detector finds the members earlier rounds found by hand.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

import pytest
from botocore.loaders import create_loader  # type: ignore[import-untyped]

from lambdaperm.catalog import arns, bindings, condition_keys, context, leading_keys, reference, services
from lambdaperm.catalog.rules import Need, rule
from lambdaperm.dataplane.moto_backend import SERVED
from lambdaperm.dataplane.s3_support import MOTO_S3_OPERATIONS
from tests.security.fresh_interpreter import fresh_interpreter

# --------------------------------------------------------------------------------------------------------------
# 1. What the decision reads
# --------------------------------------------------------------------------------------------------------------

# Extractors of context.py that are not `_param(key, *paths)` closures: the paths they read. A new extractor
# must be listed here (test_every_extractor_is_understood), so the audit cannot silently skip it.
ANY_DEPTH = "**"  # a member name read at any depth of its scope
_ATTRIBUTE_NAMES = (
    *(
        f"{ANY_DEPTH}.{m}"
        for m in (
            "Item",
            "Key",
            "ExclusiveStartKey",
            "AttributeUpdates",
            "Expected",
            "KeyConditions",
            "QueryFilter",
            "ScanFilter",
            "Keys",
            "AttributesToGet",
            "ExpressionAttributeNames",
        )
    ),
    f"{ANY_DEPTH}.*Expression",
)
CUSTOM_EXTRACTORS: dict[Callable[..., Any], tuple[str, ...]] = {
    context.request_tags: context._TAG_PATHS,
    context.tag_keys: (*context._TAG_PATHS, *context._TAG_KEY_PATHS),
    context.s3_object_tags: ("Tagging",),
    context.s3_object_tag_keys: ("Tagging",),
    context.s3_copy_source: ("CopySource",),
    context.lambda_function_arn: ("FunctionName", "Qualifier"),
    context.ec2_region: (),
    context.dynamodb_attributes: _ATTRIBUTE_NAMES,
}
# Derivers of the exception rows (`Need.derive`): what they read of their scope.
DERIVER_READS: dict[str, tuple[str, ...]] = {
    "partiql": (".",),  # the statement itself
    "_table_entry": (".",),  # a RequestItems table name
    "ec2_resource_id": (".",),
    "_with_source_version.<locals>.with_version": ("CopySource",),
}


def _extractor_paths(extractor: Callable[..., Any]) -> tuple[str, ...]:
    if extractor in CUSTOM_EXTRACTORS:
        return CUSTOM_EXTRACTORS[extractor]
    if extractor.__qualname__ == "_param.<locals>.extract" and extractor.__closure__:
        cells = [c.cell_contents for c in extractor.__closure__]
        paths = next(c for c in cells if isinstance(c, tuple))
        return tuple(paths)
    raise AssertionError(f"the audit does not know what {extractor.__qualname__} reads: add it to CUSTOM_EXTRACTORS")


def _needs(service: str, op: str) -> tuple[Need, ...]:
    row = rule(service, op)
    if row is not None:
        return row.needs
    return (Need(f"{services.IAM_PREFIX[service]}:{op}"),)


def _actions(need: Need) -> tuple[str, ...]:
    return (need.action,) if need.action else need.actions


def _template_vars(action: str, types: tuple[str, ...] | None) -> set[str]:
    info = reference.action(action)
    if info is None:
        return set()
    out: set[str] = set()
    names = [r.name for r in info.resource_types] if types is None else list(types)
    for name in names:
        resource = reference.resource_type(info.prefix, name)
        if resource is None:
            continue
        template = bindings.TEMPLATE_OVERRIDES.get((info.prefix, resource.name), resource.arn)
        out.update(arns.variables(template))
    return out


def _join(root: str, rel: str) -> str:
    if rel == ".":
        return root
    return f"{root}.{rel}" if root else rel


def decision_paths(service: str, op: str) -> dict[str, set[str]]:
    """Catalog paths (from the request root) the decision reads → why."""
    out: dict[str, set[str]] = {}

    def add(path: str, why: str) -> None:
        out.setdefault(path, set()).add(why)

    for need in _needs(service, op):
        item_root = need.each or ""
        actions = _actions(need)
        if need.each:
            add(need.each, "each")
        for when in need.when:
            paths = (
                (when.value,)
                if when.op == "any_present" and isinstance(when.value, str)
                else (when.value if when.op == "any_present" else (when.path,))
            )
            for p in paths:
                add(p[1:] if p.startswith("^") else _join(item_root, p), f"when {when.op}")
        for p in need.arn:
            add(_join(item_root, p), "arn")
        if need.derive is not None:
            for p in DERIVER_READS[need.derive.__qualname__]:
                add(_join(item_root, p), f"derive {need.derive.__qualname__}")
        used_vars: set[str] = set()
        for action in actions:
            used_vars |= _template_vars(action, need.types)
        for source in need.sources:
            if set(source.vars) & used_vars:
                for p in source.params:
                    add(_join(item_root, p), f"binding {'/'.join(source.vars)} (row)")
        if not need.isolate:
            for source in bindings.SOURCES.get(service, ()):
                if set(source.vars) & used_vars:
                    for p in source.params:
                        add(p, f"binding {'/'.join(source.vars)}")
        if used_vars:
            for p in bindings.ARN_PARAMS.get(service, ()):
                add(p, "ARN parameter")
                if need.each and not need.isolate:
                    add(_join(item_root, p), "ARN parameter")
        scope_roots = ("", item_root) if need.each else ("",)
        for action in actions:
            documented = {k.lower() for k in condition_keys.documented_keys(action)}
            families = {condition_keys.normalize(k) for k in documented}
            for key in condition_keys.request_keys(action):
                extractor = context._EXTRACTORS.get(key)
                if extractor is None:
                    continue
                for root in scope_roots:
                    for p in _extractor_paths(extractor):
                        add(_join(root, p), f"condition key {key}")
            for root in scope_roots:
                if action.lower() in context._READS and "dynamodb:attributes" in documented:
                    for p in (
                        "Select",
                        "ProjectionExpression",
                        "AttributesToGet",
                        "Get.ProjectionExpression",
                        "Get.AttributesToGet",
                    ):
                        add(_join(root, p), "uncertain dynamodb:attributes")
                if "dynamodb:returnvalues" in documented:
                    for p in context._TRANSACTION_RETURN_VALUES:
                        add(_join(root, p), "uncertain dynamodb:returnvalues")
                if "dynamodb:leadingkeys" in documented:
                    for p in (
                        *leading_keys._ITEM_PATHS,
                        "KeyConditionExpression",
                        "KeyConditions",
                        "ExpressionAttributeNames",
                        "ExpressionAttributeValues",
                    ):
                        add(_join(root, p), "dynamodb:leadingkeys")
                if "s3:existingobjecttag/*" in families:
                    add(_join(root, "VersionId"), "object version of s3:ExistingObjectTag")
    return out


# --------------------------------------------------------------------------------------------------------------
# botocore's input shape: member paths and wire names
# --------------------------------------------------------------------------------------------------------------


@cache
def _model(service: str) -> dict[str, Any]:
    model: dict[str, Any] = create_loader().load_service_model(service, "service-2")
    return model


class Member:
    """One input member: its path (segments without markers), leaf name, location and wire names."""

    def __init__(
        self,
        segments: tuple[str, ...],
        shown: str,
        spec: Mapping[str, Any],
        shape: Mapping[str, Any],
        list_member: Mapping[str, Any] | None,
    ) -> None:
        self.segments = segments
        self.shown = shown
        self.location = str(spec.get("location", ""))
        names = {segments[-1], str(spec.get("locationName", "")), str(spec.get("queryName", ""))}
        if list_member is not None:
            names.add(str(list_member.get("locationName", "")))
        names |= {n[:1].upper() + n[1:] for n in names if n}
        self.wire = tuple(sorted(n for n in names if n))
        self.type = str(shape.get("type", ""))


@cache
def input_members(service: str, op: str) -> tuple[Member, ...]:
    model = _model(service)
    shape_name = model["operations"][op].get("input", {}).get("shape")
    if not shape_name:
        return ()
    out: list[Member] = []

    def walk(shape_name: str, segments: tuple[str, ...], shown: str, depth: int) -> None:
        shape = model["shapes"][shape_name]
        if depth > 6:
            return
        for name, spec in shape.get("members", {}).items():
            child = model["shapes"][spec["shape"]]
            list_member = child.get("member") if child.get("type") == "list" else None
            path = (*segments, name)
            text = f"{shown}.{name}" if shown else name
            out.append(Member(path, text, spec, child, list_member))
            target = child
            suffix = ""
            if child.get("type") == "list":
                target_name = child["member"]["shape"]
                suffix = "[]"
            elif child.get("type") == "map":
                target_name = child["value"]["shape"]
                suffix = "{}"
            else:
                target_name = spec["shape"]
            target = model["shapes"][target_name]
            if target.get("type") == "structure" and target_name != shape_name:
                walk(target_name, path, text + suffix, depth + 1)
            elif target.get("type") == "list" and model["shapes"][target["member"]["shape"]].get("type") == (
                "structure"
            ):
                walk(target["member"]["shape"], path, text + suffix + "[]", depth + 1)

    walk(shape_name, (), "", 0)
    return tuple(out)


_MARKERS = re.compile(r"\[\]|\{\}")
# A catalog scope that is not the request's own shape: BatchWriteItem's item is {"WriteRequests": entry}.
_SCOPE_ALIASES: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("dynamodb", "BatchWriteItem"): (("RequestItems.WriteRequests", "RequestItems"),),
}


def _segments(service: str, op: str, path: str) -> tuple[str, ...]:
    plain = _MARKERS.sub("", path)
    for alias, real in _SCOPE_ALIASES.get((service, op), ()):
        if plain == alias or plain.startswith(alias + "."):
            plain = real + plain[len(alias) :]
    return tuple(s for s in plain.split(".") if s)


def resolve(service: str, op: str, path: str) -> list[Member]:
    """The input members a catalog path names (`**.Name`: that name at any depth; `*Expression` a suffix)."""
    segments = _segments(service, op, path)
    members = input_members(service, op)
    if ANY_DEPTH in segments:
        i = segments.index(ANY_DEPTH)
        prefix, leaf = segments[:i], segments[i + 1]
        return [
            m
            for m in members
            if m.segments[: len(prefix)] == prefix
            and len(m.segments) > len(prefix)
            and (
                m.segments[-1] == leaf
                or (leaf.startswith("*") and m.segments[-1].endswith(leaf[1:]) and m.type == "string")
            )
        ]
    return [m for m in members if m.segments == segments]


def decision_members(service: str, op: str) -> dict[str, tuple[Member, set[str]]]:
    out: dict[str, tuple[Member, set[str]]] = {}
    for path, why in decision_paths(service, op).items():
        for member in resolve(service, op, path):
            if member.shown in out:
                out[member.shown][1].update(why)
            else:
                out[member.shown] = (member, set(why))
    return out


# --------------------------------------------------------------------------------------------------------------
# 2. What moto reads
# --------------------------------------------------------------------------------------------------------------

_RESPONSES = {
    "dynamodb": ("moto.dynamodb.responses", "DynamoHandler"),
    "sqs": ("moto.sqs.responses", "SQSResponse"),
    "sns": ("moto.sns.responses", "SNSResponse"),
    "logs": ("moto.logs.responses", "LogsResponse"),
    "ec2": ("moto.ec2.responses", "EC2Response"),
    "s3": ("moto.s3.responses", "S3Response"),
}
_BACKENDS = {
    "dynamodb": ("moto.dynamodb.models", "DynamoDBBackend"),
    "sqs": ("moto.sqs.models", "SQSBackend"),
    "sns": ("moto.sns.models", "SNSBackend"),
    "logs": ("moto.logs.models", "LogsBackend"),
    "ec2": ("moto.ec2.models", "EC2Backend"),
    "s3": ("moto.s3.models", "S3Backend"),
}
# S3 operations moto answers in a branch of a dispatcher rather than a method of their own:
# operation → (dispatcher, the query marker of its `if` branch; None: the final `else`).
_S3_BRANCHES: dict[str, tuple[str, str | None]] = {
    "CreateBucket": ("_bucket_response_put", None),
    "PutBucketAcl": ("_bucket_response_put", "acl"),
    "PutBucketPolicy": ("_bucket_response_put", "policy"),
    "PutBucketTagging": ("_bucket_response_put", "tagging"),
    "PutBucketVersioning": ("_bucket_response_put", "versioning"),
    "PutBucketCors": ("_bucket_response_put", "cors"),
    "PutBucketLifecycleConfiguration": ("_bucket_response_put", "lifecycle"),
    "PutBucketWebsite": ("_bucket_response_put", "website"),
    "PutBucketLogging": ("_bucket_response_put", "logging"),
    "PutBucketNotificationConfiguration": ("_bucket_response_put", "notification"),
    "PutBucketAccelerateConfiguration": ("_bucket_response_put", "accelerate"),
    "PutPublicAccessBlock": ("_bucket_response_put", "publicAccessBlock"),
    "PutBucketEncryption": ("_bucket_response_put", "encryption"),
    "PutBucketReplication": ("_bucket_response_put", "replication"),
    "PutBucketOwnershipControls": ("_bucket_response_put", "ownershipControls"),
    "PutObjectLockConfiguration": ("_bucket_response_put", "object-lock"),
    "PutBucketInventoryConfiguration": ("_bucket_response_put", "inventory"),
    "CreateMultipartUpload": ("_key_response_post", "uploads"),
    "CompleteMultipartUpload": ("_key_response_post", "uploadId"),
    "RestoreObject": ("_key_response_post", "restore"),
    "DeleteObjects": ("_bucket_response_delete_keys", ""),
}
_S3_RENAMED = {
    "ListBuckets": "all_buckets",
    "GetBucketTagging": "get_bucket_tags",
    "GetBucketLifecycleConfiguration": "get_bucket_lifecycle",
    "GetBucketNotificationConfiguration": "get_bucket_notification",
}
# S3 members in the request URI: moto reads them from the URL (S3Response.setup_class / parse_key_name)
_S3_URI_IDENTIFIERS = {"Bucket": "bucket_name", "Key": "key_name"}


def _snake(name: str) -> str:
    from moto.core.utils import camelcase_to_underscores

    return str(camelcase_to_underscores(name))


@cache
def _class(module: str, name: str) -> type:
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


@cache
def _model_methods(service: str) -> dict[str, list[Callable[..., Any]]]:
    """Methods of the classes moto.<service>'s modules define, by name (a call on a model object)."""
    import pkgutil

    package = importlib.import_module(f"moto.{service}")
    out: dict[str, list[Callable[..., Any]]] = {}
    names = [f"moto.{service}.{m.name}" for m in pkgutil.walk_packages(package.__path__) if "responses" not in m.name]
    if service == "ec2":
        names = [n for n in names if n.startswith("moto.ec2.models")]
    for module_name in names:
        try:
            module = importlib.import_module(module_name)
        except Exception:  # pragma: no cover - optional dependencies of moto
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not cls.__module__.startswith(f"moto.{service}") or "responses" in cls.__module__:
                continue  # a response class imported by moto's urls module is not a model
            for attr, value in vars(cls).items():
                if inspect.isfunction(value) and not attr.startswith("__"):
                    out.setdefault(attr, []).append(value)
    return out


def _source(function: Callable[..., Any]) -> str:
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        return ""


def _s3_branch(dispatcher: str, marker: str | None) -> str:
    """The source of the `if "<marker>" in querystring` branch of an S3 dispatcher (None: the final else)."""
    responses = _class(*_RESPONSES["s3"])
    source = _source(getattr(responses, dispatcher))
    if marker == "":
        return source
    tree = ast.parse(source)
    branches: list[ast.If] = [n for n in ast.walk(tree) if isinstance(n, ast.If)]
    for node in branches:
        constants = [c.value for c in ast.walk(node.test) if isinstance(c, ast.Constant)]
        if marker is not None and marker in constants:
            return ast.unparse(node.body)  # type: ignore[arg-type]
    if marker is None:  # the final `else` of the top-level if/elif chain (CreateBucket's)
        node = next(
            n for n in branches if "versioning" in [c.value for c in ast.walk(n.test) if isinstance(c, ast.Constant)]
        )
        while len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
            node = node.orelse[0]
        return ast.unparse(node.orelse)  # type: ignore[arg-type]
    raise AssertionError(f"no `{marker}` branch in S3Response.{dispatcher}")


def _handler(service: str, op: str) -> tuple[str, Mapping[str, Any]] | None:
    """moto's handler for the operation and its module's names (None: moto has none, or it raises
    NotImplementedError: the call is 501)."""
    responses = _class(*_RESPONSES[service])
    if service == "s3":
        if op in _S3_BRANCHES:
            return _s3_branch(*_S3_BRANCHES[op]), vars(importlib.import_module(responses.__module__))
        method = getattr(responses, _S3_RENAMED.get(op, _snake(op)), None)
    else:
        method = getattr(responses, _snake(op), None)
    if method is None:
        return None
    source = _source(method)
    if "raise NotImplementedError(" in source and "backend." not in source:
        return None
    return source, method.__globals__


def handler_source(service: str, op: str) -> str | None:
    found = _handler(service, op)
    return found[0] if found is not None else None


_CALL = re.compile(r"(?:(self)\.|([A-Za-z_][A-Za-z0-9_]*backend)\.|\.)?([A-Za-z_][A-Za-z0-9_]*)\(")
_COMMON = frozenset(
    {
        "get",
        "items",
        "keys",
        "values",
        "append",
        "extend",
        "update",
        "pop",
        "join",
        "split",
        "format",
        "startswith",
        "endswith",
        "lower",
        "upper",
        "strip",
        "encode",
        "decode",
        "replace",
        "setdefault",
        "add",
        "copy",
        "sort",
        "index",
        "count",
        "remove",
        "isoformat",
    }
)


_NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")


def _constants(text: str, names: Mapping[str, Any]) -> list[str]:
    """The module-level string collections a source names (moto's `user_settable_fields`: the headers
    `metadata_from_headers` keeps), as their repr."""
    out = []
    for name in set(_NAME.findall(text)):
        value = names.get(name)
        if (
            isinstance(value, set | frozenset | list | tuple | dict)
            and value
            and all(isinstance(v, str) for v in value)
        ):
            out.append(repr(sorted(value)))
    return out


def _owner(function: Any, fallback: type) -> type:
    """The class a method is defined on (`self.x()` inside it resolves there); `fallback` otherwise."""
    head = str(getattr(function, "__qualname__", "")).split(".")[0]
    owner = getattr(function, "__globals__", {}).get(head)
    return owner if inspect.isclass(owner) else fallback


def moto_closure(service: str, op: str, depth: int = 3) -> str | None:
    """The handler's source and the sources it calls, `depth` levels deep: `self.x()` on the caller's own class,
    `<...>backend.x()` on the backend, a bare `x()` in the caller's module, `obj.x()` on any model class of the
    service that defines `x` (two levels)."""
    found = _handler(service, op)
    if found is None:
        return None
    start, start_globals = found
    responses = _class(*_RESPONSES[service])
    backend = _class(*_BACKENDS[service])
    seen: set[Any] = set()
    sources = [start]
    frontier: list[tuple[str, Mapping[str, Any], type]] = [(start, start_globals, responses)]
    for level in range(depth):
        following: list[tuple[str, Mapping[str, Any], type]] = []
        for text, names, own in frontier:
            sources.extend(_constants(text, names))
            for match in _CALL.finditer(text):
                on_self, on_backend, name = match.groups()
                if name in _COMMON:
                    continue
                callees: list[Any] = []
                if on_self:
                    callees += [getattr(own, name)] if hasattr(own, name) else []
                elif on_backend:
                    callees += [getattr(backend, name)] if hasattr(backend, name) else []
                elif match.group(0).startswith("."):
                    if level < 2:
                        callees += _model_methods(service).get(name, [])
                else:  # a function of the caller's module (or one it imported)
                    candidate = names.get(name)
                    if inspect.isfunction(candidate) and str(candidate.__module__ or "").startswith("moto."):
                        callees.append(candidate)
                for function in callees:
                    key = getattr(function, "__qualname__", repr(function)), getattr(function, "__module__", "")
                    if key in seen:
                        continue
                    seen.add(key)
                    text_ = _source(function)
                    sources.append(text_)
                    owner = backend if on_backend else _owner(function, own)
                    following.append((text_, getattr(function, "__globals__", {}), owner))
        frontier = following
    return "\n".join(sources)


# Header families moto reads by prefix (`_acl_from_headers`: every `x-amz-grant-*` header, its suffix mapped to
# the permission): a header of the family is read when the prefix and its suffix are both literals of the closure.
_HEADER_PREFIXES = ("x-amz-grant-",)


def moto_reads(service: str, member: Member, closure: str) -> bool:
    if service == "s3" and member.location == "uri" and member.segments[-1] in _S3_URI_IDENTIFIERS:
        return re.search(rf"\b{_S3_URI_IDENTIFIERS[member.segments[-1]]}\b", closure) is not None
    flags = re.I if member.location in ("header", "headers", "querystring") else 0
    for name in member.wire:
        if re.search(rf"[\"']{re.escape(name)}[\"'.]", closure, flags):
            return True
        for prefix in _HEADER_PREFIXES if member.location == "header" else ():
            suffix = name.lower().removeprefix(prefix)
            if name.lower().startswith(prefix) and f'"{prefix}"' in closure and f'"{suffix}"' in closure:
                return True
    return False


# --------------------------------------------------------------------------------------------------------------
# 3. What lambdaperm handles itself
# --------------------------------------------------------------------------------------------------------------

# (service, operation, member) → the lambdaperm module that refuses it or post-processes the answer, and how.
HANDLED_BY_LAMBDAPERM: dict[tuple[str, str, str], str] = {
    (
        "dynamodb",
        "TransactGetItems",
        "TransactItems[].Get.ExpressionAttributeNames",
    ): "dataplane/dynamodb_transact_projection.py: resolves the projection's #placeholders (round 8)",
    (
        "dynamodb",
        "TransactGetItems",
        "TransactItems[].Get.ProjectionExpression",
    ): "dataplane/dynamodb_transact_projection.py: keeps the projected attributes (round 8)",
    (
        "dynamodb",
        "GetItem",
        "AttributesToGet",
    ): "dataplane/dynamodb_read_projection.py: keeps the listed attributes (round 9)",
    ("dynamodb", "Query", "AttributesToGet"): "dataplane/dynamodb_read_projection.py (round 9)",
    ("dynamodb", "Scan", "AttributesToGet"): "dataplane/dynamodb_read_projection.py (round 9)",
    ("dynamodb", "Scan", "Select"): "dataplane/dynamodb_read_projection.py: drops the items of a COUNT (round 9)",
    ("dynamodb", "Query", "Select"): "dataplane/dynamodb_read_projection.py: drops the items of a COUNT (round 9)",
    ("dynamodb", "DeleteItem", "Expected"): "dataplane/dynamodb_legacy_conditions.py: 501 (round 9)",
    ("s3", "PutObjectAcl", "VersionId"): "dataplane/s3_object_versions.py: 501 (round 9)",
    ("s3", "ListObjects", "MaxKeys"): "dataplane/s3_list_max_keys.py: 501 past MaxKeys entries (round 9)",
    (
        "s3",
        "AbortMultipartUpload",
        "Key",
    ): "dataplane/s3_uploads.py: the upload ID must be the bucket's and key's (moto finds it by ID alone)",
    ("s3", "UploadPart", "Key"): "dataplane/s3_uploads.py (as AbortMultipartUpload)",
    (
        "logs",
        "FilterLogEvents",
        "logGroupIdentifier",
    ): "dataplane/logs_groups.py via canonical_params: the group it names becomes logGroupName (round 4)",
    (
        "sqs",
        "GetQueueUrl",
        "QueueOwnerAWSAccountId",
    ): "gateway/data_plane.py acting_account: the backend call runs in the owner account the ARN names",
}

# Members that only choose what the answer reports, which moto leaves out (its answer is the one to the
# member's default): DynamoDB's ReturnConsumedCapacity in the handlers without moto's `include_consumed_capacity`
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html#DDB-BatchGetItem-request-ReturnConsumedCapacity):
# the decision on `dynamodb:ReturnConsumedCapacity` allows or denies a capacity report; moto answers none, never
# more than authorized. Not refused: SDKs and mappers (PynamoDB) send TOTAL on every call.
ANSWER_ONLY: dict[tuple[str, str, str], str] = {
    ("dynamodb", op, "ReturnConsumedCapacity"): "no ConsumedCapacity in moto's answer"
    for op in ("BatchGetItem", "BatchWriteItem", "TransactWriteItems", "UpdateItem")
}

# Members inside a document moto keeps whole (parsed and stored as a mapping, returned as stored): the parent
# literal must be read by the handler (test_stored_documents_are_read).
MOTO_STORES_WHOLE: dict[tuple[str, str, str], str] = {
    (
        "s3",
        "PutBucketReplication",
        "ReplicationConfiguration.Role",
    ): "ReplicationConfiguration",  # _replication_config_from_xml: the parsed document, stored
    (
        "logs",
        "PutDeliveryDestination",
        "deliveryDestinationConfiguration.destinationResourceArn",
    ): "deliveryDestinationConfiguration",  # passed whole to the backend's put_delivery_destination
}


def _refused() -> dict[tuple[str, str], tuple[str, ...]]:
    from lambdaperm.dataplane.unexecuted_parameters import UNEXECUTED

    return {(s, o): tuple(m) for (s, o), m in UNEXECUTED.items()}


def _served_operations() -> Iterator[tuple[str, str]]:
    for service in sorted(SERVED):
        ops = services.operations(service)
        if service == "s3":
            ops = ops & MOTO_S3_OPERATIONS
        for op in sorted(ops):
            if handler_source(service, op) is not None:
                yield service, op


@cache
def audit() -> dict[str, list[tuple[str, str, str, str]]]:
    """Every audited (service, operation, member, why) by outcome: moto / lambdaperm / refused / unhandled."""
    refused = _refused()
    out: dict[str, list[tuple[str, str, str, str]]] = {"moto": [], "lambdaperm": [], "refused": [], "unhandled": []}
    for service, op in _served_operations():
        closure = moto_closure(service, op) or ""
        for shown, (member, why) in sorted(decision_members(service, op).items()):
            row = (service, op, shown, ", ".join(sorted(why)))
            if (service, op, shown) in HANDLED_BY_LAMBDAPERM or (service, op, shown) in ANSWER_ONLY:
                out["lambdaperm"].append(row)
            elif shown in refused.get((service, op), ()):
                out["refused"].append(row)
            elif moto_reads(service, member, closure) or (service, op, shown) in MOTO_STORES_WHOLE:
                out["moto"].append(row)
            else:
                out["unhandled"].append(row)
    return out


# --------------------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------------------


def test_every_extractor_is_understood() -> None:
    """Every condition-key extractor is one the audit knows the paths of (a new one cannot be skipped)."""
    for extractor in context._EXTRACTORS.values():
        assert _extractor_paths(extractor) is not None


@fresh_interpreter
def test_the_detector_finds_what_earlier_rounds_found_by_hand() -> None:
    """Without lambdaperm's handling, the static check flags the members rounds 8 and 9 found moto ignores
    (and the audit enumerates them as decision members): the detector can fail."""
    known = [
        ("dynamodb", "TransactGetItems", "TransactItems[].Get.ProjectionExpression"),
        ("dynamodb", "DeleteItem", "Expected"),
        ("s3", "PutObjectAcl", "VersionId"),
    ]
    for service, op, shown in known:
        members = decision_members(service, op)
        assert shown in members, (service, op, shown, sorted(members))
        assert not moto_reads(service, members[shown][0], moto_closure(service, op) or ""), (service, op, shown)
    # and it finds what moto does read
    members = decision_members("s3", "GetObject")
    assert moto_reads("s3", members["VersionId"][0], moto_closure("s3", "GetObject") or "")
    members = decision_members("dynamodb", "PutItem")
    assert moto_reads("dynamodb", members["ConditionExpression"][0], moto_closure("dynamodb", "PutItem") or "")


def test_every_lambdaperm_entry_is_a_decision_member() -> None:
    """The handled and refused tables name members the decision reads (no stale entry)."""
    for service, op, shown in (*HANDLED_BY_LAMBDAPERM, *ANSWER_ONLY):
        assert shown in decision_members(service, op), (service, op, shown)
    for (service, op), members in _refused().items():  # siblings (SSECustomerKey...) may ride along
        assert set(members) & set(decision_members(service, op)), (service, op, members)
        for shown in members:
            assert resolve(service, op, shown), (service, op, shown)


@fresh_interpreter
def test_stored_documents_are_read() -> None:
    """The documents MOTO_STORES_WHOLE relies on are read by the handler (as a literal)."""
    for (service, op, shown), parent in MOTO_STORES_WHOLE.items():
        assert shown in decision_members(service, op), (service, op, shown)
        assert f'"{parent}"' in (moto_closure(service, op) or ""), (service, op, parent)


@fresh_interpreter
def test_the_audit_covers_the_data_plane() -> None:
    result = audit()
    total = sum(len(v) for v in result.values())
    services_seen = {row[0] for rows in result.values() for row in rows}
    assert services_seen == set(SERVED)
    assert total > 450, total


@fresh_interpreter
def test_every_decision_member_is_executed_or_handled() -> None:
    """Each member the decision reads is read by moto's handler, or refused / post-processed by lambdaperm."""
    unhandled = audit()["unhandled"]
    assert not unhandled, "\n".join(f"{s}:{o} {m}  ({why})" for s, o, m, why in unhandled)


if __name__ == "__main__":  # pragma: no cover - a report of the audit
    for outcome, rows in audit().items():
        print(f"== {outcome}: {len(rows)}")
        if outcome != "moto":
            for row in rows:
                print("  ", *row)
    pytest.main([__file__, "-q"])
