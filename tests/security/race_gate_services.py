"""Test-only: `python -m tests.security.race_gate_services serve …` — the race gate of `race_gate` (a data-plane
call held between authorization and execution), plus the same gate for calls of lambdaperm's own services
(IAM, STS, Lambda): a request carrying `x-race-gate: NAME` stops right after its authorization decided (and
allowed) it, before its handler runs. Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.security import race_gate


def install(directory: Path) -> None:
    race_gate.install(directory)
    from lambdaperm.gateway import pipeline
    from lambdaperm.gateway.server import DATA_PLANE

    original = pipeline._authorize

    def gated(server: Any, call: Any, op: Any, params: Any, identity: Any) -> None:
        original(server, call, op, params, identity)
        name = call.req.header(race_gate.HEADER)
        if name and op.service_name not in DATA_PLANE:  # the data plane is gated by race_gate itself
            (directory / f"{name}.arrived").touch()
            race_gate.wait_for(directory / f"{name}.go")

    pipeline._authorize = gated


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
