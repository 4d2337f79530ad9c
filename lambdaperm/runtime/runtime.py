"""Runtime: invoke a function's Python handler in a warm worker, as Lambda's Invoke does.

A cold start (no idle worker in the function's pool, a free slot) starts a worker, which imports the
handler (the init phase, limited to 10 s plus the function's timeout: AWS retries a failed 10 s init inside
the invoke, under the function timeout). Then the invoke itself, limited to the function's timeout: on
expiry the worker is killed and replaced, and the caller gets ``Sandbox.Timedout``. A worker that dies
(os._exit, a signal) is replaced and the caller gets ``Runtime.ExitError``. A response over 6,291,556 bytes
gives ``Function.ResponseSizeTooLarge``, and the environment is recycled (on AWS the runtime exits).

Memory: MemorySize is reported (Max Memory Used is the worker's peak RSS). As a guard for the host, not as
an emulation, the worker's data segment is capped with RLIMIT_DATA at MemorySize + 1 GiB (RLIMIT_AS is not
used: glibc arenas and thread stacks reserve far more address space than they use, so it breaks ordinary
threaded boto3 code). Allocations past it raise MemoryError in the handler.

Processes and threads: at most the sandbox's ``max_tasks`` (RLIMIT_NPROC, set by the bootstrap; see `isolation`),
each root-mode sandbox with a uid of its own (`sandbox_uids`). Disk: a worker and an invocation about to start one
hold a reference on their unzipped code; the last reference deletes it (`code_store`).

Network: each sandbox is a network namespace of its own, whose one way out is its link to the endpoint
(`endpoint_links`: a Unix socket of its own, served by `links`, the gateway's event loop).
"""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lambdaperm.runtime import logs, payloads
from lambdaperm.runtime.account_memory import AccountMemory
from lambdaperm.runtime.code_store import CodeStore
from lambdaperm.runtime.endpoint_guard import EndpointGuard
from lambdaperm.runtime.endpoint_links import INNER_SOCKET, EndpointLinks, Origin, SandboxLink, relay_plan
from lambdaperm.runtime.environment import library_paths, log_stream_name, worker_environment
from lambdaperm.runtime.errors import RuntimeClosed, WorkerStartError
from lambdaperm.runtime.invocation import Credentials, FunctionSpec, InvokeResult
from lambdaperm.runtime.isolation import RUNTIME_DIR, TASK_DIR, TMP_BYTES, Isolation, probe
from lambdaperm.runtime.memory_cgroups import SandboxMemory
from lambdaperm.runtime.pool import PoolRetired, WorkerPool
from lambdaperm.runtime.sandbox_slots import SandboxSlots
from lambdaperm.runtime.sandbox_uids import SandboxUids, UidsExhausted
from lambdaperm.runtime.worker import BOOTSTRAP, Reply, Worker, worker_command

INIT_PHASE_SECONDS = 10.0
DATA_LIMIT_OVERHEAD_MB = 1024
UNHANDLED = "Unhandled"
EXIT_ERROR = "Runtime.ExitError"
OUT_OF_MEMORY = "Runtime.OutOfMemory"  # a sandbox the kernel killed at its memory cgroup's limit (memory_cgroups)
# RLIMIT_FSIZE of a worker: its stdout/stderr is an in-memory file of the server (worker.py), emptied only between
# invocations, so one invocation's output is bounded like its /tmp (the same memory, the same bound per sandbox)
LOG_FILE_BYTES = TMP_BYTES

PoolKey = tuple[str, str, str]


@dataclass(frozen=True)
class _Init:
    """How a cold start's init phase went."""

    reply: Reply
    duration_ms: float
    output: str


@dataclass(frozen=True)
class _Outcome:
    payload: bytes
    function_error: str | None
    duration_ms: float  # Duration on the REPORT line
    status: str | None = None  # REPORT's Status: a platform failure
    error_type: str | None = None
    reusable: bool = False


def _outcome(reply: Reply, request_id: str, timeout: int, elapsed_ms: float) -> _Outcome:
    """What an invoke's reply means for the caller, the REPORT line and the worker."""
    match reply.kind, bool(reply.header.get("oversized")), reply.header.get("error_type"):
        case "timeout", _, _:
            payload = payloads.timeout_payload(request_id, timeout)
            return _Outcome(payload, UNHANDLED, timeout * 1000.0, "timeout")
        case "exit", _, _:
            payload = payloads.exit_payload(request_id, reply.returncode)
            return _Outcome(payload, UNHANDLED, elapsed_ms, "error", EXIT_ERROR)
        case "message", True, _:  # awslambdaric's post fails with 413 and the runtime exits
            return _Outcome(payloads.oversized_payload(), UNHANDLED, reply.header["ms"], "error", EXIT_ERROR)
        case "message", False, None:
            return _Outcome(reply.body, None, reply.header["ms"], reusable=True)
        case _:  # the handler raised: the runtime's error document
            return _Outcome(reply.body, UNHANDLED, reply.header["ms"], reusable=True)


def _mb(kb: int) -> int:
    return max(1, math.ceil(kb / 1024))


def _account_of(function_arn: str) -> str:
    """The account of ``arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`` (anything else: itself)."""
    parts = function_arn.split(":")
    return parts[4] if len(parts) > 4 else function_arn


def _client_context_json(client_context: str | None) -> str | None:
    """X-Amz-Client-Context is base64 of a JSON document; the worker parses the JSON."""
    if not client_context:
        return None
    try:
        return base64.b64decode(client_context, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return client_context


class Runtime:
    """Thread-safe: invoke() is called from many server threads at once."""

    def __init__(self, work_dir: Path, endpoint_url: str, *, max_workers_per_function: int = 4,
                 idle_timeout: float = 600, isolation: Isolation | None = None,
                 links: EndpointLinks | None = None) -> None:
        """`isolation`: the workers' sandbox (see `isolation.probe`); by default probed here, with
        `work_dir` as the private path. An unavailable one runs workers unisolated: the caller says so.
        `links`: what serves each sandbox's link to the endpoint (the gateway); None: a sandbox reaches nothing."""
        if max_workers_per_function < 1:
            raise ValueError("max_workers_per_function must be at least 1")
        self._work_dir = Path(work_dir).resolve()  # the code dir becomes cwd and sys.path[0]
        self._work_dir.mkdir(parents=True, exist_ok=True)
        self.isolation = isolation if isolation is not None else probe(
            [self._work_dir], BOOTSTRAP.parent, views=self._work_dir / "proc-views")
        self._endpoint_url = endpoint_url
        self._inner_url, self._relay_addresses = relay_plan(endpoint_url)  # what a sandbox is given, where it listens
        self._links = links
        self._guard = EndpointGuard(endpoint_url)  # before any worker: no handler listens on the endpoint's port
        self._cap = max_workers_per_function
        self._idle_timeout = idle_timeout
        self._code = CodeStore(self._work_dir / "code")
        self._uids = SandboxUids()
        # an unprivileged server's sandboxes share its kernel budgets: at most max_sandboxes hold a share at once
        self._slots = SandboxSlots(self.isolation.sandbox.max_sandboxes if self.isolation.sandbox else None)
        self._account_memory = AccountMemory()  # what each account's live sandboxes may hold (round 10)
        self._paths = library_paths()
        self._sandbox_numbers = itertools.count(1)  # names an unprivileged server's sandboxes in its log
        self._memory: dict[Worker, SandboxMemory] = {}  # each live sandbox's memory cgroup, where there is one
        self._pools: dict[PoolKey, WorkerPool] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    # ------------------------------------------------------------ public API

    def invoke(self, spec: FunctionSpec, payload: bytes, credentials: Credentials, *, request_id: str,
               client_context: str | None = None) -> InvokeResult:
        """Run the handler once. Raises CodeError (bad package), UnsupportedRuntime, WorkerStartError,
        RuntimeClosed; every failure of the function itself is an InvokeResult with function_error."""
        task_root = self._code.acquire(spec.code_zip, spec.code_sha256, spec.account)  # held until a worker holds it
        try:
            pool, worker = self._acquire(spec)
        except BaseException:
            self._code.release(spec.code_sha256, spec.account)
            raise
        reusable = False
        try:
            init: _Init | None = None
            if worker is None:
                worker, init = self._start(spec, task_root, credentials, pool)
                if init.reply.kind != "message" or init.reply.header.get("type") != "ready":
                    return self._init_failure(spec, worker, init, request_id)
            header = {
                "type": "invoke", "id": request_id, "arn": spec.function_arn,
                "deadline_ms": int(time.time() * 1000) + spec.timeout * 1000,
                "client_context": _client_context_json(client_context),
                "creds": [credentials.access_key_id, credentials.secret_access_key,
                          credentials.session_token],
            }
            result, reusable = self._invoke(spec, worker, init, header, payload or b"{}")
            return result
        finally:
            pool.release(worker, reusable)
            self._code.release(spec.code_sha256, spec.account)

    def evict(self, function_arn_prefix: str) -> None:
        """Drop the warm workers of every function ARN equal to the prefix or extending it at a ':'
        (``...:function:f`` evicts ``f:$LATEST`` and ``f:3`` but not ``...:function:foo``)."""
        boundary = function_arn_prefix if function_arn_prefix.endswith(":") else function_arn_prefix + ":"
        with self._lock:
            keys = [k for k in self._pools if k[0] == function_arn_prefix or k[0].startswith(boundary)]
            pools = [self._pools.pop(k) for k in keys]
        for pool in pools:
            pool.retire()

    def shutdown(self) -> None:
        """Kill every worker (busy ones too) and stop the reaper. Later invokes raise RuntimeClosed."""
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
            self._pools.clear()
        self._stop.set()
        for pool in pools:
            pool.retire(kill_busy=True)
        self._guard.close()
        if self.isolation.sandbox is not None and self.isolation.sandbox.memory is not None:
            self.isolation.sandbox.memory.close()
        if self._reaper is not None and self._reaper is not threading.current_thread():
            self._reaper.join()

    def worker_pids(self, function_arn: str) -> list[int]:
        """The pids of a function's live workers (for tests and diagnostics)."""
        with self._lock:
            pools = [p for k, p in self._pools.items() if k[0] == function_arn]
        return [pid for pool in pools for pid in pool.pids()]

    # ------------------------------------------------------------ pools

    def _acquire(self, spec: FunctionSpec) -> tuple[WorkerPool, Worker | None]:
        """The function's pool and an idle worker of it, or None with a slot reserved for a cold start."""
        while True:
            pool = self._pool_for(spec)
            try:
                return pool, pool.acquire()
            except PoolRetired:  # evicted or reaped while we waited: the next lookup makes a new pool
                continue

    def _pool_for(self, spec: FunctionSpec) -> WorkerPool:
        key = (spec.function_arn, spec.code_sha256, spec.config_hash())
        stale: list[WorkerPool] = []
        with self._lock:
            if self._closed:
                raise RuntimeClosed("the runtime has been shut down")
            pool = self._pools.get(key)
            if pool is None or pool.retired:
                # A new code or configuration for this ARN: the old environments are done for.
                for other in [k for k in self._pools if k[0] == spec.function_arn and k != key]:
                    stale.append(self._pools.pop(other))
                pool = self._pools[key] = WorkerPool(spec.function_arn, self._cap)
                self._start_reaper()
        for old in stale:
            old.retire()
        return pool

    def _start_reaper(self) -> None:
        if self._reaper is None and self._idle_timeout > 0:
            self._reaper = threading.Thread(target=self._reap, name="lambdaperm-runtime-reaper", daemon=True)
            self._reaper.start()

    def _reap(self) -> None:
        interval = min(max(self._idle_timeout / 4, 0.05), 30.0)
        while not self._stop.wait(interval):
            cutoff = time.monotonic() - self._idle_timeout
            with self._lock:
                pools = list(self._pools.items())
            for key, pool in pools:
                if pool.reap(cutoff):
                    with self._lock:
                        if self._pools.get(key) is pool:
                            del self._pools[key]

    def _close_oldest_idle(self, account: str | None = None) -> bool:
        """Close the least recently used idle worker of any function (its sandbox's slot comes back), or of `account`'s
        functions only; False if none is idle."""
        with self._lock:
            pools = [(k, p) for k, p in self._pools.items() if account is None or _account_of(k[0]) == account]
        idle = [(since, key, pool) for key, pool in pools if (since := pool.oldest_idle()) is not None]
        if not idle:
            return False
        since, key, pool = min(idle, key=lambda entry: entry[0])
        if pool.reap(math.nextafter(since, math.inf)):
            with self._lock:
                if self._pools.get(key) is pool:
                    del self._pools[key]
        return True

    # ------------------------------------------------------------ phases

    def _start(self, spec: FunctionSpec, task_root: Path, credentials: Credentials,
               pool: WorkerPool) -> tuple[Worker, _Init]:
        stream = log_stream_name(spec.version)
        sandbox = self.isolation.sandbox
        inner_root, inner_runtime = (TASK_DIR, RUNTIME_DIR) if sandbox else (str(task_root), str(BOOTSTRAP.parent))
        endpoint_url = self._inner_url if sandbox else self._endpoint_url
        env = worker_environment(spec, task_root=Path(inner_root), runtime_dir=Path(inner_runtime),
                                 endpoint_url=endpoint_url, stream=stream, credentials=credentials)
        # The process starts with the server's variables only: the function's own (LD_PRELOAD, GLIBC_TUNABLES…)
        # would otherwise be the environment of bwrap and setpriv, outside the sandbox or before the uid drop.
        # The bootstrap applies the complete environment from the init frame, inside the sandbox.
        launch_env = worker_environment(replace(spec, environment={}), task_root=Path(inner_root),
                                        runtime_dir=Path(inner_runtime), endpoint_url=endpoint_url,
                                        stream=stream, credentials=credentials)
        command = worker_command(inner_runtime)
        info: tuple[int, int] | None = None
        uid: int | None = None
        owner = _account_of(spec.function_arn)  # one account holds at most max_sandboxes - 1 (round 5)
        self._slots.acquire(owner, self._close_oldest_idle, INIT_PHASE_SECONDS)  # first: released by on_close
        try:  # the account's memory budget: its own idle sandboxes make room, else 429 (isolation review round 10)
            reserved = self._account_memory.acquire(owner, spec.memory_size, self._close_oldest_idle)
        except BaseException:
            self._slots.release(owner)
            raise

        def release_owner() -> None:
            self._slots.release(owner)
            self._account_memory.release(owner, reserved)

        if sandbox is not None and sandbox.privileged:
            try:
                uid = self._uids.acquire(owner)  # the uid names its account: connection caps (round 14)
            except UidsExhausted as e:
                release_owner()
                raise WorkerStartError(str(e)) from None
        memory: SandboxMemory | None = None
        if sandbox is not None and sandbox.memory is not None:  # the sandbox's memory: MemorySize + a margin
            try:
                memory = sandbox.memory.create(spec.memory_size)
            except OSError as e:
                release_owner()
                if uid is not None:
                    self._uids.release(uid)
                raise WorkerStartError(f"cannot create the sandbox's memory cgroup: {e.strerror}") from None
        link: SandboxLink | None = None
        if sandbox is not None:  # the sandbox's one way out of its network namespace (isolation round 13)
            try:
                origin = Origin(f"uid {uid}" if uid is not None else f"#{next(self._sandbox_numbers)}", owner)
                link = SandboxLink(self._work_dir / "links", origin, self._links, uid)
            except OSError as e:
                release_owner()
                if uid is not None:
                    self._uids.release(uid)
                if memory is not None:
                    memory.remove()
                raise WorkerStartError(f"cannot create the sandbox's link to the endpoint: {e.strerror}") from None
        # the worker's own reference on its account's copy: its sandbox mounts it
        self._code.acquire(spec.code_zip, spec.code_sha256, spec.account)
        spawned: list[Worker] = []

        def on_close() -> None:
            self._code.release(spec.code_sha256, spec.account)
            release_owner()
            if link is not None:
                link.close()
            if uid is not None:
                self._uids.release(uid)
            for done in spawned:
                self._memory.pop(done, None)
            if memory is not None:
                memory.remove()

        try:
            if sandbox is not None:
                info = os.pipe()
                try:
                    command = sandbox.command(command, task_root=task_root, runtime_dir=BOOTSTRAP.parent,
                                              info_fd=info[1], memory=memory,
                                              link=link.directory if link is not None else None,
                                              memory_mb=spec.memory_size,
                                              **({"uid": uid} if uid is not None else {}))
                except BaseException:  # the launcher is gone (WorkerStartError): Worker.spawn never gets the pipe
                    os.close(info[0])
                    os.close(info[1])
                    raise
            started = time.monotonic()
            worker = Worker.spawn(command, env=launch_env, cwd=task_root, log_stream_name=stream, sandbox_info=info,
                                  on_close=on_close)
        except BaseException:
            on_close()
            raise
        if memory is not None:
            spawned.append(worker)
            self._memory[worker] = memory
        pool.adopt(worker)  # from now on shutdown() can kill it, even mid-init
        config = {"type": "init", "task_root": inner_root, "paths": self._paths,
                  "data_limit": (spec.memory_size + DATA_LIMIT_OVERHEAD_MB) << 20, "log_limit": LOG_FILE_BYTES,
                  "max_tasks": sandbox.max_tasks if sandbox is not None else None, "environ": env,
                  "relay": {"socket": INNER_SOCKET, "listen": self._relay_addresses} if link is not None else None}
        try:
            reply = worker.request(config, b"", started + INIT_PHASE_SECONDS + spec.timeout)
            duration_ms = (time.monotonic() - started) * 1000
            if reply.kind == "timeout":
                worker.kill()
            return worker, _Init(reply, duration_ms, worker.take_output())
        except BaseException:
            worker.close()
            raise

    def _out_of_memory(self, worker: Worker) -> bool:
        """Whether the kernel killed a process of the worker's sandbox at its memory limit."""
        memory = self._memory.get(worker)
        return memory is not None and memory.oom_kills() > 0

    def _init_failure(self, spec: FunctionSpec, worker: Worker, init: _Init, request_id: str) -> InvokeResult:
        reply = init.reply
        if reply.kind == "timeout":
            status, error_type = "timeout", None
            payload = payloads.timeout_payload(request_id, spec.timeout)
        elif reply.kind == "exit":
            status, error_type = "error", EXIT_ERROR
            payload = payloads.exit_payload(request_id, reply.returncode)
            if self._out_of_memory(worker):
                error_type = OUT_OF_MEMORY
                payload = payloads.out_of_memory_payload(request_id, reply.returncode)
        else:  # the runtime's own init error document (requestId "", as awslambdaric posts it)
            status, error_type = "error", str(reply.header.get("error_type") or "Runtime.Unknown")
            payload = reply.body
        before = init.output + logs.init_report_line(init.duration_ms, status, error_type)
        report = logs.Report(request_id, init.duration_ms, spec.memory_size, _mb(worker.rss_kb),
                             status=status, error_type=error_type or None)
        text = logs.invocation_log(before=before, output="", version=spec.version, report=report)
        return InvokeResult(payload, UNHANDLED, text, init.duration_ms, init.duration_ms, request_id,
                            worker.log_stream_name)

    def _invoke(self, spec: FunctionSpec, worker: Worker, init: _Init | None, header: dict[str, Any],
                event: bytes) -> tuple[InvokeResult, bool]:
        request_id = header["id"]
        before = init.output if init is not None else worker.take_output()
        started = time.monotonic()
        reply = worker.request(header, event, started + spec.timeout)
        if reply.kind == "message" and (reply.header.get("type") != "result" or "ms" not in reply.header):
            reply = worker.broken_protocol()  # not the bootstrap's answer: the handler wrote to the pipe
        elapsed_ms = (time.monotonic() - started) * 1000
        if reply.kind == "timeout":
            worker.kill()
        output = worker.take_output()
        outcome = _outcome(reply, request_id, spec.timeout, elapsed_ms)
        used_mb = _mb(worker.rss_kb)
        if reply.kind == "exit" and self._out_of_memory(worker):  # AWS: Runtime.OutOfMemory, "signal: killed"
            payload = payloads.out_of_memory_payload(request_id, reply.returncode)
            outcome = replace(outcome, payload=payload, error_type=OUT_OF_MEMORY)
            used_mb = max(used_mb, spec.memory_size)  # the sandbox reached its limit (its last RSS frame is older)
        init_ms = init.duration_ms if init is not None else None
        report = logs.Report(request_id, outcome.duration_ms, spec.memory_size, used_mb, init_ms,
                             outcome.status, outcome.error_type)
        text = logs.invocation_log(before=before, output=output, version=spec.version, report=report)
        result = InvokeResult(outcome.payload, outcome.function_error, text, outcome.duration_ms, init_ms,
                              request_id, worker.log_stream_name)
        return result, outcome.reusable
