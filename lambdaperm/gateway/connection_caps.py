"""A bound on the connections one sandbox holds to the endpoint, on one account's sandboxes together (isolation
round 14), and on all of them together (isolation round 11).

AWS's rule: one function's code cannot deny the service to other accounts — each execution environment is isolated
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html) and holds at most 1,024 file
descriptors (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). What one account may hold is
charged to that account, never to a pool every account draws on: concurrency is per account
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).

Why: every TCP connection a handler opens to the endpoint (the one address it is given) is a descriptor of the
server's one process, and uvicorn never closes a connection that has sent no request (its keep-alive timeout is armed
only after a response). A handler held 20,000 idle ones in about 10 s; the server then had no descriptor left and
every account's call was a bare 500 with `OSError: [Errno 24]` tracebacks. A sandbox's own RLIMIT_NOFILE does not
bound this: it is per process, and a sandbox may run up to its task limit of processes.

How: every sandbox is a network namespace of its own whose one way to the endpoint is its link, a Unix socket the
runtime made for it alone (`runtime.endpoint_links`, isolation round 13): a connection that arrives over a link is
that sandbox's and its account's (`Origin`), in both modes — no peer lookup, nothing a handler can forge. When such a
connection is handed to the server it is closed at once when its sandbox already holds `PER_SANDBOX` connections, when
the sandboxes of the account it serves together hold `per_account`, or when all sandboxes together hold
`sandbox_share` of the server's descriptors. The rule per account is fixed: `per_account` = max(`PER_SANDBOX`,
sandbox share // 4), so one account — however many environments it keeps warm — takes at most a quarter of the
sandboxes' share (and at least one sandbox's worth), and every other account's sandboxes keep the rest. Every
connection, a sandbox's or not, is closed at once beyond `total` — the descriptors the server keeps for its own files
(SQLite, botocore's models, workers' pipes) so that a call it accepted is answered, never a 500 for lack of a
descriptor. A refused connection costs the server one accept and one close. A connection on the server's own listener
is no sandbox's (a sandbox cannot reach it): only `total` applies to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from dataclasses import dataclass
from typing import Any

from lambdaperm.runtime.endpoint_links import Origin

PER_SANDBOX = 64  # connections one sandbox may hold to the endpoint at once
RESERVE = 512  # descriptors the server keeps for everything but connections
SANDBOX_SHARE = 0.5  # of the connections the server may hold, the part all sandboxes together may take
ACCOUNT_PARTS = 4  # one account's sandboxes together may take 1/ACCOUNT_PARTS of the sandboxes' share (at least 64)

TICKET_KEY = "lambdaperm.ticket"  # the ASGI scope's key for the request's connection's `Ticket`

log = logging.getLogger("lambdaperm.connections")


@dataclass(frozen=True)
class Ticket:
    """An admitted connection: `sandbox` names its sandbox and `account` the account it serves, None for any other
    caller."""

    sandbox: str | None
    account: str | None = None


class ConnectionCaps:
    """Counts the connections the server holds, per sandbox, per account and in total, and refuses those beyond the
    caps. Called on the event loop's thread only."""

    def __init__(
        self,
        total: int,
        per_sandbox: int = PER_SANDBOX,
        sandbox_share: float = SANDBOX_SHARE,
    ) -> None:
        self.total = total
        self.per_sandbox = per_sandbox
        self.sandbox_total = int(total * sandbox_share)
        self.per_account = max(per_sandbox, self.sandbox_total // ACCOUNT_PARTS)
        self._open = 0
        self._sandboxes = 0
        self._per_sandbox: dict[str, int] = {}
        self._per_account: dict[str, int] = {}
        self._warned: set[str | None] = set()
        self.refused = 0

    @classmethod
    def for_this_process(cls) -> ConnectionCaps:
        """Caps from this process's RLIMIT_NOFILE: `RESERVE` descriptors (at least half) kept for the server."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        soft = soft if soft != resource.RLIM_INFINITY else 1 << 20
        return cls(total=max(soft - RESERVE, soft // 2))

    def admit(self, origin: Origin | None) -> Ticket | None:
        """The connection's ticket (naming the sandbox whose link it came over, None for any other caller), None when
        it is refused."""
        if self._open >= self.total:
            self._refuse(None, f"the server holds {self._open} connections, its limit")
            return None
        if origin is not None:
            sandbox, account = origin.sandbox, origin.account
            held = self._per_sandbox.get(sandbox, 0)
            if held >= self.per_sandbox:
                self._refuse(sandbox, f"sandbox {sandbox} holds {held} connections, its limit")
                return None
            charged = self._per_account.get(account, 0)
            if charged >= self.per_account:
                self._refuse(account, f"account {account}'s sandboxes hold {charged} connections, its limit")
                return None
            if self._sandboxes >= self.sandbox_total:
                self._refuse(sandbox, f"sandboxes hold {self._sandboxes} connections, their limit")
                return None
            self._per_sandbox[sandbox] = held + 1
            self._per_account[account] = charged + 1
            self._sandboxes += 1
            self._open += 1
            return Ticket(sandbox, account)
        self._open += 1
        return Ticket(None)

    def release(self, ticket: Ticket) -> None:
        self._open -= 1
        if (sandbox := ticket.sandbox) is not None:
            self._sandboxes -= 1
            held = self._per_sandbox.pop(sandbox) - 1
            if held:
                self._per_sandbox[sandbox] = held
            else:
                self._warned.discard(sandbox)
        if (account := ticket.account) is not None:
            charged = self._per_account.pop(account) - 1
            if charged:
                self._per_account[account] = charged
            else:
                self._warned.discard(account)
        if self._open == 0:
            self._warned.discard(None)

    def _refuse(self, who: str | None, why: str) -> None:
        self.refused += 1
        if who not in self._warned:  # once until the cap is no longer reached: a flood is one line, not thousands
            self._warned.add(who)
            log.warning(
                "connection refused: %s (closed at once; AWS: one function cannot deny the service to others)", why
            )


def capped_protocol(base: type[asyncio.Protocol], caps: ConnectionCaps) -> type[asyncio.Protocol]:
    """`base` (uvicorn's HTTP protocol class) with `caps` applied as each connection is accepted: a refused
    connection is aborted before uvicorn sees it. A connection a sandbox's link handed over has its `Origin` set on
    the protocol instance (`sandbox_links`) before it is made."""

    class CappedProtocol(base):  # type: ignore[valid-type,misc]
        _lambdaperm_ticket: Ticket | None = None  # None: refused (or closed)
        _lambdaperm_origin: Origin | None = None  # the sandbox whose link the connection came over

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            ticket = caps.admit(self._lambdaperm_origin)
            if ticket is None:
                with contextlib.suppress(Exception):
                    transport.abort()  # type: ignore[attr-defined]
                return
            self._lambdaperm_ticket = ticket
            super().connection_made(transport)
            app = self.app  # each request's scope names its connection's ticket (body budget, isolation round 16)

            async def ticketed(scope: Any, receive: Any, send: Any) -> None:
                scope[TICKET_KEY] = ticket
                await app(scope, receive, send)

            self.app = ticketed

        def data_received(self, data: bytes) -> None:
            if self._lambdaperm_ticket is not None:
                super().data_received(data)

        def eof_received(self) -> bool | None:
            return super().eof_received() if self._lambdaperm_ticket is not None else None

        def connection_lost(self, exc: Exception | None) -> None:
            if (ticket := self._lambdaperm_ticket) is None:
                return
            self._lambdaperm_ticket = None
            caps.release(ticket)
            super().connection_lost(exc)

    CappedProtocol.__name__ = CappedProtocol.__qualname__ = f"Capped{base.__name__}"
    return CappedProtocol
