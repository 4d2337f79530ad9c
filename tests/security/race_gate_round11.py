"""Test-only: `python -m tests.security.race_gate_round11 serve …` — the gate of `race_gate`, plus one inside a
Lambda invocation: between the read of the function's execution role (`invoke.role_entity`) and the check that
lambda.amazonaws.com may assume it (`invoke._assumable`). When the file `<role name>.gate` exists in the gate
directory, the next invocation reading that role removes it, creates `<role name>.arrived` and waits (at most
30 s) for `<role name>.go`.

Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.security import race_gate


def install(directory: Path) -> None:
    race_gate.install(directory)
    from lambdaperm.services.lambda_ import invoke

    original = invoke.role_entity

    def gated_role_entity(ctx: Any, role_arn: str) -> Any:
        role = original(ctx, role_arn)
        name = role_arn.rsplit("/", 1)[-1]
        armed = directory / f"{name}.gate"
        if armed.exists():
            armed.unlink()
            (directory / f"{name}.arrived").touch()
            race_gate.wait_for(directory / f"{name}.go")
        return role

    invoke.role_entity = gated_role_entity  # type: ignore[assignment]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
