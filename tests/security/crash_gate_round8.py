"""Test-only: `python -m tests.security.crash_gate_round8 serve …` — the crash gates of `crash_gate_round7` (a trail
commit stopped until the test kills the server) and the ImportTable gate of `race_gate_round5` (an import stopped
after its objects were listed, before they are decided on) in one real lambdaperm server, so that an object written
while an import is being decided, and a `kill -9` after it, are played deterministically. Nothing in lambdaperm
knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.security import crash_gate_round7, race_gate, race_gate_round5


def main() -> int:
    directory = Path(os.environ[race_gate.ENV_DIR])
    crash_gate_round7.install(directory)
    race_gate_round5.install(directory)
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
