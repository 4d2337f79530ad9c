"""Test-only: `python -m tests.security.race_gate_round5 serve …` — the gates of `race_gate_round4`, plus one inside
DynamoDB ImportTable's authorization: after the import was pinned (`dynamodb_imports.plan`: the objects under the
prefix listed) and before the caller's `s3:GetObject` on each of them is decided. An import of the bucket BUCKET
stops there when `import-BUCKET.hold` exists in the gate directory: the server creates `import-BUCKET.arrived` and
waits (at most 30 s) for `import-BUCKET.go`.

Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.security import race_gate, race_gate_round4


def install(directory: Path) -> None:
    race_gate_round4.install(directory)
    from lambdaperm.dataplane import dynamodb_imports

    plan = dynamodb_imports.plan

    def gated_plan(params: Any, account: str) -> Any:
        pinned = plan(params, account)
        bucket, _ = dynamodb_imports.source_of(params)
        if (directory / f"import-{bucket}.hold").exists():
            (directory / f"import-{bucket}.arrived").touch()
            race_gate.wait_for(directory / f"import-{bucket}.go")
        return pinned

    dynamodb_imports.plan = gated_plan  # type: ignore[assignment]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
