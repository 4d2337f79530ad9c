"""A small document store over SQLite: JSON records addressed by (namespace, account, key).

Services keep their entities here (IAM users, roles, policies, access keys, sessions, Lambda functions…).
Keys are compared case-insensitively where the service says so (IAM names): the caller passes the key it
wants compared (`name.lower()` for IAM) and keeps the display name inside the record.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from .db import Database

Record = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    namespace TEXT NOT NULL,
    account   TEXT NOT NULL,
    key       TEXT NOT NULL,
    data      TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (namespace, account, key)
);
CREATE INDEX IF NOT EXISTS records_order ON records (namespace, account, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class Records:
    """`version` changes after every committed write of this process: a cache of anything derived from
    records stays valid while the version it was computed at is current (the server is the database's only
    writer). It moves at commit time, so a value computed while a write was in flight is dropped too."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._versions = itertools.count(1)
        self.version = 0
        db.commit_hooks.append(self._bump)
        db.connection().executescript(_SCHEMA)

    def _bump(self) -> None:
        self.version = next(self._versions)

    def _conn(self) -> sqlite3.Connection:
        return self.db.connection()

    def get(self, namespace: str, account: str, key: str) -> Record | None:
        row = self._conn().execute(
            "SELECT data FROM records WHERE namespace=? AND account=? AND key=?", (namespace, account, key)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, namespace: str, account: str, key: str, data: Record) -> None:
        """Insert or replace (call inside `db.transaction()` for read-modify-write)."""
        with self.db.transaction() as conn:
            put_row(conn, namespace, account, key, data)

    def delete(self, namespace: str, account: str, key: str) -> bool:
        with self.db.transaction() as conn:
            return delete_row(conn, namespace, account, key)

    def list(self, namespace: str, account: str) -> list[Record]:
        """All records of a namespace in an account, in creation order."""
        rows = self._conn().execute(
            "SELECT data FROM records WHERE namespace=? AND account=? ORDER BY seq", (namespace, account)
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def scan(self, namespace: str) -> Iterator[tuple[str, Record]]:
        """(account, record) for every record of a namespace, across accounts."""
        rows = self._conn().execute(
            "SELECT account, data FROM records WHERE namespace=? ORDER BY seq", (namespace,)
        ).fetchall()
        for row in rows:
            yield row[0], json.loads(row[1])

    def count(self, namespace: str, account: str) -> int:
        row = self._conn().execute(
            "SELECT COUNT(*) FROM records WHERE namespace=? AND account=?", (namespace, account)
        ).fetchone()
        return int(row[0])



class Derived:
    """A cache of values computed from the records, dropped whenever the records change.

    The records' version is read once per lookup, before anything is looked up or computed, and the values
    live in a dict tagged with that version, replaced as one (version, dict) pair. A value computed from
    records read before a write committed is therefore stored under a version older than the write's (the
    version moves after the commit, before the write is acknowledged) and is never served to a lookup that
    started after the write was acknowledged. (The cache used to re-read the version when it reset itself,
    so a value read before a concurrent commit could be filed under the version after it.)"""

    def __init__(self, records: Records, limit: int = 8192) -> None:
        self.records = records
        self.limit = limit
        self._current: tuple[int, dict[object, object]] = (-1, {})

    def get(self, key: object, compute: Any) -> Any:
        version = self.records.version
        tagged, values = self._current
        if tagged != version:
            values = {}
            self._current = (version, values)
        if key in values:
            return values[key]
        value = compute()
        if len(values) >= self.limit:
            values.clear()
        values[key] = value
        return value


# Writes on a connection inside the caller's transaction: `Records.put`/`delete`, and the records lambdaperm writes
# in the transaction that commits a data-plane journal entry (dataplane/unit_records.py, persistence round 8).


def put_row(conn: sqlite3.Connection, namespace: str, account: str, key: str, data: Record) -> None:
    """Insert or replace one record, inside the caller's transaction."""
    conn.execute(
        "INSERT INTO counters (name, value) VALUES ('seq', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1"
    )
    seq = int(conn.execute("SELECT value FROM counters WHERE name='seq'").fetchone()[0])
    conn.execute(
        "INSERT INTO records (namespace, account, key, data, seq) VALUES (?,?,?,?,?) "
        "ON CONFLICT (namespace, account, key) DO UPDATE SET data=excluded.data",
        (namespace, account, key, json.dumps(data, separators=(",", ":")), seq),
    )


def delete_row(
    conn: sqlite3.Connection, namespace: str, account: str, key: str, where: dict[str, str] | None = None
) -> bool:
    """Delete one record — only if each field of `where` has that value in it — inside the caller's transaction."""
    sql = "DELETE FROM records WHERE namespace=? AND account=? AND key=?"
    args: list[str] = [namespace, account, key]
    for name, value in (where or {}).items():
        sql += " AND json_extract(data, ?) IS ?"
        args += [f'$."{name}"', value]
    return conn.execute(sql, args).rowcount > 0
