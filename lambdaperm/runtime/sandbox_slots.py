"""At most ``max_sandboxes`` live sandboxes in a server whose sandboxes share its uid's kernel budgets.

Why: an unprivileged server gives each sandbox ``budget // (max_sandboxes + 1)`` of its uid's per-user budgets
(`kernel_budgets`); that share is a guarantee only while no more than ``max_sandboxes`` sandboxes hold one — more
functions would otherwise mean more shares than the budget. A cold start beyond the cap closes the least recently
used idle worker of any function (its sandbox, and what it held, are gone: the next invoke of that function is a cold
start, as after Lambda recycles an environment); when every sandbox is busy it waits a bounded time for one, then
fails (the caller answers the Invoke with a service error: Lambda throttles an account over its concurrency, not
modelled here). ``max_sandboxes=None``: no cap (root: a uid per sandbox, budgets of its own).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from lambdaperm.runtime.errors import WorkerStartError


class SandboxesExhausted(WorkerStartError):
    """Every sandbox of the server is busy: no share of its kernel budgets is free."""


class SandboxSlots:
    """Thread-safe."""

    def __init__(self, max_sandboxes: int | None) -> None:
        self._max = max_sandboxes
        self._used = 0
        self._cond = threading.Condition()

    def acquire(self, make_room: Callable[[], bool], wait_seconds: float) -> None:
        """Take a slot. When none is free, `make_room` (called without the lock held) closes an idle sandbox and
        says whether it did; otherwise wait for a release, up to `wait_seconds`, then raise SandboxesExhausted."""
        if self._max is None:
            return
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._cond:
                if self._used < self._max:
                    self._used += 1
                    return
            if make_room():
                continue
            with self._cond:
                remaining = deadline - time.monotonic()
                if self._used < self._max:
                    continue
                if remaining <= 0:
                    raise SandboxesExhausted(
                        f"all {self._max} sandboxes of this server are busy (each holds a share of the server's"
                        " kernel budgets)"
                    )
                self._cond.wait(min(remaining, 0.1))  # a busy worker may become idle (closable) meanwhile

    def release(self) -> None:
        if self._max is None:
            return
        with self._cond:
            self._used -= 1
            self._cond.notify()

    def in_use(self) -> int:
        with self._cond:
            return self._used
