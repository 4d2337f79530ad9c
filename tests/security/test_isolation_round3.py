"""Isolation review, round 3: a function author of one account attacks, from inside the handler's sandbox, the
other accounts and the server, through real boto3 and raw HTTP against a real `lambdaperm serve`
(docs/security.md, "Runtime isolation"; issue 7, class 8). The server runs as the test's user and, when that is
root, as a throwaway unprivileged uid: the sandbox differs in the two modes (a uid of its own per sandbox vs. a user
namespace of the server's uid).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts the secure outcome (on AWS every execution environment is a microVM with a kernel of its own:
nothing one handler holds is counted against another's).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambdaperm.runtime.kernel_budgets import MAX_SANDBOXES
from tests.e2e.conftest import Endpoint, free_port, stop_server
from tests.e2e.lambda_helpers import payload
from tests.security import test_runtime_isolation
from tests.security.test_runtime_limits import SANDBOX_MODES, _deploy, sandboxed_server

ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


UNPRIVILEGED = "an unprivileged user namespace"  # the health endpoint's words for the non-root sandbox


def _unprivileged_sandbox(server: Endpoint) -> bool:
    return UNPRIVILEGED in str(server.health()["isolation"]["mechanism"])


# ---------------------------------------------------------------- 1. kernel budgets counted per user

KERNEL = """
import ctypes, errno, os, signal

libc = ctypes.CDLL(None, use_errno=True)
librt = ctypes.CDLL("librt.so.1", use_errno=True)
HELD = []  # what the hog keeps while its worker stays warm


class MqAttr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long),
                ("curmsgs", ctypes.c_long), ("pad", ctypes.c_long * 4)]


class SigVal(ctypes.Union):
    _fields_ = [("i", ctypes.c_int), ("p", ctypes.c_void_p)]


def inotify():
    fd = libc.inotify_init1(0)
    return fd >= 0


def mqueue(n=[0]):
    n[0] += 1
    attr = MqAttr(0, 10, 8192, 0)
    fd = librt.mq_open(f"/q{os.getpid()}-{n[0]}".encode(), os.O_CREAT | os.O_RDWR, 0o600, ctypes.byref(attr))
    return fd >= 0


libc.pthread_self.restype = ctypes.c_ulong
libc.pthread_sigqueue.argtypes = [ctypes.c_ulong, ctypes.c_int, SigVal]


def sigpending():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGRTMIN})  # to this thread: queued, never delivered
    failed = libc.pthread_sigqueue(libc.pthread_self(), int(signal.SIGRTMIN), SigVal(1))
    ctypes.set_errno(failed)
    return failed == 0


def handler(event, context):
    take = globals()[event["kind"]]
    if event["step"] == "probe":
        ok = take()
        return {"ok": ok, "errno": None if ok else errno.errorcode.get(ctypes.get_errno())}
    made = 0
    while made < event["bound"] and take():  # the kernel's budget ends it (bounded either way)
        made += 1
    return {"made": made, "errno": errno.errorcode.get(ctypes.get_errno())}
"""

# How many the hog tries at most: above the usual per-user defaults (fs.inotify.max_user_instances 128,
# RLIMIT_MSGQUEUE 819,200 bytes = about 9 queues of 10 x 8 KiB, RLIMIT_SIGPENDING ~ 4 x RAM pages / ...), bounded.
BOUNDS = {"inotify": 4096, "mqueue": 4096, "sigpending": 1 << 20}


@pytest.mark.parametrize("kind", ["inotify", "mqueue", "sigpending"])
def test_a_handler_cannot_exhaust_another_accounts_kernel_budget(server: Endpoint, kind: str) -> None:
    """Attack: account A's handler takes every inotify instance, POSIX message queue byte or queued real-time
    signal the kernel allows (its warm worker keeps them), so that account B's handler — which may use them
    (a file watcher, a queue, a POSIX timer) — and the server's own OS user can no longer get one. These
    budgets are counted per user: as root every sandbox has a uid of its own (held); as an ordinary user every
    sandbox is a user namespace of the server's uid, and the kernel charges a namespace's count to its creator
    in the parent namespace too (kernel/ucount.c: inc_ucount, inc_rlimit_ucounts walk up the namespaces), so
    one sandbox empties the budget of every sandbox and of the server's uid. Measured (bwrap 0.8.0, Linux 6.x):
    128 inotify instances, 8 queues of 80 KiB, 96,362 pending signals, after which another sandbox of the same
    server gets EMFILE / EMFILE / EAGAIN, and so does the server's uid outside (inotify, signals).
    Rule (threat model, docs/security.md "Runtime isolation"; Lambda gives each execution environment its own
    kernel, https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): one account's handler
    cannot deny another's a resource of its own environment. Secure outcome: B's handler still gets one.
    Fixed (unprivileged mode): each sandbox gets a fair share of the server uid's budgets (kernel_budgets.py)."""
    victim = _deploy(server, VICTIM, f"victim-{kind}", KERNEL)
    attacker = _deploy(server, ATTACKER, f"hog-{kind}", KERNEL)
    before = payload(victim.invoke(FunctionName=f"victim-{kind}", Payload=json.dumps({"kind": kind, "step": "probe"})))
    assert before.get("ok") is True, f"the positive control failed: the victim cannot use {kind} at all: {before}"
    hog = payload(
        attacker.invoke(
            FunctionName=f"hog-{kind}", Payload=json.dumps({"kind": kind, "step": "hog", "bound": BOUNDS[kind]})
        )
    )
    assert hog["made"] < BOUNDS[kind], f"nothing bounds {kind} in a sandbox: {hog}"
    after = payload(victim.invoke(FunctionName=f"victim-{kind}", Payload=json.dumps({"kind": kind, "step": "probe"})))
    assert after["ok"] is True, f"account A's handler ({hog}) left account B's none: {after}"


OUTSIDE = """
import ctypes, os, signal, sys

libc = ctypes.CDLL(None, use_errno=True)
librt = ctypes.CDLL("librt.so.1", use_errno=True)


class MqAttr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long),
                ("curmsgs", ctypes.c_long), ("pad", ctypes.c_long * 4)]


kind = sys.argv[1]
if kind == "inotify":
    ok = libc.inotify_init1(0) >= 0
elif kind == "mqueue":  # the host's IPC namespace: the queue is unlinked at once, nothing stays
    name = f"/lambdaperm-round3-{os.getpid()}".encode()
    ok = librt.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600, ctypes.byref(MqAttr(0, 10, 8192, 0))) >= 0
    if ok:
        librt.mq_unlink(name)
else:  # a queued real-time signal to itself, blocked (sigqueue: EAGAIN when the budget is spent)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGRTMIN})
    libc.sigqueue.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    ok = libc.sigqueue(os.getpid(), int(signal.SIGRTMIN), None) == 0
print("ok" if ok else os.strerror(ctypes.get_errno()))
"""


def _as_server_uid(server: Endpoint, kind: str) -> str:
    """What the server's own OS user gets outside every sandbox: `OUTSIDE` run as the server's uid."""
    uid = os.stat(f"/proc/{server.proc.pid}").st_uid
    command = [sys.executable, "-I", "-S", "-c", OUTSIDE, kind]
    if uid != os.geteuid():  # the throwaway uid cannot reach this interpreter (pyenv under /root): the system's
        if not os.access("/usr/bin/python3", os.X_OK) or not shutil.which("setpriv"):
            pytest.skip("no /usr/bin/python3 or setpriv to run a probe as the server's uid")
        drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--"]
        command = [*drop, "/usr/bin/python3", *command[1:]]
    out = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd="/")
    return (out.stdout or out.stderr).strip()


@pytest.mark.parametrize("kind", ["inotify", "mqueue", "sigpending"])
def test_a_handler_cannot_exhaust_the_servers_own_budget(server: Endpoint, kind: str) -> None:
    """Attack: as above, and the measured starvation of the server's own OS user outside the sandboxes (EMFILE
    for inotify, EAGAIN for queued signals: the kernel charges a sandbox's count to the user namespace's creator).
    Rule (threat model: the server is out of a handler's reach, docs/security.md "Runtime isolation"): the server
    keeps a reserve of its own budgets — every sandbox's share is budget / (max sandboxes + 1). Secure outcome:
    with the hog's warm worker holding what it took, the server's uid still gets one."""
    assert _as_server_uid(server, kind) == "ok", "the positive control failed: the server's uid has none at all"
    attacker = _deploy(server, ATTACKER, f"server-hog-{kind}", KERNEL)
    hog = payload(
        attacker.invoke(
            FunctionName=f"server-hog-{kind}",
            Payload=json.dumps({"kind": kind, "step": "hog", "bound": BOUNDS[kind]}),
        )
    )
    assert hog["made"] < BOUNDS[kind], f"nothing bounds {kind} in a sandbox: {hog}"
    assert _as_server_uid(server, kind) == "ok", f"account A's handler ({hog}) left the server's own uid none"


def test_more_functions_than_sandboxes_cannot_exhaust_a_kernel_budget(server: Endpoint) -> None:
    """Attack: a share per sandbox only divides the budget; the attacker deploys more functions than the server has
    shares (``MAX_SANDBOXES`` + 1 hogs, each keeping its inotify instances in its warm worker). Rule (as above):
    one account's handlers cannot deny another's, nor the server, a resource of its own. Secure outcome: at most
    ``MAX_SANDBOXES`` sandboxes live at once in an unprivileged server (the least recently used idle one is closed
    to start another, releasing what it held), so account B's handler and the server's uid still get one."""
    attacker = server.client("lambda", key=ATTACKER, region=REGION)
    made = []
    for i in range(MAX_SANDBOXES + 1):
        _deploy(server, ATTACKER, f"many-hog-{i}", KERNEL)
        event = {"kind": "inotify", "step": "hog", "bound": BOUNDS["inotify"]}
        made.append(payload(attacker.invoke(FunctionName=f"many-hog-{i}", Payload=json.dumps(event))))
    assert all(0 < m["made"] < BOUNDS["inotify"] for m in made), f"a hog was unbounded or had none: {made}"
    victim = _deploy(server, VICTIM, "many-victim", KERNEL)
    after = payload(victim.invoke(FunctionName="many-victim", Payload=json.dumps({"kind": "inotify", "step": "probe"})))
    assert after["ok"] is True, f"{len(made)} hogs of account A ({made}) left account B's handler none: {after}"
    assert _as_server_uid(server, "inotify") == "ok", f"{len(made)} hogs of account A left the server's uid none"


RAISE = """
import ctypes, errno, resource

def handler(event, context):
    raised, wrote = [], []
    for name in ("RLIMIT_MSGQUEUE", "RLIMIT_SIGPENDING", "RLIMIT_NPROC"):
        which = getattr(resource, name)
        soft, hard = resource.getrlimit(which)
        try:
            resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            raised.append(name)
        except (OSError, ValueError):
            try:
                resource.setrlimit(which, (hard, hard))  # up to its own hard limit is allowed; never above
            except (OSError, ValueError):
                pass
        if resource.getrlimit(which)[1] > hard:
            raised.append(name + " hard")
    for name in ("max_inotify_instances", "max_inotify_watches", "max_fanotify_groups", "max_user_namespaces"):
        try:
            with open(f"/proc/sys/user/{name}", "w") as f:
                f.write("1000000")
            wrote.append(name)
        except OSError:
            pass
    caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapEff", "CapPrm", "CapBnd", "CapAmb"))]
    return {"raised": raised, "wrote": wrote, "caps": caps}
"""


def test_a_handler_cannot_raise_its_kernel_budgets(server: Endpoint) -> None:
    """Attack: the handler raises what bounds its sandbox's share — setrlimit of RLIMIT_MSGQUEUE,
    RLIMIT_SIGPENDING (and RLIMIT_NPROC) to unlimited, or writes /proc/sys/user/max_inotify_instances, watches,
    fanotify groups, user namespaces. Rule: raising a hard rlimit needs CAP_SYS_RESOURCE in the initial user
    namespace, writing a user namespace's counts needs it in that namespace; the sandbox holds no capability, not
    even in its bounding set (setrlimit(2), kernel/ucount.c). Secure outcome: every attempt fails, no capability."""
    lam = _deploy(server, ATTACKER, "raise-budgets", RAISE)
    seen = payload(lam.invoke(FunctionName="raise-budgets", Payload=b"{}"))
    assert seen["raised"] == [] and seen["wrote"] == [], f"a handler raised its own kernel budget: {seen}"
    assert all(int(c, 16) == 0 for c in seen["caps"]), f"the handler holds a capability: {seen}"


# ---------------------------------------------------------------- 2. a function URL response the HTTP layer cannot send

URL_HANDLER = """
def handler(event, context):
    case = (event.get("queryStringParameters") or {}).get("case", "")
    return {
        "status-101": {"statusCode": 101, "body": "x"},
        "status-99": {"statusCode": 99, "body": "x"},
        "status-text": {"statusCode": "abc", "body": "x"},
        "header-crlf": {"statusCode": 200, "headers": {"X-A": "a\\r\\nSet-Cookie: planted=1"}, "body": "x"},
        "header-name": {"statusCode": 200, "headers": {"Bad Name": "v"}, "body": "x"},
        "header-unicode": {"statusCode": 200, "headers": {"X-A": "\\u2603"}, "body": "x"},
        "headers-list": {"statusCode": 200, "headers": ["X-A"], "body": "x"},
        "cookie-crlf": {"statusCode": 200, "cookies": ["a=1\\r\\nX-Planted: 1"], "body": "x"},
        "base64": {"statusCode": 200, "isBase64Encoded": True, "body": "!!!"},
    }.get(case, {"statusCode": 201, "headers": {"X-Seen": "yes"}, "body": "fine"})
"""
URL_CASES = [
    "status-101",
    "status-99",
    "status-text",
    "header-crlf",
    "header-name",
    "header-unicode",
    "headers-list",
    "cookie-crlf",
    "base64",
]


def _raw_get(url: str, path: str) -> bytes:
    """The raw bytes of the answer (or none), so that an interim status or a dropped connection shows."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


def test_a_function_url_response_the_http_layer_cannot_send_is_502(server: Endpoint) -> None:
    """Attack: account A's handler, behind its function URL, returns a response the HTTP layer cannot send as
    the final answer: status 101 (sent as is: the client's connection switches protocol) or 99, a non-numeric
    status, a header or cookie carrying CRLF (response splitting), a header name with a space, a header value out
    of latin-1, ``headers`` as a list, a body declared base64 that is not. Measured before the fix: 101 was sent,
    CRLF and bad names dropped the connection with no answer, the rest answered a bare 500 and wrote tracebacks into
    the server's log (whose readers are not the function's author). Rule: Lambda answers a malformed function URL
    response 502 ``{"Message": "Internal Server Error"}``
    (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads; a status or format it cannot
    use: github.com/awsdocs/aws-lambda-developer-guide/issues/430); house rule: never a 500, never a traceback."""
    lam = _deploy(server, ATTACKER, "url-shapes", URL_HANDLER)
    url_id = lam.create_function_url_config(FunctionName="url-shapes", AuthType="NONE")["FunctionUrl"]
    url_id = url_id.split("//", 1)[1].split(".", 1)[0]
    lam.add_permission(
        FunctionName="url-shapes",
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName="url-shapes",
        StatementId="invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
    fine = _raw_get(server.url, f"/_lambdaperm/url/{url_id}/?case=fine")
    assert fine.startswith(b"HTTP/1.1 201 ") and b"x-seen: yes" in fine.lower(), fine  # positive control
    answers = {case: _raw_get(server.url, f"/_lambdaperm/url/{url_id}/?case={case}") for case in URL_CASES}
    wrong = {
        case: a[:120]
        for case, a in answers.items()
        if not (a.startswith(b"HTTP/1.1 502 ") and a.endswith(b'{"Message": "Internal Server Error"}'))
    }
    assert not wrong, f"a malformed handler response was not Lambda's 502: {wrong}"
    assert not any(b"planted" in a.lower() for a in answers.values())
    assert "Traceback" not in server.log.read_text(errors="replace"), "a handler's response crashed the server"


# ---------------------------------------------------------------- 3. another server's handler on this server's port

IMPOSTOR = """
import os, socket, threading

CAUGHT = "/tmp/caught"

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
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind(("::1", event["port"]))
    s.listen()
    threading.Thread(target=serve, args=(s,), daemon=True).start()  # the warm worker is never frozen
    return {"listening": True}
"""


def _ipv6_loopback() -> bool:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        try:
            s.bind(("::1", 0))
        except OSError:
            return False
    return True


def test_another_servers_handler_cannot_stand_in_for_this_servers_endpoint(
    server: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: two lambdaperm servers on one host (two users, two sets of accounts). A handler of server 1 listens
    on ``[::1]:P`` before server 2 starts on ``127.0.0.1:P``. Server 2's endpoint guard (round 2) binds the v6
    wildcard at its first Invoke; the bind fails (the port is taken) and the guard skips the family as if the
    server's own listener covered it. Every client of server 2 that reaches it as ``localhost`` (``::1`` first)
    then sends its signed requests to server 1's handler. Rule (threat model, docs/security.md "Runtime
    isolation"): a handler may call an endpoint, never stand in for one. Secure outcome: server 2 does not serve
    (it exits naming the port held elsewhere), or its client's request never reaches the handler."""
    if not _ipv6_loopback():
        pytest.skip("no IPv6 loopback: nobody can listen at [::1]")
    port = free_port()
    lam = _deploy(server, ATTACKER, "other-impostor", IMPOSTOR)
    assert payload(lam.invoke(FunctionName="other-impostor", Payload=json.dumps({"step": "listen", "port": port})))
    home = Path(tempfile.mkdtemp(prefix="lambdaperm-round3-"))
    second: Endpoint | None = None
    try:
        monkeypatch.setattr(test_runtime_isolation, "free_port", lambda: port)
        (home / "state").mkdir()
        with contextlib.suppress(RuntimeError):  # refused to start: the secure outcome
            second = test_runtime_isolation._start(home / "state", home / "server.log")
        if second is not None:
            victim = second.client("lambda", key=VICTIM, region=REGION)
            _deploy(second, VICTIM, "plain", "def handler(e, c):\n    return 1\n")
            victim.invoke(FunctionName="plain")  # the second server's runtime (and guard) exists from here
            other = boto3.client(
                "sqs",
                endpoint_url=f"http://[::1]:{port}",
                region_name=REGION,
                aws_access_key_id=VICTIM,
                aws_secret_access_key="test",
                config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=5),
            )
            with contextlib.suppress(BotoCoreError, ClientError):
                other.list_queues()
        caught = payload(lam.invoke(FunctionName="other-impostor", Payload=json.dumps({"step": "read"})))["caught"]
        assert second is None or VICTIM not in caught, (
            f"server 2's client was answered by server 1's handler: {caught[:300]}"
        )
    finally:
        if second is not None:
            stop_server(second)
        shutil.rmtree(home, ignore_errors=True)
