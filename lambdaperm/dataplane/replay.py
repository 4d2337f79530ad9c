"""Start-up of a durable data plane: the last snapshot, then the journal entries after it, run again in order
before the server answers anything (docs/architecture.md, "Durable data plane").

Each entry runs as it ran live: the same canonical call (`MotoBackend.execute`: the operation, the parameters
as executed, the account and region), under the same seed and clock (`journal.Journal.replaying_unit`), with
the decisions lambdaperm made during it read back from its tape — a push delivery is delivered exactly when it
was, whatever the destination's policy says today. Nothing else lambdaperm does after a call runs again: no
S3 or SNS event reaches a Lambda function (those deliveries are `gateway/events.py`'s, after the call, never
part of a unit), no record is written (lambdaperm's records and the trail are already durable). An entry
whose replay answers an error answered that error live too (a refused or failed call that reached the
backend is journaled: what it did, if anything, is done again); each entry carries the status it was answered and
a replay answered another stops the start-up (`journal.Journal.replaying_unit`, persistence review round 13).
A DynamoDB import or export, and a Logs export,
runs inside its entry's unit, as it did live, from the plan on the entry's tape (`dynamodb_imports`,
`dynamodb_exports`, `logs_exports`, installed before the first entry).
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.models import operation_model

from . import deliveries, dynamodb_exports, dynamodb_imports, logs_exports, snapshots, sns_confirmation
from .journal import Entry, Journal, internal_function, params_of
from .moto_backend import MotoBackend

log = logging.getLogger("lambdaperm.replay")


@dataclass(frozen=True, slots=True)
class Restored:
    snapshot_seq: int
    replayed: int
    seconds: float


def restore(backend: MotoBackend, journal: Journal, directory: Path) -> Restored:
    """Load the snapshot and replay the journal after it into the (empty) embedded backend."""
    journal.replaying = True
    try:
        if snapshots.exists(directory) or journal.count():  # else nothing to restore: each loads at its first call
            for service in snapshots.SERVICES:
                backend.load(service)  # moto's modules, and lambdaperm's changes to them, before anything is restored
        dynamodb_imports.install()  # a replayed import reads the bytes on its tape, never the bucket as it is now
        dynamodb_exports.install()  # a replayed export writes the keys on its tape (persistence review round 8)
        logs_exports.install()  # a replayed Logs export writes its taped plan, not moto's own (round 9)
        started = time.monotonic()  # the restore itself (not moto's imports, which any first call pays)
        covered = snapshots.load(directory)
        replayed = 0
        for entry in journal.entries(covered):
            run(backend, journal, entry)
            replayed += 1
    finally:
        journal.replaying = False
    seconds = time.monotonic() - started
    if replayed or covered:
        log.warning(
            "data plane restored: snapshot through entry %d, %d journal entries replayed in %.2f s",
            covered,
            replayed,
            seconds,
        )
    return Restored(covered, replayed, seconds)


def run(backend: MotoBackend, journal: Journal, entry: Entry) -> None:
    params = params_of(entry)
    with journal.replaying_unit(entry):
        if entry.kind == "internal":
            internal_function(entry.operation)(*params)
            return
        try:
            result = backend.execute(
                operation_model(entry.service, entry.operation), params, entry.account, entry.region
            )
        except ServiceError:
            return  # answered an error live too: its follow-up did not run
        if entry.service == "sns" and entry.subscriber is not None:
            with suppress(ServiceError):  # ConfirmSubscription with a wrong token: refused live as well
                sns_confirmation.after(
                    entry.operation, params, result.output, entry.subscriber, deliveries.sns_to_queue
                )
