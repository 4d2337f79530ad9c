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

How: as root each sandbox runs under a uid of its own (`runtime.sandbox_uids`) in the host's network namespace, so
the kernel knows which sandbox owns the peer of a loopback connection. When a connection is accepted the server asks
the kernel for the owner of the one peer socket (a sock_diag netlink query of the exact 4-tuple: one request, one
answer, no table scan; https://man7.org/linux/man-pages/man7/sock_diag.7.html) and closes it at once when its
sandbox already holds `PER_SANDBOX` connections, when the sandboxes of the account it serves (the runtime's record,
`runtime.sandbox_uids.account_of`) together hold `per_account`, or when all sandboxes together hold `sandbox_share`
of the server's descriptors. The rule per account is fixed: `per_account` = max(`PER_SANDBOX`, sandbox share // 4), so
one account — however many environments it keeps warm — takes at most a quarter of the sandboxes' share (and at
least one sandbox's worth), and every other account's sandboxes keep the rest. A sandbox uid that serves no account
(its sandbox is gone, the socket passed on) is refused. Every connection, a sandbox's or not, is closed at once
beyond `total` — the descriptors the server keeps for its own files (SQLite, botocore's models, workers' pipes)
so that a call it accepted is answered, never a 500 for lack of a descriptor. A refused connection costs the server
one accept and one close.

An unprivileged server's sandboxes share its uid (bwrap maps it), so no sandbox is told apart there: only `total`
applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import resource
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdaperm.runtime.sandbox_uids import COUNT, FIRST, account_of

PER_SANDBOX = 64  # connections one sandbox (one uid) may hold to the endpoint at once
RESERVE = 512  # descriptors the server keeps for everything but connections
SANDBOX_SHARE = 0.5  # of the connections the server may hold, the part all sandboxes together may take
ACCOUNT_PARTS = 4  # one account's sandboxes together may take 1/ACCOUNT_PARTS of the sandboxes' share (at least 64)

NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST = 1
NLMSG_ERROR = 2
ALL_STATES = 0xFFFFFFFF
NO_COOKIE = 0xFFFFFFFF
_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
_REQUEST = struct.Struct("=BBBBI2s2s16s16sIII")  # struct inet_diag_req_v2 with its inet_diag_sockid
_UID_OFFSET = _HEADER.size + 4 + 48 + 12  # inet_diag_msg: 4 bytes, the sockid, expires/rqueue/wqueue, then uid

log = logging.getLogger("lambdaperm.connections")


def _packed(host: str, family: int) -> bytes:
    return (
        ipaddress.ip_address(host).packed.ljust(16, b"\0")
        if family == socket.AF_INET
        else socket.inet_pton(socket.AF_INET6, host)
    )


class PeerOwners:
    """Asks the kernel which uid owns the local socket at the other end of a connection (sock_diag)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
        self._sock.settimeout(1.0)
        self._seq = 0
        self._lock = threading.Lock()

    def owner(self, peer: tuple[str, int], local: tuple[str, int]) -> int | None:
        """The uid that created the socket bound to `peer` and connected to `local` (our side), None when no such
        socket is on this host (a remote client, or one already closed)."""
        family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
        with self._lock:
            self._seq = (self._seq + 1) & 0xFFFFFFFF
            body = _REQUEST.pack(
                family,
                socket.IPPROTO_TCP,
                0,
                0,
                ALL_STATES,
                struct.pack("!H", peer[1]),
                struct.pack("!H", local[1]),
                _packed(peer[0], family),
                _packed(local[0], family),
                0,
                NO_COOKIE,
                NO_COOKIE,
            )
            self._sock.send(
                _HEADER.pack(_HEADER.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, self._seq, 0) + body
            )
            while True:
                answer = self._sock.recv(8192)
                _, kind, _, seq, _ = _HEADER.unpack_from(answer)
                if seq == self._seq:
                    break
        if kind == NLMSG_ERROR or len(answer) < _UID_OFFSET + 4:
            return None
        uid: int = struct.unpack_from("=I", answer, _UID_OFFSET)[0]
        return uid

    def close(self) -> None:
        self._sock.close()


def is_sandbox_uid(uid: int | None) -> bool:
    return uid is not None and FIRST <= uid < FIRST + COUNT


def _address(name: Any) -> tuple[str, int] | None:
    """A transport's peername/sockname as (host, port); an IPv4-mapped IPv6 address as the IPv4 one it maps."""
    if not isinstance(name, tuple) or len(name) < 2:
        return None
    host, port = str(name[0]), int(name[1])
    if host.startswith("::ffff:") and "." in host:
        host = host[len("::ffff:") :]
    return host, port


@dataclass(frozen=True)
class Ticket:
    """An admitted connection: `uid` is its sandbox's and `account` the account it serves, None for any other caller."""

    uid: int | None
    account: str | None = None


class ConnectionCaps:
    """Counts the connections the server holds, per sandbox uid, per account and in total, and refuses those beyond
    the caps. Called on the event loop's thread only."""

    def __init__(
        self,
        total: int,
        per_sandbox: int = PER_SANDBOX,
        sandbox_share: float = SANDBOX_SHARE,
        owners: PeerOwners | None = None,
        accounts: Callable[[int], str | None] = account_of,
    ) -> None:
        self.total = total
        self.per_sandbox = per_sandbox
        self.sandbox_total = int(total * sandbox_share)
        self.per_account = max(per_sandbox, self.sandbox_total // ACCOUNT_PARTS)
        self._owners = owners
        self._accounts = accounts
        self._open = 0
        self._sandboxes = 0
        self._per_uid: dict[int, int] = {}
        self._per_account: dict[str, int] = {}
        self._warned: set[int | str | None] = set()
        self.refused = 0

    @classmethod
    def for_this_process(cls) -> ConnectionCaps:
        """Caps from this process's RLIMIT_NOFILE: `RESERVE` descriptors (at least half) kept for the server."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        soft = soft if soft != resource.RLIM_INFINITY else 1 << 20
        owners: PeerOwners | None
        try:
            owners = PeerOwners()
        except OSError:  # no sock_diag here: sandboxes are not told apart, the total still holds
            owners = None
        return cls(total=max(soft - RESERVE, soft // 2), owners=owners)

    def admit(self, peer: tuple[str, int] | None, local: tuple[str, int] | None) -> Ticket | None:
        """The connection's ticket (naming its sandbox uid, None for any other caller), None when it is refused."""
        uid = None
        if self._owners is not None and peer is not None and local is not None:
            try:
                owner = self._owners.owner(peer, local)
            except OSError:
                owner = None
            uid = owner if is_sandbox_uid(owner) else None
        if self._open >= self.total:
            self._refuse(None, f"the server holds {self._open} connections, its limit")
            return None
        if uid is not None:
            account = self._accounts(uid)
            if account is None:
                self._refuse(uid, f"sandbox uid {uid} serves no account")
                return None
            held = self._per_uid.get(uid, 0)
            if held >= self.per_sandbox:
                self._refuse(uid, f"sandbox uid {uid} holds {held} connections, its limit")
                return None
            charged = self._per_account.get(account, 0)
            if charged >= self.per_account:
                self._refuse(account, f"account {account}'s sandboxes hold {charged} connections, its limit")
                return None
            if self._sandboxes >= self.sandbox_total:
                self._refuse(uid, f"sandboxes hold {self._sandboxes} connections, their limit")
                return None
            self._per_uid[uid] = held + 1
            self._per_account[account] = charged + 1
            self._sandboxes += 1
            self._open += 1
            return Ticket(uid, account)
        self._open += 1
        return Ticket(uid)

    def release(self, ticket: Ticket) -> None:
        self._open -= 1
        if (uid := ticket.uid) is not None:
            self._sandboxes -= 1
            held = self._per_uid.pop(uid) - 1
            if held:
                self._per_uid[uid] = held
            else:
                self._warned.discard(uid)
        if (account := ticket.account) is not None:
            charged = self._per_account.pop(account) - 1
            if charged:
                self._per_account[account] = charged
            else:
                self._warned.discard(account)
        if self._open == 0:
            self._warned.discard(None)

    def _refuse(self, who: int | str | None, why: str) -> None:
        self.refused += 1
        if who not in self._warned:  # once until the cap is no longer reached: a flood is one line, not thousands
            self._warned.add(who)
            log.warning(
                "connection refused: %s (closed at once; AWS: one function cannot deny the service to others)", why
            )

    def close(self) -> None:
        if self._owners is not None:
            self._owners.close()


def capped_protocol(base: type[asyncio.Protocol], caps: ConnectionCaps) -> type[asyncio.Protocol]:
    """`base` (uvicorn's HTTP protocol class) with `caps` applied as each connection is accepted: a refused
    connection is aborted before uvicorn sees it."""

    class CappedProtocol(base):  # type: ignore[valid-type,misc]
        _lambdaperm_ticket: Ticket | None = None  # None: refused (or closed)

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            ticket = caps.admit(
                _address(transport.get_extra_info("peername")), _address(transport.get_extra_info("sockname"))
            )
            if ticket is None:
                with contextlib.suppress(Exception):
                    transport.abort()  # type: ignore[attr-defined]
                return
            self._lambdaperm_ticket = ticket
            super().connection_made(transport)

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
