"""Isolation review, round 2: a function author of one account attacks, from inside the handler's sandbox, the
other accounts and the server, through real boto3 against a real `lambdaperm serve` (docs/security.md, "Runtime
isolation"; issue 7, class 8). The server runs as the test's user and, when that is root, as a throwaway
unprivileged uid: the sandbox differs in the two modes (a uid of its own per sandbox vs. a user namespace).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts the secure outcome.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import payload, zip_of
from tests.security.test_runtime_limits import SANDBOX_MODES, _deploy, sandboxed_server

ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


# ---------------------------------------------------------------- 1. the endpoint's port on the other loopback

IMPOSTOR = """
import os, socket, threading

CAUGHT = "/tmp/caught"
ADDRESSES = [(socket.AF_INET6, "::1"), (socket.AF_INET6, "::"), (socket.AF_INET, "127.0.0.1"),
             (socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::ffff:127.0.0.1")]

def serve(listener):
    while True:
        conn, _ = listener.accept()
        data = conn.recv(65536)
        with open(CAUGHT, "ab") as f:
            f.write(data)
        conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: 2\\r\\n"
                     b"Connection: close\\r\\n\\r\\n{}")
        conn.close()

def handler(event, context):
    if event["step"] == "read":
        return {"caught": open(CAUGHT, "rb").read().decode("latin-1") if os.path.exists(CAUGHT) else ""}
    port = int(os.environ["AWS_ENDPOINT_URL"].rsplit(":", 1)[1])
    bound = {}
    for family, address in ADDRESSES:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6 and address == "::":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            s.bind((address, port))
            s.listen()
        except OSError as e:
            bound[address] = os.strerror(e.errno)
            s.close()
            continue
        bound[address] = "listening"
        threading.Thread(target=serve, args=(s,), daemon=True).start()  # the warm worker is never frozen
    return {"bound": bound}
"""


def _ipv6_loopback() -> bool:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        try:
            s.bind(("::1", 0))
        except OSError:
            return False
    return True


def test_a_handler_cannot_impersonate_the_endpoint_on_the_other_loopback_address(server: Endpoint) -> None:
    """Attack: the endpoint listens on 127.0.0.1:<port>; the sandbox shares the host's network, so account A's
    handler binds [::1]:<port> (and [::], the IPv4 wildcard, a v4-mapped address, with SO_REUSEADDR/SO_REUSEPORT)
    and leaves a thread accepting there (a warm worker is never frozen). A client that reaches the endpoint as
    ``localhost`` (or a function URL as ``<id>.lambda-url.<region>.localhost``), which resolves ::1 first on most
    hosts, then talks to the handler: account B's signed requests (Authorization header with its access key id and
    signature, replayable to the real endpoint within SigV4's 5 minutes, and their bodies) are delivered to account
    A, which answers them as it likes. Measured: the handler captured B's signed SQS request and answered 200.
    Rule (threat model, docs/security.md "Runtime isolation"): a handler is untrusted with respect to every other
    account — it may call the endpoint, never stand in for it. Secure outcome: no handler can listen on the
    endpoint's port at any loopback address, and B's request never reaches A's handler."""
    lam = _deploy(server, ATTACKER, "impostor", IMPOSTOR)
    bound = payload(lam.invoke(FunctionName="impostor", Payload=json.dumps({"step": "listen"})))["bound"]
    port = urlsplit(server.url).port
    if _ipv6_loopback():  # what a client whose "localhost" resolves to ::1 first connects to
        other = boto3.client(
            "sqs",
            endpoint_url=f"http://[::1]:{port}",
            region_name=REGION,
            aws_access_key_id=VICTIM,
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=5),
        )
        with contextlib.suppress(BotoCoreError, ClientError):  # refused: nobody listens there (or an error)
            other.list_queues()
    # The handler's thread writes what it caught before it answers: once list_queues returned, it is on disk.
    caught = payload(lam.invoke(FunctionName="impostor", Payload=json.dumps({"step": "read"})))["caught"]
    assert "listening" not in bound.values(), f"the handler listens on the endpoint's port: {bound}"
    assert VICTIM not in caught, f"account B's signed request reached account A's handler: {caught[:400]}"


# ---------------------------------------------------------------- 2. the unzipped copy another account shares

SHARED = """
import os, uuid

WORKER = uuid.uuid4().hex  # one per execution environment

def handler(event, context):
    root = os.environ["LAMBDA_TASK_ROOT"]
    marker = open(os.path.join(root, "app.py")).read()[-40:]
    return {"names": sorted(os.listdir(root)), "worker": WORKER, "marker": marker}
"""


def test_another_accounts_update_and_delete_leave_a_shared_copy_to_its_warm_workers(server: Endpoint) -> None:
    """Attack: account A deploys the same package as account B (same CodeSha256: the runtime unzips one copy per
    sha and mounts it into both accounts' sandboxes), waits until B has a warm worker, then updates its own code
    and deletes its function, so that the runtime's deletion of unzipped copies (review round 1) runs for that sha.
    Were the copy deleted under B's warm worker, B's function would lose its code (every later warm invoke fails):
    one account breaking another's function. Rule: a copy lives while any worker or invocation references it (docs/
    security.md, "Limits (review round 1)"). Secure outcome: B's warm worker still reads its whole package."""
    code = SHARED + "\n# shared-package-marker\n"
    lam_b = _deploy(server, VICTIM, "shared-b", code)
    lam_a = _deploy(server, ATTACKER, "shared-a", code)
    first = payload(lam_b.invoke(FunctionName="shared-b"))
    assert first["names"] == ["app.py"], first
    payload(lam_a.invoke(FunctionName="shared-a"))
    lam_a.update_function_code(FunctionName="shared-a", ZipFile=zip_of({"app.py": SHARED}))
    payload(lam_a.invoke(FunctionName="shared-a"))  # A's old worker is retired, its references released
    lam_a.delete_function(FunctionName="shared-a")
    second = payload(lam_b.invoke(FunctionName="shared-b"))
    assert second["worker"] == first["worker"], "B's worker was not kept warm: the attack was not exercised"
    assert second["names"] == ["app.py"] and "shared-package-marker" in second["marker"], second
