"""A deterministic gate between a test and handler code running in a sandboxed worker: the handler says where it is
(connects and sends a line) and, if asked, waits until the test opens the gate. The test waits for a positive signal —
a handler has arrived — with a bound, instead of sleeping and hoping it has.

A sandbox's network is its own (isolation round 13): the handler reaches only the endpoint, through its sandbox's link
(`lambdaperm.runtime.endpoint_links`). So the runtime of a test that uses a gate is given `LINKS` as its links: each
connection a handler makes to AWS_ENDPOINT_URL comes here and names the gate (its `port`, an id) on its first line.

In handler code: `GATE` below, then `arrive(port, "tag")` (returns once the test opens the gate) or
`arrive(port, "tag", wait=False)`.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Callable

WAIT = 30.0  # seconds: a bound on each wait, never a sleep

GATE = """
import os as _os, socket as _socket
from urllib.parse import urlsplit as _urlsplit
def arrive(port, tag, wait=True):
    url = _urlsplit(_os.environ["AWS_ENDPOINT_URL"])
    conn = _socket.create_connection((url.hostname, url.port))
    conn.sendall(f"{port} {tag}".encode() + b"\\n")
    if wait:
        conn.recv(1)  # the test opens the gate (or closes it)
    conn.close()
"""


class GateLinks:
    """Serves the sandboxes' links of a test's runtime (`lambdaperm.runtime.endpoint_links.EndpointLinks`): each
    connection a handler passes is handed to the gate its first line names."""

    def __init__(self) -> None:
        self._gates: dict[int, Gate] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def register(self, gate: Gate) -> int:
        with self._lock:
            number = next(self._ids)
            self._gates[number] = gate
            return number

    def forget(self, number: int) -> None:
        with self._lock:
            self._gates.pop(number, None)

    def serve(self, listener: socket.socket, origin: object) -> Callable[[], None]:
        listener.setblocking(True)
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener.close

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                channel, _ = listener.accept()
            except OSError:
                return  # closed: the sandbox is gone
            threading.Thread(target=self._receive, args=(channel,), daemon=True).start()

    def _receive(self, channel: socket.socket) -> None:
        with channel:
            while True:
                try:
                    _, fds, _, _ = socket.recv_fds(channel, 1, 1)
                except OSError:
                    return
                if not fds:
                    return
                conn = socket.socket(fileno=fds[0])
                conn.setblocking(True)
                threading.Thread(target=self._arrive, args=(conn,), daemon=True).start()

    def _arrive(self, conn: socket.socket) -> None:
        number, _, tag = conn.makefile("rb").readline().decode().strip().partition(" ")
        with self._lock:
            gate = self._gates.get(int(number)) if number.isdigit() else None
        if gate is None:
            conn.close()
        else:
            gate.arrive(tag, conn)


LINKS = GateLinks()  # the links of every runtime a gate test makes


class Gate:
    def __init__(self) -> None:
        self.port: int = LINKS.register(self)  # what a handler names on its first line
        self._cond = threading.Condition()
        self._arrived: list[str] = []
        self._held: list[socket.socket] = []
        self._open = False

    def arrive(self, tag: str, conn: socket.socket) -> None:
        """A handler arrived (`conn`: its connection, held until the gate opens)."""
        with self._cond:
            self._arrived.append(tag)
            if self._open:
                conn.sendall(b"g")
                conn.close()
            else:
                self._held.append(conn)
            self._cond.notify_all()

    def wait_arrived(self, count: int = 1, timeout: float = WAIT) -> list[str]:
        """The tags of the first `count` handlers to arrive, once they have (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._arrived) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{count} handler(s) should have arrived; {self._arrived} did"
                self._cond.wait(left)
            return list(self._arrived[:count])

    @property
    def arrived(self) -> list[str]:
        with self._cond:
            return list(self._arrived)

    def open(self) -> None:
        """Let every held handler go on, and every later one pass."""
        with self._cond:
            self._open = True
            held, self._held = self._held, []
        for conn in held:
            with contextlib.suppress(OSError):  # its worker is gone
                conn.sendall(b"g")
            conn.close()

    def close(self) -> None:
        LINKS.forget(self.port)
        with self._cond:
            held, self._held = self._held, []
        for conn in held:
            conn.close()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
