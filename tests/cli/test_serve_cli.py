"""`lambdaperm serve` as a newcomer meets it (issue 8 §4): "serving on …" only once the port is bound; a port in
use is one clear line and a non-zero exit, nothing else; `--help` explains every option; `--log-level debug` logs
each request's decision (principal, action, resource, decision) on one line."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.Popen(
        [sys.executable, "-m", "lambdaperm.cli.main", "serve", "--in-memory", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Stop the server (SIGTERM, then SIGKILL after a bound: a test never leaves a server running)."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"serve did not stop on SIGTERM within 30 s: {err[-2000:]}") from None


def _first_line(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "serve printed nothing"
    return proc.stdout.readline()


def test_a_port_in_use_is_one_clear_line_and_a_failure() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        proc = _serve(port)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode not in (0, None)
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert len(lines) == 1, out + err
    assert "Traceback" not in err and "serving on" not in out
    assert str(port) in lines[0] and "in use" in lines[0]


def test_serving_on_is_printed_once_the_port_is_bound() -> None:
    port = _free_port()
    proc = _serve(port)
    try:
        line = _first_line(proc)
        assert f"serving on http://127.0.0.1:{port}" in line
        with socket.create_connection(("127.0.0.1", port), timeout=5):  # bound: no retry needed
            pass
    finally:
        if proc.returncode is None:  # the test stops it itself to read its log
            _stop(proc)


def test_serve_help_explains_every_option() -> None:
    from lambdaperm.cli.main import build_parser

    parser = build_parser()
    serve = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "serve")[1]  # type: ignore[union-attr]
    for action in serve._actions:
        assert action.help and action.help.strip(), f"{action.option_strings} has no help"
    text = subprocess.run(
        [sys.executable, "-m", "lambdaperm.cli.main", "serve", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    ).stdout
    for option in ("--host", "--port", "--state", "--in-memory", "--upstream", "--log-level"):
        assert option in text


@pytest.fixture
def debug_server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = _free_port()
    proc = _serve(port, "--log-level", "debug")
    try:
        _first_line(proc)
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.returncode is None:  # the test stops it itself to read its log
            _stop(proc)


def test_debug_logs_each_decision_on_one_line(debug_server: tuple[subprocess.Popen[str], str]) -> None:
    proc, url = debug_server
    account = "777740000009"

    def client(service: str, key: str, secret: str) -> object:
        return boto3.client(
            service,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"max_attempts": 1}),
        )

    iam = client("iam", account, "x")
    iam.create_user(UserName="dbg")  # type: ignore[attr-defined]
    keys = iam.create_access_key(UserName="dbg")["AccessKey"]  # type: ignore[attr-defined]
    user = client("iam", keys["AccessKeyId"], keys["SecretAccessKey"])
    deadline = time.monotonic() + 30
    while True:  # a new key is usable at once; the loop bounds a slow start only
        try:
            user.get_user(UserName="dbg")  # type: ignore[attr-defined]
            raise AssertionError("an IAM user without policies was allowed iam:GetUser")
        except ClientError as err:
            if err.response["Error"]["Code"] == "AccessDenied" or time.monotonic() > deadline:
                break
    _, err = _stop(proc)
    decisions = [line for line in err.splitlines() if "decision=" in line]
    allowed = [line for line in decisions if "action=iam:CreateUser" in line]
    denied = [line for line in decisions if "action=iam:GetUser" in line]
    assert allowed and denied, err[-3000:]
    assert f"principal=arn:aws:iam::{account}:root" in allowed[0] and "decision=allow" in allowed[0]
    assert f"resource=arn:aws:iam::{account}:user/dbg" in allowed[0]
    assert f"principal=arn:aws:iam::{account}:user/dbg" in denied[0] and re.search(r"decision=\S*deny", denied[0])
