"""Test-only: `python -m tests.security.race_gate_round15 serve …` — a server WITHOUT the IAM holds
(`gateway/iam_holds.held` takes no lock), with one gate inside the authorizer's trust lookup: right after
`services/policy_sources.py` read a role from the records. When the file `role.gate` exists in the gate directory,
the next read of a role by `policy_sources`'s trust lookup (`resource_policy`, or its memo's compute `trust`)
removes it, creates `role.arrived` and waits (at most 30 s) for
`role.go`.

The holds are removed on purpose: races review round 14 found the trust memo safe only because every caller of
the trust branch holds the role; round 15 checks that the memo is safe without them (the role is read inside the
memo's compute, after the records' version).

Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.security import race_gate


class _GatedRecords:
    """The records as `policy_sources` sees them: a role read from that module stops at the gate (when armed)."""

    def __init__(self, inner: Any, directory: Path) -> None:
        self._inner, self._directory = inner, directory

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get(self, namespace: str, account: str, key: str) -> Any:
        found = self._inner.get(namespace, account, key)
        armed = self._directory / "role.gate"
        caller = sys._getframe(1).f_code
        trust_lookup = caller.co_filename.endswith("policy_sources.py") and caller.co_name in (
            "resource_policy",
            "trust",
        )
        if namespace == "iam.role" and trust_lookup and armed.exists():
            armed.unlink()
            (self._directory / "role.arrived").touch()
            race_gate.wait_for(self._directory / "role.go")
        return found


def install(directory: Path) -> None:
    from lambdaperm.gateway import iam_holds
    from lambdaperm.services import policy_sources

    @contextmanager
    def no_hold(
        operation: str, params: Mapping[str, Any] | None, caller: str | None = None
    ) -> Iterator[iam_holds.HeldEntities]:
        names = iam_holds.entities(operation, params, caller)
        yield iam_holds.HeldEntities(frozenset(names), operation in iam_holds._BY_ACCESS_KEY)

    iam_holds.held = no_hold  # the lock removed

    original = policy_sources.ServicePolicies.__init__

    def gated_init(self: Any, records: Any) -> None:
        original(self, records)
        self.records = _GatedRecords(records, directory)

    policy_sources.ServicePolicies.__init__ = gated_init  # type: ignore[method-assign]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
