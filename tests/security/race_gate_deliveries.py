"""Test-only: `python -m tests.security.race_gate_deliveries serve …` — the gates of `race_gate_services`, plus
one inside a push delivery to a Lambda function (S3 → Lambda, SNS → Lambda: `gateway.events.deliver`): right
after the function policy allowed the delivery, before the function is run.

A delivery to the function named NAME stops there when the file `deliver-NAME.hold` exists in the gate
directory: the server creates `deliver-NAME.arrived` and waits (at most 30 s) for `deliver-NAME.go`. Every
asynchronous job the server runs (deliveries included) appends a line to `async-jobs.done` when it ends, so a
test can wait for a delivery to be over (a positive signal) whatever it did. Nothing in lambdaperm knows about
this module.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from tests.security import race_gate, race_gate_services

DONE = "async-jobs.done"


def install(directory: Path) -> None:
    race_gate_services.install(directory)
    from lambdaperm.gateway import events, lambda_env

    allowed = events.push_allowed

    def gated_allowed(server: Any, service: str, function_arn: str, *rest: Any) -> Any:
        denial = allowed(server, service, function_arn, *rest)
        name = function_arn.split(":")[6]
        if denial is None and (directory / f"deliver-{name}.hold").exists():
            (directory / f"deliver-{name}.arrived").touch()
            race_gate.wait_for(directory / f"deliver-{name}.go")
        return denial

    events.push_allowed = gated_allowed

    submit = lambda_env.LambdaEnv.submit
    lock = threading.Lock()

    def counted(self: Any, job: Any, *args: Any) -> None:  # submit(job, account) since isolation round 6
        def run() -> None:
            try:
                job()
            finally:
                with lock, (directory / DONE).open("a") as out:
                    out.write("done\n")

        submit(self, run, *args)

    lambda_env.LambdaEnv.submit = counted  # type: ignore[method-assign]


def done_count(directory: Path) -> int:
    path = directory / DONE
    return len(path.read_text().splitlines()) if path.exists() else 0


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
