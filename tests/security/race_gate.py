"""Test-only: `python -m tests.security.race_gate serve …` starts a real lambdaperm server with a gate between
authorization and execution, so that a race that needs a concurrent change in that window is played
deterministically instead of hoped for.

A data-plane request carrying the header `x-race-gate: NAME` stops after it was authorized and before it is
executed: the server creates `NAME.arrived` in the directory named by `LAMBDAPERM_RACE_GATE_DIR` and waits (at
most 30 s) for the test to create `NAME.go`. Requests without the header are untouched. Nothing in lambdaperm
knows about this module.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

ENV_DIR = "LAMBDAPERM_RACE_GATE_DIR"
HEADER = "x-race-gate"
WAIT_SECONDS = 30.0


def wait_for(path: Path, seconds: float = WAIT_SECONDS) -> None:
    """Wait for `path` to exist (a positive signal), at most `seconds`."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} did not appear within {seconds} s")
        time.sleep(0.01)


def install(directory: Path) -> None:
    from lambdaperm.gateway import data_plane

    original = data_plane.run

    def gated(server: Any, call: Any, op: Any, params: Any, identity: Any) -> Any:
        name = call.req.header(HEADER)
        if name:
            (directory / f"{name}.arrived").touch()
            wait_for(directory / f"{name}.go")
        return original(server, call, op, params, identity)

    data_plane.run = gated  # type: ignore[assignment]


def main() -> int:
    install(Path(os.environ[ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
