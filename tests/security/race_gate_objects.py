"""Test-only: `python -m tests.security.race_gate_objects serve …` — the gates of `race_gate_deliveries`, plus two:

- inside the embedded S3 backend's PutObject (and CopyObject, PutObjectTagging), between the moment the new object
  is in the bucket and the moment its tags are written (moto stores the object, then its tags): a write whose
  object is named KEY stops there when `tag-KEY.hold` exists in the gate directory — the server creates
  `tag-KEY.arrived` and waits (at most 30 s) for `tag-KEY.go`;
- inside the SQS event-source poller, after its decision (execution role, queue policy) and the receive, before
  the function is run: a poll of the queue named QUEUE stops there when `poll-QUEUE.hold` exists (`.arrived`,
  `.go` as above), and appends a line to `poll-QUEUE.done` when that poll is over, whatever it did (a positive
  signal a test can wait for).

Nothing in lambdaperm knows about this module.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from tests.security import race_gate, race_gate_deliveries


def install(directory: Path) -> None:
    race_gate_deliveries.install(directory)
    _install_tagging_gate(directory)
    _install_poller_gate(directory)


def _install_tagging_gate(directory: Path) -> None:
    from moto.s3.models import S3Backend

    original = S3Backend.put_object_tagging

    def gated(self: Any, key: Any, tags: Any, *rest: Any, **kw: Any) -> Any:
        name = getattr(key, "name", None)
        if isinstance(name, str) and (directory / f"tag-{name}.hold").exists():
            (directory / f"tag-{name}.arrived").touch()
            race_gate.wait_for(directory / f"tag-{name}.go")
        return original(self, key, tags, *rest, **kw)

    S3Backend.put_object_tagging = gated  # type: ignore[method-assign]


def _install_poller_gate(directory: Path) -> None:
    from lambdaperm.dataplane import moto_state
    from lambdaperm.gateway import events

    receive = moto_state.sqs_receive
    gated_polls = threading.local()

    def gated_receive(account: str, region: str, queue: str, count: int) -> Any:
        messages = receive(account, region, queue, count)
        if messages and (directory / f"poll-{queue}.hold").exists():
            gated_polls.queue = queue
            (directory / f"poll-{queue}.arrived").touch()
            race_gate.wait_for(directory / f"poll-{queue}.go")
        return messages

    moto_state.sqs_receive = gated_receive

    poll = events.SqsPoller.poll

    def counted_poll(self: Any, mapping: dict[str, Any]) -> int:
        gated_polls.queue = None
        try:
            return poll(self, mapping)
        finally:
            queue = getattr(gated_polls, "queue", None)
            if queue is not None:
                with (directory / f"poll-{queue}.done").open("a") as out:
                    out.write("done\n")

    events.SqsPoller.poll = counted_poll  # type: ignore[method-assign]


def main() -> int:
    install(Path(os.environ[race_gate.ENV_DIR]))
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
