"""The server's side of each sandbox's link (`runtime/endpoint_links.py`, isolation round 13): the TCP connections a
sandbox's relay passes over its Unix socket are served on the server's event loop by the server's own HTTP protocol.

AWS's rule: an execution environment's network is its own; it reaches the service endpoints
(https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/lambda-isolation-technologies.html), and
what it may hold of the service is charged to it and its account
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).

Each descriptor received must be a connected TCP socket (the relay's accepted connection); anything else a handler
sends (a pipe, a Unix socket, a listening or UDP socket) is closed unread. The protocol instance of each connection is
told its `Origin` — the link it came over — before uvicorn sees it, so the connection caps are charged to that
sandbox and its account (`connection_caps`). A sandbox may hold at most `CHANNELS` connections to its link itself
(its relay needs one per address it listens on); beyond that they are closed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable

from lambdaperm.runtime.endpoint_links import Origin

CHANNELS = 8  # connections one sandbox may hold to its own link (its relay uses one per listening address)
MAX_FDS = 1  # descriptors read per message: the relay sends one; the kernel closes any beyond it

log = logging.getLogger("lambdaperm.connections")

ProtocolFactory = Callable[[Origin], asyncio.Protocol]


def _tcp(sock: socket.socket) -> bool:
    """Whether a received descriptor is a connected TCP socket."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        return False
    if sock.proto != socket.IPPROTO_TCP:
        return False
    try:
        sock.getpeername()
    except OSError:
        return False
    return True


class SandboxLinks:
    """Implements `runtime.endpoint_links.EndpointLinks`. `serve` may be called from any thread, before `attach` too
    (the link is then served once the event loop is)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._factory: ProtocolFactory | None = None
        self._pending: list[tuple[socket.socket, Origin]] = []
        self._listeners: dict[socket.socket, list[socket.socket]] = {}  # on the loop's thread only
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()  # connections being handed to the protocol (held: not collected)

    def attach(self, loop: asyncio.AbstractEventLoop, factory: ProtocolFactory) -> None:
        """Serve on `loop` (running; called on its thread); `factory(origin)` makes a connection's HTTP protocol."""
        with self._lock:
            self._loop, self._factory = loop, factory
            pending, self._pending = self._pending, []
        for listener, origin in pending:
            self._start(listener, origin)

    def serve(self, listener: socket.socket, origin: Origin) -> Callable[[], None]:
        with self._lock:
            loop = self._loop
            if loop is None:
                self._pending.append((listener, origin))
        if loop is not None:
            loop.call_soon_threadsafe(self._start, listener, origin)

        def stop() -> None:
            with self._lock:
                if (listener, origin) in self._pending:
                    self._pending.remove((listener, origin))
                    listener.close()
                    return
                running = self._loop
            if running is None or running.is_closed():
                listener.close()
                return
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                running.call_soon_threadsafe(self._stop, listener)

        return stop

    def detach(self) -> None:
        """Stop serving every link (the server is shutting down; on the loop's thread)."""
        for listener in list(self._listeners):
            self._stop(listener)
        with self._lock:
            self._loop = None
            pending, self._pending = self._pending, []
        for listener, _ in pending:
            listener.close()

    # ------------------------------------------------------------ on the loop's thread

    def _start(self, listener: socket.socket, origin: Origin) -> None:
        if listener.fileno() < 0 or self._loop is None:  # stopped before it was served
            return
        self._listeners[listener] = []
        self._loop.add_reader(listener, self._accept, listener, origin)

    def _stop(self, listener: socket.socket) -> None:
        channels = self._listeners.pop(listener, None)
        loop = self._loop
        for sock in [listener, *(channels or [])]:
            if loop is not None and sock.fileno() >= 0:
                with contextlib.suppress(Exception):
                    loop.remove_reader(sock)
            sock.close()

    def _accept(self, listener: socket.socket, origin: Origin) -> None:
        try:
            channel, _ = listener.accept()
        except OSError:  # nothing to accept, or no descriptor left: the total connection cap's business
            return
        channels = self._listeners.get(listener)
        if channels is None or len(channels) >= CHANNELS or self._loop is None:
            log.warning(
                "connection refused: sandbox %s holds %d channels to its link, its limit", origin.sandbox, CHANNELS
            )
            channel.close()
            return
        channel.setblocking(False)
        channels.append(channel)
        self._loop.add_reader(channel, self._receive, listener, channel, origin)

    def _receive(self, listener: socket.socket, channel: socket.socket, origin: Origin) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(channel, 1, MAX_FDS)
        except BlockingIOError:
            return
        except OSError:
            data, fds = b"", []
        if not data and not fds:  # the relay closed its channel (its sandbox is gone)
            channels = self._listeners.get(listener)
            if channels is not None and channel in channels:
                channels.remove(channel)
            if self._loop is not None:
                self._loop.remove_reader(channel)
            channel.close()
            return
        for fd in fds:
            try:
                sock = socket.socket(fileno=fd)
            except OSError:  # not a socket at all (a pipe, a file)
                os.close(fd)
                continue
            if not _tcp(sock) or self._loop is None:
                sock.close()
                continue
            sock.setblocking(False)
            task = self._loop.create_task(self._connect(sock, origin))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _connect(self, sock: socket.socket, origin: Origin) -> None:
        loop, factory = self._loop, self._factory
        if loop is None or factory is None:
            sock.close()
            return
        try:
            await loop.connect_accepted_socket(lambda: factory(origin), sock)
        except Exception:  # refused by the caps (aborted), or the socket broke meanwhile
            sock.close()
