"""Pools of warm workers: the concurrency cap, thread safety, eviction, idle reaping, shutdown."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambdaperm.runtime import Runtime, RuntimeClosed
from tests.runtime.conftest import ENDPOINT, Functions, host_pid, invoke, pid_alive
from tests.runtime.gate import GATE, LINKS, WAIT, Gate

SPAN = GATE + """
import os, time
TOKEN = os.urandom(16).hex()  # one per execution environment
def handler(event, context):
    start = time.time()
    if "gate" in event:
        arrive(event["gate"], context.aws_request_id)  # held there until the test opens the gate
    return {"pid": [os.getpid(), os.readlink("/proc/self/ns/pid")], "start": start, "end": time.time(),
            "id": context.aws_request_id, "token": TOKEN}
"""


def _max_overlap(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def test_concurrency_cap(tmp_path: Path, functions: Functions) -> None:
    rt = Runtime(tmp_path / "work", ENDPOINT, max_workers_per_function=2, links=LINKS)
    try:
        spec = functions.spec({"app.py": SPAN}, timeout=int(WAIT))
        with Gate() as gate, ThreadPoolExecutor(6) as pool:
            payload = json.dumps({"gate": gate.port}).encode()
            calls = [pool.submit(invoke, rt, spec, payload, request_id=f"r{i}") for i in range(6)]
            gate.wait_arrived(2)  # two handlers run at once, both held: the other four wait for a worker
            gate.open()
            results = [call.result() for call in calls]
        bodies = [json.loads(r.payload) for r in results]
        assert [b["id"] for b in bodies] == [f"r{i}" for i in range(6)]
        assert len({tuple(b["pid"]) for b in bodies}) == 2
        assert _max_overlap([(b["start"], b["end"]) for b in bodies]) == 2
        assert sum(r.init_duration_ms is not None for r in results) == 2
        assert len(rt.worker_pids(spec.function_arn)) == 2
    finally:
        rt.shutdown()


def test_many_threads_many_functions(runtime: Runtime, functions: Functions) -> None:
    specs = [functions.spec({"app.py": SPAN}, name=f"f{i}") for i in range(3)]

    def call(i: int) -> tuple[str, tuple[int, str], str]:
        spec = specs[i % 3]
        body = json.loads(invoke(runtime, spec, request_id=f"q{i}").payload)
        return spec.function_name, tuple(body["pid"]), body["id"]

    with ThreadPoolExecutor(12) as pool:
        seen = list(pool.map(call, range(120)))
    assert [s[2] for s in seen] == [f"q{i}" for i in range(120)]
    for name in ("f0", "f1", "f2"):
        pids = {pid for fn, pid, _ in seen if fn == name}
        assert 1 <= len(pids) <= 4
    assert not {p for fn, p, _ in seen if fn == "f0"} & {p for fn, p, _ in seen if fn == "f1"}


def test_evict_drops_warm_workers(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": SPAN}, name="f")
    other = functions.spec({"app.py": SPAN}, name="fx")  # shares the prefix "...:function:f" but not "f:"
    first = json.loads(invoke(runtime, spec).payload)
    pid = host_pid(first["pid"])
    other_pid = host_pid(json.loads(invoke(runtime, other).payload)["pid"])
    runtime.evict(spec.function_arn.rsplit(":", 1)[0])  # the unqualified ARN
    assert not pid_alive(pid) and pid_alive(other_pid)
    after = invoke(runtime, spec)
    assert after.init_duration_ms is not None and json.loads(after.payload)["token"] != first["token"]
    assert invoke(runtime, other).init_duration_ms is None


def test_evict_lets_a_busy_invocation_finish(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": SPAN}, timeout=int(WAIT))
    with Gate() as gate, ThreadPoolExecutor(1) as pool:
        busy = pool.submit(invoke, runtime, spec, json.dumps({"gate": gate.port}).encode())
        gate.wait_arrived(1)  # in its handler
        pids = runtime.worker_pids(spec.function_arn)
        runtime.evict(spec.function_arn)
        assert pids and all(map(pid_alive, pids))  # not killed under the running handler
        gate.open()
        result = busy.result()
    assert result.function_error is None
    assert pids and not any(map(pid_alive, pids))  # closed when it came back


def test_evict_during_a_cold_start_lets_it_finish(runtime: Runtime, functions: Functions) -> None:
    with Gate() as gate, ThreadPoolExecutor(1) as pool:
        spec = functions.spec({"app.py": SPAN + f"arrive({gate.port}, 'init')\n"}, timeout=int(WAIT))
        cold = pool.submit(invoke, runtime, spec)
        gate.wait_arrived(1)  # in its init phase (module code)
        pids = runtime.worker_pids(spec.function_arn)
        runtime.evict(spec.function_arn)
        assert pids and all(map(pid_alive, pids))  # not killed under its init
        gate.open()
        result = cold.result()
    assert result.function_error is None and result.init_duration_ms is not None
    assert pids and not any(map(pid_alive, pids))


def test_idle_workers_are_reaped(tmp_path: Path, functions: Functions) -> None:
    rt = Runtime(tmp_path / "work", ENDPOINT, idle_timeout=0.2)
    try:
        spec = functions.spec({"app.py": SPAN})
        pid = host_pid(json.loads(invoke(rt, spec).payload)["pid"])
        deadline = time.monotonic() + 3
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pid_alive(pid)
        assert invoke(rt, spec).init_duration_ms is not None
    finally:
        rt.shutdown()


def test_shutdown_kills_everything(tmp_path: Path, functions: Functions) -> None:
    rt = Runtime(tmp_path / "work", ENDPOINT, links=LINKS)
    spec = functions.spec({"app.py": SPAN}, timeout=int(WAIT))
    with Gate() as gate, ThreadPoolExecutor(1) as pool:
        busy = pool.submit(invoke, rt, spec, json.dumps({"gate": gate.port}).encode())
        gate.wait_arrived(1)  # in its handler, held there (the gate is never opened)
        pids = rt.worker_pids(spec.function_arn)
        rt.shutdown()
        result = busy.result(timeout=5)
    assert result.function_error == "Unhandled" and b"Runtime.ExitError" in result.payload
    assert pids and not any(pid_alive(p) for p in pids)
    with pytest.raises(RuntimeClosed):
        invoke(rt, spec)
