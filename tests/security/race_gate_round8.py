"""Test-only: `python -m tests.security.race_gate_round8 serve …` — the gates of `race_gate_round5`, plus one in
a function URL request, decided outside the main pipeline: a request carrying the header `x-race-gate: NAME` stops
after its URL and function were read and before its authorization (`function_urls.handle`, where it builds its
`Call`): `NAME.arrived`, then it waits (at most 30 s) for `NAME.go`. (Push deliveries have their gate since round 3:
`race_gate_deliveries`, included in round 5's.)

Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.security import race_gate, race_gate_round5


def install(directory: Path) -> None:
    race_gate_round5.install(directory)
    from lambdaperm.gateway import function_urls

    call_of = function_urls.Call

    def gated_call(req: Any) -> Any:
        name = req.header(race_gate.HEADER)
        if name:
            (directory / f"{name}.arrived").touch()
            race_gate.wait_for(directory / f"{name}.go")
        return call_of(req)

    function_urls.Call = gated_call  # type: ignore[assignment,misc]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
