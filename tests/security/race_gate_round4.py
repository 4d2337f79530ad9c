"""Test-only: `python -m tests.security.race_gate_round4 serve …` — the gates of `race_gate_objects`, plus one
inside Lambda's read of a function's code from S3 (CreateFunction / UpdateFunctionCode with `S3Bucket`/`S3Key`):
after the caller's `s3:GetObject` was decided (the forward access session), before the object is read. A read
of the key KEY stops there when `code-KEY.hold` exists in the gate directory: the server creates
`code-KEY.arrived` and waits (at most 30 s) for `code-KEY.go`.

Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.security import race_gate, race_gate_objects


def install(directory: Path) -> None:
    race_gate_objects.install(directory)
    from lambdaperm.gateway import lambda_env

    read = lambda_env.LambdaEnv.s3_object

    def gated_read(self: Any, bucket: str, key: str, version: str | None) -> Any:
        if (directory / f"code-{key}.hold").exists():
            (directory / f"code-{key}.arrived").touch()
            race_gate.wait_for(directory / f"code-{key}.go")
        return read(self, bucket, key, version)

    lambda_env.LambdaEnv.s3_object = gated_read  # type: ignore[method-assign]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
