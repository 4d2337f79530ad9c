"""End-to-end fixtures: a real `lambdaperm serve` process on a free port with a real SQLite state
directory, and real boto3 clients pointed at it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.structural.check import check_server, oracle_env

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Endpoint:
    url: str
    state: Path | None
    proc: subprocess.Popen[bytes]
    log: Path

    def client(self, service: str, key: str = "test", secret: str = "test", token: str | None = None,
               region: str = "us-east-1") -> Any:
        return boto3.client(
            service, endpoint_url=self.url, region_name=region, aws_access_key_id=key,
            aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_lambdaperm/health", timeout=5) as resp:
            return dict(json.loads(resp.read()))


def start_server(state: Path | None, tmp: Path, *extra: str) -> Endpoint:
    port = free_port()
    log = tmp / f"server-{port}.log"
    args = [sys.executable, "-m", "lambdaperm.cli.main", "serve", "--port", str(port)]
    args += ["--state", str(state)] if state is not None else ["--in-memory"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(oracle_env(log))  # the structural oracle records what the backend acts on (tests/structural)
    with log.open("wb") as out:
        proc = subprocess.Popen([*args, *extra], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    endpoint = Endpoint(f"http://127.0.0.1:{port}", state, proc, log)
    deadline = time.monotonic() + 90  # a bound on start-up (returns as soon as healthy); slow only under load
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


def stop_server(endpoint: Endpoint) -> int:
    if endpoint.proc.poll() is None:
        endpoint.proc.send_signal(signal.SIGTERM)
        try:
            endpoint.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            endpoint.proc.kill()
            endpoint.proc.wait()
    check_server(endpoint.log)  # acted-on ⊆ authorized for every data-plane request, else OracleViolation
    return int(endpoint.proc.returncode)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    tmp = tmp_path_factory.mktemp("lambdaperm")
    endpoint = start_server(tmp / "state", tmp)
    yield endpoint
    stop_server(endpoint)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., Endpoint]]:
    started: list[Endpoint] = []

    def make(state: Path | None = None, *extra: str) -> Endpoint:
        endpoint = start_server(state, tmp_path, *extra)
        started.append(endpoint)
        return endpoint
    yield make
    for endpoint in started:
        stop_server(endpoint)
