"""Test-only: `python -m tests.security.race_gate_round14 serve …` — the gates of `race_gate_services` (a call
held after its authorization, before its execution: header `x-race-gate`), plus one inside the
authorizer's read of a role's trust policy: between `ServicePolicies.resource_policy` reading the role from the
records and its memo (`state.Derived`) being asked for the trust. When the file `trust.gate` exists in the gate
directory, the next trust lookup removes it, creates `trust.arrived` and waits (at most 30 s) for `trust.go`.

And one inside a Lambda invocation: after `invoke.run` read the function's configuration and its role's credentials,
before the runtime picks (or starts) a worker (`LambdaEnv.invoke`). When `<function name>.start.gate` exists, the
next invocation of that function removes it, creates `<function name>.start.arrived` and waits for
`<function name>.start.go`.

Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.security import race_gate, race_gate_services


class _GatedMemo:
    """A `state.Derived` whose lookups of a ("trust", …) key stop at the gate first (when armed)."""

    def __init__(self, inner: Any, directory: Path) -> None:
        self._inner, self._directory = inner, directory

    def get(self, key: object, compute: Any) -> Any:
        armed = self._directory / "trust.gate"
        if isinstance(key, tuple) and key and key[0] == "trust" and armed.exists():
            armed.unlink()
            (self._directory / "trust.arrived").touch()
            race_gate.wait_for(self._directory / "trust.go")
        return self._inner.get(key, compute)


def install(directory: Path) -> None:
    race_gate_services.install(directory)
    from lambdaperm.services import policy_sources

    original = policy_sources.ServicePolicies.__init__

    def gated_init(self: Any, records: Any) -> None:
        original(self, records)
        self._cache = _GatedMemo(self._cache, directory)

    policy_sources.ServicePolicies.__init__ = gated_init  # type: ignore[method-assign]

    from lambdaperm.gateway import lambda_env

    invoke = lambda_env.LambdaEnv.invoke

    def gated_invoke(self: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
        name = f"{target.function_name}.start"
        armed = directory / f"{name}.gate"
        if armed.exists():
            armed.unlink()
            (directory / f"{name}.arrived").touch()
            race_gate.wait_for(directory / f"{name}.go")
        return invoke(self, target, *args, **kwargs)

    lambda_env.LambdaEnv.invoke = gated_invoke  # type: ignore[method-assign]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
