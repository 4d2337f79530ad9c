"""A budget of request-body bytes the server holds before a request is answered (isolation review round 16).

AWS's rule: one function's code cannot deny the service to other accounts — each execution environment is isolated
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), and what one account may hold is
charged to that account (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html). A front end short of
room answers 503 and the client backs off and retries: S3's `SlowDown` ("Please reduce your request rate."), the
other services' `ServiceUnavailable` (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html); botocore retries both.

Why: `gateway/asgi.App` gathers a request's body (at most `MAX_BODY`, 64 MiB) before the pipeline reads its
signature, so a connection that sends all of a body but one byte kept that much in the server's one process for as
long as it stayed open: 16 such connections grew the server by 962 MiB, one sandbox's 64 held 4 GiB, any local caller
more, and the server is in no memory cgroup.

How: every byte of a body beyond its first `FREE` (as much as uvicorn itself buffers per connection, so a small call
is never refused for room) is charged from the moment it is declared (`Content-Length`) or received (a chunked body)
until the request has been answered, or the connection closed, whichever comes first — the charge is given back on
every path (completion, refusal, disconnect, error). A body that arrived over a sandbox's link (its connection's
`Ticket`, `connection_caps`) is charged to its sandbox (`PER_SANDBOX`), to its account (`PER_ACCOUNT`) and to all the
sandboxes together (`SANDBOXES`); any other caller's to `LOCAL`. What the server holds in bodies is therefore at most
`SANDBOXES + LOCAL` (640 MiB) plus `FREE` per connection. A body that does not fit is refused before it is read
(when declared) or as soon as it outgrows the room, with a 503 and the connection closed. Each client may send a
body of `MAX_BODY` at a time (S3 PutObject's largest here); one account's sandboxes take at most a quarter of the
sandboxes' share, so every other account's keep the rest. Called on the event loop's thread only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .connection_caps import Ticket

MIB = 1 << 20
FREE = 64 * 1024  # bytes of every body never charged: uvicorn's own buffer per connection (HIGH_WATER_LIMIT)
PER_SANDBOX = 96 * MIB  # one sandbox's bodies held at once: a 64 MiB body (MAX_BODY) and the parts beside it
SANDBOXES = 512 * MIB  # all sandboxes' bodies together
PER_ACCOUNT = SANDBOXES // 4  # one account's sandboxes together: a quarter of theirs, two of the largest bodies
LOCAL = 128 * MIB  # every other caller's (the server's own listener) together: two of the largest bodies

log = logging.getLogger("lambdaperm.connections")


@dataclass
class Hold:
    """The body bytes one request holds, charged to its `ticket`'s budgets (None: not over a link)."""

    budget: BodyBudget
    ticket: Ticket | None
    charged: int = 0
    released: bool = field(default=False)

    def grow(self, size: int) -> bool:
        """Charge a body of `size` bytes (declared or received so far); False, nothing charged, when it does not fit."""
        wanted = max(0, size - FREE)
        if self.released or wanted <= self.charged:
            return not self.released
        if not self.budget.charge(self.ticket, wanted - self.charged):
            return False
        self.charged = wanted
        return True

    def release(self) -> None:
        """Give the charge back (idempotent)."""
        if not self.released:
            self.released = True
            self.budget.give_back(self.ticket, self.charged)
            self.charged = 0


class BodyBudget:
    """Counts the body bytes held per sandbox, per account, by all sandboxes and by every other caller."""

    def __init__(
        self,
        per_sandbox: int = PER_SANDBOX,
        per_account: int = PER_ACCOUNT,
        sandboxes: int = SANDBOXES,
        local: int = LOCAL,
    ) -> None:
        self.per_sandbox, self.per_account, self.sandboxes, self.local = per_sandbox, per_account, sandboxes, local
        self._per_sandbox: dict[str, int] = {}
        self._per_account: dict[str, int] = {}
        self._sandboxes = 0
        self._local = 0
        self._warned: set[str | None] = set()
        self.refused = 0

    def hold(self, ticket: Ticket | None) -> Hold:
        return Hold(self, ticket)

    @property
    def held(self) -> int:
        """Bytes charged now, all budgets together."""
        return self._sandboxes + self._local

    def charge(self, ticket: Ticket | None, size: int) -> bool:
        sandbox = ticket.sandbox if ticket is not None else None
        if sandbox is None:
            if self._local + size > self.local:
                return self._refuse(None, f"other callers' bodies hold {self._local} bytes, their budget")
            self._local += size
            return True
        account = ticket.account if ticket is not None else None
        held = self._per_sandbox.get(sandbox, 0)
        if held + size > self.per_sandbox:
            return self._refuse(sandbox, f"sandbox {sandbox}'s bodies hold {held} bytes, its budget")
        charged = self._per_account.get(account, 0) if account is not None else 0
        if account is not None and charged + size > self.per_account:
            return self._refuse(account, f"account {account}'s bodies hold {charged} bytes, its budget")
        if self._sandboxes + size > self.sandboxes:
            return self._refuse(sandbox, f"sandboxes' bodies hold {self._sandboxes} bytes, their budget")
        self._per_sandbox[sandbox] = held + size
        if account is not None:
            self._per_account[account] = charged + size
        self._sandboxes += size
        return True

    def give_back(self, ticket: Ticket | None, size: int) -> None:
        sandbox = ticket.sandbox if ticket is not None else None
        if sandbox is None:
            self._local -= size
            if self._local == 0:
                self._warned.discard(None)
            return
        self._sandboxes -= size
        _drop(self._per_sandbox, sandbox, size, self._warned)
        if ticket is not None and ticket.account is not None:
            _drop(self._per_account, ticket.account, size, self._warned)

    def _refuse(self, who: str | None, why: str) -> bool:
        self.refused += 1
        if who not in self._warned:  # once until the budget has room again: a flood is one line
            self._warned.add(who)
            log.warning("request body refused: %s (503; AWS: one function cannot deny the service to others)", why)
        return False


def _drop(counts: dict[str, int], key: str, size: int, warned: set[str | None]) -> None:
    left = counts.pop(key, 0) - size
    if left > 0:
        counts[key] = left
    else:
        warned.discard(key)
