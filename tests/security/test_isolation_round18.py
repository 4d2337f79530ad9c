"""Isolation (handler code), review round 18: round 16's follow-ups (the request-body budget, `gateway/body_budget.py`;
a sandbox's `/proc` views, `runtime/proc_views.py`) attacked against a real `lambdaperm serve` with raw sockets, real
boto3 and real handlers.

AWS: one function's code cannot deny the service to other accounts, and an execution environment sees nothing of
another (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/lambda-isolation-technologies.html)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Endpoint, start_server, stop_server
from tests.e2e.lambda_helpers import payload
from tests.security.test_isolation_round16 import MIB, _code, _held_open, _until
from tests.security.test_runtime_limits import SANDBOX_MODES, _deploy, sandboxed_server

ATTACKER = "111111111111"
VICTIM = "222222222222"
BIG = 60 * MIB


def _read_response(s: socket.socket, buf: bytearray) -> tuple[int, bytes]:
    """One response read from `s` (what is left over stays in `buf`): its status and head; (0, b"") at EOF."""
    while b"\r\n\r\n" not in buf:
        data = s.recv(65536)
        if not data:
            return 0, b""
        buf += data
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end])
    del buf[:end]
    status = int(head.split(b" ", 2)[1])
    if status == 100:
        return status, head
    length = 0
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(buf) < length:
        data = s.recv(65536)
        if not data:
            break
        buf += data
    del buf[:length]
    return status, head


def _rest(s: socket.socket) -> bytes:
    """Everything the server still sends until it closes the connection (a bound of 10 s)."""
    s.settimeout(10)
    out = b""
    try:
        while data := s.recv(65536):
            out += data
    except TimeoutError:
        out += b"<still open>"
    except ConnectionResetError:
        pass
    return out


def _put_head(key: str, length: int, extra: bytes = b"") -> bytes:
    return b"PUT /r18/%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n" % (key.encode(), length, extra)


def test_the_body_budget_is_not_kept_by_pipelining_keep_alive_expect_or_trailers(tmp_path: Path) -> None:
    """Attack: leak the local callers' body budget (`LOCAL`, 128 MiB, shared by every local caller of every account)
    through the ways an HTTP/1.1 connection reuses itself — three 60 MiB bodies pipelined on one keep-alive
    connection, a 60 MiB body behind `Expect: 100-continue`, a 60 MiB chunked body with a trailer field — each
    answered (unsigned: 403), the connection left open and idle. Were any of their charges kept, the budget would have
    less than 120 MiB: asserted, while that connection stays open, a connection holding an unfinished 60 MiB body and
    a signed 60 MiB PutObject beside it are both admitted (the PutObject served). RFC 9112 §9.3.2 (pipelining), §9.6
    and RFC 9110 §10.1.1 (`100-continue`), RFC 9112 §7.1.2 (trailers)."""
    server = start_server(tmp_path / "state", tmp_path)
    held: socket.socket | None = None
    try:
        s3 = server.client("s3")
        s3.create_bucket(Bucket="r18")
        port = int(server.url.rsplit(":", 1)[1])
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        body = b"p" * BIG
        sender = threading.Thread(target=lambda: [s.sendall(_put_head(f"k{n}", BIG) + body) for n in range(3)])
        sender.start()
        buf = bytearray()
        statuses = [_read_response(s, buf)[0] for _ in range(3)]
        sender.join(60)
        assert statuses == [403, 403, 403], statuses  # each pipelined body read and answered on the one connection
        s.sendall(_put_head("e", BIG, b"Expect: 100-continue\r\n"))
        assert _read_response(s, buf)[0] == 100  # admitted: the server asks for the body
        s.sendall(body)
        assert _read_response(s, buf)[0] == 403
        chunk = b"c" * MIB
        s.sendall(b"PUT /r18/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n")
        s.sendall(b"Trailer: x-amz-checksum-crc32\r\n\r\n")
        s.sendall(b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(60)))
        s.sendall(b"0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n")
        assert _read_response(s, buf)[0] == 403
        held = _held_open(port, BIG, MIB)  # 60 MiB of the 128 charged now, beside the idle keep-alive connection
        served = _until(lambda: _code(lambda: s3.put_object(Bucket="r18", Key="big", Body=body))[0] == "")
        assert served, "the body budget kept a charge of a pipelined, 100-continue or trailer-carrying body"
        s.close()
    finally:
        if held is not None:
            held.close()
        stop_server(server)


SMUGGLED = b"GET /r18?smuggled HTTP/1.1\r\nHost: x\r\n\r\n"


def test_a_refused_body_leaves_nothing_to_read_as_a_next_request(tmp_path: Path) -> None:
    """Attack (a desync): a body refused by the budget is never read — the 503 is answered before it — so if the
    connection stayed open, its bytes would be parsed as the next request (request smuggling: a request that never
    passed through the caller's framing). While two other connections hold 120 MiB of the callers' 128: a declared
    60 MiB body behind `Expect: 100-continue`, the same without `Expect`, and a chunked body outgrowing the room; each
    time the body's bytes are whole requests. Asserted: exactly one response (503, `Connection: close`, no
    `100 Continue`), then the connection closed with nothing more answered (RFC 9112 §9.6, RFC 9110 §10.1.1). And a
    body over `MAX_BODY` (answered 413 mid-body, the connection kept): its remaining bytes are never a request — the
    one request sent after it is the one more answer."""
    server = start_server(tmp_path / "state", tmp_path)
    holders: list[socket.socket] = []
    try:
        port = int(server.url.rsplit(":", 1)[1])
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        over = 65 * MIB
        s.sendall(_put_head("over", over, b"Expect: 100-continue\r\n"))
        buf = bytearray()
        assert _read_response(s, buf)[0] == 100
        sender = threading.Thread(target=lambda: s.sendall((SMUGGLED * (over // len(SMUGGLED) + 1))[:over]))
        sender.start()
        status, head = _read_response(s, buf)
        sender.join(60)
        assert status == 413, head
        s.sendall(b"GET /r18?after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        rest = bytes(buf) + _rest(s)
        assert rest.count(b"HTTP/1.1 ") == 1, rest[:300]  # the request after, and no smuggled one
        s.close()
        holders = [_held_open(port, BIG, MIB) for _ in range(2)]
        for extra in (b"Expect: 100-continue\r\n", b""):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(_put_head("refused", BIG, extra))
            buf = bytearray()
            status, head = _read_response(s, buf)
            assert status == 503 and b"connection: close" in head.lower(), head
            with contextlib.suppress(OSError):
                s.sendall(SMUGGLED * 50)
            rest = bytes(buf) + _rest(s)
            assert b"HTTP/1.1" not in rest, rest[:300]
            s.close()
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"PUT /r18/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = SMUGGLED * (MIB // len(SMUGGLED))
        buf = bytearray()
        try:
            for _ in range(20):
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        except OSError:
            pass
        status, head = _read_response(s, buf)
        assert status == 503 and b"connection: close" in head.lower(), head
        with contextlib.suppress(OSError):
            s.sendall(b"0\r\n\r\n" + SMUGGLED)
        rest = bytes(buf) + _rest(s)
        assert b"HTTP/1.1" not in rest, rest[:300]
        s.close()
    finally:
        for h in holders:
            h.close()
        stop_server(server)


# Answers statvfs(2) of every place a handler can name: its code, its runtime, the system it runs on, its /tmp.
STATFS = """
import os

def handler(event, context):
    out = {}
    for path in ("/", "/var/task", "/var/runtime", "/usr", "/etc", "/tmp", "/proc", "/dev"):
        try:
            st = os.statvfs(path)
        except OSError as e:
            out[path] = str(e)
            continue
        out[path] = [st.f_frsize, st.f_blocks, st.f_bfree, st.f_files, st.f_ffree]
    return out
"""


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _state_dir(server: Endpoint) -> Path:
    assert server.state is not None
    return server.state


@pytest.mark.xfail(
    strict=True,
    reason="review round 18: statfs(2) of a sandbox's read-only binds answers the host's filesystem (the state "
    "directory's): another account's writes are seen as free blocks and inodes; no view covers a system call",
)
def test_a_handler_does_not_read_the_hosts_disk_through_statfs(server: Endpoint) -> None:
    """Attack (a side channel, as round 16's `/proc` counters): statfs(2) is a system call, not a file under /proc, so
    no view covers it. Every read-only bind of a sandbox (`/var/task`, `/var/runtime`, `/usr`, `/etc`) answers the
    statistics of the host filesystem under it — the one that also holds the server's state directory, where every
    account's authorized data is journaled (round 17). Account A's handler reads its free blocks and inodes, so it
    watches B's writes (B's 60 MiB PutObject is a drop of 60 MiB), as round 16's `/proc/meminfo` let it watch B's
    memory. On AWS each environment is a microVM with disks of its own: `/var/task` is its package's read-only
    filesystem and `/tmp` its own ephemeral storage
    (https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/lambda-isolation-technologies.html,
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html). Asserted: no path a handler
    statfs-es reports the filesystem of the server's state directory (its size and, within 1 GiB, its free space, read
    by the test at the same time)."""
    lam = _deploy(server, ATTACKER, "statfs", STATFS)
    seen = payload(lam.invoke(FunctionName="statfs", Payload=b"{}"))
    host = os.statvfs(_state_dir(server))
    assert seen["/tmp"][1] != host.f_blocks  # positive control: the sandbox's own /tmp is a filesystem of its own
    shared = sorted(
        path
        for path, st in seen.items()
        if isinstance(st, list)
        and st[0] * st[1] == host.f_frsize * host.f_blocks
        and abs(st[0] * st[2] - host.f_frsize * host.f_bfree) < 1024 * MIB
    )
    assert not shared, f"a handler reads the host's disk (the state directory's filesystem) by statfs of {shared}"
