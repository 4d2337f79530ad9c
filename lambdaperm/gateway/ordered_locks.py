"""Striped readers–writer locks, taken by one call in ascending stripe order (so no two calls wait for each other in
a cycle): the locks of `table_holds` and `log_group_holds`, each with stripes of its own."""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager


class _Stripe:
    """A readers–writer lock, writers preferred (a delete is not starved by a stream of reads)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextmanager
    def held(self, exclusive: bool) -> Iterator[None]:
        with self._cond:
            if exclusive:
                self._waiting_writers += 1
                while self._writer or self._readers:
                    self._cond.wait()
                self._waiting_writers -= 1
                self._writer = True
            else:
                while self._writer or self._waiting_writers:
                    self._cond.wait()
                self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                if exclusive:
                    self._writer = False
                else:
                    self._readers -= 1
                self._cond.notify_all()


class StripedLocks:
    """One namespace's stripes."""

    def __init__(self, stripes: int) -> None:
        self._locks = [_Stripe() for _ in range(stripes)]

    @contextmanager
    def held(self, names: Iterable[str], exclusive: bool) -> Iterator[None]:
        """Hold the stripe of every name (all shared or all exclusive), in ascending stripe order."""
        stripes = {zlib.crc32(name.encode("utf-8", "surrogatepass")) % len(self._locks) for name in names}
        with ExitStack() as stack:
            for stripe in sorted(stripes):  # one order for every call: no cycle of waits
                stack.enter_context(self._locks[stripe].held(exclusive))
            yield
