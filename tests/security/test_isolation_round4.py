"""Isolation review, round 4: a function author of one account attacks, from inside the handler's sandbox, the
other accounts, the other functions and the server, through real boto3 against a real `lambdaperm serve`
(docs/security.md, "Runtime isolation"; issue 7, class 8). The server runs as the test's user and, when that is
root, as a throwaway unprivileged uid (the sandbox differs in the two modes).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts AWS's outcome.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, payload, zip_of
from tests.security.test_runtime_limits import SANDBOX_MODES, _deploy, sandboxed_server

ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


# ---------------------------------------------------------------- 1. the credentials' scope: lambda:SourceFunctionArn

SQS_CALLER = """
import boto3
from botocore.exceptions import ClientError

def handler(event, context):
    try:
        boto3.client("sqs").list_queues()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return "allowed"
"""


def test_a_deny_on_lambda_source_function_arn_applies_to_that_functions_code(server: Endpoint) -> None:
    """Attack: two functions share one execution role; the role's policy denies one of them (by
    `lambda:SourceFunctionArn`, the documented way to tell which function's code makes a call) what it allows
    the other. The denied function's code calls anyway with the credentials Lambda gave it.
    AWS rule: "Lambda injects the source function ARN into the credentials context if the request is an AWS API
    request that comes from within your execution environment"; the page's own example is a Deny with
    `ArnEquals lambda:SourceFunctionArn` (https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html).
    Secure outcome: the denied function's call is AccessDenied; the other function's is allowed (positive control).
    lambdaperm issued execution-role sessions without the key (only its own log writes carried it), so a Deny
    (or an SCP-style `Null` guard) conditioned on it never applied to the handler's calls: a wrong allow."""
    iam = server.client("iam", key=ATTACKER)
    denied_arn = f"arn:aws:lambda:{REGION}:{ATTACKER}:function:sfa-denied"
    role = make_role(
        iam,
        "sfa-shared-role",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "sqs:*",
                    "Resource": "*",
                    "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": denied_arn}},
                },
            ],
        },
    )
    lam = server.client("lambda", key=ATTACKER, region=REGION)
    for name in ("sfa-denied", "sfa-allowed"):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": SQS_CALLER})},
            Timeout=30,
        )
    assert payload(lam.invoke(FunctionName="sfa-allowed")) == "allowed"  # positive control: the role allows it
    assert payload(lam.invoke(FunctionName="sfa-denied")) == "AccessDenied"


# ---------------------------------------------------------------- 2. what a handler inherits from the server

INHERITED = """
import os, socket

def handler(event, context):
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError as e:
            fds[fd] = repr(e)
    abstract = []
    try:
        with open("/proc/net/unix") as f:
            abstract = [line.split()[-1] for line in f.read().splitlines()[1:] if line.split()[-1].startswith("@")]
    except OSError:
        pass
    reached = []
    for name in abstract:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(1)
        try:
            s.connect("\\0" + name[1:])
            reached.append(name)
        except OSError:
            pass
        finally:
            s.close()
    listening = {}  # the TCP listeners of the sandbox's own network namespace: inode -> port
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                for line in f.read().splitlines()[1:]:
                    cols = line.split()
                    if cols[3] == "0A":
                        listening[cols[9]] = int(cols[1].rsplit(":", 1)[1], 16)
        except OSError:
            pass
    return {"fds": fds, "env": sorted(os.environ), "abstract": abstract, "reached": reached, "listening": listening}
"""

LAMBDA_ENV = {
    "PATH", "LANG", "TZ", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "LD_LIBRARY_PATH",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
}  # fmt: skip


def _server_pids(server: Endpoint) -> set[int]:
    """The server's process and its descendants (in the throwaway-uid mode `proc` is the launcher)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(b") ", 1)[1].split()[1])
    found = {server.proc.pid}
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found


def test_a_handler_inherits_no_descriptor_variable_or_socket_of_the_server(server: Endpoint) -> None:
    """Attack: a handler lists its file descriptors (anything the server left open: the state database, its
    listening socket, another worker's pipe or log), its environment (the server's configuration), and the abstract
    Unix sockets of the network namespace it shares with the server, and connects to each.
    AWS rule: an execution environment holds its own runtime's descriptors and Lambda's documented variables
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
    Secure outcome: descriptors 0–2 and the runtime's two pipes only (no file of the host, no socket but the sandbox's
    own endpoint relay: one listening socket on its loopback per address family at the endpoint's port, isolation
    round 13), Lambda's variables only, and no abstract socket of the server or of its workers to connect to."""
    lam = _deploy(server, ATTACKER, "inherit-probe", INHERITED)
    seen = payload(lam.invoke(FunctionName="inherit-probe"))
    # the descriptor listdir itself opened is closed by the time it is read (FileNotFoundError)
    targets = {fd: t for fd, t in seen["fds"].items() if not t.startswith("FileNotFoundError")}
    assert targets["0"] == "/dev/null"
    assert targets["1"] == targets["2"] == "/memfd:lambda-log (deleted)"
    others = [t for fd, t in targets.items() if fd not in ("0", "1", "2")]
    pipes = [t for t in others if t.startswith("pipe:[")]
    sockets = [t.removeprefix("socket:[").rstrip("]") for t in others if t.startswith("socket:[")]
    assert len(pipes) == 2 and len(pipes) + len(sockets) == len(others), json.dumps(seen["fds"])
    # the relay's two listening sockets (127.0.0.1 and ::1 at the endpoint's port), nothing else
    port = int(server.url.rsplit(":", 1)[1])
    assert len(sockets) == 2 and all(seen["listening"].get(i) == port for i in sockets), json.dumps(seen)
    assert set(seen["env"]) <= LAMBDA_ENV, set(seen["env"]) - LAMBDA_ENV
    ours = set()
    for pid in _server_pids(server):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                ours.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    inodes = {t.removeprefix("socket:[").rstrip("]") for t in ours if t.startswith("socket:[")}
    with open("/proc/net/unix") as f:
        held = {line.split()[-1] for line in f.read().splitlines()[1:] if line.split()[6] in inodes}
    assert not {name for name in held if name.startswith("@")} & set(seen["reached"]), seen


# ---------------------------------------------------------------- 3. the log a handler writes, in the server's memory

FLOOD = """
import os, time

def handler(event, context):
    chunk = b"x" * (1 << 20)
    written = 0
    try:
        for _ in range(event["mib"]):
            os.write(1, chunk)
            written += 1
    except OSError as e:
        return {"written": written, "error": e.strerror}
    time.sleep(event["hold"])  # the server holds the output while the invocation runs
    return {"written": written, "error": None}
"""

FLOOD_MIB = 640
HELD_LIMIT = 512 << 20  # a sandbox's output is bounded as its /tmp is (the same memory): runtime.LOG_FILE_BYTES


def _log_memfd_bytes(server: Endpoint) -> int:
    largest = 0
    for pid in _server_pids(server):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("/memfd:lambda-log"):
                    largest = max(largest, os.stat(f"/proc/{pid}/fd/{fd}").st_size)
            except OSError:
                continue
    return largest


def test_a_handler_cannot_grow_the_servers_memory_through_its_log(server: Endpoint) -> None:
    """Attack: a handler writes to stdout as fast as it can for its whole timeout (up to 15 minutes). Its fds 1 and
    2 are an anonymous memfd of the server (`runtime/worker.py`): memory of the host shared by every account and
    the server, read (its last 8 MiB) and truncated only when the invocation ends — so one invocation can fill the
    host's memory at the speed of write(2) (measured: 96 MiB held in a few hundred milliseconds; 24 GB in a
    30-second timeout).
    AWS rule: an execution environment's output is streamed to CloudWatch Logs; its memory is the function's own
    MemorySize, not the service's (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
    Secure outcome: what the server holds of one sandbox's output stays bounded (512 MiB, as its /tmp, which is the
    same memory); past it the handler's write fails (EFBIG), in its own sandbox only."""
    # the output is in the sandbox's memory too: with a memory cgroup (review round 6) a 128 MB function would be killed
    # at its MemorySize before the log's own bound; 1024 MB leaves the log's bound to be measured
    lam = _deploy(server, ATTACKER, "log-flood", FLOOD, MemorySize=1024)
    result: dict[str, Any] = {}

    def invoke() -> None:
        result.update(payload(lam.invoke(FunctionName="log-flood", Payload=json.dumps({"mib": FLOOD_MIB, "hold": 4}))))

    caller = threading.Thread(target=invoke)
    caller.start()
    largest = 0
    deadline = time.monotonic() + 60
    while caller.is_alive() and time.monotonic() < deadline:
        largest = max(largest, _log_memfd_bytes(server))
        time.sleep(0.05)
    caller.join(60)
    assert result, "the flood's invocation did not answer"
    assert largest > 0, "the server's log memfd was not found: the test measures nothing"
    assert largest <= HELD_LIMIT, f"the server held {largest >> 20} MiB of one handler's output: {result}"
    assert result == {"written": HELD_LIMIT >> 20, "error": "File too large"}, result
