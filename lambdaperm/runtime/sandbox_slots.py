"""At most ``max_sandboxes`` live sandboxes in a server whose sandboxes share its uid's kernel budgets.

Why: an unprivileged server gives each sandbox ``budget // (max_sandboxes + 1)`` of its uid's per-user budgets
(`kernel_budgets`); that share is a guarantee only while no more than ``max_sandboxes`` sandboxes hold one — more
functions would otherwise mean more shares than the budget. A cold start beyond the cap closes the least recently
used idle worker of any function (its sandbox, and what it held, are gone: the next invoke of that function is a cold
start, as after Lambda recycles an environment); when every sandbox is busy it waits a bounded time for one, then
fails (the caller answers the Invoke with a service error: Lambda throttles an account over its concurrency, not
modelled here). ``max_sandboxes=None``: no cap (root: a uid per sandbox, budgets of its own).

One owner (an account) holds at most ``max_sandboxes - 1`` of them (isolation review round 5): otherwise one account
keeping as many invocations busy as there are sandboxes left every other account's cold start waiting, then failing
— a denial of service across accounts. Lambda's concurrency is a quota of each account: one account's invocations are
throttled against its own quota, never another's (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
An owner at its own limit makes room by closing one of its own idle workers, else waits as above.
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
        self._per_owner = max(1, max_sandboxes - 1) if max_sandboxes is not None else None
        self._used = 0
        self._held: dict[str, int] = {}  # live sandboxes of each owner
        self._cond = threading.Condition()

    def acquire(self, owner: str, make_room: Callable[[str | None], bool], wait_seconds: float) -> None:
        """Take a slot for `owner`. When none is free to it, `make_room` (called without the lock held) closes an
        idle sandbox — of `owner` when its argument is the owner (the owner is at its own limit), of anyone when it is
        None — and says whether it did; otherwise wait for a release, up to `wait_seconds`, then raise
        SandboxesExhausted."""
        if self._max is None or self._per_owner is None:
            return
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._cond:
                if self._free_to(owner):
                    self._used += 1
                    self._held[owner] = self._held.get(owner, 0) + 1
                    return
                scope = owner if self._held.get(owner, 0) >= self._per_owner else None
            if make_room(scope):
                continue
            with self._cond:
                remaining = deadline - time.monotonic()
                if self._free_to(owner):
                    continue
                if remaining <= 0:
                    raise SandboxesExhausted(
                        f"all {self._max} sandboxes of this server, or the {self._per_owner} one account may hold,"
                        " are busy (each holds a share of the server's kernel budgets)"
                    )
                self._cond.wait(min(remaining, 0.1))  # a busy worker may become idle (closable) meanwhile

    def _free_to(self, owner: str) -> bool:
        assert self._max is not None and self._per_owner is not None
        return self._used < self._max and self._held.get(owner, 0) < self._per_owner

    def release(self, owner: str) -> None:
        if self._max is None:
            return
        with self._cond:
            self._used -= 1
            self._held[owner] -= 1
            if not self._held[owner]:
                del self._held[owner]
            self._cond.notify_all()  # the freed slot may be free to only some of the waiters

    def in_use(self) -> int:
        with self._cond:
            return self._used
