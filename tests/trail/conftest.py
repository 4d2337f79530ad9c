"""Fixtures of the trail tests: a real SQLite file in WAL mode, one connection per call."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lambdaperm.trail import TrailStore

Connect = Callable[[], sqlite3.Connection]


def wal_connect(path: Path) -> Connect:
    """A connection factory as the gateway would make one: WAL, a busy timeout, NORMAL sync."""
    first = sqlite3.connect(path)
    first.execute("PRAGMA journal_mode=WAL")
    first.close()

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    return connect


@pytest.fixture
def connect(tmp_path: Path) -> Iterator[Connect]:
    factory = wal_connect(tmp_path / "trail.db")
    # A running server holds the database open; without one, every closing connection checkpoints
    # and removes the WAL file (~8 ms an append on a plain disk instead of ~1 ms).
    anchor = factory()
    yield factory
    anchor.close()


@pytest.fixture
def store(connect: Connect) -> TrailStore:
    return TrailStore(connect)
