"""Isolation review, round 13: two accounts' handlers talking to each other over the network the sandboxes share,
with real boto3 against a real `lambdaperm serve` (docs/security.md, "Runtime isolation"; issue 7, class 8).

Threat model: handler code is untrusted with respect to every other account. On AWS each execution environment has
a network of its own: environments reach the internet (or a VPC the function is attached to), never another
account's environment on a local address (https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/
lambda-isolation-technologies.html, https://docs.aws.amazon.com/lambda/latest/dg/foundation-networking.html).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Endpoint
from tests.security.handler_probes import deploy, invoke, package
from tests.security.test_runtime_limits import SANDBOX_MODES, sandboxed_server

ATTACKER = "111111111111"
VICTIM = "222222222222"
REGION = "us-east-1"

# The victim's handler runs a helper only its own environment is meant to reach (a pattern as common as a local
# database, a headless browser's debugging port, or a Lambda extension's localhost API): a thread (which keeps running
# in the warm environment between invocations, as documented in round 3) answers every connection to a loopback TCP
# port and to an abstract Unix socket with the secret it was given, and records what the peer sent. Invoked with
# {"secret": …} it starts listening and answers where; invoked with {"report": true} it answers what it received.
LISTENER = """
import socket, threading

RECEIVED = []
WHERE = {}

def _serve(server, secret):
    while True:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            try:
                RECEIVED.append(conn.recv(4096).decode("utf-8", "replace"))
            except OSError:
                pass
            conn.sendall(secret.encode())

def _own(family, address):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(address)
        s.sendall(b"self")
        return s.recv(4096).decode()

def handler(event, context):
    if event.get("report"):  # the positive control: A's own code reaches its own listeners
        own = [_own(socket.AF_INET, ("127.0.0.1", WHERE["port"])), _own(socket.AF_UNIX, "\\0" + WHERE["abstract"])]
        return {"received": RECEIVED, "own": own}
    if not WHERE:
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(8)
        WHERE["port"] = tcp.getsockname()[1]
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind("\\0" + event["abstract"])
        unix.listen(8)
        WHERE["abstract"] = event["abstract"]
        for server in (tcp, unix):
            threading.Thread(target=_serve, args=(server, event["secret"]), daemon=True).start()
    return WHERE
"""

# The attacker's handler: connects to where the victim's code listens, sends a message and reads the answer; it also
# reports whether the victim's listeners are listed in its own /proc/net (the host's network namespace lists them).
CONNECTOR = """
import socket

def _talk(family, address, message):
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(address)
            s.sendall(message.encode())
            return {"connected": True, "answer": s.recv(4096).decode("utf-8", "replace")}
    except OSError as e:
        return {"connected": False, "error": repr(e)}

def _listed(path, needle):
    try:
        with open(path) as f:
            return needle in f.read()
    except OSError:
        return False

def handler(event, context):
    return {
        "tcp": _talk(socket.AF_INET, ("127.0.0.1", event["port"]), event["message"]),
        "abstract": _talk(socket.AF_UNIX, "\\0" + event["abstract"], event["message"]),
        "listed": {"tcp": _listed("/proc/net/tcp", ":%04X 00000000:0000 0A" % event["port"]),
                   "abstract": _listed("/proc/net/unix", "@" + event["abstract"])},
    }
"""


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _deploy(server: Endpoint, account: str, name: str, code: str) -> Any:
    return deploy(server, account, name, package(code), region=REGION, timeout=30)


def test_a_handler_cannot_reach_another_accounts_loopback_service(server: Endpoint) -> None:
    """Attack (another account's environment-local service): the victim's handler runs a helper on its loopback — a TCP
    port of 127.0.0.1 and an abstract Unix socket — from a thread that outlives its invocation, trusting, as it may on
    AWS, that only its own environment reaches its loopback. The attacker's handler (the victim granted it nothing)
    connects to both, sends data and reads the answer; the host's network namespace even lists the victim's listeners
    in the attacker's /proc/net. On AWS each execution environment's network is its own: it reaches the internet or its
    VPC, and its loopback is its own (a namespace of its own with its own network interfaces, iptables isolating
    connections between microVMs: https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/
    lambda-isolation-technologies.html); two accounts' data meet only through authorized calls. Secure outcome: the
    attacker's connections are refused and the victim's code receives nothing from it. Positive control: the victim's
    own code reaches its listeners."""
    secret = "victim-secret-" + secrets.token_hex(8)
    message = "attacker-data-" + secrets.token_hex(8)
    abstract = "lp-r13-" + secrets.token_hex(8)
    victim = _deploy(server, VICTIM, "local-helper", LISTENER)
    where = invoke(victim, "local-helper", {"secret": secret, "abstract": abstract})
    attacker = _deploy(server, ATTACKER, "neighbour", CONNECTOR)
    seen = invoke(attacker, "neighbour", {"port": where["port"], "abstract": where["abstract"], "message": message})
    report = invoke(victim, "local-helper", {"report": True})
    assert report["own"] == [secret, secret], report  # the control: the victim's listeners were up when A tried
    reached = {channel: seen[channel] for channel in ("tcp", "abstract") if seen[channel]["connected"]}
    assert not reached, (
        f"the attacker's handler reached the victim's loopback service: {reached} (listed: {seen['listed']})"
    )
    assert message not in report["received"], "the victim's handler received the attacker's data"
