"""CloudTrail records written by one writer thread, with group commit, and the truth told to every waiter.

A request hands its record's parts to a queue and gets a Future; the writer builds the records waiting
at that moment, checks each on its own (an unbuildable or unstorable record fails only its own waiter),
and appends the rest in one transaction. A failed transaction is retried ATTEMPTS times in all; if it
still fails, every waiter of the batch gets TrailNotCommitted with the cause. A request answers its
caller only once its Future says the record is committed, so an acknowledged call never lacks its
record, even on a crash; concurrent requests share commits instead of queueing for the write lock.

CloudTrail records every management event of the account: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-management-events
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, cast

from lambdaperm.trail import TrailStore
from lambdaperm.trail.store import PreparedRecord

log = logging.getLogger("lambdaperm.trail")
_BATCH = 256
_STOP = object()
ATTEMPTS = 3  # tries of one batch's transaction before its waiters are told it failed
_BACKOFF = (0.05, 0.2)  # seconds before the 2nd and 3rd tries (a busy database waits in SQLite itself)
WAIT_SECONDS = 30  # how long `append` waits for the commit


_Build = Callable[[], dict[str, Any]]
_Item = tuple[_Build, "Future[None]"]


class TrailNotCommitted(Exception):
    """The record was not committed; the message says why."""


class TrailWriter:
    def __init__(self, store: TrailStore) -> None:
        self.store = store
        self._queue: queue.Queue[object] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="lambdaperm-trail", daemon=True)
        self._thread.start()

    def submit(self, build: _Build) -> Future[None]:
        """Queue a record, built by `build` on the writer thread. The Future's result is None once the
        record is committed; it raises TrailNotCommitted when it could not be."""
        done: Future[None] = Future()
        if self._closed:
            done.set_exception(TrailNotCommitted("the trail writer is closed"))
            return done
        self._queue.put((build, done))
        return done

    def append(self, record: dict[str, Any]) -> None:
        """Record and wait for the commit; raises TrailNotCommitted when it was not committed (or not within
        WAIT_SECONDS)."""
        try:
            self.submit(lambda: record).result(timeout=WAIT_SECONDS)
        except TimeoutError:
            raise TrailNotCommitted(f"the record was not committed within {WAIT_SECONDS} s") from None

    def flush(self) -> None:
        self._queue.join()

    def lookup_events(self, **kwargs: Any) -> dict[str, Any]:
        self.flush()
        return self.store.lookup_events(**kwargs)

    def records(self, **kwargs: Any) -> Any:
        self.flush()
        return self.store.records(**kwargs)

    def close(self) -> None:
        self._closed = True
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
            stop = any(item is _STOP for item in items)
            batch = [cast(_Item, item) for item in items if item is not _STOP]
            try:
                self._write(batch)
            except BaseException as exc:  # never leave a waiter hanging, never let the thread die
                log.exception("the trail writer failed")
                for _build, done in batch:
                    if not done.done():
                        done.set_exception(TrailNotCommitted(f"the trail writer failed: {exc}"))
            for _ in items:
                self._queue.task_done()
            if stop:
                self._fail_remaining()
                return

    def _write(self, batch: list[_Item]) -> None:
        pending: list[tuple[PreparedRecord, Future[None]]] = []
        for build, done in batch:
            try:
                record = build()
            except Exception as exc:
                log.exception("could not build a trail record")
                done.set_exception(TrailNotCommitted(f"the record could not be built: {exc}"))
                continue
            try:
                pending.append((self.store.prepare(record), done))
            except Exception as exc:
                log.exception("could not store trail record %s", record.get("eventID"))
                done.set_exception(TrailNotCommitted(f"the record could not be stored: {exc}"))
        if pending:
            self._commit(pending)

    def _commit(self, pending: list[tuple[PreparedRecord, Future[None]]]) -> None:
        """One transaction for the batch, tried ATTEMPTS times; every waiter learns the outcome."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self.store.append_prepared([prepared for prepared, _ in pending])
            except Exception as exc:
                if attempt < ATTEMPTS:
                    log.warning(
                        "trail commit of %d records failed (try %d of %d), retrying: %s",
                        len(pending),
                        attempt,
                        ATTEMPTS,
                        exc,
                    )
                    time.sleep(_BACKOFF[attempt - 1])
                    continue
                log.error(
                    "trail commit of %d records failed %d times; their calls are not acknowledged: %s",
                    len(pending),
                    ATTEMPTS,
                    exc,
                )
                for _, done in pending:
                    done.set_exception(TrailNotCommitted(f"the trail commit failed {ATTEMPTS} times: {exc}"))
                return
            for _, done in pending:
                done.set_result(None)
            return

    def _fail_remaining(self) -> None:
        """Records queued after close() was called are never written: their waiters are told so."""
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                _build, done = cast(_Item, item)
                done.set_exception(TrailNotCommitted("the trail writer is closed"))
            self._queue.task_done()
