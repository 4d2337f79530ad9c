"""CloudTrail records written off the request path.

A request hands its record's parts to a queue and returns; one writer thread builds the records and
appends them in batches (one transaction per batch). Reads (LookupEvents) first wait for the queue to
drain, so a client always finds the records of the calls it has seen answered. Like CloudTrail itself,
delivery is not transactional with the call: a crash can lose the records of the last few milliseconds of
calls (a clean shutdown flushes everything).
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

    def submit(self, build: Callable[[], dict[str, Any]]) -> None:
        """Queue a record, built by `build` on the writer thread."""
        self._queue.put(build)

    def append(self, record: dict[str, Any]) -> None:
        self._queue.put(lambda: record)

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
            for item in items:
                if item is _STOP:
                    stop = True
                    continue
                try:
                    records.append(item())  # type: ignore[operator]
                except Exception:  # one unbuildable record must not lose the others
                    log.exception("could not build a trail record")
            try:
                self.store.append_many(records)
            except Exception:
                log.exception("could not record %d trail records", len(records))
            for _ in items:
                self._queue.task_done()
            if stop:
                return
