"""Inside a sandbox: the endpoint's address on the sandbox's own loopback, each connection handed to the server.

Imported by the bootstrap (standard library only, never the lambdaperm package). The sandbox is a network namespace
of its own (`endpoint_links`): nothing of the host's network is there, so the bootstrap listens on the address
AWS_ENDPOINT_URL names and passes every connection it accepts, as a descriptor (SCM_RIGHTS), over the Unix socket
the server made for this sandbox. The server serves that TCP connection itself; no byte goes through this process.
One thread per listening address, each blocked in accept(2) and sendmsg(2): a handler that exhausts its own
descriptors or threads slows its own relay only.
"""

from __future__ import annotations

import socket
import threading
import time

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a few ms per cold start
if TYPE_CHECKING:
    from collections.abc import Sequence

RETRY_SECONDS = 0.01  # after accept(2) failed (the process is out of descriptors): the handler's own doing


def start(link: str, addresses: Sequence[Sequence[object]]) -> list[str]:
    """Listen on each (host, port) and relay to the Unix socket `link`. Answers the addresses it could not listen on
    (``::1`` where the host has no IPv6) with why."""
    failed: list[str] = []
    for host, port in addresses:
        family = socket.AF_INET6 if ":" in str(host) else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            listener.bind((str(host), int(str(port))))
            listener.listen(socket.SOMAXCONN)
        except OSError as e:
            listener.close()
            failed.append(f"{host}:{port}: {e.strerror}")
            continue
        threading.Thread(target=_relay, args=(listener, link), name="lambdaperm-endpoint-relay", daemon=True).start()
    return failed


def _relay(listener: socket.socket, link: str) -> None:
    channel: socket.socket | None = None
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            time.sleep(RETRY_SECONDS)
            continue
        with conn:
            for _ in range(2):  # the channel broke (the server restarted its side): once more on a new one
                try:
                    if channel is None:
                        channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                        channel.connect(link)
                    socket.send_fds(channel, [b"c"], [conn.fileno()])
                    break
                except OSError:
                    if channel is not None:
                        channel.close()
                    channel = None
