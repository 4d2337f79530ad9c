"""Isolation review, round 17: handler code against what outlives or surrounds an invocation — processes a handler
leaves behind (a double fork into a new session), a handler that closes every descriptor it was given, and what the
environment of a sandbox holds (docs/security.md, "Isolation (handler code), review round 17"; issue 7, class 8).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack, against a real `lambdaperm serve` with real boto3, and asserts the outcome AWS promises.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambdaperm.gateway.state_disk import FRESH_SECONDS, RESERVE_VARIABLE, StateDisk
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import payload
from tests.security.test_runtime_limits import SANDBOX_MODES, _deploy, _server, sandboxed_server

ATTACKER = "111111111111"
VICTIM = "222222222222"


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


CALLER = """
import boto3

def handler(event, context):
    return {"account": boto3.client("sts").get_caller_identity()["Account"]}
"""

# Double-forks a grandchild into a session of its own that ignores SIGHUP/SIGTERM and re-executes itself as a Python
# that sleeps with `marker` in its command line, then returns at once.
DAEMON = """
import os, signal, sys

def handler(event, context):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for fd in (0, 1, 2):
                os.close(fd)
            code = "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\n#" + event["marker"]
            code += "\\nwhile True: time.sleep(1)"
            os.execv(sys.executable, [sys.executable, "-c", code])
        os._exit(0)
    os.wait()
    return {"forked": True}
"""


def _holders(marker: str) -> list[int]:
    """Host pids whose command line names `marker`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def _until(check, seconds: float = 20) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_a_daemon_a_handler_leaves_does_not_outlive_its_function(server: Endpoint) -> None:
    """Attack: a handler double-forks a grandchild into a session of its own (setsid), closes its stdio, ignores
    SIGHUP and SIGTERM and returns — a daemon the runtime's worker does not know. If it outlived the function's
    execution environment it would hold the account's memory, tasks and CPU outside every budget, after the account
    deleted the function. AWS: an execution environment's processes live and die with it; after a function is deleted
    (or an environment is shut down) nothing of it runs
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, "Shutdown phase"). Asserted: the
    daemon ran (positive control: its process is on the host after the invocation), it is gone within 20 s of
    DeleteFunction, and another account's handler was answered meanwhile."""
    marker = f"lp-daemon-{uuid.uuid4().hex}"
    victim = _deploy(server, VICTIM, "caller", CALLER)
    attacker = _deploy(server, ATTACKER, "daemon", DAEMON)
    out = payload(attacker.invoke(FunctionName="daemon", Payload=json.dumps({"marker": marker}).encode()))
    assert out == {"forked": True}, out
    assert _until(lambda: bool(_holders(marker)), 10), "positive control: the daemon never ran"
    assert payload(victim.invoke(FunctionName="caller", Payload=b"{}"))["account"] == VICTIM
    attacker.delete_function(FunctionName="daemon")
    assert _until(lambda: not _holders(marker)), f"the daemon outlived its deleted function: {_holders(marker)}"


# Closes every descriptor it holds (stdio, the worker's protocol channel, the runtime's) and returns.
CLOSER = """
import os

def handler(event, context):
    os.closerange(0, 65536)
    return {"closed": True}
"""


def test_a_handler_closing_every_descriptor_harms_only_its_own_invocation(server: Endpoint) -> None:
    """Attack: a handler closes every descriptor it holds — its stdin/stdout/stderr and whatever channel the runtime
    answers its invocation over — then returns. A runtime that waited on a channel that never answers, or read a
    closed one as an answer, could hang a server thread or serve a wrong response. AWS: a function's failure is its
    own invocation's error (Runtime.ExitError, https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html)
    and its environment is replaced; other accounts are unaffected. Asserted: the invocation is answered within its
    timeout (as an error or a result, not a hang), the same function is served again, and another account's handler is
    answered."""
    victim = _deploy(server, VICTIM, "caller2", CALLER)
    attacker = _deploy(server, ATTACKER, "closer", CLOSER)
    started = time.monotonic()
    first = attacker.invoke(FunctionName="closer", Payload=b"{}")
    assert time.monotonic() - started < 35, "the invocation was not answered within its timeout"
    body = json.loads(first["Payload"].read())
    assert body == {"closed": True} or "FunctionError" in first, (first, body)
    again = attacker.invoke(FunctionName="closer", Payload=b"{}")
    assert again["StatusCode"] == 200
    assert payload(victim.invoke(FunctionName="caller2", Payload=b"{}"))["account"] == VICTIM


# Answers its own environment and that of every process of its sandbox it can read.
ENV = """
import os

def handler(event, context):
    environs = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    environs[pid] = f.read().decode("latin-1")
            except OSError:
                pass
    return {"own": dict(os.environ), "environs": environs}
"""

# Lambda's reserved and unreserved runtime environment variables
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime), and the
# three lambdaperm adds (runtime/environment.py: the endpoint, and no shared config or credentials file).
DOCUMENTED = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR", "LANG", "PATH", "LD_LIBRARY_PATH", "NODE_PATH", "PYTHONPATH", "TZ",
    "AWS_XRAY_CONTEXT_MISSING", "AWS_XRAY_DAEMON_ADDRESS", "AWS_LAMBDA_DOTNET_PREJIT", "PWD",
    "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
}  # fmt: skip


def test_a_sandboxs_environment_holds_only_its_own_functions_variables(server: Endpoint) -> None:
    """Attack: a handler reads its environment and that of every process of its sandbox (`/proc/<pid>/environ`),
    looking for what the server or another account left there — the server's own variables, its state directory,
    another account's credentials, a previous function's. Lambda: an execution environment holds the documented
    runtime variables, the function's own variables and its execution role's credentials
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
    Asserted: every variable of every readable process is documented or the function's own (`OWN`), the credentials
    are a role session's (`ASIA…`) whose identity is the function's account, and no value names the other account,
    the server's state directory or a variable of the test process."""
    victim = _deploy(server, VICTIM, "caller3", CALLER)
    assert payload(victim.invoke(FunctionName="caller3", Payload=b"{}"))["account"] == VICTIM  # B's sandbox is live
    attacker = _deploy(server, ATTACKER, "env", ENV, Environment={"Variables": {"OWN": "mine"}})
    out = payload(attacker.invoke(FunctionName="env", Payload=b"{}"))
    assert out["own"]["OWN"] == "mine" and out["own"]["AWS_ACCESS_KEY_ID"].startswith("ASIA"), out["own"]
    assert "2" in out["environs"] or len(out["environs"]) >= 1, out  # positive control: it read a process's
    assert server.state is not None
    for pid, text in [("self", "\0".join(f"{k}={v}" for k, v in out["own"].items())), *out["environs"].items()]:
        pairs = [entry.split("=", 1) for entry in text.split("\0") if entry]
        names = {name for name, _ in pairs}
        assert names <= DOCUMENTED | {"OWN"}, f"process {pid}: undocumented variables {names - DOCUMENTED}"
        for name, value in pairs:
            assert VICTIM not in value and str(server.state) not in value, (pid, name, value)
            assert not (name in os.environ and os.environ[name] == value and name not in ("PATH", "LANG")), (pid, name)
    keys = server.client("sts", key=ATTACKER)
    assert keys.get_caller_identity()["Account"] == ATTACKER
    creds = out["own"]
    sts = server.client(
        "sts", key=creds["AWS_ACCESS_KEY_ID"], secret=creds["AWS_SECRET_ACCESS_KEY"], token=creds["AWS_SESSION_TOKEN"]
    )
    assert sts.get_caller_identity()["Account"] == ATTACKER


# Forks a daemon as DAEMON does, then outlives its timeout.
STAYER = DAEMON.replace('    return {"forked": True}', '    time.sleep(60)\n    return {"forked": True}').replace(
    "import os, signal, sys", "import os, signal, sys, time"
)


def test_a_daemon_does_not_outlive_an_environment_reset_by_a_timeout(server: Endpoint) -> None:
    """Attack: as above, but the handler then runs past its timeout. Lambda: "If the function times out, Lambda
    ... resets the execution environment" — a timeout ends every process of the environment
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, "Failures during the invoke
    phase"). Asserted: the invocation is answered as a timeout, the daemon ran, and it is gone within 20 s of the
    answer, while the function still exists."""
    marker = f"lp-stayer-{uuid.uuid4().hex}"
    attacker = _deploy(server, ATTACKER, "stayer", STAYER)
    attacker.update_function_configuration(FunctionName="stayer", Timeout=3)
    attacker.get_waiter("function_updated_v2").wait(FunctionName="stayer")
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(attacker.invoke, FunctionName="stayer", Payload=json.dumps({"marker": marker}).encode())
        assert _until(lambda: bool(_holders(marker)), 10), "positive control: the daemon never ran"
        out = running.result(timeout=60)
    body = json.loads(out["Payload"].read())
    assert out.get("FunctionError") and "timed out" in json.dumps(body), body
    assert _until(lambda: not _holders(marker)), f"the daemon outlived its environment's timeout: {_holders(marker)}"
    attacker.get_function(FunctionName="stayer")  # still deployed


# Writes 1 MiB objects into its own account's bucket until a write is refused; answers how many and the refusal.
FILLER = """
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

def handler(event, context):
    s3 = boto3.client("s3", config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=event["bucket"])
    for n in range(event["most"]):
        try:
            s3.put_object(Bucket=event["bucket"], Key=f"o{n}", Body=b"a" * (1 << 20))
        except ClientError as e:
            return {"written": n, "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
    return {"written": event["most"], "status": 200}
"""

STATE_FS_MIB = 64  # the state directory's filesystem in this test: a tmpfs of its own
RESERVE_MIB = 3  # the state disk's reserve in this test (gateway/state_disk.py)


@pytest.fixture
def small_disk_server(tmp_path: Path) -> Iterator[Endpoint]:
    """A sandboxed server (as the test user) whose state directory is a 64 MiB tmpfs of its own (root only)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small filesystem for the state directory needs root")
    state = tmp_path / "state"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={STATE_FS_MIB}m,mode=0700", "tmpfs", str(state)], check=True)
    try:
        with pytest.MonkeyPatch.context() as mp:
            # the operator's reserve, smaller than the default 256 MiB this 64 MiB filesystem could not hold
            mp.setenv(RESERVE_VARIABLE, str(RESERVE_MIB))
            with _server(home=tmp_path, state=state) as endpoint:
                assert endpoint.health()["isolation"]["available"] is True
                yield endpoint
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)


def test_one_account_filling_the_state_disk_does_not_deny_another_accounts_calls(small_disk_server: Endpoint) -> None:
    """Attack: account A's handler writes 1 MiB objects into A's own bucket — authorized data, each journaled in the
    state directory — until the state directory's filesystem is full. Every call of every account is then answered
    500 InternalFailure: B's GetObject of its own earlier object, B's PutObject, B's SQS CreateQueue and even B's
    STS GetCallerIdentity (the call trail and the journal are written for each). A's own refused write was executed
    nonetheless (measured: listed once the filesystem was grown). On AWS one account's stored data never denies
    another account's service: S3 "is an object store that uses unique key-values to store as many objects as you
    want" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingObjects.html) and one function's code cannot
    deny the service to other accounts
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html); an InternalFailure is not an
    answer lambdaperm gives (house rule: never a 500). As round 10 bounded an account's memory and rounds 11/14/16
    its connections and bodies, the disk needs a per-account budget (a quota error or 503 beyond it, the refused
    write not executed) and a reserve that keeps the other accounts' calls answered. Asserted: the state filesystem
    is full (positive control: under 4 MiB free), and B's GetObject, PutObject and GetCallerIdentity are answered
    200 (or, for the write, a documented 503 SlowDown) — never a 500."""
    server = small_disk_server
    victim = server.client("s3", key=VICTIM)
    victim.create_bucket(Bucket="victim-bucket")
    victim.put_object(Bucket="victim-bucket", Key="before", Body=b"acknowledged")
    attacker = _deploy(server, ATTACKER, "filler", FILLER, MemorySize=512)
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    server.client("iam", key=ATTACKER).put_role_policy(
        RoleName="filler-role", PolicyName="s3", PolicyDocument=json.dumps(allow)
    )
    with contextlib.suppress(ClientError):  # the Invoke's own answer may be the 500 already: its trail is written last
        attacker.invoke(FunctionName="filler", Payload=b'{"bucket": "attacker-bucket", "most": 200}')
    assert server.state is not None
    free = shutil.disk_usage(server.state).free
    assert free < 4 << 20, f"positive control: the {STATE_FS_MIB} MiB state filesystem was not filled ({free} free)"
    failures = []
    for name, call in [
        ("GetObject", lambda: victim.get_object(Bucket="victim-bucket", Key="before")["Body"].read()),
        ("PutObject", lambda: victim.put_object(Bucket="victim-bucket", Key="after", Body=b"x")),
        ("GetCallerIdentity", lambda: server.client("sts", key=VICTIM).get_caller_identity()),
    ]:
        try:
            call()
        except ClientError as e:
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            if not (name == "PutObject" and status == 503):
                failures.append((name, status, e.response["Error"].get("Code")))
    assert not failures, f"A filled the state disk; B's calls failed: {failures}"


def test_a_write_refused_for_the_disk_reserve_is_not_carried_out_and_writes_resume_once_space_is_freed(
    small_disk_server: Endpoint,
) -> None:
    """Round 17's follow-up: below the state disk's reserve a write is refused before it runs — S3 PutObject with
    S3's 503 SlowDown, IAM CreateUser with 503 ServiceUnavailable (both retried by the SDKs,
    https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) — never executed, never a 500; reads
    and the refused call's trail record are served from the reserve; once space is freed the same writes succeed,
    without a restart. The state filesystem is filled by a file of the test's own (the filler's journaled objects
    would stay: S3 deletes do not shrink the journal before a snapshot)."""
    server = small_disk_server
    assert server.state is not None
    s3 = server.client("s3", key=VICTIM)
    iam = server.client("iam", key=VICTIM)
    s3.create_bucket(Bucket="victim-bucket")
    s3.put_object(Bucket="victim-bucket", Key="before", Body=b"acknowledged")
    ballast = server.state / "ballast"
    with open(ballast, "wb") as f:  # leave 2 MiB free: under the 3 MiB reserve
        f.truncate(0)
        f.write(b"\0" * max(0, shutil.disk_usage(server.state).free - (2 << 20)))
    assert shutil.disk_usage(server.state).free < RESERVE_MIB << 20, "positive control: the filesystem was not filled"
    time.sleep(FRESH_SECONDS + 0.2)  # the guard's last measurement (of before the ballast) is reused at most this long
    refused = []
    for name, call in [
        ("PutObject", lambda: s3.put_object(Bucket="victim-bucket", Key="refused", Body=b"y" * 1024)),
        ("CreateUser", lambda: iam.create_user(UserName="refused-user")),
    ]:
        with pytest.raises(ClientError) as caught:
            call()
        refused.append(
            (name, caught.value.response["ResponseMetadata"]["HTTPStatusCode"], caught.value.response["Error"]["Code"])
        )
    assert refused == [("PutObject", 503, "SlowDown"), ("CreateUser", 503, "ServiceUnavailable")], refused
    # not carried out; reads served from the reserve
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="victim-bucket").get("Contents", [])] == ["before"]
    assert s3.get_object(Bucket="victim-bucket", Key="before")["Body"].read() == b"acknowledged"
    with pytest.raises(ClientError) as missing:
        iam.get_user(UserName="refused-user")
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"
    # the refused call's trail record was written
    trail = server.client("cloudtrail", key=VICTIM)
    events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])
    errors = [json.loads(e["CloudTrailEvent"]).get("errorCode") for e in events["Events"]]
    assert errors and set(errors) == {"ServiceUnavailable"}, errors  # each attempt (the SDK retries a 503) recorded
    ballast.unlink()  # space freed: the same writes succeed at once, no restart
    s3.put_object(Bucket="victim-bucket", Key="refused", Body=b"y" * 1024)
    assert s3.get_object(Bucket="victim-bucket", Key="refused")["Body"].read() == b"y" * 1024
    assert iam.create_user(UserName="refused-user")["User"]["UserName"] == "refused-user"


def test_the_disk_reserve_arithmetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard alone: a write is admitted only while the free space holds it and the reserve (its body counted);
    the operator's knob is a whole number of MiB (0: off), anything else refused at start-up; the default is
    max(256 MiB, 5% of the filesystem)."""
    free = shutil.disk_usage(tmp_path).free
    assert StateDisk(tmp_path, reserve=0).admit(1 << 40)
    assert not StateDisk(tmp_path, reserve=free + (1 << 30)).admit(0)
    roomy = StateDisk(tmp_path, reserve=1 << 20)
    assert roomy.admit(1024) and not roomy.admit(free)  # the body counts against the free space
    monkeypatch.setenv(RESERVE_VARIABLE, "5")
    assert StateDisk(tmp_path).reserve == 5 << 20
    monkeypatch.setenv(RESERVE_VARIABLE, "5%")
    with pytest.raises(ValueError, match=RESERVE_VARIABLE):
        StateDisk(tmp_path)
    monkeypatch.delenv(RESERVE_VARIABLE)
    stats = os.statvfs(tmp_path)
    assert StateDisk(tmp_path).reserve == max(256 << 20, int(stats.f_blocks * stats.f_frsize * 0.05))
