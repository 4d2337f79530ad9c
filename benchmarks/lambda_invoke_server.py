"""`lambdaperm serve` with timers around the stages of a request, for `lambda_invoke.py --stages`.

    python benchmarks/lambda_invoke_server.py OUT.json serve --in-memory --port P

Not a benchmark by itself. Before the server starts, it wraps (at run time, in this process only; no
lambdaperm file is changed) the functions one request goes through with a perf_counter timer: the
pipeline's stages (route, authenticate, parse, authorize, dispatch, record, serialize), and inside an
Invoke the steps of `services.lambda_.invoke.run` and of the runtime (code store, pool, the worker round
trip, log capture), and the cyclic garbage collector's runs (gc.callbacks). Each HTTP request gets a
thread-local dict of stage -> seconds (inclusive, summed over repeated calls), and the ASGI app's whole
handling of each request is timed too (receive → response sent, which adds the executor hop and uvicorn's
send). When the server exits (SIGTERM), everything is written to OUT.json. The wrappers cost about 1 µs
each, a few dozen per invoke.

With LAMBDA_INVOKE_CPROFILE=N in the environment each request's pipeline also runs under cProfile (in its
own thread), and the profiles of the last N hello invokes, the last N put invokes and the last N nested
PutItems are written to OUT.json.{hello,put,putitem}.prof (the invokes must come as N hello then N put).
"""

from __future__ import annotations

import atexit
import cProfile
import functools
import gc
import json
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROFILE = int(os.environ.get("LAMBDA_INVOKE_CPROFILE", "0"))  # >0: cProfile the last N of each kind
_tl = threading.local()
_done: dict[str, list[dict[str, float]]] = {}
_asgi: dict[str, list[float]] = {}
_profiles: dict[str, list[cProfile.Profile]] = {}
_dumped: list[bool] = []
_skipped: list[str] = []
_done_lock = threading.Lock()
_clock = time.perf_counter


def _add(stage: str, seconds: float) -> None:
    stages = getattr(_tl, "stages", None)
    if stages is not None:
        stages[stage] = stages.get(stage, 0.0) + seconds


def timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = _clock()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(stage, _clock() - start)
    return wrapper


def patch(owner: Any, name: str, stage: str) -> None:
    """Wrap owner.name; a name the current lambdaperm no longer has is skipped (and listed in OUT.json)."""
    if not callable(getattr(owner, name, None)):
        _skipped.append(f"{getattr(owner, '__name__', owner)}.{name}")
        return
    setattr(owner, name, timed(stage, getattr(owner, name)))


def _gc_callback(phase: str, info: dict[str, int]) -> None:
    """Time the cyclic garbage collector inside requests (it runs in whichever thread allocates)."""
    if phase == "start":
        _tl.gc_start = _clock()
    elif getattr(_tl, "gc_start", None) is not None:
        _add(f"gc: generation {info.get('generation')} collections (mean)", _clock() - _tl.gc_start)
        _tl.gc_start = None


def install() -> None:
    gc.callbacks.append(_gc_callback)
    from lambdaperm.authz.enforce import Authorizer
    from lambdaperm.gateway import asgi, pipeline
    from lambdaperm.gateway.lambda_env import LambdaEnv
    from lambdaperm.runtime import logs
    from lambdaperm.runtime import runtime as rt
    from lambdaperm.runtime.code_store import CodeStore
    from lambdaperm.runtime.worker import Worker
    from lambdaperm.services import lambda_
    from lambdaperm.services.lambda_ import invoke, store

    handle = pipeline.handle

    def top(server: Any, req: Any) -> Any:
        _tl.stages = {}
        _tl.op = "?"
        profile = cProfile.Profile() if PROFILE else None
        start = _clock()
        try:
            if profile is None:
                return handle(server, req)
            return profile.runcall(handle, server, req)  # this thread only
        finally:
            stages = _tl.stages
            stages["handle (whole pipeline)"] = _clock() - start
            _tl.stages = None
            with _done_lock:
                _done.setdefault(_tl.op, []).append(stages)
                if profile is not None:
                    _profiles.setdefault(_tl.op, []).append(profile)

    asgi.handle = top  # what the ASGI app calls, in its executor thread
    call_app = asgi.App.__call__

    async def app_wrapper(self: Any, scope: Any, receive: Any, send: Any) -> None:
        start = _clock()
        try:
            await call_app(self, scope, receive, send)
        finally:
            if scope.get("type") == "http":
                key = _asgi_key(scope)
                with _done_lock:
                    _asgi.setdefault(key, []).append(_clock() - start)

    asgi.App.__call__ = app_wrapper

    run = pipeline._run

    def run_wrapper(server: Any, call: Any) -> Any:
        start = _clock()
        try:
            return run(server, call)
        finally:
            _add("_run", _clock() - start)
            if call.op is not None:
                _tl.op = f"{call.op.service_name}:{call.op.name}"

    pipeline._run = run_wrapper
    patch(pipeline, "scope", "route: scope")
    patch(pipeline, "identify", "route: identify")
    patch(pipeline, "authenticate_call", "authenticate")
    patch(pipeline, "parse", "parse")
    patch(pipeline, "_authorize", "authorize")
    patch(pipeline, "serialize", "serialize")
    patch(pipeline, "_record", "record (trail)")
    patch(pipeline, "request_context", "authorize: request_context")
    patch(pipeline, "required_actions", "authorize: required_actions")
    patch(pipeline, "principal_tags", "authorize: principal_tags")  # before 26467c8
    from lambdaperm.services.policy_sources import ServicePolicies

    patch(ServicePolicies, "principal_tags", "authorize: principal_tags")  # since 26467c8
    pipeline.RequestContext = timed("dispatch: RequestContext", pipeline.RequestContext)
    lambda_.OPERATIONS["Invoke"] = timed("dispatch: Invoke", lambda_.OPERATIONS["Invoke"])
    patch(Authorizer, "enforce", "authorize: enforce")  # the Server's authorizer is an instance of it
    # invoke.run and its steps
    patch(invoke, "run", "invoke.run")
    patch(invoke, "ref_of", "invoke: ref_of")
    patch(store, "load", "invoke: store.load")
    patch(store, "config_of", "invoke.run: store.config_of")
    patch(invoke, "role_entity", "invoke.run: role_entity")
    patch(invoke, "credentials_for", "invoke.run: credentials_for")
    patch(invoke, "target_of", "invoke.run: target_of")
    patch(invoke, "role_allows", "invoke.run: role_allows (logs permission)")
    patch(invoke, "_check_payload", "invoke: _check_payload")
    patch(LambdaEnv, "invoke", "invoke.run: LambdaEnv.invoke")
    patch(LambdaEnv, "ship_logs", "invoke.run: ship_logs")
    patch(rt.Runtime, "invoke", "runtime: Runtime.invoke")
    patch(CodeStore, "ensure", "runtime: code store ensure")
    patch(rt.Runtime, "_acquire", "runtime: pool acquire")
    patch(rt.Runtime, "_invoke", "runtime: _invoke")
    patch(logs, "invocation_log", "runtime: invocation_log")
    patch(Worker, "take_output", "runtime: take_output")
    request = Worker.request

    def request_wrapper(self: Any, header: dict[str, Any], body: bytes, deadline: float) -> Any:
        start = _clock()
        try:
            reply = request(self, header, body, deadline)
        finally:
            _add("runtime: worker round trip", _clock() - start)
        ms = reply.header.get("ms") if reply.kind == "message" else None
        if isinstance(ms, int | float):
            _add("worker: handler (as the worker timed it)", ms / 1000)
        return reply

    Worker.request = request_wrapper
    from lambdaperm.dataplane.moto_backend import MotoBackend

    patch(MotoBackend, "handle", "dispatch: data plane (moto)")
    from moto.core.responses import BaseResponse
    from moto.dynamodb.responses import DynamoHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    patch(DomainDispatcherApplication, "get_application", "moto: get_application (which backend)")
    patch(BaseResponse, "setup_class", "moto: setup_class")
    patch(DynamoHandler, "put_item", "moto: DynamoHandler.put_item")


def _asgi_key(scope: dict[str, Any]) -> str:
    """The ASGI app does not know the operation: name the two kinds of request this benchmark makes."""
    path = str(scope.get("path", ""))
    if "/functions/" in path and path.endswith("/invocations"):
        return "lambda:Invoke " + path.split("/functions/", 1)[1].split("/", 1)[0]
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-amz-target":
            return value.decode("latin-1").replace("DynamoDB_20120810.", "dynamodb:")
    return "other"


def dump(path: Path) -> None:
    with _done_lock:
        if _dumped:
            return
        _dumped.append(True)
        path.write_text(json.dumps({"stages": _done, "asgi": _asgi, "skipped": _skipped}))
        # cProfile of the last `PROFILE` requests of each kind: hello and put invokes, the nested PutItems
        n = PROFILE
        invokes, puts = _profiles.get("lambda:Invoke", []), _profiles.get("dynamodb:PutItem", [])
        for suffix, group in (("hello", invokes[-2 * n:-n]), ("put", invokes[-n:]), ("putitem", puts[-n:])):
            if group:
                stats = pstats.Stats(group[0])
                for profile in group[1:]:
                    stats.add(profile)
                stats.dump_stats(f"{path}.{suffix}.prof")


def main() -> int:
    out = Path(sys.argv[1])
    install()
    atexit.register(dump, out)
    from lambdaperm.cli.main import main as cli_main

    try:
        return cli_main(sys.argv[2:])
    finally:
        dump(out)


if __name__ == "__main__":
    sys.exit(main())
