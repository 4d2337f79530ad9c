"""services/lambda_/async_queue_store: what start-up does with a stored Event invocation it must not run.

Lambda runs a queued event against the function as it is at run time; a deleted function has nothing to run, and
an event whose retries are spent is discarded (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdaperm.services.lambda_ import async_queue_store as aqs
from lambdaperm.state import Records
from lambdaperm.state.db import Database

A = "777800000113"
ARN = f"arn:aws:lambda:us-east-1:{A}:function:gone"


class _Pool:
    """Runs a submitted job at once (the asynchronous threads, reduced to what resume needs)."""

    def __init__(self) -> None:
        self.ran = 0

    def submit(self, job: Callable[[], Any], account: str = "", size: int = 0) -> bool:
        self.ran += 1
        job()
        return True


@pytest.fixture
def records(tmp_path: Path) -> Iterator[Records]:
    db = Database(tmp_path / "state")
    yield Records(db)
    db.close()


def _event(attempts: int) -> dict[str, Any]:
    return {
        "FunctionArn": ARN,
        "Account": A,
        "Region": "us-east-1",
        "Version": "$LATEST",
        "Pinned": {ARN: "incarnation-1"},
        "Payload": base64.b64encode(b"{}").decode(),
        "RequestId": "req-1",
        "Caller": {"Arn": f"arn:aws:iam::{A}:root", "Kind": "Account", "Account": A, "PrincipalId": A},
        "Attempts": attempts,
    }


def test_a_stored_event_of_a_deleted_function_is_dropped_at_start_up(
    records: Records, caplog: pytest.LogCaptureFixture
) -> None:
    records.put(aqs.EVENTS, A, "req-1", _event(1))
    pool = _Pool()
    assert aqs.resume(records, None, pool) == 1  # submitted: the run reads the function as it is then
    assert pool.ran == 1
    assert records.get(aqs.EVENTS, A, "req-1") is None  # no function: dropped, not kept for the next start-up
    assert f"asynchronous event req-1 dropped: {ARN} was deleted or replaced" in caplog.text  # not run


def test_a_stored_event_whose_attempts_are_spent_is_dropped_unrun(records: Records) -> None:
    records.put(aqs.EVENTS, A, "req-1", _event(aqs.MAX_ATTEMPTS))
    pool = _Pool()
    assert aqs.resume(records, None, pool) == 0
    assert pool.ran == 0
    assert records.get(aqs.EVENTS, A, "req-1") is None
