"""Test-only: playing a time-of-check/time-of-use window with the gate of `race_gate` in a real server.

A call made through the gate (`through_gate`) stops after its authorization and before its execution; `Held`
runs it in a thread and holds it there, and `release_after` changes the world while it is held. The rule the race
tests check is "one reading" (docs/architecture.md): what executes is what was authorized.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tests.security import race_gate


def through_gate(client: Any, name: str) -> Any:
    """`client`, whose every request carries the gate header `name` (held at the gate of that name)."""
    client.meta.events.register_first(
        "before-sign", lambda request, **_: request.headers.__setitem__(race_gate.HEADER, name)
    )
    return client


class Held:
    """A call made in a thread through the gate: `start()` returns once it is authorized and held; `release()`
    lets it execute and returns its outcome ("ok", result) or ("error", code)."""

    def __init__(self, gate: Path, name: str, call: Callable[[], Any]) -> None:
        self.gate, self.name, self.call = gate, name, call
        self.outcome: tuple[str, Any] | None = None
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            self.outcome = ("ok", self.call())
        except ClientError as err:
            self.outcome = ("error", err.response["Error"]["Code"])

    def start(self) -> Held:
        self.thread.start()
        race_gate.wait_for(self.gate / f"{self.name}.arrived", 20)
        return self

    def release(self) -> tuple[str, Any]:
        (self.gate / f"{self.name}.go").touch()
        self.thread.join(30)
        assert not self.thread.is_alive() and self.outcome is not None
        return self.outcome


def release_after(held: Held, change: Callable[[], None]) -> tuple[str, Any]:
    """Run `change` while `held` is held; without a hold on the resource the change completes first (given 5 s),
    with one it waits for the held call. Returns the held call's outcome once both are done."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            change()
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    changer = threading.Thread(target=run)
    changer.start()
    changer.join(5)
    outcome = held.release()
    changer.join(30)
    assert not changer.is_alive() and not failures, failures
    return outcome
