"""Test-only: a real `lambdaperm serve` started under one of the gate modules (`race_gate*`, `crash_gate*`).

A gate module wraps lambdaperm (`python -m tests.security.<gate module> serve …`) so that a request, or a trail
commit, stops at a named point until the test lets it go (files in the directory `race_gate.ENV_DIR` names): the
windows of the race and crash tests are played deterministically, never with timing. Every server runs with the
structural oracle (tests/structural), whose verdict `stop_server` checks. One copy of the start-up shared by the
race rounds and the crash (persistence) rounds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Endpoint, free_port, stop_server
from tests.security import race_gate
from tests.structural.check import oracle_env


def start_gated(module: str, tmp: Path, state: Path, gate: Path) -> Endpoint:
    """Start `python -m <module> serve` on a free port with its state in `state`, its log in `tmp` and its gate
    directory `gate`; return once it answers its health check (at most 30 s, else it is stopped and this raises)."""
    port = free_port()
    log = tmp / f"server-{port}.log"
    args = [sys.executable, "-m", module, "serve", "--port", str(port), "--state", str(state)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(oracle_env(log))
    env[race_gate.ENV_DIR] = str(gate)
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    endpoint = Endpoint(f"http://127.0.0.1:{port}", state, proc, log)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gated server exited: {log.read_text()}")
        try:
            endpoint.health()
            return endpoint
        except OSError:
            if time.monotonic() > deadline:
                stop_server(endpoint)
                raise RuntimeError(f"gated server did not become healthy: {log.read_text()}") from None
            time.sleep(0.05)


def gated_for_module(
    tmp_path_factory: pytest.TempPathFactory, label: str, module: str
) -> Iterator[tuple[Endpoint, Path]]:
    """The body of a module-scoped fixture: one server under `module` (state in `<tmp>/st`) and its gate
    directory, stopped (with the structural oracle's verdict on every data-plane call) after the module."""
    tmp = tmp_path_factory.mktemp(label)
    gate = tmp / "gate"
    gate.mkdir()
    endpoint = start_gated(module, tmp, tmp / "st", gate)
    try:
        yield endpoint, gate
    finally:
        stop_server(endpoint)  # and the structural oracle's verdict on every data-plane call


def gated_starter(tmp_path: Path, module: str) -> Iterator[Callable[[], tuple[Endpoint, Path]]]:
    """The body of a function-scoped fixture: a `start()` that starts a server under `module` on the same state
    (`tmp_path/state`, so that a server started after a kill restores what the killed one committed) and gate
    directory; every server started is stopped after the test."""
    started: list[Endpoint] = []
    gate = tmp_path / "gate"
    gate.mkdir()

    def start() -> tuple[Endpoint, Path]:
        endpoint = start_gated(module, tmp_path, tmp_path / "state", gate)
        started.append(endpoint)
        return endpoint, gate

    yield start
    for endpoint in started:
        stop_server(endpoint)  # and the structural oracle's verdict on every data-plane call
