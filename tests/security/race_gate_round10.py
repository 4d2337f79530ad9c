"""Test-only: `python -m tests.security.race_gate_round10 serve …` — the gate of `race_gate`, plus one inside a
decision on an S3 bucket policy: between the read of the bucket's policy and the read of its Block Public Access
setting (`s3_public_policies.policy_for`, called by `gateway/policy_source` with the policy text it read). When the
file `<bucket>.gate` exists in the gate directory, the next decision on that bucket's policy removes it, creates
`<bucket>.arrived` and waits (at most 30 s) for `<bucket>.go`.

Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.security import race_gate


def install(directory: Path) -> None:
    race_gate.install(directory)
    from lambdaperm.dataplane import s3_public_policies

    original = s3_public_policies.policy_for

    def gated_policy_for(bucket: str, owner: str, text: str) -> str:
        armed = directory / f"{bucket}.gate"
        if armed.exists():
            armed.unlink()
            (directory / f"{bucket}.arrived").touch()
            race_gate.wait_for(directory / f"{bucket}.go")
        return original(bucket, owner, text)

    s3_public_policies.policy_for = gated_policy_for  # type: ignore[assignment]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
