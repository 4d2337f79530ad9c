"""The trail writer tells every waiter the truth: a record is acknowledged only once it is committed, a
failed commit is retried a bounded number of times, and when it still fails every waiter of the batch
learns it failed. Faults are injected at the SQLite level on a real WAL file (a trigger that RAISE()s,
a deferred foreign key that fails COMMIT), never by replacing our own code."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from lambdaperm.gateway.trail_writer import ATTEMPTS, TrailNotCommitted, TrailWriter
from lambdaperm.trail import TrailStore

from .builders import event
from .conftest import Connect, wal_connect

WAIT = 30  # seconds: a bound on each wait, never a sleep


class Faults:
    """A SQL function `lp_fault(event_id)` on every connection: true makes the fault trigger RAISE()."""

    def __init__(self) -> None:
        self.fail_first: dict[str, int] = {}  # event_id -> attempts still to fail ("*": every record)
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, event_id: str) -> int:
        with self.lock:
            self.attempts[event_id] = self.attempts.get(event_id, 0) + 1
            left = self.fail_first.get(event_id, self.fail_first.get("*", 0))
            if left <= 0:
                return 0
            if event_id in self.fail_first:
                self.fail_first[event_id] = left - 1
            return 1


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def faulty_connect(tmp_path: Path, faults: Faults) -> Iterator[Connect]:
    base = wal_connect(tmp_path / "state.db")

    def connect() -> sqlite3.Connection:
        conn = base()
        conn.create_function("lp_fault", 1, faults)
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    anchor = connect()
    yield connect
    anchor.close()


@pytest.fixture
def writer(faulty_connect: Connect) -> Iterator[TrailWriter]:
    # as the server does: one long-lived connection lent by the caller (the writer thread's own)
    local = threading.local()

    def lend() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = faulty_connect()
        return conn

    w = TrailWriter(TrailStore(lend, owns_connections=False))
    yield w
    w.close()


def execute(connect: Connect, *statements: str) -> None:
    conn = connect()
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def stored_ids(connect: Connect) -> set[str]:
    conn = connect()
    try:
        return {r[0] for r in conn.execute("SELECT event_id FROM trail_events")}
    finally:
        conn.close()


FAULT_TRIGGER = (
    "CREATE TRIGGER lp_fault_trigger BEFORE INSERT ON trail_events WHEN lp_fault(NEW.event_id)"
    " BEGIN SELECT RAISE(ABORT, 'injected trail fault'); END"
)


def submit_all(w: TrailWriter, records: list[dict[str, Any]]) -> list[Future[None]]:
    """Queue the records back to back (the writer takes whatever is waiting as one batch)."""
    return [w.submit(_const(r)) for r in records]


def _const(record: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: record


def outcome(future: Future[None]) -> str:
    try:
        future.result(timeout=WAIT)
    except TrailNotCommitted as exc:
        return f"failed: {exc}"
    return "committed"


def test_a_committed_record_is_acknowledged(writer: TrailWriter, faulty_connect: Connect) -> None:
    execute(faulty_connect, FAULT_TRIGGER)  # present, but lp_fault answers 0: nothing fails
    record = event()
    assert outcome(writer.submit(_const(record))) == "committed"
    assert stored_ids(faulty_connect) == {record["eventID"]}


def test_a_failing_commit_fails_every_waiter_after_bounded_retries(
    writer: TrailWriter, faulty_connect: Connect, faults: Faults
) -> None:
    execute(faulty_connect, FAULT_TRIGGER)
    faults.fail_first["*"] = 1_000_000
    records = [event() for _ in range(20)]
    results = [outcome(f) for f in submit_all(writer, records)]
    assert all(r.startswith("failed: ") and "injected trail fault" in r for r in results), results
    assert stored_ids(faulty_connect) == set()
    # the first record of the first batch was tried exactly ATTEMPTS times (the trigger aborts each attempt
    # at the first insert, so the others of its batch were reached at most as often)
    assert faults.attempts[records[0]["eventID"]] == ATTEMPTS
    assert all(faults.attempts.get(r["eventID"], 0) <= ATTEMPTS for r in records), faults.attempts


def test_a_transient_fault_is_retried_and_then_acknowledged(
    writer: TrailWriter, faulty_connect: Connect, faults: Faults
) -> None:
    execute(faulty_connect, FAULT_TRIGGER)
    record = event()
    faults.fail_first[record["eventID"]] = ATTEMPTS - 1
    assert outcome(writer.submit(_const(record))) == "committed"
    assert faults.attempts[record["eventID"]] == ATTEMPTS
    assert stored_ids(faulty_connect) == {record["eventID"]}


def test_the_writer_recovers_once_the_fault_is_removed(
    writer: TrailWriter, faulty_connect: Connect, faults: Faults
) -> None:
    execute(faulty_connect, FAULT_TRIGGER)
    faults.fail_first["*"] = 1_000_000
    lost = event()
    assert outcome(writer.submit(_const(lost))).startswith("failed: ")
    execute(faulty_connect, "DROP TRIGGER lp_fault_trigger")
    kept = event()
    assert outcome(writer.submit(_const(kept))) == "committed"
    assert stored_ids(faulty_connect) == {kept["eventID"]}


def test_a_failed_commit_statement_leaves_the_connection_usable(writer: TrailWriter, faulty_connect: Connect) -> None:
    """COMMIT itself fails (a deferred foreign key): SQLite keeps the transaction open, and a connection
    left inside it could never begin another; the writer's long-lived connection must recover."""
    execute(
        faulty_connect,
        "CREATE TABLE lp_parent (id INTEGER PRIMARY KEY)",
        "CREATE TABLE lp_child (pid INTEGER REFERENCES lp_parent(id) DEFERRABLE INITIALLY DEFERRED)",
        "CREATE TRIGGER lp_commit_fault AFTER INSERT ON trail_events BEGIN INSERT INTO lp_child VALUES (404); END",
    )
    lost = event()
    result = outcome(writer.submit(_const(lost)))
    assert result.startswith("failed: ") and "FOREIGN KEY" in result, result
    execute(faulty_connect, "DROP TRIGGER lp_commit_fault")
    kept = event()
    assert outcome(writer.submit(_const(kept))) == "committed"
    assert stored_ids(faulty_connect) == {kept["eventID"]}


def test_an_unstorable_record_fails_alone(writer: TrailWriter, faulty_connect: Connect) -> None:
    good = [event() for _ in range(5)]
    bad = event()
    bad.pop("userIdentity")

    def broken() -> dict[str, Any]:
        raise ValueError("no record for you")

    futures = [*submit_all(writer, [good[0], good[1], bad]), writer.submit(broken)]
    futures += submit_all(writer, good[2:])
    results = [outcome(f) for f in futures]
    assert results[2] == "failed: the record could not be stored: a CloudTrail record needs userIdentity"
    assert results[3] == "failed: the record could not be built: no record for you"
    assert [r for i, r in enumerate(results) if i not in (2, 3)] == ["committed"] * 5
    assert stored_ids(faulty_connect) == {r["eventID"] for r in good}


def test_append_raises_when_not_committed(writer: TrailWriter, faulty_connect: Connect, faults: Faults) -> None:
    execute(faulty_connect, FAULT_TRIGGER)
    faults.fail_first["*"] = 1_000_000
    with pytest.raises(TrailNotCommitted, match="injected trail fault"):
        writer.append(event())


def test_a_closed_writer_acknowledges_nothing(writer: TrailWriter) -> None:
    writer.close()
    assert outcome(writer.submit(_const(event()))) == "failed: the trail writer is closed"


class CountingStore(TrailStore):
    """The real store, counting its transactions (the batches the leaders commit)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    def append_prepared(self, prepared: Any) -> None:
        super().append_prepared(prepared)
        self.batches.append(len(prepared))


def test_concurrent_records_share_commits_and_every_one_is_acknowledged(faulty_connect: Connect) -> None:
    """Group commit with leaders and followers: while a leader commits, the records submitted meanwhile wait
    and are committed together by the next leader; every submitter returns only once its own record's outcome
    is known (here: committed), and none is lost or written twice."""
    local = threading.local()

    def lend() -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = faulty_connect()
        return conn

    store = CountingStore(lend, owns_connections=False)
    w = TrailWriter(store)
    first_building, release = threading.Event(), threading.Event()
    first = event()

    def slow_build() -> dict[str, Any]:  # the first leader is held inside its batch
        first_building.set()
        assert release.wait(WAIT)
        return first

    leader = threading.Thread(target=lambda: outcomes.append(outcome(w.submit(slow_build))))
    outcomes: list[str] = []
    leader.start()
    assert first_building.wait(WAIT)
    others = [event() for _ in range(7)]
    followers = [threading.Thread(target=lambda r=r: outcomes.append(outcome(w.submit(_const(r))))) for r in others]
    for t in followers:
        t.start()
    deadline = time.monotonic() + WAIT  # all seven are waiting behind the held leader
    while len(w._pending) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(w._pending) == 7 and outcomes == []  # nobody was answered before its record was committed
    release.set()
    for t in [leader, *followers]:
        t.join(WAIT)
    assert outcomes == ["committed"] * 8
    assert store.batches == [1, 7]  # the held leader's own record, then the seven gathered meanwhile, as one
    assert stored_ids(faulty_connect) == {r["eventID"] for r in [first, *others]}
    # and under free concurrency: every record committed exactly once
    many = [event() for _ in range(200)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda r: outcome(w.submit(_const(r))), many))
    assert results == ["committed"] * 200
    assert sum(store.batches) == 208
    assert stored_ids(faulty_connect) == {r["eventID"] for r in [first, *others, *many]}
    w.close()


def test_a_record_whose_submitter_gave_up_is_committed_by_flush(writer: TrailWriter, faulty_connect: Connect) -> None:
    """A submitter that stops waiting (its timeout passed while another leader held the turn) leaves its record
    pending with no leader; flush (LookupEvents, close) must commit it, not wait for a next call forever."""
    held, release = threading.Event(), threading.Event()
    slow = event()

    def slow_build() -> dict[str, Any]:
        held.set()
        assert release.wait(WAIT)
        return slow

    leader = threading.Thread(target=lambda: writer.submit(slow_build))
    leader.start()
    assert held.wait(WAIT)
    orphan = event()
    gave_up = writer.submit(_const(orphan), timeout=0.05)  # behind the held leader: returns unknown
    assert not gave_up.done()
    release.set()
    leader.join(WAIT)
    flusher = threading.Thread(target=writer.flush)
    flusher.start()
    flusher.join(WAIT)
    assert not flusher.is_alive(), "flush waited for a leader that never comes"
    assert outcome(gave_up) == "committed"
    assert stored_ids(faulty_connect) == {slow["eventID"], orphan["eventID"]}
