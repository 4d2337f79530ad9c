"""The endpoint's port, held on every address the server does not listen on, so that no handler can stand in for it.

Why: a sandbox shares the host's network (see `isolation`), so a handler can bind and listen. The server listens
on one address (127.0.0.1 by default); a handler that listened on the same port at another address of the loopback
— ``[::1]:<port>`` — would receive the requests of every client that reaches the endpoint as ``localhost`` or a
function URL as ``<id>.lambda-url.<region>.localhost`` (names most hosts resolve to ::1 first): another account's
signed requests and their bodies, which it could answer as it likes and replay to the real endpoint. The threat
model (docs/security.md, "Runtime isolation") lets a handler call the endpoint, never impersonate it.

How: one TCP socket per address family, bound to the wildcard address (``0.0.0.0``, ``[::]`` with IPV6_V6ONLY) at
the endpoint's port, never listening, without SO_REUSEADDR or SO_REUSEPORT. The kernel then refuses any other bind of
that port in the family (a bind conflicts with a wildcard that does not share SO_REUSEADDR, and SO_REUSEPORT sharing
needs the option on both sockets), and a client connecting there is refused at once (nothing listens) and tries the
next address of the name, the endpoint's. Where the server's own listener already covers the family the wildcard
bind fails, and the listener itself refuses the handler's binds. The sockets are close-on-exec (Python's default):
no worker inherits them. Held from the runtime's creation (before its first worker) to its shutdown.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from urllib.parse import urlsplit

WILDCARDS = ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::"))


class PortHeldElsewhere(OSError):
    """Another process holds the endpoint's port on an address family the server does not listen on."""


def hold_other_family(host: str, port: int) -> socket.socket | None:
    """Before the server listens on `host:port`, hold `port` on the wildcard of the other address family (the
    IPv6 one for an IPv4 listener and the reverse), which cannot conflict with the listener's own bind.
    Raises PortHeldElsewhere when another process (another server's handler, say) already holds it there:
    clients reaching the endpoint as `localhost` would reach that process, so the server must not start.
    None when the host has no such family."""
    family, address = (socket.AF_INET, "0.0.0.0") if ":" in host else (socket.AF_INET6, "::")
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            where = f"[{address}]" if family == socket.AF_INET6 else address
            raise PortHeldElsewhere(f"port {port} is already in use on {where}: clients reaching this endpoint as "
                                    f"localhost could reach that process; choose another --port") from None
        return None  # the family is unusable here (no IPv6 on this host): nobody can listen there either
    return sock


class EndpointGuard:
    """Holds `endpoint_url`'s port on the wildcard of each address family the server's listener leaves free."""

    def __init__(self, endpoint_url: str) -> None:
        self.held: list[str] = []
        self._sockets: list[socket.socket] = []
        try:
            port = urlsplit(endpoint_url).port
        except ValueError:
            port = None
        if not port:
            return
        for family, address in WILDCARDS:
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError:  # no such family on this host: nobody can listen there either
                continue
            try:
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((address, port))
            except OSError:  # the server's listener covers it (or the family is unusable): nothing to hold
                sock.close()
                continue
            self._sockets.append(sock)
            self.held.append(f"{address}:{port}")

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self._sockets.clear()
        self.held.clear()
