"""The trail's SQLite store: every record appended once, LookupEvents over it, the records read back.

The store owns its tables (`trail_meta`, `trail_events`, `trail_resources`) and creates them when
absent; `trail_meta.schema_version` names their layout. Each call takes its own connection from
`connect` and closes it, so threads and processes may append at once (journal mode — WAL — and the
busy timeout are the caller's choice, made in `connect`). An append is one transaction.

Performance note: when no other connection holds the database open, SQLite checkpoints and removes
the WAL file as each connection closes (~8 ms an append on a plain disk, ~1 ms otherwise); a server
should keep one connection open for its lifetime (the state store's does).
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any, NamedTuple

from .errors import TrailError
from .lookup import (
    LookupQuery,
    encode_token,
    event_summary,
    lookup_resources,
    lookup_username,
    validate_lookup,
)
from .record import EVENT_CATEGORIES, parse_event_time

SCHEMA_VERSION = 1
_IX = "CREATE INDEX IF NOT EXISTS "
_BATCH = 500
_REQUIRED = (
    "eventID",
    "eventTime",
    "eventName",
    "eventSource",
    "awsRegion",
    "recipientAccountId",
    "readOnly",
    "eventCategory",
    "userIdentity",
)

_TABLES = (
    "CREATE TABLE IF NOT EXISTS trail_events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " event_id TEXT NOT NULL UNIQUE,"
    " account TEXT NOT NULL,"  # recipientAccountId
    " region TEXT NOT NULL,"  # awsRegion
    " event_time INTEGER NOT NULL,"  # epoch seconds, UTC
    " event_name TEXT NOT NULL,"
    " event_source TEXT NOT NULL,"
    " username TEXT,"  # as LookupEvents shows it
    " access_key_id TEXT,"
    " read_only INTEGER NOT NULL,"
    " category TEXT NOT NULL,"  # eventCategory
    " record TEXT NOT NULL)",  # the record, compact JSON, keys in AWS's order
    "CREATE TABLE IF NOT EXISTS trail_resources ("
    " seq INTEGER NOT NULL REFERENCES trail_events(seq),"
    " position INTEGER NOT NULL,"
    " resource_type TEXT NOT NULL,"
    " resource_name TEXT NOT NULL,"
    " arn TEXT NOT NULL,"
    " PRIMARY KEY (seq, position)) WITHOUT ROWID",
    _IX + "trail_events_lookup ON trail_events(account, region, category, event_time, seq)",
    _IX + "trail_events_time ON trail_events(event_time, seq)",
    _IX + "trail_events_account_time ON trail_events(account, event_time, seq)",
    _IX + "trail_events_name ON trail_events(account, region, event_name, event_time)",
    _IX + "trail_events_source ON trail_events(account, region, event_source, event_time)",
    _IX + "trail_events_username ON trail_events(account, region, username, event_time)",
    _IX + "trail_events_read_only ON trail_events(account, region, read_only, event_time)",
    _IX + "trail_events_access_key ON trail_events(access_key_id, event_time)",
    _IX + "trail_resources_name ON trail_resources(resource_name)",
    _IX + "trail_resources_arn ON trail_resources(arn)",
    _IX + "trail_resources_type ON trail_resources(resource_type)",
)

# LookupAttribute key -> (condition, how many times the value binds). ResourceName matches the name
# LookupEvents shows or the full ARN.
_ATTRIBUTE_SQL: dict[str, tuple[str, int]] = {
    "EventId": ("event_id = ?", 1),
    "EventName": ("event_name = ?", 1),
    "ReadOnly": ("read_only = ?", 1),
    "Username": ("username = ?", 1),
    "EventSource": ("event_source = ?", 1),
    "AccessKeyId": ("access_key_id = ?", 1),
    "ResourceType": ("seq IN (SELECT seq FROM trail_resources WHERE resource_type = ?)", 1),
    "ResourceName": ("seq IN (SELECT seq FROM trail_resources WHERE resource_name = ? OR arn = ?)", 2),
}


class PreparedRecord(NamedTuple):
    """A record checked and serialized by `TrailStore.prepare`, ready for `append_prepared`."""

    event_id: str
    row: tuple[object, ...]
    text: str  # the record, compact JSON
    resources: list[tuple[str, str, str]]  # (type, name, ARN) as LookupEvents shows them


class TrailStore:
    """CloudTrail records in SQLite. `connect()` returns a new connection to the database each time."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], *, owns_connections: bool = True) -> None:
        """`connect` gives a connection per use, closed after it; with `owns_connections=False` it lends a
        long-lived one (a per-thread connection of the server), which is kept open: no connect and no
        WAL checkpoint per record on the request path."""
        self._connect = connect
        self._owns = owns_connections
        self._token_key = self._migrate()

    def append(self, record: dict[str, Any]) -> None:
        """Store one record (as `build_record` made it). A second record with the same eventID is refused."""
        self.append_many([record])

    def append_many(self, records: list[dict[str, Any]]) -> None:
        """Store records in one transaction (all or none)."""
        self.append_prepared([self.prepare(r) for r in records])

    def prepare(self, record: dict[str, Any]) -> PreparedRecord:
        """Check a record and compute what storing it writes, outside any transaction: a record the
        store cannot accept raises TrailError here, before it can fail a transaction shared with others."""
        row = _row(record)
        try:
            text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise TrailError(f"the record is not JSON: {exc}") from None
        return PreparedRecord(str(record["eventID"]), row, text, lookup_resources(record))

    def append_prepared(
        self, prepared: Sequence[PreparedRecord], also: Callable[[sqlite3.Connection], None] | None = None
    ) -> None:
        """Store prepared records in one transaction (all or none). Raises TrailError for an eventID
        already stored, sqlite3.Error when the database refuses the write (nothing is then stored).
        `also` writes what must commit with the records (the data-plane journal), in the same transaction."""
        if not prepared and also is None:
            return
        try:
            with self._transaction() as conn:
                if also is not None:
                    also(conn)
                for item in prepared:
                    cur = conn.execute(
                        "INSERT INTO trail_events (event_id, account, region, event_time, event_name,"
                        " event_source, username, access_key_id, read_only, category, record)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (*item.row, item.text),
                    )
                    seq = cur.lastrowid
                    conn.executemany(
                        "INSERT INTO trail_resources (seq, position, resource_type, resource_name, arn)"
                        " VALUES (?,?,?,?,?)",
                        [(seq, i, rtype, name, arn) for i, (rtype, name, arn) in enumerate(item.resources)],
                    )
        except sqlite3.IntegrityError as exc:
            if getattr(exc, "sqlite_errorname", "") not in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
                raise  # not a duplicate: a trigger or a constraint the store does not own refused the write
            ids = ", ".join(repr(item.event_id) for item in prepared)
            raise TrailError(f"eventID {ids} is already in the trail ({exc})") from None

    def lookup_events(
        self,
        *,
        account: str,
        region: str,
        lookup_attributes: list[dict[str, str]] | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        event_category: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
        now: datetime,
    ) -> dict[str, Any]:
        """LookupEvents' output (`Events`, and `NextToken` while more remain) for one account and region,
        newest first. Raises LookupEventsError with AWS's code for a request AWS rejects."""
        query = validate_lookup(
            account=account,
            region=region,
            lookup_attributes=lookup_attributes,
            start_time=start_time,
            end_time=end_time,
            event_category=event_category,
            max_results=max_results,
            next_token=next_token,
            now=now,
            token_key=self._token_key,
        )
        if query.insight:
            return {"Events": []}  # Insights events are never recorded here
        sql, params = _lookup_sql(query)
        with self._reading() as conn:
            rows = conn.execute(sql, params).fetchall()
        page = rows[: query.limit]
        output: dict[str, Any] = {"Events": [event_summary(json.loads(text), text) for _, _, text in page]}
        if len(rows) > query.limit:
            seq, event_time, _ = page[-1]
            output["NextToken"] = encode_token(query.fingerprint, (event_time, seq), self._token_key)
        return output

    def records(self, account: str | None = None, since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every stored record (management and data), oldest first; of one recipient account, and from
        `since` on, when given. Reads in batches, each with its own connection."""
        where: list[str] = ["1 = 1"]
        params: list[object] = []
        if account is not None:
            where.append("account = ?")
            params.append(account)
        if since is not None:
            if since.tzinfo is None or since.utcoffset() is None:
                raise TrailError(f"since {since.isoformat()} has no time zone; pass an aware datetime")
            where.append("event_time >= ?")
            params.append(math.ceil(since.timestamp()))
        cursor: tuple[int, int] | None = None
        while True:
            cursor_sql, cursor_params = (
                ("", [])
                if cursor is None
                else (" AND (event_time > ? OR (event_time = ? AND seq > ?))", [cursor[0], cursor[0], cursor[1]])
            )
            with self._reading() as conn:
                rows = conn.execute(
                    "SELECT seq, event_time, record FROM trail_events"
                    f" WHERE {' AND '.join(where)}{cursor_sql} ORDER BY event_time, seq LIMIT ?",
                    (*params, *cursor_params, _BATCH),
                ).fetchall()
            for _, _, text in rows:
                yield json.loads(text)
            if len(rows) < _BATCH:
                return
            cursor = (rows[-1][1], rows[-1][0])

    def _migrate(self) -> bytes:
        """Create the tables when absent and return the key that signs NextTokens."""
        with self._transaction() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS trail_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            meta = dict(conn.execute("SELECT key, value FROM trail_meta").fetchall())
            version = meta.get("schema_version")
            if version is not None and version != str(SCHEMA_VERSION):
                raise TrailError(
                    f"the trail tables have schema version {version}; this lambdaperm reads version {SCHEMA_VERSION}"
                )
            for statement in _TABLES:
                conn.execute(statement)
            if version is None:
                meta["schema_version"] = str(SCHEMA_VERSION)
                meta.setdefault("token_key", secrets.token_hex(32))
                conn.executemany(
                    "INSERT OR REPLACE INTO trail_meta (key, value) VALUES (?, ?)",
                    [(k, meta[k]) for k in ("schema_version", "token_key")],
                )
        return bytes.fromhex(meta["token_key"])

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException:
                # a failed COMMIT (a deferred constraint, I/O) leaves the transaction open: a lent,
                # long-lived connection left inside it could never begin another
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.rollback()
                raise
        finally:
            if self._owns:
                conn.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            if self._owns:
                conn.close()


def _row(record: dict[str, Any]) -> tuple[object, ...]:
    """The indexed columns of a record; a record missing what LookupEvents needs is refused."""
    missing = [k for k in _REQUIRED if k not in record]
    if missing:
        raise TrailError(f"a CloudTrail record needs {', '.join(missing)}")
    if record["eventCategory"] not in EVENT_CATEGORIES:
        raise TrailError(f"eventCategory {record['eventCategory']!r} is not one of {', '.join(EVENT_CATEGORIES)}")
    if not isinstance(record["readOnly"], bool):
        raise TrailError(f"readOnly must be a JSON boolean, not {record['readOnly']!r}")
    identity = record["userIdentity"]
    if not isinstance(identity, dict):
        raise TrailError(f"userIdentity must be an object, not {identity!r}")
    event_time = int(parse_event_time(record["eventTime"]).timestamp())
    return (
        record["eventID"],
        record["recipientAccountId"],
        record["awsRegion"],
        event_time,
        record["eventName"],
        record["eventSource"],
        lookup_username(identity),
        identity.get("accessKeyId") or None,
        1 if record["readOnly"] else 0,
        record["eventCategory"],
    )


def _lookup_sql(query: LookupQuery) -> tuple[str, list[object]]:
    where = ["account = ?", "region = ?", "category = 'Management'", "event_time >= ?"]
    params: list[object] = [query.account, query.region, query.start]
    if query.end is not None:
        where.append("event_time <= ?")
        params.append(query.end)
    if query.cursor is not None:
        where.append("(event_time < ? OR (event_time = ? AND seq < ?))")
        params += [query.cursor[0], query.cursor[0], query.cursor[1]]
    if query.attribute is not None:
        key, value = query.attribute
        condition, binds = _ATTRIBUTE_SQL[key]
        where.append(condition)
        bound: object = (1 if value == "true" else 0) if key == "ReadOnly" else value
        params += [bound] * binds
    sql = (
        f"SELECT seq, event_time, record FROM trail_events WHERE {' AND '.join(where)}"
        " ORDER BY event_time DESC, seq DESC LIMIT ?"
    )
    return sql, [*params, query.limit + 1]
