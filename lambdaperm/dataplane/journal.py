"""The data-plane journal: every call the embedded backend executed that may have changed its state, in the
order it executed, so that `replay` can run them again after a restart (docs/architecture.md, "Durable data
plane").

A call runs as one *unit* (`Journal.unit`), under the one execution lock of the data plane, which also gives
the unit its sequence number: the journal's order is the execution order, whatever order the trail records
are committed in. What the backend draws during a unit is made a function of what the journal keeps:

- moto's identifiers come from one seedable generator (`moto.moto_api._internal.mock_random`): it is seeded
  with the unit's `seed` at the unit's start;
- moto's clocks read the unit's `time` (`determinism.install`);
- what lambdaperm decides or draws itself inside a unit — a push delivery's authorization, an SNS
  confirmation token — goes on the unit's `tape` live and is read back from it on replay (`taped`): a replay
  never asks today's policies about a delivery decided then.

Each call entry carries the HTTP status the backend answered it live (`answered`; persistence review round 13).
A replay answered another status — a refused write that now succeeds, or an acknowledged one now refused: another
moto version, a changed replacement of moto's code — would restore state nobody was answered for, or lose what
was: the start-up stops there (`ReplayDiverged`, a one-line refusal of `lambdaperm serve`) and leaves the state
directory as it is, for the backend that wrote it. Entries written before this carry no status and are not checked.

Entries wait in memory until the trail writer's next commit takes them (`take`) and inserts them in the same
transaction as the records of that batch (gateway/trail_writer.py): a call is answered only after its trail
record is committed, and every journal entry assigned before it — its own among them — is in that
transaction or an earlier one. The committed journal is therefore always a prefix of the execution order: a
crash can lose the tail of calls nobody was answered for, never a call in the middle.

Records alongside (persistence review round 8). What lambdaperm writes to its own records about what a unit did
to the backend — the bucket registry, S3 → Lambda targets (`dataplane/unit_records.py`) — is attached to the
unit (`alongside`) and written in the transaction that commits the unit's entry, in execution order: a crash
that loses an entry loses its records with it, and an entry committed has its records.

The journal is a table of the state database (`dataplane_journal`): each row is a pickled `Entry`. The state
database is private to the server (0600, it holds every account's secret keys); a pickle written by the server
is read back by the same server only.
"""

from __future__ import annotations

import logging
import pickle
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

log = logging.getLogger("lambdaperm.journal")

_T = TypeVar("_T")
Write = Callable[[sqlite3.Connection], None]  # a record write made in the transaction that commits its unit
SNAPSHOT_ENTRIES = 10_000  # a snapshot once the journal since the last one has this many entries
SNAPSHOT_BYTES = 256 * 1024 * 1024  # or this many bytes of parameters (S3 bodies)

TABLES = (
    "CREATE TABLE IF NOT EXISTS dataplane_journal (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS dataplane_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class Entry(NamedTuple):
    """One executed unit. `kind` is "call" (an authorized call: `service`, `operation`, the canonical
    `params` as executed, `account`, `region`; `subscriber` the caller's account for SNS, whose confirmation
    rule runs after the call) or "internal" (a write lambdaperm makes itself: `operation` names the function
    registered with `internal`, `params` its arguments)."""

    seq: int
    kind: str
    service: str
    operation: str
    params: Any
    account: str
    region: str
    subscriber: str | None
    seed: int
    time: float  # epoch seconds: the clock the backend read during the unit
    tape: tuple[Any, ...]
    outcome: int | None = None  # the HTTP status the backend answered the call live (None: internal, or older)


@dataclass
class Unit:
    """The unit running on this thread: its clock, its seed, its tape; `keep` whether it is journaled."""

    time: float
    seed: int
    keep: bool
    replayed: tuple[Any, ...] | None  # the tape to read back (replay), or None (live: recording)
    tape: list[Any] = field(default_factory=list)
    position: int = 0
    writes: list[tuple[Write, Callable[[], None]]] = field(default_factory=list)  # `alongside`
    tape_bytes: int = 0  # what taped values weigh (`taped`'s `weigh`: an import's bytes), towards a snapshot
    outcome: int | None = None  # the status the backend answered the unit's call (its first), live or replayed


_current = threading.local()


def current() -> Unit | None:
    """The unit running on this thread, if any."""
    return getattr(_current, "unit", None)


def taped(draw: Callable[[], _T], weigh: Callable[[_T], int] | None = None) -> _T:
    """A value lambdaperm decides inside a unit (a delivery's authorization, a token): drawn and recorded
    live, read back on replay. Outside a unit, simply drawn. `weigh`: the value's size in bytes, counted with the
    parameters towards the next snapshot (a DynamoDB import's bytes)."""
    unit = current()
    if unit is None:
        return draw()
    if unit.replayed is not None:
        if unit.position >= len(unit.replayed):
            raise ReplayDiverged("the replayed call asked for more than its recorded decisions")
        value = unit.replayed[unit.position]
        unit.position += 1
        return value  # type: ignore[no-any-return]
    value = draw()
    unit.tape.append(value)
    if weigh is not None:
        unit.tape_bytes += weigh(value)
    return value


def alongside(write: Write, committed: Callable[[], None]) -> bool:
    """Attach a write of lambdaperm's records to the unit running live on this thread: it is made, in the order
    of execution, in the transaction that commits the unit's entry (`Journal.write`), and `committed` runs after
    that commit. False when there is no such unit (no journal, no unit, a replay): the caller writes at once."""
    unit = current()
    if unit is None or unit.replayed is not None or active() is None:
        return False
    unit.writes.append((write, committed))
    return True


def answered(status: int) -> None:
    """The backend answered the running unit's call with `status` (the first answer of a unit is its outcome)."""
    unit = current()
    if unit is not None and unit.outcome is None:
        unit.outcome = status


class ReplayDiverged(ValueError):
    """A replayed unit did not follow the path it took live (a ValueError: `lambdaperm serve` refuses to start
    with its message, one line)."""


_INTERNAL: dict[str, Callable[..., Any]] = {}
_active: list[Journal] = []  # the journal of the server of this process (moto's backends are per process)


def active() -> Journal | None:
    return _active[-1] if _active else None


def internal(name: str) -> Callable[[Callable[..., _T]], Callable[..., _T]]:
    """Journal a write lambdaperm makes to the backend itself (not an authorized call: a function's log
    output, the SQS poller's receive and delete) as a unit of its own, replayed by calling the function again
    with the same arguments."""

    def wrap(function: Callable[..., _T]) -> Callable[..., _T]:
        _INTERNAL[name] = function

        def journaled(*args: Any) -> _T:
            journal = active()
            if journal is None:
                return function(*args)
            with journal.unit("internal", "", name, args, "", ""):
                result = function(*args)
            journal.commit()  # nobody answers for it: committed now rather than with the next call's record
            return result

        journaled.__doc__ = function.__doc__
        journaled.__name__ = function.__name__
        return journaled

    return wrap


def internal_function(name: str) -> Callable[..., Any]:
    return _INTERNAL[name]


class Journal:
    """The execution lock, the units' sequence numbers and the entries not yet committed."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self.lock = threading.RLock()  # the data plane's execution lock
        self._conn = connect()  # replay, snapshots and start-up only (commits use the trail writer's)
        self._pending: list[Entry] = []
        self._pending_lock = threading.Lock()
        self._writes: dict[int, list[tuple[Write, Callable[[], None]]]] = {}  # by seq: records alongside entries
        self._next = 1
        self.replaying = False
        self.committer: Callable[[], None] | None = None  # commits the waiting entries (the trail writer's sync)
        self.since_snapshot = 0  # entries assigned since the last snapshot (or start)
        self.bytes_since_snapshot = 0
        self.snapshot_due = threading.Event()  # set when the journal since the last snapshot passes its threshold
        conn = self._conn
        with conn:
            for statement in TABLES:
                conn.execute(statement)
            row = conn.execute(
                "SELECT max(coalesce((SELECT max(seq) FROM dataplane_journal), 0),"
                " coalesce((SELECT CAST(value AS INTEGER) FROM dataplane_meta WHERE key = 'covered'), 0))"
            ).fetchone()
            salt = conn.execute("SELECT value FROM dataplane_meta WHERE key = 'salt'").fetchone()
            if salt is None:
                salt = (secrets.token_hex(16),)
                conn.execute("INSERT INTO dataplane_meta (key, value) VALUES ('salt', ?)", salt)
        self.salt: str = salt[0]
        self._next = (row[0] or 0) + 1

    # ---- units ----

    @contextmanager
    def unit(
        self,
        kind: str,
        service: str,
        operation: str,
        params: Any,
        account: str,
        region: str,
        subscriber: str | None = None,
        keep: bool = True,
    ) -> Iterator[Unit]:
        """Run one unit under the execution lock; a unit inside a unit is part of the outer one."""
        running = current()
        if running is not None:
            yield running
            return
        from moto.moto_api._internal import mock_random

        with self.lock:
            unit = Unit(time=time.time(), seed=secrets.randbits(64), keep=keep, replayed=None)
            mock_random.seed(unit.seed)
            _current.unit = unit
            try:
                yield unit
            finally:
                _current.unit = None
                if unit.keep or unit.writes:  # records written alongside travel with an entry (round 8)
                    blob = pickle.dumps(params, protocol=pickle.HIGHEST_PROTOCOL)
                    entry = Entry(
                        self._next,
                        kind,
                        service,
                        operation,
                        blob,
                        account,
                        region,
                        subscriber,
                        unit.seed,
                        unit.time,
                        tuple(unit.tape),
                        unit.outcome,
                    )
                    self._next += 1
                    self.since_snapshot += 1
                    self.bytes_since_snapshot += len(blob) + unit.tape_bytes
                    if self.since_snapshot >= SNAPSHOT_ENTRIES or self.bytes_since_snapshot >= SNAPSHOT_BYTES:
                        self.snapshot_due.set()
                    with self._pending_lock:
                        self._pending.append(entry)
                        if unit.writes:
                            self._writes[entry.seq] = unit.writes

    @contextmanager
    def replaying_unit(self, entry: Entry) -> Iterator[Unit]:
        """Run `entry` again: its seed, its clock, its tape."""
        from moto.moto_api._internal import mock_random

        with self.lock:
            unit = Unit(time=entry.time, seed=entry.seed, keep=False, replayed=entry.tape)
            mock_random.seed(entry.seed)
            _current.unit = unit
            try:
                yield unit
            finally:
                _current.unit = None
        if unit.position != len(entry.tape):
            raise ReplayDiverged(f"entry {entry.seq} used {unit.position} of its {len(entry.tape)} recorded decisions")
        if entry.outcome is not None and unit.outcome != entry.outcome:
            raise ReplayDiverged(
                f"the data-plane journal's entry {entry.seq} ({entry.service}:{entry.operation}) was answered HTTP "
                f"{entry.outcome} and its replay HTTP {unit.outcome}: this backend (moto, or lambdaperm's changes to "
                "it) does not do what the one that wrote the journal did, and restoring would create or lose state "
                "nobody was answered for; start the version that wrote this state directory"
            )

    def commit(self) -> None:
        """Commit the waiting entries now (outside any unit); a failure leaves them waiting for the next commit."""
        if self.committer is None or current() is not None:
            return
        try:
            self.committer()
        except Exception:  # the next commit takes them, first in line
            log.exception("the data-plane journal could not be committed now")

    def commit_now(self) -> None:
        """Commit the waiting entries; raises when they could not be."""
        if self.committer is not None:
            self.committer()

    @property
    def last_seq(self) -> int:
        return self._next - 1

    # ---- commits (by the trail writer's leader) ----

    def close(self) -> None:
        self._conn.close()

    def take(self) -> list[Entry]:
        """The entries not yet committed, in execution order (all of them: always a prefix of what is left)."""
        with self._pending_lock:
            taken, self._pending = self._pending, []
        return taken

    def put_back(self, entries: list[Entry]) -> None:
        """Entries whose commit failed: first in line for the next one."""
        if entries:
            with self._pending_lock:
                self._pending[:0] = entries

    @staticmethod
    def insert(conn: sqlite3.Connection, entries: list[Entry]) -> None:
        """Write entries inside the caller's transaction."""
        conn.executemany(
            "INSERT INTO dataplane_journal (seq, entry) VALUES (?, ?)",
            [(e.seq, pickle.dumps(e, protocol=pickle.HIGHEST_PROTOCOL)) for e in entries],
        )

    def write(self, conn: sqlite3.Connection, entries: list[Entry]) -> None:
        """Write `entries` and the records attached to them (`alongside`), in execution order, inside the
        caller's transaction (the trail writer's commit)."""
        Journal.insert(conn, entries)
        with self._pending_lock:
            attached = [self._writes.get(e.seq, []) for e in entries]
        for writes in attached:
            for write, _committed in writes:
                write(conn)

    def committed(self, entries: list[Entry]) -> None:
        """`entries` are committed: their attached records are, too (their `committed` hooks run)."""
        with self._pending_lock:
            attached = [self._writes.pop(e.seq, []) for e in entries]
        for writes in attached:
            for _write, hook in writes:
                hook()

    # ---- reading back ----

    def entries(self, after: int) -> Iterator[Entry]:
        """The committed entries after sequence number `after`, in order."""
        conn = self._conn
        cursor = after
        while True:
            rows = conn.execute(
                "SELECT seq, entry FROM dataplane_journal WHERE seq > ? ORDER BY seq LIMIT 500", (cursor,)
            ).fetchall()
            for seq, blob in rows:
                cursor = seq
                yield pickle.loads(blob)  # written by this server into its private database
            if len(rows) < 500:
                return

    def truncate(self, through: int) -> None:
        """Drop the entries a snapshot covers."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:  # numbering goes on after what the snapshot covers, even with no entry left
            conn.execute("INSERT OR REPLACE INTO dataplane_meta (key, value) VALUES ('covered', ?)", (str(through),))
            conn.execute("DELETE FROM dataplane_journal WHERE seq <= ?", (through,))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM dataplane_journal").fetchone()[0])


def params_of(entry: Entry) -> Any:
    return pickle.loads(entry.params)  # written by this server into its private database


def activate(journal: Journal | None) -> None:
    """Make `journal` the one internal writes and taped decisions go to (None: none)."""
    _active.clear()
    if journal is not None:
        _active.append(journal)
