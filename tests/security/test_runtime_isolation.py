"""Attack class 8, runtime isolation: a Lambda handler is untrusted with respect to every other account and to
the server (docs/security.md, "Runtime isolation"). A handler of account A deploys through real boto3 against a
real `lambdaperm serve` and tries what an attacker would: find the state directory (its own /proc, its parent's
cwd, cmdline and environ, the health endpoint, well-known places), read the state database (every account's
secret keys), read another account's warm worker's /proc/<pid>/environ (its role credentials) and code, write
into the code store, signal the server. Each attempt must fail; the same handler can read its own code and
environment (the positive control). The server runs as the user running the tests and, when that is root, also
as a throwaway unprivileged uid (`setpriv`), so that the isolation is shown to hold without root's privileges.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Endpoint, free_port, stop_server
from tests.e2e.lambda_helpers import make_role, payload, zip_of

try:  # the structural oracle (tests/structural): stop_server checks what it recorded
    from tests.structural.check import oracle_env
except ImportError:  # pragma: no cover - a tree without the oracle

    def oracle_env(server_log: Path) -> dict[str, str]:
        return {}


ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"
CANARY = f"server-canary-{uuid.uuid4().hex}"  # in the server's environment only
VICTIM_MARK = f"victim-code-{uuid.uuid4().hex}"  # in the victim's code only
ATTACKER_MARK = f"attacker-code-{uuid.uuid4().hex}"

ATTACK = """
import glob, json, os, re, stat, urllib.request

MARK = "@MARK@"
SKIP = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64")
NEVER = ("/proc", "/sys", "/dev")  # /proc is read below, entry by entry; devices and kernel files may block


def slurp(path, limit=1 << 22):
    with open(path, "rb") as f:
        return f.read(limit)


def attempt(fn):
    try:
        return ["ok", fn()]
    except Exception as e:
        return ["denied", type(e).__name__]


def paths_in(text):
    return {t.rstrip("/") for t in re.split(r"[\\s\\x00=:,'\\"()\\[\\]{}]+", text) if t.startswith("/")}


def handler(event, context):
    needles = event["needles"]
    skip = SKIP + tuple(event["skip"])  # the interpreter: large, and public
    found = {n: [] for n in needles}
    def search(where, data):
        for n in needles:
            if n.encode() in data:
                found[n].append(where)
        return len(data)

    # 1. Where is the state? Every way a handler can look.
    candidates = set(event["known_paths"])
    for link in ("/proc/self/cwd", "/proc/self/root", "/proc/1/cwd", "/proc/1/root",
                 f"/proc/{os.getppid()}/cwd", f"/proc/{os.getppid()}/root", "/proc/self/fd/1", "/proc/self/fd/2"):
        try:
            candidates |= paths_in(os.readlink(link))
        except OSError:
            pass
    for f in ("/proc/self/cmdline", "/proc/self/environ", "/proc/self/mountinfo", "/proc/1/cmdline",
              "/proc/1/environ", f"/proc/{os.getppid()}/cmdline", f"/proc/{os.getppid()}/environ"):
        try:
            candidates |= paths_in(slurp(f).decode("utf-8", "replace"))
        except OSError:
            pass
    health = urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/_lambdaperm/health", timeout=5).read()
    candidates |= paths_in(health.decode())
    candidates |= {".lambdaperm", "/.lambdaperm", "/root/.lambdaperm", "/home", "/root", "/tmp", "/var", "/work",
                   "/srv", "/opt", "/run", "/mnt"}
    candidates |= set(glob.glob("/tmp/lambdaperm-*")) | set(glob.glob("/tmp/pytest-of-*"))

    # 2. Read everything readable under every candidate (and the whole visible tree) looking for secrets.
    opened = {}
    roots = {c for c in candidates if c.startswith("/")} | {"/"}
    budget = [4000]
    for root in sorted(roots):
        for state_file in ("state.db", "state.db-wal"):
            path = os.path.join(root, state_file)
            opened[path] = attempt(lambda p=path: search(p, slurp(p)))
        for top, dirs, files in os.walk(root):
            if top.startswith(NEVER) or top.startswith(skip) and top not in candidates or budget[0] <= 0:
                dirs[:] = []
                continue
            for name in files:
                path = os.path.join(top, name)
                budget[0] -= 1
                try:
                    if stat.S_ISREG(os.stat(path).st_mode):
                        search(path, slurp(path))
                except OSError:
                    pass
    for path in event["known_paths"]:
        opened[path] = attempt(lambda p=path: search(p, slurp(p)) if os.path.isfile(p) else os.listdir(p))

    # 3. Other processes: every /proc entry, and the victim's worker by its host pid.
    procs = {}
    for pid in [p for p in os.listdir("/proc") if p.isdigit()] + [str(p) for p in event["victim_pids"]]:
        for part in ("environ", "cmdline", "mem", "maps"):
            path = f"/proc/{pid}/{part}"
            try:
                search(path, slurp(path, 1 << 16))
            except OSError:
                pass
    for pid in event["victim_pids"] + [event["server_pid"]]:
        procs[pid] = attempt(lambda p=pid: os.kill(p, 0))
    visible = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())

    # 4. Writes: the stored code (mine, the victim's, the archives) and the state directory.
    writes = {}
    for path in event["write_paths"] + [os.path.join(os.environ["LAMBDA_TASK_ROOT"], "app.py")]:
        def write(p=path):
            if os.path.isdir(p):
                fd = os.open(os.path.join(p, "planted.py"), os.O_WRONLY | os.O_CREAT, 0o644)
            else:
                fd = os.open(p, os.O_WRONLY | os.O_APPEND)
            os.close(fd)
        writes[path] = attempt(write)

    # 5. The positive control: my own code and environment, and a private /tmp.
    own_code = slurp(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "app.py")).decode()
    with open("/tmp/scratch", "w") as f:
        f.write("mine")
    own = {"code": MARK in own_code, "key": os.environ["AWS_ACCESS_KEY_ID"],
           "environ": os.environ["AWS_SECRET_ACCESS_KEY"].encode() in slurp("/proc/self/environ"),
           "name": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "tmp": slurp("/tmp/scratch").decode(),
           "listing": sorted(os.listdir(os.environ["LAMBDA_TASK_ROOT"]))}
    return {"found": found, "opened": opened, "procs": procs, "visible": visible, "writes": writes,
            "own": own, "health": json.loads(health), "walked": 4000 - budget[0]}
""".replace("@MARK@", ATTACKER_MARK)

VICTIM_CODE = f"""
import os
MARK = "{VICTIM_MARK}"
def handler(event, context):
    return MARK
"""


# ---------------------------------------------------------------- servers


def _throwaway_uid() -> int:
    """A uid with no passwd entry and no process: nobody's files are its own."""
    used = {int(line.split(":")[2]) for line in Path("/etc/passwd").read_text().splitlines() if line.count(":") >= 2}
    owners = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                owners.add(os.stat(f"/proc/{entry}").st_uid)
    return next(u for u in range(61000, 62000) if u not in used and u not in owners)


def _blocking_ancestor(path: Path) -> Path | None:
    """The topmost directory above `path` that others cannot traverse (e.g. /root, 0700), if any."""
    for ancestor in reversed(path.parents):
        if not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return None


SHIM = """
set -e
blocker="$1"; stash="$2"; shift 2
n=0
while [ "$1" != "--" ]; do mkdir -p "$stash/$n"; mount --bind "$1" "$stash/$n"; n=$((n+1)); shift; done
mount -t tmpfs -o mode=0755 tmpfs "$blocker"
"""


def _unprivileged(command: list[str], uid: int, stash: Path) -> list[str]:
    """`command` as `uid` (no supplementary groups, no capabilities). When the interpreter lives under a
    directory only root can traverse (pyenv under /root), a private mount namespace makes just the
    interpreter's directory (and the repository) reachable there: nothing on the host changes."""
    drop = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all", "--"]
    needed = [Path(os.path.realpath(sys.prefix)), Path(os.path.realpath(sys.base_prefix)), ROOT]
    blockers = {b for b in map(_blocking_ancestor, needed) if b is not None}
    if not blockers:
        return [*drop, *command]
    if len(blockers) > 1:
        pytest.skip(f"the interpreter and the repository sit under several private directories: {blockers}")
    blocker = blockers.pop()
    under = sorted({str(p) for p in needed if blocker in p.parents})
    moves = "".join(f'mkdir -p "{p}"; mount --move "{stash}/{i}" "{p}"\n' for i, p in enumerate(under))
    script = SHIM + moves + 'shift; exec "$@"\n'
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "shim",
        str(blocker),
        str(stash),
        *under,
        "--",
        *drop,
        *command,
    ]


def _start(state: Path, log: Path, *, uid: int | None = None, path_env: str | None = None) -> Endpoint:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "lambdaperm.cli.main",
        "serve",
        "--port",
        str(port),
        "--state",
        str(state),
        "--log-level",
        "info",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["LAMBDAPERM_TEST_CANARY"] = CANARY
    env.update(oracle_env(log))
    if path_env is not None:
        env["PATH"] = path_env
    if uid is not None:
        stash = state.parent / "shim"  # removed with the server's directory
        stash.mkdir()
        command = _unprivileged(command, uid, stash)
        env["HOME"] = str(state)
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    endpoint = Endpoint(f"http://127.0.0.1:{port}", state, proc, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"lambdaperm serve exited: {log.read_text()}")
        try:
            endpoint.health()
            return endpoint
        except OSError:
            time.sleep(0.05)
    stop_server(endpoint)
    raise RuntimeError(f"lambdaperm serve did not become healthy: {log.read_text()}")


@pytest.fixture(scope="module", params=["as-the-test-user", "as-a-throwaway-unprivileged-user"])
def isolated(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    uid = None
    if request.param == "as-a-throwaway-unprivileged-user":
        if os.geteuid() != 0:
            pytest.skip("the tests do not run as root: the server of the other run is already unprivileged")
        if not shutil.which("setpriv") or not shutil.which("unshare"):
            pytest.skip("setpriv/unshare (util-linux) are needed to start the server as another user")
        uid = _throwaway_uid()
    home = Path(tempfile.mkdtemp(prefix="lambdaperm-iso-"))  # under /tmp: reachable by the throwaway uid
    state = home / "state"
    state.mkdir()
    if uid is not None:
        for p in (home, state):
            os.chown(p, uid, uid)
    try:
        endpoint = _start(state, home / "server.log", uid=uid)
        try:
            yield endpoint
        finally:
            stop_server(endpoint)
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------- the attack


def _pids_with_env(entry: bytes) -> list[int]:
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                pids.append(int(pid))
        except OSError:
            pass
    return pids


def _environ(pid: int) -> dict[str, str]:
    items = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(i.decode().split("=", 1) for i in items if b"=" in i)


def _function(server: Endpoint, account: str, name: str, code: str) -> dict[str, Any]:
    role = make_role(server.client("iam", key=account), f"{name}-role")
    lam = server.client("lambda", key=account, region=REGION)
    return dict(
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": zip_of({"app.py": code})},
            Timeout=30,
        )
    )


def _tree(state: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in state.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def attack(isolated: Endpoint) -> dict[str, Any]:
    """Deploy the victim (another account) and keep it warm, then run the attacker's handler once."""
    server = isolated
    assert server.state is not None
    health = server.health()
    assert health["isolation"]["available"] is True, f"runtime isolation unavailable: {health['isolation']}"
    as_root = os.stat(f"/proc/{server.proc.pid}").st_uid == 0
    mode = "a uid of its own via setpriv" if as_root else "unprivileged user namespace"
    assert mode in health["isolation"]["mechanism"]
    iam = server.client("iam", key=VICTIM)
    iam.create_user(UserName="victim-admin")
    victim_key = iam.create_access_key(UserName="victim-admin")["AccessKey"]
    _function(server, VICTIM, "victim-fn", VICTIM_CODE)
    victim_lambda = server.client("lambda", key=VICTIM, region=REGION)
    assert payload(victim_lambda.invoke(FunctionName="victim-fn")) == VICTIM_MARK  # now warm
    victim_pids = _pids_with_env(b"AWS_LAMBDA_FUNCTION_NAME=victim-fn")
    assert victim_pids, "the victim's warm worker is not running"
    victim_env = _environ(max(victim_pids))
    _function(server, ATTACKER, "attacker-fn", ATTACK)
    state = server.state.resolve()
    known = sorted({str(state), str(state / "state.db"), *_tree(state)})
    code_files = [p for p in _tree(state) if "/code/" in p]
    code_dirs = sorted({str(Path(p).parent) for p in code_files})
    before = _tree(state)
    needles = {
        "victim IAM secret key (state database)": victim_key["SecretAccessKey"],
        "victim worker's role secret key (its environ)": victim_env["AWS_SECRET_ACCESS_KEY"],
        "victim worker's session token": victim_env["AWS_SESSION_TOKEN"],
        "victim's code": VICTIM_MARK,
        "server's environment": CANARY,
    }
    event = {
        "needles": list(needles.values()),
        "known_paths": known,
        "victim_pids": victim_pids,
        "server_pid": server.proc.pid,
        "skip": sorted({os.path.realpath(sys.prefix), sys.prefix}),
        "write_paths": [*code_files, *code_dirs, str(state), str(state / "code")],
    }
    lam = server.client("lambda", key=ATTACKER, region=REGION)
    result = lam.invoke(FunctionName="attacker-fn", Payload=json.dumps(event).encode())
    body = payload(result)
    assert "FunctionError" not in result, body
    after_invoke = payload(victim_lambda.invoke(FunctionName="victim-fn"))
    return {
        "body": body,
        "needles": needles,
        "before": before,
        "after": _tree(state),
        "victim": after_invoke,
        "victim_pids": victim_pids,
        "server": server,
        "known": known,
    }


def test_no_secret_of_another_account_or_of_the_server_is_readable(attack: dict[str, Any]) -> None:
    found = attack["body"]["found"]
    leaks = {what: found[needle] for what, needle in attack["needles"].items() if found[needle]}
    assert leaks == {}
    assert attack["body"]["walked"] > 0  # the handler did look around


def test_the_state_database_cannot_be_opened_even_by_its_path(attack: dict[str, Any]) -> None:
    opened = attack["body"]["opened"]
    assert any(p.endswith("/state.db") for p in opened)
    assert {p: r for p, r in opened.items() if r[0] == "ok"} == {}


def test_no_other_process_is_visible_or_signalable(attack: dict[str, Any]) -> None:
    body = attack["body"]
    assert all(r == ["denied", "ProcessLookupError"] for r in body["procs"].values()), body["procs"]
    assert len(body["visible"]) <= 2, body["visible"]  # the sandbox's init and the worker itself
    assert not set(body["visible"]) & set(attack["victim_pids"])


def test_no_stored_code_can_be_written(attack: dict[str, Any]) -> None:
    writes = attack["body"]["writes"]
    assert any(p.endswith("/app.py") for p in writes)
    assert {p: r for p, r in writes.items() if r[0] == "ok"} == {}
    code_before = {p: h for p, h in attack["before"].items() if "/code/" in p}
    assert code_before and {p: attack["after"].get(p) for p in code_before} == code_before  # unchanged
    assert not [p for p in attack["after"] if p.endswith("planted.py")]
    assert attack["victim"] == VICTIM_MARK


def test_the_health_endpoint_reveals_no_path(attack: dict[str, Any]) -> None:
    health = attack["body"]["health"]
    assert not re.search(r'"/', json.dumps(health)), health
    assert health["isolation"]["available"] is True


def test_positive_control_own_code_and_environment(attack: dict[str, Any]) -> None:
    own = attack["body"]["own"]
    assert own["code"] is True and own["listing"] == ["app.py"]
    assert own["environ"] is True and own["name"] == "attacker-fn" and own["key"]
    assert own["tmp"] == "mine"


def test_unavailable_isolation_is_announced(tmp_path: Path) -> None:
    """Without bwrap on PATH the server starts, says so in one log line and in the health endpoint."""
    (tmp_path / "state").mkdir()
    server = _start(tmp_path / "state", tmp_path / "server.log", path_env=str(tmp_path / "no-such-bin"))
    try:
        isolation = server.health()["isolation"]
    finally:
        stop_server(server)
    assert isolation == {"available": False, "reason": isolation["reason"]}
    assert "bwrap" in isolation["reason"]
    lines = [line for line in server.log.read_text().splitlines() if "runtime isolation UNAVAILABLE" in line]
    assert len(lines) == 1 and isolation["reason"] in lines[0]


def test_killed_server_leaves_no_sandbox(tmp_path: Path) -> None:
    """A server killed with SIGKILL takes its sandboxes with it (bwrap --die-with-parent)."""
    (tmp_path / "state").mkdir()
    server = _start(tmp_path / "state", tmp_path / "server.log")
    try:
        assert server.health()["isolation"]["available"] is True
        _function(server, ATTACKER, "sleeper", "def handler(e, c):\n    return 1\n")
        lam = server.client("lambda", key=ATTACKER, region=REGION)
        assert payload(lam.invoke(FunctionName="sleeper")) == 1
        pids = _pids_with_env(b"AWS_LAMBDA_FUNCTION_NAME=sleeper")
        assert pids
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        deadline = time.monotonic() + 5
        while _pids_with_env(b"AWS_LAMBDA_FUNCTION_NAME=sleeper") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _pids_with_env(b"AWS_LAMBDA_FUNCTION_NAME=sleeper") == []
    finally:
        stop_server(server)
