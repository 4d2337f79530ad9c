"""Platform failures: timeouts and dying workers are replaced, with the Lambda service's payloads."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambdaperm.runtime import Runtime
from lambdaperm.runtime import runtime as runtime_module
from tests.runtime.conftest import Functions, host_pid, invoke, pid_alive, process_tree
from tests.runtime.gate import GATE

SLOW = """
import os, subprocess, time
TOKEN = os.urandom(16).hex()  # one per execution environment
def handler(event, context):
    if event.get("sleep"):
        child = subprocess.Popen(["sleep", "30"])
        print(f"child {child.pid}", flush=True)
        time.sleep(event["sleep"])
    return {"pid": os.getpid(), "ns": os.readlink("/proc/self/ns/pid"), "token": TOKEN}
"""

DIES = """
import os, signal, sys
TOKEN = os.urandom(16).hex()  # one per execution environment
def handler(event, context):
    how = event.get("how")
    if how == "exit":
        os._exit(1)
    if how == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if how == "sys.exit":
        sys.exit(0)
    if how == "exit3":
        sys.exit(3)
    return {"pid": os.getpid(), "ns": os.readlink("/proc/self/ns/pid"), "token": TOKEN}
"""


def test_timeout_kills_and_replaces_the_worker(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": SLOW}, timeout=1)
    me = json.loads(invoke(runtime, spec).payload)
    worker = host_pid(me)
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        slow = pool.submit(invoke, runtime, spec, b'{"sleep": 30}', request_id="req-slow")
        deadline = time.monotonic() + 5  # the handler's child appears under the worker
        while len(tree := process_tree(worker)) < 2 and not slow.done() and time.monotonic() < deadline:
            time.sleep(0.02)
        result = slow.result()
        elapsed = time.monotonic() - started
    assert len(tree) >= 2
    assert 1.0 <= elapsed < 1.5, elapsed
    assert result.function_error == "Unhandled"
    assert result.payload == (b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: req-slow Error: '
                              b'Task timed out after 1.00 seconds"}')
    assert result.duration_ms == 1000.0
    report = result.log_tail.splitlines()[-1]
    assert report.startswith("REPORT RequestId: req-slow\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\t")
    assert report.endswith("\tStatus: timeout\t")
    assert "child " in result.log_tail
    deadline = time.monotonic() + 3  # the handler's own children go with it
    while any(map(pid_alive, tree)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(pid_alive, tree))
    after = invoke(runtime, spec)
    assert after.function_error is None and after.init_duration_ms is not None
    assert json.loads(after.payload)["token"] != me["token"]  # a new environment (pids and inodes are reused)


@pytest.mark.parametrize(("how", "reason"), [
    ("exit", "Runtime exited with error: exit status 1"),
    ("exit3", "Runtime exited with error: exit status 3"),
    ("segv", "Runtime exited with error: signal: segmentation fault"),
    ("sys.exit", "Runtime exited without providing a reason"),
])
def test_crash_replaces_the_worker(runtime: Runtime, functions: Functions, how: str, reason: str) -> None:
    spec = functions.spec({"app.py": DIES})
    me = json.loads(invoke(runtime, spec).payload)
    pid = host_pid(me)
    result = invoke(runtime, spec, json.dumps({"how": how}).encode(), request_id="req-x")
    assert result.function_error == "Unhandled"
    expected = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: req-x Error: {reason}"}
    assert result.payload == json.dumps(expected, separators=(",", ":")).encode()
    assert "\tStatus: error\tError Type: Runtime.ExitError\t" in result.log_tail
    assert not pid_alive(pid)
    after = invoke(runtime, spec)
    assert after.init_duration_ms is not None and json.loads(after.payload)["token"] != me["token"]


def test_init_phase_timeout(runtime: Runtime, functions: Functions, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_module, "INIT_PHASE_SECONDS", 0.2)
    spec = functions.spec({"app.py": "import time\ntime.sleep(30)\ndef handler(e, c):\n    return 1\n"},
                          timeout=1)
    started = time.monotonic()
    result = invoke(runtime, spec, request_id="req-init")
    assert 1.2 <= time.monotonic() - started < 1.8
    assert result.payload == (b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: req-init Error: '
                              b'Task timed out after 1.00 seconds"}')
    assert "\tPhase: init\tStatus: timeout\n" in result.log_tail
    assert runtime.worker_pids(spec.function_arn) == []


def test_crash_during_init(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": "import os\nos._exit(7)\n"})
    result = invoke(runtime, spec, request_id="req-i")
    assert result.payload == (b'{"errorType":"Runtime.ExitError","errorMessage":"RequestId: req-i Error: '
                              b'Runtime exited with error: exit status 7"}')
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.ExitError\n" in result.log_tail


BUSY = GATE + """
import os, time
def handler(e, c):
    if "gate" in e:
        arrive(e["gate"], "busy", wait=False)  # in its handler
    time.sleep(e["s"])
    return {"pid": os.getpid(), "ns": os.readlink("/proc/self/ns/pid")}
"""

ORPHAN_SCRIPT = """
import json, os, signal, sys, threading
sys.path.insert(0, {repo!r})
from tests.runtime.conftest import Functions, host_pid, invoke
from tests.runtime.gate import LINKS, Gate
from lambdaperm.runtime import Runtime
from pathlib import Path
root = Path({root!r})
rt = Runtime(root / "work", "http://127.0.0.1:4566", links=LINKS)  # a port a sandbox can listen on
spec = Functions(root).spec({{"app.py": {code!r}}}, timeout=120)
print(host_pid(json.loads(invoke(rt, spec, b'{{"s": 0}}').payload)), flush=True)
gate = Gate()
busy = json.dumps({{"s": 60, "gate": gate.port}}).encode()
threading.Thread(target=invoke, args=(rt, spec, busy), daemon=True).start()
gate.wait_arrived(1)  # the warm worker is busy in its handler: now the server dies
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_workers_do_not_outlive_a_killed_server(tmp_path: Path) -> None:
    repo = str(Path(__file__).resolve().parents[2])
    script = ORPHAN_SCRIPT.format(repo=repo, root=str(tmp_path), code=BUSY)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    pid = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 6  # busy in its handler: its orphan check (or its sandbox) ends it
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(pid)
