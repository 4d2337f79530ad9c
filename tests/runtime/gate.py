"""A deterministic gate between a test and handler code running in a sandboxed worker (whose network is the host's):
the handler says where it is (connects and sends a line) and, if asked, waits until the test opens the gate. The test
waits for a positive signal — a handler has arrived — with a bound, instead of sleeping and hoping it has.

In handler code: `GATE` below, then `arrive(port, "tag")` (returns once the test opens the gate) or
`arrive(port, "tag", wait=False)`.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

WAIT = 30.0  # seconds: a bound on each wait, never a sleep

GATE = """
import socket as _socket
def arrive(port, tag, wait=True):
    conn = _socket.create_connection(("127.0.0.1", port))
    conn.sendall(tag.encode() + b"\\n")
    if wait:
        conn.recv(1)  # the test opens the gate (or closes it)
    conn.close()
"""


class Gate:
    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._cond = threading.Condition()
        self._arrived: list[str] = []
        self._held: list[socket.socket] = []
        self._open = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            tag = conn.makefile("rb").readline().decode().strip()
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
        self._server.close()
        with self._cond:
            held, self._held = self._held, []
        for conn in held:
            conn.close()

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
