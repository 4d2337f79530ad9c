"""The SQLite store: its own tables and schema version, whole appends, records read back, and
concurrent appends from many threads losing nothing."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from typing import Any

import pytest

from lambdaperm.trail import SCHEMA_VERSION, TrailError, TrailStore
from lambdaperm.trail import store as store_module

from .builders import ACCOUNT, NOW, OTHER_ACCOUNT, REGION, event
from .conftest import Connect


def count(connect: Connect, table: str) -> int:
    conn = connect()
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def test_tables_and_schema_version(connect: Connect) -> None:
    TrailStore(connect)
    TrailStore(connect)  # opening again is harmless
    conn = connect()
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    meta = dict(conn.execute("SELECT key, value FROM trail_meta").fetchall())
    index_names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    conn.close()
    assert {"trail_meta", "trail_events", "trail_resources"} <= names
    assert meta["schema_version"] == str(SCHEMA_VERSION) == "1"
    assert {"trail_events_lookup", "trail_resources_name", "trail_events_access_key"} <= index_names


def test_a_newer_schema_is_refused(connect: Connect) -> None:
    TrailStore(connect)
    conn = connect()
    conn.execute("UPDATE trail_meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(TrailError, match="schema version 99"):
        TrailStore(connect)


def test_indexed_columns(store: TrailStore, connect: Connect) -> None:
    record = event(read_only=False, resources=[
        {"accountId": ACCOUNT, "type": "AWS::Lambda::Function",
         "ARN": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders:live"}])
    store.append(record)
    conn = connect()
    row = conn.execute("SELECT event_id, account, region, event_time, event_name, event_source, username,"
                       " access_key_id, read_only, category FROM trail_events").fetchone()
    resource = conn.execute("SELECT resource_type, resource_name, arn FROM trail_resources").fetchone()
    conn.close()
    when = int((NOW - timedelta(minutes=1)).timestamp())
    assert row == (record["eventID"], ACCOUNT, REGION, when, record["eventName"], "lambda.amazonaws.com",
                   "alice", "AKIAIOSFODNN7EXAMPLE", 0, "Management")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders:live"
    assert resource == ("AWS::Lambda::Function", "orders", arn)


def test_a_duplicate_event_id_is_refused_whole(store: TrailStore, connect: Connect) -> None:
    record = event(resources=[{"type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{ACCOUNT}:role/r"}])
    store.append(record)
    with pytest.raises(TrailError, match="already in the trail"):
        store.append(record)
    assert count(connect, "trail_events") == 1
    assert count(connect, "trail_resources") == 1


@pytest.mark.parametrize("change", [
    lambda r: r.pop("eventID"),
    lambda r: r.pop("recipientAccountId"),
    lambda r: r.update(eventTime="yesterday"),
    lambda r: r.update(readOnly="true"),
    lambda r: r.update(eventCategory="Insight"),
    lambda r: r.update(userIdentity="alice"),
    lambda r: r.update(resources=["arn:aws:iam::1:role/r"]),
])
def test_malformed_records_are_refused(store: TrailStore, connect: Connect, change: Any) -> None:
    record = event()
    change(record)
    with pytest.raises(TrailError):
        store.append(record)
    assert count(connect, "trail_events") == 0


def test_records_oldest_first_with_filters(store: TrailStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_BATCH", 3)  # read back across several batches
    mine = [event(ago=timedelta(minutes=m)) for m in (9, 7, 5, 3, 1)]
    data = event(ago=timedelta(minutes=8), category="Data", name="Invoke", read_only=False)
    theirs = event(ago=timedelta(minutes=6), account=OTHER_ACCOUNT)
    for record in (*reversed(mine), data, theirs):
        store.append(record)
    everything = [r["eventID"] for r in store.records()]
    assert everything == [mine[0]["eventID"], data["eventID"], mine[1]["eventID"], theirs["eventID"],
                          mine[2]["eventID"], mine[3]["eventID"], mine[4]["eventID"]]
    assert [r["eventID"] for r in store.records(account=OTHER_ACCOUNT)] == [theirs["eventID"]]
    since = [r["eventID"] for r in store.records(account=ACCOUNT, since=NOW - timedelta(minutes=5))]
    assert since == [r["eventID"] for r in mine[2:]]
    assert next(store.records()) == mine[0]  # the record as appended, data events included


def test_concurrent_appends_lose_nothing(connect: Connect) -> None:
    threads_n, per_thread = 8, 40
    store = TrailStore(connect)
    records = [[event(ago=timedelta(seconds=i % 7)) for i in range(per_thread)] for _ in range(threads_n)]
    start = threading.Barrier(threads_n)
    failures: list[BaseException] = []

    def work(batch: list[dict[str, Any]]) -> None:
        try:
            start.wait()
            for record in batch:
                store.append(record)
        except BaseException as exc:  # collected and re-raised below, in the test's thread
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(batch,)) for batch in records]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert failures == []
    expected = {r["eventID"] for batch in records for r in batch}
    assert {r["eventID"] for r in store.records()} == expected
    assert count(connect, "trail_events") == threads_n * per_thread
    conn = connect()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_each_call_closes_its_connection(tmp_path: Any) -> None:
    opened: list[sqlite3.Connection] = []

    class Tracking(sqlite3.Connection):
        closed = False

        def close(self) -> None:
            self.closed = True
            super().close()

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(tmp_path / "t.db", factory=Tracking)
        opened.append(conn)
        return conn

    store = TrailStore(connect)
    store.append(event())
    store.lookup_events(account=ACCOUNT, region=REGION, now=NOW)
    list(store.records())
    assert len(opened) == 4 and all(getattr(c, "closed", False) for c in opened)
