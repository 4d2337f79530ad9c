"""Test-only: `python -m tests.security.race_gate_logged serve …` starts a real lambdaperm server in which the
data plane's "does this S3 call write an access log object?" reading (`moto_backend._logged`, the input to whether
a read is journaled) stops, for a bucket whose name starts with `gated-`, right after it was read: the server
creates `logged.arrived` in the directory named by `LAMBDAPERM_RACE_GATE_DIR` and waits (at most 30 s) for the
test to create `logged.go`. Once `logged.go` exists, later readings pass at once. So a PutBucketLogging that
enables logging between the reading and the read's execution is played deterministically (persistence review
round 11). Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.security import race_gate


def install(directory: Path) -> None:
    from lambdaperm.dataplane import moto_backend

    original = moto_backend._logged

    def gated(bucket: str) -> bool:
        answer = original(bucket)
        if bucket.startswith("gated-"):
            (directory / "logged.arrived").touch()
            race_gate.wait_for(directory / "logged.go")
        return answer

    moto_backend._logged = gated  # type: ignore[assignment]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
