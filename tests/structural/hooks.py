"""Loading the oracle into a server process, test-side only (nothing in lambdaperm knows about it).

`site/sitecustomize.py` calls `install_from_environment()` in every Python process started with that
directory on PYTHONPATH and `LAMBDAPERM_STRUCTURAL_ORACLE=<file>` in its environment:

- role `lambdaperm` (the default): `gateway.data_plane.run` is wrapped to know the request (its id, the
  authorized resources, the acting account and the signed region), `MotoBackend.execute` to record what
  the embedded backend touches for it, and `Upstream.handle` to mark the forwarded request with
  `x-lambdaperm-oracle-request: <request id>` (an unsigned header the upstream ignores). One JSON line per
  data-plane request that reached a backend.
- role `moto-server` (a `python -m moto.server` used as `--upstream`): each HTTP request is recorded with
  the request id of that header, to be joined with lambdaperm's line (`check.joined`).

The first line of the file says the oracle was installed, so that a check never passes on a server that
ran without it. `LAMBDAPERM_STRUCTURAL_ORACLE_MUTANT` installs a deliberately broken executor (the
oracle's own mutation test, tests/security/test_structural_oracle.py).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

from . import instrument
from .touches import Frame, recording

ENV_LOG = "LAMBDAPERM_STRUCTURAL_ORACLE"
ENV_ROLE = "LAMBDAPERM_STRUCTURAL_ORACLE_ROLE"
ENV_MUTANT = "LAMBDAPERM_STRUCTURAL_ORACLE_MUTANT"
HEADER = "x-lambdaperm-oracle-request"
INSTALLED = "installed"


class Writer:
    """Appends JSON lines; one write per line (O_APPEND), so that lines of concurrent requests never mix."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, entry: dict[str, Any]) -> None:
        os.write(self._fd, (json.dumps(entry, sort_keys=True) + "\n").encode())


def install_from_environment() -> None:
    path = os.environ.get(ENV_LOG)
    if not path:
        return
    writer = Writer(path)
    role = os.environ.get(ENV_ROLE, "lambdaperm")
    if role == "moto-server":
        install_moto_server(writer)
    else:
        install_lambdaperm(writer, os.environ.get(ENV_MUTANT) or None)
    writer.write({INSTALLED: role, "pid": os.getpid()})


_ENTRY: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("structural_entry", default=None)


def _merge(entry: dict[str, Any], frame: Frame) -> None:
    entry["touches"] += [t.as_json() for t in frame.touches]
    entry["methods"] += frame.methods
    entry["errors"] += frame.errors


def install_lambdaperm(writer: Any, mutant: str | None = None) -> Callable[[], None]:
    """Record every data-plane request of lambdaperm in this process into `writer` (anything with
    `write(entry)`); returns the function that takes the hooks out again."""
    from lambdaperm.dataplane.moto_backend import MotoBackend
    from lambdaperm.dataplane.upstream import Upstream
    from lambdaperm.gateway import data_plane
    from lambdaperm.protocol import ServiceError

    run = data_plane.run

    def recorded_run(server: Any, call: Any, op: Any, params: Any, identity: Any) -> Any:
        entry: dict[str, Any] = {
            "request": call.request_id,
            "service": op.service_name,
            "operation": op.name,
            "region": call.region,
            "authorized": list(call.resources),
            "wildcard": _wildcard(op, call, identity),
            "touches": [],
            "methods": [],
            "errors": [],
            "executed": False,
            "forwarded": False,
            "account": identity.account or "000000000000",
            "wire": fingerprint(call.req.method, call.req.path, call.req.query_string, call.req.body),
        }
        with contextlib.suppress(ServiceError):  # the call refuses itself: nothing executes
            entry["account"] = data_plane.acting_account(call, identity)
        token = _ENTRY.set(entry)
        try:
            result = run(server, call, op, params, identity)
            entry["status"] = result[0].status
            return result
        except ServiceError as err:
            entry["status"] = err.status
            raise
        except BaseException:
            entry["status"] = 500
            raise
        finally:
            _ENTRY.reset(token)
            if entry["executed"] or entry["forwarded"]:
                writer.write(entry)

    data_plane.run = recorded_run

    execute = MotoBackend.execute if mutant is None else broken_executor(MotoBackend.execute, mutant)
    original_execute = MotoBackend.execute

    def recorded_execute(self: Any, model: Any, params: Any, account: str, region: str) -> Any:
        instrument.install([model.service_model.service_name])
        entry = _ENTRY.get()
        if entry is None:
            return execute(self, model, params, account, region)
        entry["executed"] = True
        with recording() as frame:
            try:
                return execute(self, model, params, account, region)
            finally:
                _merge(entry, frame)

    MotoBackend.execute = recorded_execute  # type: ignore[method-assign]

    handle = Upstream.handle

    def marked_handle(self: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        entry = _ENTRY.get()
        if entry is not None:
            entry["forwarded"] = True
            req = dataclasses.replace(req, headers=[*req.headers, (HEADER, entry["request"])], _lower={})
        return handle(self, req, *args, **kwargs)

    Upstream.handle = marked_handle  # type: ignore[method-assign]

    def uninstall() -> None:
        data_plane.run = run
        MotoBackend.execute = original_execute  # type: ignore[method-assign]
        Upstream.handle = handle  # type: ignore[method-assign]

    return uninstall


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """What identifies the client's request in the record, whatever answered it (an upstream answers with its
    own request id)."""
    return hashlib.sha256(f"{method} {path}?{query}\n".encode() + body).hexdigest()[:24]


def _wildcard(op: Any, call: Any, identity: Any) -> bool:
    """Whether one of the call's actions was authorized on "*" (the pipeline leaves "*" out of
    `call.resources`; the catalog says which actions it was)."""
    from lambdaperm.catalog import required_actions

    try:
        needed = required_actions(
            op.service_name, op.name, call.params or {}, account=identity.account or "000000000000", region=call.region
        )
    except Exception:
        return False
    return any("*" in n.resources for n in needed)


def install_moto_server(writer: Writer) -> None:
    instrument.install()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    dispatch = DomainDispatcherApplication.__call__

    def recorded(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        entry: dict[str, Any] = {
            "upstream": environ.get("HTTP_" + HEADER.upper().replace("-", "_")),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "touches": [],
            "methods": [],
            "errors": [],
        }
        with recording() as frame:
            try:
                return dispatch(self, environ, start_response)
            finally:
                _merge(entry, frame)
                writer.write(entry)

    DomainDispatcherApplication.__call__ = recorded  # type: ignore[method-assign]


# --- the oracle's mutation test: executors that act on something else than what was authorized ---------

MUTANT_OPERATIONS = frozenset({"PutItem", "GetItem", "PutObject", "GetObject", "SendMessage"})


def broken_executor(execute: Any, mutant: str) -> Any:
    """`execute` made to act on another resource for the operations of MUTANT_OPERATIONS:
    `other-table` (TableName + "-twin"), `other-object` (Key + "-twin"), `other-queue` (the queue named
    + "-twin"), `other-region` (eu-west-1, or us-west-2 from there), `other-account` (999999999999)."""

    def broken(self: Any, model: Any, params: dict[str, Any], account: str, region: str) -> Any:
        if model.name in MUTANT_OPERATIONS:
            params = dict(params)
            if mutant == "other-table" and "TableName" in params:
                params["TableName"] = f"{params['TableName']}-twin"
            elif mutant == "other-object" and "Key" in params:
                params["Key"] = f"{params['Key']}-twin"
            elif mutant == "other-queue" and "QueueUrl" in params:
                params["QueueUrl"] = f"{params['QueueUrl']}-twin"
            elif mutant == "other-region":
                region = "us-west-2" if region == "eu-west-1" else "eu-west-1"
            elif mutant == "other-account":
                account = "999999999999"
        return execute(self, model, params, account, region)

    return broken
