"""Isolation review, round 1: a function author of one account attacks the sandbox its handler runs in, through
real boto3 against a real `lambdaperm serve` (docs/security.md, "Runtime isolation"; issue 7, class 8).

Threat model: handler code — and everything else the function's author controls: its package, its configuration
(Environment.Variables), what its process writes to the runtime's pipes — is untrusted with respect to every
other account and to the server. Each test is one attack and asserts the secure outcome.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Endpoint, stop_server
from tests.e2e.lambda_helpers import make_role, payload
from tests.security.test_runtime_isolation import _start

ACCOUNT = "000000000000"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def server() -> Iterator[Endpoint]:
    home = Path(tempfile.mkdtemp(prefix="lambdaperm-isorev-"))
    state = home / "state"
    state.mkdir()
    try:
        endpoint = _start(state, home / "server.log")
        try:
            assert endpoint.health()["isolation"]["available"] is True
            yield endpoint
        finally:
            stop_server(endpoint)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _deploy(server: Endpoint, name: str, files: dict[str, bytes], timeout: int = 30) -> Any:
    role = make_role(server.client("iam", key=ACCOUNT), f"{name}-role")
    lam = server.client("lambda", key=ACCOUNT, region=REGION)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": _zip(files)},
        Timeout=timeout,
    )
    return lam


# ---------------------------------------------------------------- 1. the function's variables reach bwrap

PRELOAD_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((constructor)) static void escape(void) {
    const char *out = getenv("ESCAPE_OUT");
    char exe[512] = {0};
    if (!out) return;
    FILE *f = fopen(out, "a");
    if (!f) return;
    if (readlink("/proc/self/exe", exe, sizeof exe - 1) < 0) exe[0] = 0;
    fprintf(f, "uid=%d exe=%s\n", (int)getuid(), exe);
    fclose(f);
}
"""

WHERE_AM_I = """
import os, subprocess

def handler(event, context):
    host = [line.split()[3] for line in open("/proc/self/mountinfo") if line.split()[4] == "/var/task"]
    child = subprocess.run(["/bin/true"], capture_output=True).returncode
    escape_out = os.environ.get("ESCAPE_OUT")
    inside = open(escape_out).read() if escape_out and os.path.exists(escape_out) else ""
    return {"host": host, "escape_out": escape_out, "inside": inside, "child": child}
"""


def _shared_object(tmp: Path) -> bytes:
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        pytest.skip("a C compiler is needed to build the attacker's shared object")
    (tmp / "escape.c").write_text(PRELOAD_C)
    subprocess.run([gcc, "-shared", "-fPIC", "-o", str(tmp / "escape.so"), str(tmp / "escape.c")], check=True)
    return (tmp / "escape.so").read_bytes()


def test_function_environment_does_not_reach_the_sandbox_launcher(server: Endpoint, tmp_path: Path) -> None:
    """Attack: LD_PRELOAD in the function's Environment.Variables, naming a shared object shipped in the
    function's own package by its host path (which /proc/self/mountinfo shows, docs/security.md "Limits").
    The variables were the environment of `bwrap` (and, as root, of `setpriv` before the uid drop), so the
    object's constructor ran on the host, outside every namespace, as the server's user (root): it could read the
    state database (every account's keys). LD_PRELOAD is not a reserved key on AWS (any function may set it,
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime); there
    it reaches the runtime inside the execution environment, never the host. Secure outcome: nothing of the
    function's configuration runs outside its sandbox; the variables still reach the handler's environment."""
    lam = _deploy(server, "preload", {"app.py": WHERE_AM_I.encode(), "escape.so": _shared_object(tmp_path)})
    first = payload(lam.invoke(FunctionName="preload"))
    assert len(first["host"]) == 1, first
    host_code = Path(first["host"][0])  # <state>/runtime/code/<sha>, as the handler reads it in mountinfo
    marker = host_code.parents[2] / "escaped.txt"  # the state directory: outside every sandbox
    lam.update_function_configuration(
        FunctionName="preload",
        Environment={"Variables": {"LD_PRELOAD": f"{host_code}/escape.so", "ESCAPE_OUT": str(marker)}},
    )
    second = payload(lam.invoke(FunctionName="preload"))
    escaped = marker.read_text() if marker.exists() else ""
    assert escaped == "", f"code of the function ran outside its sandbox: {escaped}"
    assert second["escape_out"] == str(marker)  # the function's variables are its handler's environment
    # The positive control: inside its own sandbox the function's LD_PRELOAD applies (its package is /var/task).
    lam.update_function_configuration(
        FunctionName="preload",
        Environment={"Variables": {"LD_PRELOAD": "/var/task/escape.so", "ESCAPE_OUT": "/tmp/inside.txt"}},
    )
    third = payload(lam.invoke(FunctionName="preload"))
    assert third["child"] == 0 and third["inside"].rstrip().endswith("/bin/true"), third


# ---------------------------------------------------------------- 2. the runtime's pipe, written by the handler

FORGE = """
import fcntl, os, stat, struct

def protocol_out():
    # The runtime's private copy of its reply pipe: the one write-only pipe the process holds besides 1 and 2.
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                return fd
        except OSError:
            pass
    raise RuntimeError("no protocol pipe")

def handler(event, context):
    fd = protocol_out()
    if event["attack"] == "huge-header":
        os.write(fd, struct.pack(">II", 0xFFFFFFF0, 0))
        chunk = b"x" * (1 << 20)
        for _ in range(event["mib"]):
            os.write(fd, chunk)
    else:
        head = bytes.fromhex(event["head"])
        os.write(fd, struct.pack(">II", len(head), 0) + head)
    import time
    time.sleep(60)
"""


def _vm_hwm_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_frame_header_length_cannot_make_the_server_buffer_without_bound(server: Endpoint) -> None:
    """Attack: the handler finds the runtime's reply pipe (a write-only FIFO among its descriptors) and writes a
    frame whose header length is 4 GiB, then streams data. The body length was bounded, the header length was
    not: the server buffered everything the handler wrote, in its own memory, until the function's timeout —
    one account's handler exhausting the memory of the server that serves every account. Secure outcome
    (threat model, docs/security.md "Runtime isolation"): a frame the bootstrap cannot have written ends the
    worker at once (Runtime.ExitError, as for a crashed runtime) and the server's memory does not grow with it."""
    lam = _deploy(server, "forge-huge", {"app.py": FORGE.encode()})
    before = _vm_hwm_kb(server.proc.pid)
    started = time.monotonic()
    result = lam.invoke(FunctionName="forge-huge", Payload=json.dumps({"attack": "huge-header", "mib": 768}))
    grown_mib = (_vm_hwm_kb(server.proc.pid) - before) // 1024
    body = payload(result)
    assert grown_mib < 256, f"the server buffered {grown_mib} MiB written by a handler"
    assert result.get("FunctionError") == "Unhandled" and body["errorType"] == "Runtime.ExitError", body
    assert time.monotonic() - started < 25  # ended at once, not at the function's 30 s timeout
    assert server.health()["isolation"]["available"] is True


@pytest.mark.parametrize(
    "head",
    [
        "not json",
        "[1, 2]",
        '{"type": "result", "ms": "soon", "rss": "lots"}',
        '{"type": "result"}',
        '{"type": "ready", "rss": 1}',
        '"\xff\xfe"',
    ],
)
def test_a_malformed_frame_is_a_runtime_error_not_a_server_error(server: Endpoint, head: str) -> None:
    """Attack: the handler writes a frame whose header is not what the bootstrap writes (not JSON, invalid
    UTF-8, not an object, fields of the wrong type or missing, a message of another phase). The server must not
    fail with a 500 or a traceback (house rule: fail closed with AWS's answer); a runtime that breaks the Runtime
    API's protocol is, on AWS, a runtime that exited: the invoke answers 200 with FunctionError Unhandled and
    errorType Runtime.ExitError
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-retries.html, runtime errors)."""
    name = f"forge-{zlib.crc32(head.encode()):08x}"
    lam = _deploy(server, name, {"app.py": FORGE.encode()})
    result = lam.invoke(
        FunctionName=name, Payload=json.dumps({"attack": "header", "head": head.encode("latin-1").hex()})
    )
    body = payload(result)
    assert result["StatusCode"] == 200
    assert result.get("FunctionError") == "Unhandled" and body["errorType"] == "Runtime.ExitError", body


# ---------------------------------------------------------------- 3. packages the extractor cannot lay out


@pytest.mark.parametrize(
    "entries",
    [[("lib", b"a file"), ("lib/mod.py", b"X = 1")], [("lib/mod.py", b"X = 1"), ("lib", b"a file")]],
    ids=["file-then-directory", "directory-then-file"],
)
def test_a_package_whose_entries_collide_is_refused_not_a_server_error(
    server: Endpoint, entries: list[tuple[str, bytes]]
) -> None:
    """Attack: a package in which one name is both a file and a directory. Extracting it fails with an OS
    error; the server must answer with Lambda's error for a package it cannot unzip: at CreateFunction
    InvalidParameterValueException "Could not unzip uploaded file. Please check your file, then try to upload
    again." (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#API_CreateFunction_Errors), or
    at Invoke InvalidZipFileException, 502 (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors);
    never with a 500 or a traceback."""
    name = f"collide-{zlib.crc32(repr(entries).encode()):08x}"
    files = {"app.py": b"def handler(e, c):\n    return 1\n", **dict(entries)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for entry, data in [("app.py", files["app.py"]), *entries]:
            archive.writestr(entry, data)
    role = make_role(server.client("iam", key=ACCOUNT), f"{name}-role")
    lam = server.client("lambda", key=ACCOUNT, region=REGION)
    try:
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": buf.getvalue()}
        )
        lam.invoke(FunctionName=name)
    except lam.exceptions.InvalidParameterValueException as e:  # refused at CreateFunction
        assert "Could not unzip uploaded file" in str(e)
    except lam.exceptions.InvalidZipFileException as e:  # or at Invoke
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    except Exception as e:  # anything else (a 500) is the finding
        pytest.fail(f"{type(e).__name__}: {e}")
