"""lambdaperm's records about what a data-plane call did to the backend, written in the transaction that commits
the call's journal entry (persistence review round 8; docs/architecture.md, "Durable data plane").

The bucket registry (who holds a bucket name) and the S3 → Lambda targets of a bucket describe the embedded
backend's state. With a durable data plane, a call's journal entry commits with its trail record, after the
call executed; a record written at once, while the call executed, outlived a `kill -9` that lost the entry: an
unacknowledged CreateBucket still reserved its name after the restart, an unacknowledged PutBucketNotification-
Configuration still delivered objects to a function, a lost DeleteBucket dropped the restored bucket's targets.
Written here, inside the call's unit, the record goes with the entry (`journal.alongside`): both commit, or
neither; and in execution order, so a conditional delete (`where`) is decided against the records every earlier
entry left. Without a journal (in memory, `--upstream`) or outside a unit, the record is written at once.

AWS: a bucket and its configuration exist as the acknowledged calls left them
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html).
"""

from __future__ import annotations

import sqlite3

from lambdaperm.state.records import Record, Records, delete_row, put_row

from . import journal


def _write(records: Records, write: journal.Write) -> None:
    def committed() -> None:  # what `Records` does after its own commits: derived caches are dropped
        for hook in records.db.commit_hooks:
            hook()

    if not journal.alongside(write, committed):
        with records.db.transaction() as conn:
            write(conn)


def put(records: Records, namespace: str, account: str, key: str, data: Record) -> None:
    """Insert or replace the record, with the running unit's entry (or at once)."""

    def write(conn: sqlite3.Connection) -> None:
        put_row(conn, namespace, account, key, data)

    _write(records, write)


def delete(records: Records, namespace: str, account: str, key: str, where: dict[str, str] | None = None) -> None:
    """Delete the record if each field of `where` has that value when the write is made (with the running unit's
    entry, or at once)."""

    def write(conn: sqlite3.Connection) -> None:
        delete_row(conn, namespace, account, key, where)

    _write(records, write)
