"""Platform failures: timeouts and dying workers are replaced, with the Lambda service's payloads."""

from __future__ import annotations

import json
import time

import pytest

from lambdaperm.runtime import Runtime
from lambdaperm.runtime import runtime as runtime_module
from tests.runtime.conftest import Functions, invoke, pid_alive

SLOW = """
import os, subprocess, time
def handler(event, context):
    if event.get("sleep"):
        child = subprocess.Popen(["sleep", "30"])
        print(f"child {child.pid}", flush=True)
        time.sleep(event["sleep"])
    return {"pid": os.getpid()}
"""

DIES = """
import os, signal, sys
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
    return {"pid": os.getpid()}
"""


def test_timeout_kills_and_replaces_the_worker(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": SLOW}, timeout=1)
    pid = json.loads(invoke(runtime, spec).payload)["pid"]
    started = time.monotonic()
    result = invoke(runtime, spec, b'{"sleep": 30}', request_id="req-slow")
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.5, elapsed
    assert result.function_error == "Unhandled"
    assert result.payload == (b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: req-slow Error: '
                              b'Task timed out after 1.00 seconds"}')
    assert result.duration_ms == 1000.0
    report = result.log_tail.splitlines()[-1]
    assert report.startswith("REPORT RequestId: req-slow\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\t")
    assert report.endswith("\tStatus: timeout\t")
    child = int(result.log_tail.split("child ")[1].split()[0])
    assert not pid_alive(pid) and not pid_alive(child)  # the handler's own children go with it
    after = invoke(runtime, spec)
    assert after.function_error is None and after.init_duration_ms is not None
    assert json.loads(after.payload)["pid"] != pid


@pytest.mark.parametrize(("how", "reason"), [
    ("exit", "Runtime exited with error: exit status 1"),
    ("exit3", "Runtime exited with error: exit status 3"),
    ("segv", "Runtime exited with error: signal: segmentation fault"),
    ("sys.exit", "Runtime exited without providing a reason"),
])
def test_crash_replaces_the_worker(runtime: Runtime, functions: Functions, how: str, reason: str) -> None:
    spec = functions.spec({"app.py": DIES})
    pid = json.loads(invoke(runtime, spec).payload)["pid"]
    result = invoke(runtime, spec, json.dumps({"how": how}).encode(), request_id="req-x")
    assert result.function_error == "Unhandled"
    expected = {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: req-x Error: {reason}"}
    assert result.payload == json.dumps(expected, separators=(",", ":")).encode()
    assert "\tStatus: error\tError Type: Runtime.ExitError\t" in result.log_tail
    assert not pid_alive(pid)
    after = invoke(runtime, spec)
    assert after.init_duration_ms is not None and json.loads(after.payload)["pid"] != pid


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
