"""CloudTrail records written by one writer thread, with group commit.

A request hands its record's parts to a queue; the writer builds the records and appends every record
waiting at that moment in one transaction, then wakes the requests, which answer only once their record is
committed — so an acknowledged call never loses its record, even on a crash, and concurrent requests share
commits instead of queueing for the write lock one by one.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from lambdaperm.trail import TrailStore

log = logging.getLogger("lambdaperm.trail")
_BATCH = 256
_STOP = object()


class TrailWriter:
    def __init__(self, store: TrailStore) -> None:
        self.store = store
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="lambdaperm-trail", daemon=True)
        self._thread.start()

    def submit(self, build: Callable[[], dict[str, Any]]) -> threading.Event:
        """Queue a record, built by `build` on the writer thread; the event is set once it is committed."""
        done = threading.Event()
        self._queue.put((build, done))
        return done

    def append(self, record: dict[str, Any]) -> None:
        """Record and wait for the commit."""
        self.submit(lambda: record).wait(timeout=30)

    def flush(self) -> None:
        self._queue.join()

    def lookup_events(self, **kwargs: Any) -> dict[str, Any]:
        self.flush()
        return self.store.lookup_events(**kwargs)

    def records(self, **kwargs: Any) -> Any:
        self.flush()
        return self.store.records(**kwargs)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while len(items) < _BATCH:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = False
            records = []
            waiting = []
            for item in items:
                if item is _STOP:
                    stop = True
                    continue
                build, done = item  # type: ignore[misc]
                waiting.append(done)
                try:
                    records.append(build())
                except Exception:  # one unbuildable record must not lose the others
                    log.exception("could not build a trail record")
            try:
                self.store.append_many(records)
            except Exception:
                log.exception("could not record %d trail records", len(records))
            for done in waiting:
                done.set()
            for _ in items:
                self._queue.task_done()
            if stop:
                return
