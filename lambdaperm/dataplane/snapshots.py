"""Snapshots of the embedded backend, which bound how much of the journal a start-up replays
(docs/architecture.md, "Durable data plane").

A snapshot is the pickled state of moto's backends of the six served services (every account and region),
the S3 bucket-name index, and lambdaperm's SNS confirmation states (kept against moto's subscription objects,
so pickled with them: the same objects come back together), taken under the execution lock after the journal
entries executed so far are committed. It is written to a temporary file, flushed to disk (fsync), renamed
over `<state>/dataplane.snapshot` and the directory synced; only then are the journal entries it covers (up
to its sequence number, stored in it) deleted, in one statement. A crash between the two leaves entries the
snapshot covers: the start-up skips them.

moto's objects hold locks (an SQS queue's `Condition`, an S3 object's `Lock`): a pickled lock comes back as a
new, unlocked lock of the same kind (`copyreg` reducers below; a snapshot is taken with no unit running).
"""

from __future__ import annotations

import copyreg
import logging
import os
import pickle
import threading
import time
from pathlib import Path
from typing import Any

from . import sns_confirmation
from .journal import Journal

log = logging.getLogger("lambdaperm.snapshots")

FILE = "dataplane.snapshot"
SERVICES = ("s3", "sqs", "sns", "dynamodb", "logs", "ec2")
VERSION = 1


def _new_lock() -> Any:
    return threading.Lock()


def _new_rlock() -> Any:
    return threading.RLock()


copyreg.pickle(type(threading.Lock()), lambda _lock: (_new_lock, ()))
copyreg.pickle(type(threading.RLock()), lambda _lock: (_new_rlock, ()))


def _versioned_store(cls: type, items: list[tuple[Any, Any]]) -> Any:
    store = cls()
    for key, versions in items:
        dict.__setitem__(store, key, versions)
    return store


_THREAD_ATTRIBUTES = frozenset(vars(threading.Thread()))  # what Thread.__init__ sets (its stderr among them)


def _job(cls: Any, state: dict[str, Any]) -> Any:
    job = cls.__new__(cls)
    threading.Thread.__init__(job)  # a new, never started thread: the job itself is done
    job.__dict__.update(state)
    return job


def _job_state(job: Any) -> tuple[Any, ...]:
    return _job, (type(job), {k: v for k, v in vars(job).items() if k not in _THREAD_ATTRIBUTES})


def _reducers() -> None:
    """moto's S3 key store is a dict of version lists whose items() shows the latest versions only (pickle would
    keep those alone): pickled with every version. moto's DynamoDB import and export jobs are `threading.Thread`s
    (holding `sys.stderr`, which cannot be pickled — every snapshot after an ImportTable failed, persistence review
    round 8): pickled without the thread (they run inside their call's unit, `dynamodb_jobs`, so a snapshot never
    sees one running), keeping what DescribeImport / DescribeExport report."""
    from moto.dynamodb.models.table_export import TableExport
    from moto.dynamodb.models.table_import import TableImport
    from moto.s3.utils import _VersionedKeyStore

    copyreg.pickle(_VersionedKeyStore, lambda store: (_versioned_store, (type(store), list(dict.items(store)))))
    copyreg.pickle(TableImport, _job_state)
    copyreg.pickle(TableExport, _job_state)


def _backends() -> dict[str, Any]:
    import moto.backends as backends

    _reducers()

    return {service: backends.get_backend(service) for service in SERVICES}  # type: ignore[call-overload]


def take(journal: Journal, directory: Path) -> tuple[int, int]:
    """Write a snapshot and drop the journal entries it covers; returns (sequence number covered, bytes)."""
    with journal.lock:
        journal.commit_now()  # what the snapshot covers is committed first (its entries are then deleted)
        seq = journal.last_seq
        state = {
            "version": VERSION,
            "seq": seq,
            "backends": {service: dict(found) for service, found in _backends().items()},
            "bucket_accounts": dict(_backends()["s3"].bucket_accounts),
            "confirmations": sns_confirmation.saved_states(),
        }
        temporary = directory / f"{FILE}.tmp"
        with temporary.open("wb") as out:
            os.fchmod(out.fileno(), 0o600)
            pickle.dump(state, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            os.fsync(out.fileno())
        size = temporary.stat().st_size
        os.replace(temporary, directory / FILE)
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        journal.truncate(seq)
        journal.since_snapshot = journal.bytes_since_snapshot = 0
    return seq, size


def exists(directory: Path) -> bool:
    """Whether `directory` holds a snapshot to restore."""
    return (directory / FILE).exists()


def load(directory: Path) -> int:
    """Restore the backend from the snapshot in `directory`, if any; the sequence number it covers (0: none)."""
    path = directory / FILE
    if not path.exists():
        return 0
    started = time.monotonic()
    with path.open("rb") as source:
        state = pickle.load(source)  # written by this server into its private state directory
    if state.get("version") != VERSION:
        raise ValueError(f"{path} has snapshot version {state.get('version')}; this lambdaperm reads {VERSION}")
    current = _backends()
    for service, accounts in state["backends"].items():
        current[service].clear()
        current[service].update(accounts)
    current["s3"].bucket_accounts.clear()
    current["s3"].bucket_accounts.update(state["bucket_accounts"])
    sns_confirmation.restore_states(state["confirmations"])
    log.info("data plane restored from %s (through entry %d) in %.2f s", path, state["seq"], time.monotonic() - started)
    return int(state["seq"])
