"""Isolation review, round 6: a function author of one account attacks, from inside the handler's sandbox and through
its own invocations, the other accounts and the server, with real boto3 against a real `lambdaperm serve`
(docs/security.md, "Runtime isolation"; issue 7, class 8). The server runs as the test's user and, when that is
root, as a throwaway unprivileged uid.

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts AWS's outcome (or, for what the threat model documents as not isolated, that the documented bound
holds).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from lambdaperm.gateway.invoke_threads import PER_ACCOUNT, REQUEST_THREADS
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import payload
from tests.security.test_runtime_limits import SANDBOX_MODES, _deploy, sandboxed_server

ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _client(server: Endpoint, account: str, service: str = "lambda", *, read_timeout: float = 90) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=account,
        aws_secret_access_key="test",
        config=Config(
            retries={"max_attempts": 1},
            read_timeout=read_timeout,
            connect_timeout=5,
            max_pool_connections=REQUEST_THREADS + 16,
        ),
    )


def _invoke(client: Any, name: str, event: dict[str, Any] | None = None) -> Any:
    try:
        return payload(client.invoke(FunctionName=name, Payload=json.dumps(event or {})))
    except ClientError as e:
        return e.response["Error"]["Code"]
    except ReadTimeoutError:
        return "no answer"


# ---------------------------------------------------------------- 1. the server's request threads

HOLDER = """
import socket

def handler(event, context):
    # tell the test this invocation runs, then stay busy until the test lets go (bounded by the function timeout)
    with socket.create_connection(("127.0.0.1", event["port"]), timeout=25) as s:
        s.sendall(b"busy")
        s.recv(1)
    return "released"
"""


def test_one_accounts_waiting_invocations_do_not_hold_every_request_thread(server: Endpoint) -> None:
    """Attack: every API call of every account runs on one pool of REQUEST_THREADS (32) server threads
    (gateway/asgi.py), and a synchronous Invoke holds its thread while the handler runs — and while it waits for a
    worker of the function (at most 4 per function; the rest wait with no bound) or for a sandbox (unprivileged:
    10 s). Account A sends REQUEST_THREADS + 8 invocations of one function whose handler waits (up to its own
    timeout, 30 s here, 900 s allowed): every thread of the server is then held by A, and account B's calls — any
    service, IAM, STS — get no answer for as long as A keeps invoking: a denial of service of the control plane of
    every account by one. AWS rule: concurrency is a quota of each account in each Region; an invocation over it is
    throttled at once (429 TooManyRequestsException, Reason ConcurrentInvocationLimitExceeded), and one account's
    invocations never take another account's capacity (https://docs.aws.amazon.com/lambda/latest/dg/
    lambda-concurrency.html, https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors).
    Secure outcome: while A holds all it may, B's STS and Lambda calls are answered, B's own invocation runs, and A's
    invocations over its share are throttled. Measured before the fix (both modes): B's GetCallerIdentity got no
    answer within 10 s."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=REQUEST_THREADS + 16)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    _deploy(server, ATTACKER, "hog", HOLDER)
    _deploy(server, VICTIM, "own", "def handler(event, context):\n    return 'ran'\n")
    attacker = _client(server, ATTACKER)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)

    outcomes: list[Any] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(_invoke(attacker, "hog", {"port": port})), daemon=True)
        for _ in range(REQUEST_THREADS + 8)
    ]
    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while not held and time.monotonic() < deadline:  # A's invocations reached the server and one runs
            time.sleep(0.05)
        assert held, f"no attacker invocation ran (the positive control failed): {outcomes}"
        victim_sts = _client(server, VICTIM, "sts", read_timeout=10)
        try:
            identity = victim_sts.get_caller_identity()["Account"]
        except ReadTimeoutError:
            identity = "no answer within 10 s"
        assert identity == VICTIM, f"account A's waiting invocations held every request thread: {identity}"
        victim = _client(server, VICTIM, read_timeout=30)
        assert [f["FunctionName"] for f in victim.list_functions()["Functions"]] == ["own"]
        assert _invoke(victim, "own") == "ran"
        # A's invocations over its share were throttled at once, as Lambda throttles an account at its quota
        deadline = time.monotonic() + 30
        while outcomes.count("TooManyRequestsException") < REQUEST_THREADS + 8 - PER_ACCOUNT and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert outcomes.count("TooManyRequestsException") >= REQUEST_THREADS + 8 - PER_ACCOUNT, outcomes
    finally:
        done.set()
        for conn in held:
            conn.close()
        for t in threads:
            t.join(90)
        acceptor.join(5)
        for conn in held:  # accepted after the first close
            conn.close()
        listener.close()
    # each attacker invocation ran (its handler returned, or failed once the test closed its listener) or was throttled
    assert all(
        o in ("released", "TooManyRequestsException") or (isinstance(o, dict) and "errorType" in o) for o in outcomes
    ), outcomes


# ---------------------------------------------------------------- 2. memory outside the data limit

MEMORY_SIZE_MB = 128
DATA_LIMIT_MB = MEMORY_SIZE_MB + 1024  # the worker's RLIMIT_DATA (runtime.DATA_LIMIT_OVERHEAD_MB)
STOP_MB = DATA_LIMIT_MB + 384  # the probe stops here: the test must not take the host's memory
MEMORY_NOT_BOUNDED = "review round 6: memory outside RLIMIT_DATA is not bounded per sandbox (needs a memory cgroup)"

HOARDER = f"""
import mmap, os

CHUNK = 64 << 20
STOP = {STOP_MB} << 20

def handler(event, context):
    route, held, keep, error = event["route"], 0, [], None
    try:
        while held < STOP:
            if route == "dev-shm":  # files of bwrap's /dev tmpfs, each under RLIMIT_FSIZE
                path = f"/dev/shm/hoard-{{held // CHUNK}}"
                with open(path, "wb") as f:
                    f.write(b"x" * CHUNK)
                keep.append(path)
            elif route == "memfd":  # anonymous files, each under RLIMIT_FSIZE
                fd = os.memfd_create("hoard")
                os.write(fd, b"x" * CHUNK)
                keep.append(fd)
            else:  # a shared anonymous mapping: not counted in RLIMIT_DATA
                m = mmap.mmap(-1, CHUNK, flags=mmap.MAP_SHARED)
                m.write(b"x" * CHUNK)
                keep.append(m)
            held += CHUNK
    except (OSError, MemoryError, ValueError) as e:
        error = type(e).__name__ + ": " + str(e)
    finally:
        for item in keep:
            if isinstance(item, str):
                os.unlink(item)
            elif isinstance(item, int):
                os.close(item)
            else:
                item.close()
    return {{"held_mb": held >> 20, "error": error}}
"""


@pytest.mark.parametrize("route", ["dev-shm", "memfd", "shared-mmap"])
def test_a_handler_cannot_hold_host_memory_past_its_data_limit(
    server: Endpoint, route: str, request: pytest.FixtureRequest
) -> None:
    """Attack: a handler holds host memory the worker's RLIMIT_DATA (MemorySize + 1 GiB, `runtime.py`) does not
    count — files in /dev/shm (bwrap's `--dev` tmpfs has no size: half the host's RAM), memfds (each under
    RLIMIT_FSIZE, 512 MiB, as many as it has descriptors), shared anonymous mappings (RLIMIT_DATA counts private
    writable mappings only) — until the host has none left for the server or another account's worker (no swap:
    the kernel's OOM killer picks a victim). AWS rule: a function that exceeds its MemorySize is ended with
    Runtime.OutOfMemory; each execution environment's memory is its own
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). Secure outcome: the handler cannot
    hold more than its data limit. The probe stops at DATA_LIMIT + 384 MiB; measured (both modes, Linux 6.18,
    bwrap 0.8.0): every route reached the stop. Not fixed: a bound on a sandbox's total memory needs a memory
    cgroup per sandbox, which an unprivileged server cannot create (docs/security.md, "Isolation review round 6").
    Held as root for /dev/shm only: the sandbox's /dev belongs to root, its uid cannot create files there."""
    if not (route == "dev-shm" and request.node.callspec.params["server"] == SANDBOX_MODES[0] and os.geteuid() == 0):
        request.applymarker(pytest.mark.xfail(strict=True, reason=MEMORY_NOT_BOUNDED))
    lam = _deploy(server, ATTACKER, f"hoard-{route}", HOARDER, MemorySize=MEMORY_SIZE_MB)
    result = payload(lam.invoke(FunctionName=f"hoard-{route}", Payload=json.dumps({"route": route})))
    assert isinstance(result, dict) and "held_mb" in result, result  # the handler ran (positive control)
    assert result["held_mb"] <= DATA_LIMIT_MB, f"{route}: the handler held {result} of host memory"
