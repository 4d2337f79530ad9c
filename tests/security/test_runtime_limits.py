"""Runtime limits, isolation review round 1 (docs/security.md, "Runtime isolation" → "Limits (review round 1)").

Threat model: a handler of one account is untrusted with respect to every other account and to the server. Beyond
reading secrets (tests/security/test_runtime_isolation.py) it can try to exhaust what every sandbox shares: the
kernel's process table (a fork bomb; as root every sandbox used to run as the same uid 65534) and the disk (every
UpdateFunctionCode unzipped a new copy of up to 250 MB that was never deleted). And a runtime failure must answer
one of Invoke's documented errors, never a bare 500 (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).

Every test runs a real `lambdaperm serve` (as the test's user and, when that is root, as a throwaway unprivileged
uid) and real boto3.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint, stop_server
from tests.e2e.lambda_helpers import make_role, payload, zip_of
from tests.security.test_runtime_isolation import _start, _throwaway_uid

ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"
MAX_TASKS = 24  # the per-sandbox limit the test servers are configured with (LAMBDAPERM_LAMBDA_MAX_TASKS)
ATTEMPTS = 200  # the bomb stops here even where nothing bounds it: the test must not take the machine down


@contextlib.contextmanager
def _server(
    *, uid: int | None = None, path_env: str | None = None, state: Path | None = None, home: Path | None = None
) -> Iterator[Endpoint]:
    own = home is None
    home = home or Path(tempfile.mkdtemp(prefix="lambdaperm-limits-"))
    state = state or home / "state"
    state.mkdir(exist_ok=True)
    if uid is not None:
        for p in (home, state):
            os.chown(p, uid, uid)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LAMBDAPERM_LAMBDA_MAX_TASKS", str(MAX_TASKS))
            endpoint = _start(state, home / f"server-{time.monotonic_ns()}.log", uid=uid, path_env=path_env)
        try:
            yield endpoint
        finally:
            stop_server(endpoint)
    finally:
        if own:
            shutil.rmtree(home, ignore_errors=True)


SANDBOX_MODES = ["as-the-test-user", "as-a-throwaway-unprivileged-user"]


def sandboxed_server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    """A server whose handlers run sandboxed, started as the test user or (as root) a throwaway uid: the body
    of the `server` fixture of every isolation module (parametrized with SANDBOX_MODES)."""
    uid = None
    if request.param == "as-a-throwaway-unprivileged-user":
        if os.geteuid() != 0:
            pytest.skip("the tests do not run as root: the server of the other run is already unprivileged")
        if not shutil.which("setpriv") or not shutil.which("unshare"):
            pytest.skip("setpriv/unshare (util-linux) are needed to start the server as another user")
        uid = _throwaway_uid()
    with _server(uid=uid) as endpoint:
        assert endpoint.health()["isolation"]["available"] is True
        yield endpoint


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _deploy(server: Endpoint, account: str, name: str, code: str, **extra: Any) -> Any:
    role = make_role(server.client("iam", key=account), f"{name}-role")
    lam = server.client("lambda", key=account, region=REGION)
    lam.create_function(
        FunctionName=name,
        Runtime=extra.pop("Runtime", "python3.11"),
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": code})},
        Timeout=30,
        **extra,
    )
    return lam


# ---------------------------------------------------------------- 1. processes and threads

BOMB = f"""
import errno, os, threading, time

def handler(event, context):
    made, failure = 0, None
    while made < {ATTEMPTS}:
        try:
            if event["kind"] == "fork":
                if os.fork() == 0:
                    time.sleep(120)  # held until the sandbox ends
                    os._exit(0)
            else:
                threading.Thread(target=time.sleep, args=(120,), daemon=True).start()
        except (OSError, RuntimeError) as e:
            failure = errno.errorcode.get(getattr(e, "errno", None) or 0, type(e).__name__)
            break
        made += 1
    return {{"made": made, "failure": failure}}
"""

BYSTANDER = """
import subprocess, threading

def handler(event, context):
    codes = [subprocess.run(["/bin/true"]).returncode for _ in range(4)]
    threads = [threading.Thread(target=lambda: None) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"codes": codes}
"""


@pytest.mark.parametrize("kind", ["fork", "thread"])
def test_a_fork_bomb_is_bounded_per_sandbox(server: Endpoint, kind: str) -> None:
    """Attack: a handler forks (or starts threads) until the kernel refuses, and keeps them all alive. Nothing
    bounded it: as root every account's sandbox ran as uid 65534, so whatever limit that uid hit, it hit for
    every account (and an unbounded bomb exhausts the host's pid table, the server's included). Lambda allows
    1,024 processes/threads per execution environment (https://docs.aws.amazon.com/lambda/latest/dg/
    gettingstarted-limits.html). Secure outcome: the bomb's own sandbox stops it at its limit (configured small
    here), while another account's function and the server keep working."""
    lam = _deploy(server, ATTACKER, f"bomb-{kind}", BOMB)
    bomb = payload(lam.invoke(FunctionName=f"bomb-{kind}", Payload=f'{{"kind": "{kind}"}}'))
    assert bomb["failure"] is not None and bomb["made"] < MAX_TASKS, f"nothing bounded the handler: {bomb}"
    # The bomb's processes are still alive in its warm sandbox: another account must not be starved by them.
    victim = _deploy(server, VICTIM, f"bystander-{kind}", BYSTANDER)
    answer = victim.invoke(FunctionName=f"bystander-{kind}")
    assert "FunctionError" not in answer and payload(answer) == {"codes": [0, 0, 0, 0]}
    assert server.health()["isolation"]["limits"]["tasks"] == {"enforced": True, "max": MAX_TASKS}
    # And the bomb's own function still answers (its sandbox is full; a new invocation runs beside it).
    again = lam.invoke(FunctionName=f"bomb-{kind}", Payload=f'{{"kind": "{kind}"}}')
    assert payload(again)["made"] < MAX_TASKS


# ---------------------------------------------------------------- 2. unzipped code on disk


def _unzipped(state: Path, marker: str) -> list[Path]:
    """Every unzipped copy of the test's packages under the server's state (they hold `marker`)."""
    return [p for p in (state / "runtime").rglob("app.py") if marker in p.read_text(errors="replace")]


def _eventually_none(state: Path, marker: str, seconds: float = 10.0) -> list[Path]:
    deadline = time.monotonic() + seconds
    while (left := _unzipped(state, marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_unzipped_code_no_longer_used_is_deleted() -> None:
    """Attack: UpdateFunctionCode again and again (each package up to 250 MB unzipped): every version's
    unzipped copy stayed on disk forever, and one account filled the disk that every account and the state
    database share. Secure outcome: a copy lives only while a warm worker uses it (or an invocation is about to
    start one); replaced code and deleted functions leave nothing behind."""
    marker = f"generation-{time.monotonic_ns()}"
    with _server() as srv:
        lam = _deploy(srv, ATTACKER, "churn", f"def handler(e, c):\n    return '{marker}-0'\n")
        assert payload(lam.invoke(FunctionName="churn")) == f"{marker}-0"
        for generation in range(1, 4):
            code = zip_of({"app.py": f"def handler(e, c):\n    return '{marker}-{generation}'\n"})
            lam.update_function_code(FunctionName="churn", ZipFile=code)
            assert payload(lam.invoke(FunctionName="churn")) == f"{marker}-{generation}"
        left = _unzipped(srv.state, marker)
        assert [p.read_text().count(f"{marker}-3") for p in left] == [1], f"unzipped copies kept: {left}"
        lam.delete_function(FunctionName="churn")
        assert _eventually_none(srv.state, marker) == []


def test_unzipped_code_left_by_a_killed_server_is_swept_at_start_up() -> None:
    """A server killed with warm workers cannot delete their code: the next server on the same state does, at
    start-up (no worker of its own uses anything yet)."""
    marker = f"orphan-{time.monotonic_ns()}"
    home = Path(tempfile.mkdtemp(prefix="lambdaperm-limits-"))
    try:
        with _server(home=home) as first:
            lam = _deploy(first, ATTACKER, "orphan", f"def handler(e, c):\n    return '{marker}'\n")
            assert payload(lam.invoke(FunctionName="orphan")) == marker
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(10)
            assert len(_unzipped(first.state, marker)) == 1  # the precondition: left behind
        with _server(home=home, state=home / "state") as second:
            assert _unzipped(second.state, marker) == []
            lam = second.client("lambda", key=ATTACKER, region=REGION)
            assert payload(lam.invoke(FunctionName="orphan")) == marker  # unzipped again when needed
    finally:
        shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------- 3. runtime failures at Invoke


def _error(call: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_a_runtime_the_server_cannot_run_answers_invalid_runtime() -> None:
    """python3.14 is a valid Lambda runtime (CreateFunction accepts it) that the runtime cannot run (python3.8 to
    python3.13): Invoke answered a bare 500. Secure outcome: Invoke's InvalidRuntimeException (502, "The runtime or
    runtime version specified is not supported"), a documented error of API_Invoke."""
    with _server() as srv:
        lam = _deploy(srv, ATTACKER, "py314", "def handler(e, c):\n    return 1\n", Runtime="python3.14")
        code, status, message = _error(lambda: lam.invoke(FunctionName="py314"))
        assert (code, status) == ("InvalidRuntimeException", 502)
        assert "python3.14" in message and "Traceback" not in message


def test_a_worker_that_cannot_start_answers_service_exception(tmp_path: Path) -> None:
    """The sandbox's launcher disappears after start-up (here: the bwrap the server found, a copy on its PATH,
    is deleted), so no worker can start: Invoke answered a bare 500. Secure outcome: Invoke's ServiceException
    (500, "The AWS Lambda service encountered an internal error"), in Lambda's error shape, no traceback."""
    real = shutil.which("bwrap")
    if real is None:
        pytest.skip("bubblewrap is needed")
    tools = tmp_path / "tools"
    tools.mkdir()
    shutil.copy2(real, tools / "bwrap")
    tools.chmod(0o755)
    with _server(path_env=f"{tools}:{os.environ.get('PATH', '/usr/bin:/bin')}") as srv:
        assert srv.health()["isolation"]["available"] is True
        (tools / "bwrap").unlink()
        lam = _deploy(srv, ATTACKER, "nostart", "def handler(e, c):\n    return 1\n")
        code, status, message = _error(lambda: lam.invoke(FunctionName="nostart"))
        assert (code, status) == ("ServiceException", 500)
        assert "Traceback" not in message and str(tools) not in message
