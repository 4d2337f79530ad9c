"""A uid of its own for every sandbox of a root server.

Why: the kernel counts a process limit (RLIMIT_NPROC) per user — per (user namespace, uid) since Linux 5.14. A
root server's sandboxes share the initial user namespace; had they one uid (65534 used to be every worker's), the
limit would be one budget for all accounts, which one fork bomb empties for everyone. With a uid per sandbox the
limit is per sandbox, as Lambda's "1,024 execution processes/threads" quota is per execution environment
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). It also means no two sandboxes share
file ownership or signal permissions.

The uids come from ``[FIRST, FIRST + COUNT)``: above systemd's container range (0x80000–0x6FFEFFFF, where
systemd-nspawn and subuid ranges live) and below its foreign range (0x7FFE0000), with no passwd entry. A server
starts at a random offset, so two servers on one host rarely meet; if they did, the two sandboxes would share one
budget (each still bounded). A uid comes back when its worker has been reaped: its PID namespace is then empty.

Each uid in use names the account its sandbox serves (`account_of`): the gateway charges a sandbox's connections to
that account (`gateway/connection_caps.py`), as Lambda charges concurrency per account
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html). The record is process-wide, so no two
`SandboxUids` of one process hand out the same uid while it names an account.
"""

from __future__ import annotations

import secrets
import threading

FIRST = 0x70000000
COUNT = 0x0FFE0000

_accounts: dict[int, str] = {}  # every uid in use in this process that serves an account -> that account
_accounts_lock = threading.Lock()


def account_of(uid: int) -> str | None:
    """The account whose sandbox runs under `uid` now, None when no sandbox of this process does."""
    with _accounts_lock:
        return _accounts.get(uid)


class UidsExhausted(Exception):
    """Every uid of the range belongs to a live sandbox of this server."""


class SandboxUids:
    """Thread-safe."""

    def __init__(self, first: int = FIRST, count: int = COUNT) -> None:
        self._first = first
        self._count = count
        self._next = secrets.randbelow(count)
        self._used: set[int] = set()
        self._lock = threading.Lock()

    def acquire(self, account: str | None = None) -> int:
        """A uid no live sandbox of this process holds; `account`, the account its sandbox serves (`account_of`)."""
        with self._lock, _accounts_lock:
            if len(self._used) + sum(1 for u in _accounts if u not in self._used) >= self._count:
                raise UidsExhausted(f"all {self._count} sandbox uids are in use")
            while (uid := self._first + self._next) in self._used or uid in _accounts:
                self._next = (self._next + 1) % self._count
            self._next = (self._next + 1) % self._count
            self._used.add(uid)
            if account is not None:
                _accounts[uid] = account
            return uid

    def release(self, uid: int) -> None:
        with self._lock, _accounts_lock:
            if uid in self._used:
                self._used.discard(uid)
                _accounts.pop(uid, None)

    def in_use(self) -> int:
        with self._lock:
            return len(self._used)
