"""Each account's budget of memory for its live execution environments (isolation review round 10).

Why: a live sandbox — busy, or idle and warm for the idle timeout (600 s) — may hold its function's MemorySize (up to
10,240 MB) plus the sandbox's margin at any moment: that is its memory cgroup's limit (`memory_cgroups`), or its data
limit where there is no cgroup. Nothing bounded how many one account keeps live as root (an unprivileged server caps
its sandboxes, `sandbox_slots`), so one account's functions, invoked once each and left idle, could together reserve
more than the host has: their handlers filling it would leave other accounts' environments to the kernel's OOM
killer. On AWS an account's capacity is a quota of its own and other accounts are unaffected; an account over it
is throttled (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html, API_Invoke's
TooManyRequestsException: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors).

How: each account's live sandboxes may reserve at most ``ACCOUNT_MEMORY_MB`` in all (half the host's memory, at least
one sandbox of the largest MemorySize). A cold start past it first closes that account's own least recently used
idle sandbox (the next invoke of that function is a cold start, as after Lambda recycles an environment), never
another account's; when none of the account's is idle, the invoke is throttled at once (429
TooManyRequestsException, Reason ConcurrentInvocationLimitExceeded), as Lambda throttles an account at its quota.
Not covered: accounts are minted by any 12-digit access key here (out of the threat model), so several accounts
together may still reserve more than the host.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from lambdaperm.runtime.memory_cgroups import MARGIN_MB
from lambdaperm.runtime.sandbox_slots import SandboxesExhausted

MAX_MEMORY_SIZE_MB = 10240  # Lambda's largest MemorySize


def reserved_mb(memory_size_mb: int) -> int:
    """What one sandbox of a function may hold: its memory cgroup's limit (MemorySize + the margin)."""
    return memory_size_mb + MARGIN_MB


def _host_memory_mb() -> int:
    return (os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) >> 20


ACCOUNT_MEMORY_MB = max(_host_memory_mb() // 2, reserved_mb(MAX_MEMORY_SIZE_MB))


class AccountMemoryExhausted(SandboxesExhausted):
    """The account's live sandboxes reserve its whole budget and none of them is idle: Invoke is throttled (429)."""


class AccountMemory:
    """Thread-safe."""

    def __init__(self, budget_mb: int = ACCOUNT_MEMORY_MB) -> None:
        self._budget = budget_mb
        self._held: dict[str, int] = {}  # MiB reserved by each account's live sandboxes
        self._lock = threading.Lock()

    def acquire(self, owner: str, memory_size_mb: int, make_room: Callable[[str], bool]) -> int:
        """Reserve a sandbox of `memory_size_mb` for `owner` and return what was reserved (for `release`). Past the
        budget `make_room(owner)` (called without the lock held) closes one of the owner's idle sandboxes and says
        whether it did; when it did not, raise AccountMemoryExhausted."""
        needed = reserved_mb(memory_size_mb)
        while True:
            with self._lock:
                if self._held.get(owner, 0) + needed <= max(self._budget, needed):
                    self._held[owner] = self._held.get(owner, 0) + needed
                    return needed
            if not make_room(owner):
                raise AccountMemoryExhausted(
                    f"the account's live execution environments reserve its {self._budget} MiB of memory and none"
                    " of them is idle"
                )

    def release(self, owner: str, reserved: int) -> None:
        with self._lock:
            left = self._held.get(owner, 0) - reserved
            if left > 0:
                self._held[owner] = left
            else:
                self._held.pop(owner, None)

    def held_mb(self, owner: str) -> int:
        with self._lock:
            return self._held.get(owner, 0)
