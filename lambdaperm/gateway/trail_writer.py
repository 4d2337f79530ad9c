"""CloudTrail records committed by the requests themselves, with group commit (leader and followers), and
the truth told to every waiter.

A request hands its record's parts to `submit` and waits there: the first waiter finding nobody writing
becomes the leader — it takes every record waiting at that moment (its own among them), builds and checks
each on its own (an unbuildable or unstorable record fails only its own waiter) and appends the rest in one
transaction, on its own thread; the others wait as followers and are woken when their record's outcome is
known. While a leader commits, newcomers gather into the next batch, so eight concurrent requests share
commits as they did with a writer thread, and a lone request commits its record itself: no hand-over to
another thread and back on the way (two thread switches per call on a busy core).

A failed transaction is retried ATTEMPTS times in all; if it still fails, every waiter of the batch gets
TrailNotCommitted with the cause. A request answers its caller only once its record is committed, so an
acknowledged call never lacks its record, even on a crash.

CloudTrail records every management event of the account: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-management-events
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from lambdaperm.dataplane.journal import Journal
from lambdaperm.trail import TrailStore
from lambdaperm.trail.store import PreparedRecord

log = logging.getLogger("lambdaperm.trail")
_BATCH = 256
ATTEMPTS = 3  # tries of one batch's transaction before its waiters are told it failed
_BACKOFF = (0.05, 0.2)  # seconds before the 2nd and 3rd tries (a busy database waits in SQLite itself)
WAIT_SECONDS = 30  # how long `append` waits for the commit


_Build = Callable[[], dict[str, Any] | None]  # None: no record, only the commit (`sync`)
_Item = tuple[_Build, "Future[None]"]


class TrailNotCommitted(Exception):
    """The record was not committed; the message says why."""


class TrailWriter:
    """`store` answers the reads; `commits` (default: `store`) is the store the leaders write with — the
    server gives it a connection of its own, used by one leader at a time, so that a record is never
    written on a request thread's connection (which may be inside a transaction of its own)."""

    def __init__(self, store: TrailStore, commits: TrailStore | None = None, journal: Journal | None = None) -> None:
        self.store = store
        self._commits = commits if commits is not None else store
        # the data-plane journal: each commit also writes the entries executed so far (dataplane/journal.py), so
        # an answered call's journal entries — and every entry executed before them — are committed with its record
        self.journal = journal
        self._turn = threading.Condition()  # guards _pending, _leading and _closed
        self._pending: list[_Item] = []
        self._leading = False
        self._closed = False

    def submit(self, build: _Build, timeout: float = WAIT_SECONDS) -> Future[None]:
        """Record the call `build` describes, and return once its outcome is known (or `timeout` passed):
        the Future's result is None once the record is committed; it raises TrailNotCommitted when it
        could not be. `build` runs on whichever thread leads the commit."""
        done: Future[None] = Future()
        deadline = time.monotonic() + timeout
        with self._turn:
            if self._closed:
                done.set_exception(TrailNotCommitted("the trail writer is closed"))
                return done
            self._pending.append((build, done))
        while not done.done():
            with self._turn:
                while self._leading and not done.done():
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._turn.wait(left):
                        return done  # not known in time: result() waits no longer than its own timeout
                if done.done():
                    return done
                batch = self._take_batch()
            self._lead(batch)
        return done

    def append(self, record: dict[str, Any]) -> None:
        """Record and wait for the commit; raises TrailNotCommitted when it was not committed (or not within
        WAIT_SECONDS)."""
        try:
            self.submit(lambda: record).result(timeout=0)
        except TimeoutError:
            raise TrailNotCommitted(f"the record was not committed within {WAIT_SECONDS} s") from None

    def sync(self, timeout: float = WAIT_SECONDS) -> None:
        """Commit what is waiting (journal entries included) and return once it is committed; raises
        TrailNotCommitted when it was not."""
        try:
            self.submit(lambda: None, timeout).result(timeout=0)
        except TimeoutError:
            raise TrailNotCommitted(f"nothing was committed within {timeout} s") from None

    def flush(self) -> None:
        """Return once every record submitted so far has its outcome. Records nobody leads (their submitter
        gave up waiting) are committed here: flush leads the batch itself rather than wait for a next call."""
        while True:
            with self._turn:
                while self._leading:
                    self._turn.wait(1.0)
                if not self._pending:
                    return
                batch = self._take_batch()
            self._lead(batch)

    def _take_batch(self) -> list[_Item]:
        """Become the leader and take the records waiting now (the caller holds `_turn`)."""
        self._leading = True
        batch, self._pending = self._pending[:_BATCH], self._pending[_BATCH:]
        return batch

    def _lead(self, batch: list[_Item]) -> None:
        """Commit `batch` as the leader, tell each of its waiters the outcome, then hand the turn on."""
        try:
            self._write(batch)
        except BaseException as exc:  # never leave a waiter hanging
            log.exception("the trail writer failed")
            for _build, waiter in batch:
                if not waiter.done():
                    waiter.set_exception(TrailNotCommitted(f"the trail writer failed: {exc}"))
        finally:
            with self._turn:
                self._leading = False
                self._turn.notify_all()

    def lookup_events(self, **kwargs: Any) -> dict[str, Any]:
        self.flush()
        return self.store.lookup_events(**kwargs)

    def records(self, **kwargs: Any) -> Any:
        self.flush()
        return self.store.records(**kwargs)

    def close(self) -> None:
        """Refuse new records; those already submitted are committed (by their submitters, or by flush)."""
        with self._turn:
            self._closed = True
        self.flush()

    def _write(self, batch: list[_Item]) -> None:
        pending: list[tuple[PreparedRecord | None, Future[None]]] = []
        for build, done in batch:
            try:
                record = build()
            except Exception as exc:
                log.exception("could not build a trail record")
                done.set_exception(TrailNotCommitted(f"the record could not be built: {exc}"))
                continue
            if record is None:  # `sync`: only the commit
                pending.append((None, done))
                continue
            try:
                pending.append((self._commits.prepare(record), done))
            except Exception as exc:
                log.exception("could not store trail record %s", record.get("eventID"))
                done.set_exception(TrailNotCommitted(f"the record could not be stored: {exc}"))
        if pending:
            self._commit(pending)

    def _commit(self, pending: list[tuple[PreparedRecord | None, Future[None]]]) -> None:
        """One transaction for the batch, tried ATTEMPTS times; every waiter learns the outcome."""
        records = [prepared for prepared, _ in pending if prepared is not None]
        journal = self.journal
        entries = journal.take() if journal is not None else []
        # the entries with the records written alongside them (persistence review round 8: one transaction)
        also = (lambda conn: journal.write(conn, entries)) if journal is not None and entries else None
        for attempt in range(1, ATTEMPTS + 1):
            try:
                if also is None:
                    self._commits.append_prepared(records)
                else:
                    self._commits.append_prepared(records, also)
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
                if journal is not None:  # first in line for the next commit: the journal stays a prefix
                    journal.put_back(entries)
                for _, done in pending:
                    done.set_exception(TrailNotCommitted(f"the trail commit failed {ATTEMPTS} times: {exc}"))
                return
            if journal is not None and entries:
                journal.committed(entries)
            for _, done in pending:
                done.set_result(None)
            return
