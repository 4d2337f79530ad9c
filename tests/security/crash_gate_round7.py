"""Test-only: `python -m tests.security.crash_gate_round7 serve …` — a real lambdaperm server whose trail commits can
be stopped, so that a `kill -9` lands exactly between a call's execution (and whatever it wrote to lambdaperm's
records on the way) and the commit of its trail record and journal entry.

When `commit.hold` exists in the directory named by `LAMBDAPERM_RACE_GATE_DIR`, the next trail commit creates
`commit.arrived` and waits (at most 30 s) for `commit.go` — the test kills the server instead. Likewise
`truncate.hold` stops a snapshot after its file was renamed into place and before the journal entries it covers
are deleted (`truncate.arrived`, `truncate.go`). Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.security import race_gate


def install(directory: Path) -> None:
    from lambdaperm.gateway.trail_writer import TrailWriter

    commit = TrailWriter._commit

    def gated(self: TrailWriter, pending: Any) -> None:
        if (directory / "commit.hold").exists():
            (directory / "commit.arrived").touch()
            race_gate.wait_for(directory / "commit.go")
        commit(self, pending)

    TrailWriter._commit = gated  # type: ignore[method-assign]

    from lambdaperm.dataplane.journal import Journal

    truncate = Journal.truncate

    def gated_truncate(self: Journal, through: int) -> None:
        if (directory / "truncate.hold").exists():
            (directory / "truncate.arrived").touch()
            race_gate.wait_for(directory / "truncate.go")
        truncate(self, through)

    Journal.truncate = gated_truncate  # type: ignore[method-assign]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
