"""Isolation review, round 14: one account's handler code against the connection caps of the round 11 follow-up
(`gateway/connection_caps.py`: connections attributed by the sandbox's link since round 13's fix (by the peer socket's
uid before), 64 per sandbox, half the server's
share for all sandboxes together), with real boto3 and raw sockets against a real `lambdaperm serve`
(docs/security.md, "Isolation review round 14"; issue 7, class 8).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts the outcome AWS promises.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Endpoint, start_server, stop_server
from tests.e2e.lambda_helpers import payload
from tests.security.test_isolation_round11 import SERVER_NOFILE, _client, _nofile
from tests.security.test_runtime_limits import _deploy, _server

ATTACKER = "111111111111"
VICTIM = "222222222222"

# Opens `count` idle TCP connections to the endpoint and holds them for `hold` seconds in a thread that outlives the
# invocation (a warm environment is not frozen here); answers how many it opened.
HOARDER = """
import os, socket, threading, time
from urllib.parse import urlsplit

HELD = []

def handler(event, context):
    url = urlsplit(os.environ["AWS_ENDPOINT_URL"])
    for _ in range(event["count"]):
        try:
            HELD.append(socket.create_connection((url.hostname, url.port), timeout=2))
        except OSError:
            break
    threading.Thread(target=lambda: (time.sleep(event["hold"]), [s.close() for s in HELD]), daemon=True).start()
    return {"held": len(HELD)}
"""

# Another account's ordinary handler: one request to the endpoint (the address it is given); answers the status line
# it got, or the error that stopped it.
CALLER = """
import os, socket
from urllib.parse import urlsplit

def handler(event, context):
    url = urlsplit(os.environ["AWS_ENDPOINT_URL"])
    try:
        s = socket.create_connection((url.hostname, url.port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\\r\\nHost: " + url.netloc.encode() + b"\\r\\nConnection: close\\r\\n\\r\\n")
        line = s.recv(64).split(b"\\r\\n")[0].decode()
        s.close()
        return {"answered": line.startswith("HTTP/1.1"), "line": line}
    except OSError as e:
        return {"answered": False, "line": repr(e)}
"""


@pytest.fixture
def root_server() -> Iterator[Endpoint]:
    """A root server (a uid per sandbox, so the per-sandbox caps apply) with the common default soft RLIMIT_NOFILE of
    1,024: it may hold 512 connections, 256 of them from sandboxes."""
    if os.geteuid() != 0:
        pytest.skip("sandboxes have a uid of their own, and so per-sandbox connection caps, only under a root server")
    with _nofile(SERVER_NOFILE), _server() as endpoint:
        assert endpoint.health()["isolation"]["available"] is True
        yield endpoint


def test_one_accounts_sandboxes_cannot_take_every_other_accounts_connections(root_server: Endpoint) -> None:
    """Attack: account A runs five functions, each of whose warm environments holds 64 idle connections to the
    endpoint (exactly what the round 11 follow-up allows one sandbox). All sandboxes together may hold half the
    server's connections (`SANDBOX_SHARE`), 256 for a server started with the common soft limit of 1,024 descriptors:
    A's four or five sandboxes take it, and from then on every connection of another account's handler to the endpoint
    is closed at once — B's function cannot call any AWS API for as long as A keeps its environments warm.
    AWS: one function's code cannot deny the service to other accounts; each execution environment is isolated
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), and concurrency — what one account
    may hold — is charged per account (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
    Asserted: while A's sandboxes hold what they could open (each at most its 64), the server refused A's connections
    at A's own budget (gateway/connection_caps.py: per account max(64, sandbox share // 4) = 64 here), never at the
    sandboxes' shared one, and B's handler's request to the endpoint is answered."""
    victim = _deploy(root_server, VICTIM, "caller", CALLER)
    assert payload(victim.invoke(FunctionName="caller", Payload=b"{}"))["answered"] is True  # positive control
    attacker = _deploy(root_server, ATTACKER, "hoarder0", HOARDER)
    held = []
    for i in range(5):
        if i:
            _deploy(root_server, ATTACKER, f"hoarder{i}", HOARDER)
        result = attacker.invoke(FunctionName=f"hoarder{i}", Payload=b'{"count": 80, "hold": 60}')
        held.append(json.loads(result["Payload"].read())["held"])
    # the attack ran into A's own budget (64 for this server), not the sandboxes' shared one (256)
    log = root_server.log.read_text(errors="replace")
    assert f"account {ATTACKER}'s sandboxes hold 64 connections, its limit" in log, held
    assert "sandboxes hold 256 connections, their limit" not in log, held
    outcome = payload(victim.invoke(FunctionName="caller", Payload=b"{}"))
    assert outcome["answered"] is True, outcome


def test_the_sandboxes_connection_budget_is_charged_per_account() -> None:
    """The rule beneath the end-to-end test, at every count (gateway/connection_caps.py, with the sandbox and account
    each connection's link names, `runtime.endpoint_links.Origin`): one account's sandboxes together hold at most
    max(64, sandbox share // 4) connections, each sandbox at most 64, so another account's sandbox is admitted while
    the first is at its cap; a released connection gives the account its room back. AWS: concurrency is charged per
    account (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html)."""
    from lambdaperm.gateway.connection_caps import PER_SANDBOX, ConnectionCaps
    from lambdaperm.runtime.endpoint_links import Origin

    a = [Origin(f"uid {1879048192 + i}", ATTACKER) for i in range(5)]
    b = Origin("uid 1879048197", VICTIM)
    caps = ConnectionCaps(total=2048)
    assert caps.per_account == 256 and caps.sandbox_total == 1024
    tickets = []
    for origin in a:
        admitted = [caps.admit(origin) for _ in range(PER_SANDBOX + 1)]
        assert admitted[-1] is None  # each sandbox: at most 64
        tickets += [t for t in admitted if t is not None]
    assert len(tickets) == 256 and {t.account for t in tickets} == {ATTACKER}  # the account: at most 256
    assert caps.admit(a[4]) is None
    victim = caps.admit(b)
    assert victim is not None and victim.account == VICTIM  # another account's sandbox is still admitted
    caps.release(tickets.pop())
    assert caps.admit(a[4]) is not None  # the account's room is back
    assert caps.admit(None) is not None  # not a sandbox's link: only the total applies


HEAD_BYTES = 16 << 20  # per connection: one header value never ended (more than loopback's socket buffers)
CONNECTIONS = 64  # what one sandbox may hold (PER_SANDBOX), and any local caller


def _rss_mib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def test_an_unfinished_request_head_does_not_grow_the_server_without_bound(tmp_path: Path) -> None:
    """Attack (slowloris without the slow): within one sandbox's cap of 64 connections (or as any local caller), send
    a request line and then one header value that never ends. uvicorn's httptools protocol sets no bound on a request
    head (its `h11_max_incomplete_event_size` applies to h11 only) and the parser keeps the unfinished value, so the
    server's one process grows by every byte sent — measured 64 connections, 30 s, 1,095 MiB sent: the server went
    from 182 to 1,472 MiB and another account's GetCallerIdentity took 7.5 s; kept up, the host's memory is gone and
    every account's service with it (the server is in no memory cgroup). AWS: one function's code cannot deny the
    service to other accounts (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html); AWS's
    HTTP front ends refuse an oversized request head (Lambda function URLs and API Gateway: request line and headers
    at most 10 KB, https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html). Asserted: after 64
    connections each sent 16 MiB of one header, the server grew by less than 256 MiB (gateway/request_heads.py: a head
    beyond 64 KiB is answered S3's 400 RequestHeaderSectionTooLarge and its connection closed), and another account's
    call is answered."""
    server = start_server(tmp_path / "state", tmp_path)
    socks: list[socket.socket] = []
    try:
        sts = _client(server, "sts", VICTIM, 30)
        assert sts.get_caller_identity()["Account"] == VICTIM
        before = _rss_mib(server.proc.pid)
        host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
        for _ in range(CONNECTIONS):
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: ")
            s.setblocking(False)
            socks.append(s)
        chunk = b"a" * 65536
        sent = dict.fromkeys(range(CONNECTIONS), 0)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(n < HEAD_BYTES for n in sent.values()):
            for i, s in enumerate(socks):
                if sent[i] < HEAD_BYTES:
                    try:
                        sent[i] += s.send(chunk)
                    except BlockingIOError:
                        pass
                    except OSError:  # the server closed it: a refused head stops the sender
                        sent[i] = HEAD_BYTES
        # the server has read what it will read once its size stops growing (bounded wait)
        wait, last = time.monotonic() + 20, -1
        while time.monotonic() < wait and (now := _rss_mib(server.proc.pid)) != last:
            last = now
            time.sleep(1)
        grown = last - before
        assert grown < 256, f"the server grew by {grown} MiB holding unfinished request heads"
        assert sts.get_caller_identity()["Account"] == VICTIM
    finally:
        for s in socks:
            s.close()
        stop_server(server)


def _exchange(sock: socket.socket, head: bytes) -> bytes:
    """Sends one request head (no body) and reads its whole answer (Content-Length framed)."""
    sock.sendall(head)
    answer = b""
    while b"\r\n\r\n" not in answer:
        part = sock.recv(65536)
        if not part:
            return answer
        answer += part
    top, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in top.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    while len(body) < length and (part := sock.recv(65536)):
        body += part
    return top + b"\r\n\r\n" + body


def test_a_request_head_beyond_the_bound_is_refused_and_one_within_it_is_served(tmp_path: Path) -> None:
    """The bound of gateway/request_heads.py refuses only what it must: on one keep-alive connection three requests
    whose heads hold a 40 KiB header each (within the 64 KiB bound) are each answered by the endpoint (not the refusal:
    the count restarts with every request), then a head of 100 KiB is answered S3's 400 RequestHeaderSectionTooLarge
    (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) and the connection is closed."""
    server = start_server(tmp_path / "state", tmp_path)
    try:
        host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
        with socket.create_connection((host, port), timeout=10) as s:
            for _ in range(3):
                answer = _exchange(s, b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (40 << 10) + b"\r\n\r\n")
                assert answer.startswith(b"HTTP/1.1 "), answer[:200]
                assert b"RequestHeaderSectionTooLarge" not in answer, answer[:200]
            answer = _exchange(s, b"GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (100 << 10) + b"\r\n\r\n")
            assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
            assert b"<Code>RequestHeaderSectionTooLarge</Code>" in answer, answer[:300]
            assert s.recv(1) == b""  # closed by the server
        assert _client(server, "sts", VICTIM, 10).get_caller_identity()["Account"] == VICTIM
        log = server.log.read_text(errors="replace")
        assert "Traceback" not in log
    finally:
        stop_server(server)


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def _udp_inodes(pid: int) -> set[str]:
    inodes = set()
    for table in ("udp", "udp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                inodes.add(line.split()[9])
    return inodes


def test_a_udp_flood_to_the_endpoint_port_reaches_no_code_of_the_server(tmp_path: Path) -> None:
    """Attack: flood the endpoint's port with UDP datagrams (from a handler, or any local caller). Held: the server's
    process holds no UDP socket at all (its socket descriptors are none of the host's UDP sockets), so the datagrams
    reach no code of the server — the kernel answers ICMP port unreachable — and another account's call is answered
    at once afterwards. AWS: one function's code cannot deny the service to other accounts
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html)."""
    server = start_server(tmp_path / "state", tmp_path)
    try:
        sts = _client(server, "sts", VICTIM, 10)
        assert sts.get_caller_identity()["Account"] == VICTIM
        sockets = _socket_inodes(server.proc.pid)
        assert sockets, "the server holds sockets (its listener at least)"
        assert not sockets & _udp_inodes(server.proc.pid)
        port = int(server.url.rsplit(":", 1)[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for _ in range(20_000):
                with contextlib.suppress(OSError):  # ECONNREFUSED: the ICMP answer of an earlier datagram
                    udp.sendto(b"x" * 1024, ("127.0.0.1", port))
        assert sts.get_caller_identity()["Account"] == VICTIM
    finally:
        stop_server(server)
