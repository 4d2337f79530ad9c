"""The SQLite database: a connection per thread, WAL journal, and write transactions that take the
write lock up front (BEGIN IMMEDIATE) so that read-modify-write sequences never lose an update."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .private import private_directory, private_file, tighten_if_present

DB_FILE = "state.db"


class Database:
    """`Database(path)` for a file under a state directory; `Database(None)` for a throw-away one.

    The throw-away database is a file in a private temporary directory, removed on close: SQLite's shared
    in-memory databases lock whole tables and do not honour the busy timeout, so concurrent writers would
    fail ("database table is locked") where a WAL file simply waits.
    """

    def __init__(self, state_dir: Path | None) -> None:
        self.ephemeral = state_dir is None
        self.state_dir = state_dir
        directory = state_dir if state_dir is not None else Path(tempfile.mkdtemp(prefix="lambdaperm-state-"))
        self._tmp = None if state_dir is not None else directory
        private_directory(directory)  # every account's secret keys live here: 0700, 0600 (state/private.py)
        self.file = private_file(directory / DB_FILE)
        self.uri = self.file.resolve().as_uri()
        self._local = threading.local()
        self.commit_hooks: list[Callable[[], None]] = []  # run after every write transaction commits
        self._keepalive = self.connect()  # keeps the WAL open: no checkpoint-and-delete per connection
        self._keepalive.execute("PRAGMA journal_mode=WAL")
        self._keepalive.execute("SELECT count(*) FROM sqlite_master").fetchall()  # opens the -wal and -shm files
        for suffix in ("-wal", "-shm"):  # SQLite creates them with the database's mode, at most: fix older ones
            tighten_if_present(directory / f"{DB_FILE}{suffix}")

    @property
    def path(self) -> str:
        return ":memory:" if self.ephemeral else str(self.file)

    def connect(self) -> sqlite3.Connection:
        """A new connection (callers that keep one per thread should use `connection()`)."""
        conn = sqlite3.connect(self.uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=OFF" if self.ephemeral else "PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.row_factory = sqlite3.Row
        return conn

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        Nested use joins the outer transaction.
        """
        conn = self.connection()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        for hook in self.commit_hooks:
            hook()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        self._keepalive.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
