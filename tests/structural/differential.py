"""Judging one mutated request: refused (4xx), or read identically by lambdaperm and by what executes it.

Embedded backend — what executes is moto reading lambdaperm's canonical request:
- *canonical-round-trip*: the canonical request, read back by lambdaperm's own parser, must be the same
  operation with the same parameters as the call that was executed (botocore's serializer and our parser
  agree on every call we let through);
- *moto-read-another-operation*: the backend methods moto's response layer called must be the operation's
  (`put_item` for PutItem …), for a call that succeeded;
- *read-executed-as-write*: a read-only operation (Get/List/Describe/Head …) changed nothing;
- *acted-on-outside-authorized*: the oracle's containment rules hold (tests/structural/containment.py).
`--upstream` — what executes is the upstream reading the client's bytes: the same last three, from the
upstream's own record joined to lambdaperm's by request id.
Any server error but 501 NotImplemented (an operation moto lacks) is *server-error*.

Two normal forms in the round trip, both checked before they are set aside: the canonical form of a JSON
call names its operation as `?Action=<operation>` for moto's sake (it must name the executed one), and a
`Content-Length` botocore wrote to frame an empty body is not a member the call set.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from .containment import violations
from .touches import CREATE, WRITE
from .wire import Raw, from_prepared

# operations whose work moto's response layer does through other backend methods than their own name
ALIASES: dict[str, frozenset[str]] = {
    "BatchGetItem": frozenset({"get_item"}),
    "GetTopicAttributes": frozenset({"get_topic"}),
    "SetTopicAttributes": frozenset({"set_topic_attribute"}),
    "SendMessage": frozenset({"send_message"}),
    "ListObjectsV2": frozenset({"list_objects_v2"}),
}
_READ_ONLY = ("Get", "List", "Describe", "Head", "Query", "Scan", "BatchGet", "Select")


@dataclass(frozen=True)
class Finding:
    kind: str
    mutations: tuple[str, ...]
    detail: str
    request: Raw

    def __str__(self) -> str:
        return f"[{self.kind}] via {'+'.join(self.mutations)}: {self.detail}\n      {self.request.reproduce()}"


@dataclass
class Findings:
    found: list[Finding] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)  # "accepted" / "refused" per mutation class

    def add(self, kind: str, mutations: tuple[str, ...], detail: str, request: Raw) -> None:
        self.found.append(Finding(kind, mutations, detail, request))

    def by_kind(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.found:
            out.setdefault(f.kind, []).append(f)
        return out

    def summary(self, per_kind: int = 3) -> str:
        lines = []
        for kind, found in sorted(self.by_kind().items()):
            classes = Counter(m for f in found for m in f.mutations)
            lines.append(f"{kind}: {len(found)} (mutations: {dict(classes)})")
            lines += [f"  - {f}" for f in found[:per_kind]]
        return "\n".join(lines)


def moto_operation_ok(operation: str, methods: list[str]) -> bool:
    names = {m.split(".", 1)[1] for m in methods}
    return xform_name(operation) in names or bool(ALIASES.get(operation, frozenset()) & names)


def judge_entry(entry: dict[str, Any], status: int) -> list[tuple[str, str]]:
    """(kind, detail) of everything wrong with one recorded data-plane request that got `status`."""
    out = [("acted-on-outside-authorized", str(v)) for v in violations(entry)]
    operation = entry["operation"]
    if 200 <= status < 300 and entry.get("methods") and not moto_operation_ok(operation, entry["methods"]):
        out.append(("moto-read-another-operation", f"{operation} executed as {entry['methods']}"))
    if operation.startswith(_READ_ONLY):
        changed = [t for t in entry.get("touches", ()) if t["mode"] in (WRITE, CREATE) and not t.get("delivery")]
        if changed:
            out.append(("read-executed-as-write", f"{operation} changed {sorted({t['arn'] for t in changed})}"))
    return out


def server_error(status: int, body: bytes, method: str = "GET") -> bool:
    """A 5xx other than 501 NotImplemented (an S3 sub-resource or an operation the backend lacks; a HEAD
    answer carries no body to say so)."""
    return status >= 500 and not (status == 501 and (b"NotImplemented" in body or method.upper() == "HEAD"))


# --- the canonical request, as the embedded backend received it -----------------------------------------


@dataclass
class Executed:
    service: str
    operation: str
    params: dict[str, Any]
    account: str
    region: str
    request: Any = None  # the prepared request moto was given


@contextmanager
def capturing() -> Iterator[list[Executed]]:
    """Every call the embedded backend executes in this process, with the canonical request it was given."""
    from lambdaperm.dataplane.moto_backend import MotoBackend

    calls: list[Executed] = []
    execute, dispatch = MotoBackend.execute, MotoBackend._dispatch

    @functools.wraps(execute)
    def captured_execute(self: Any, model: Any, params: Any, account: str, region: str) -> Any:
        calls.append(Executed(model.service_model.service_name, model.name, params, account, region))
        return execute(self, model, params, account, region)

    @functools.wraps(dispatch)
    def captured_dispatch(self: Any, service: str, operation: str, request: Any) -> Any:
        if calls and calls[-1].request is None:
            calls[-1].request = request
        return dispatch(self, service, operation, request)

    MotoBackend.execute = captured_execute  # type: ignore[method-assign]
    MotoBackend._dispatch = captured_dispatch  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        MotoBackend.execute = execute  # type: ignore[method-assign]
        MotoBackend._dispatch = dispatch  # type: ignore[method-assign]


def round_trip(call: Executed) -> str | None:
    """None when lambdaperm reads the canonical request back as the executed call; else what differs."""
    from lambdaperm.protocol import identify, parse

    req = from_prepared(call.service, call.region, call.account, call.request)
    if req.headers and req.query_string and _protocol(call) == "json":
        # the canonical form names a JSON call's operation as `?Action=` for moto (lambdaperm/dataplane/
        # canonical.py): it must name the executed operation; then our parser reads the rest, as a client's
        if req.query_string != f"Action={call.operation}":
            return f"{call.operation}: the canonical query string names {req.query_string!r}"
        req.query_string = ""
    try:
        op = identify(req, call.service)
        params = parse(op, req)
    except Exception as exc:  # our parser refuses what our canonical form wrote
        return f"{call.operation}: the canonical request is refused by our parser: {type(exc).__name__}: {exc}"
    body = call.request.body or b""
    if "ContentLength" not in call.params and params.get("ContentLength") == len(body):
        params.pop("ContentLength")  # the transport's framing of the body botocore wrote, not a member we set
    if op.name != call.operation:
        return f"{call.operation}: the canonical request reads as {op.name}"
    if params != call.params:
        keys = sorted(k for k in set(params) | set(call.params) if params.get(k) != call.params.get(k))
        diff = {k: (call.params.get(k), params.get(k)) for k in keys}
        return f"{call.operation}: parameters read back differently (executed, read back): {diff}"
    return None


def _protocol(call: Executed) -> str:
    import botocore.session

    return str(botocore.session.get_session().get_service_model(call.service).metadata["protocol"])


Sender = Callable[[Raw], tuple[int, bytes]]
