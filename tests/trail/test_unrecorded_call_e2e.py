"""End to end: a call whose CloudTrail record cannot be committed is never acknowledged. A real
`lambdaperm serve` on a real state file; the fault is a trigger on the trail table that RAISE()s, installed
by another SQLite connection while the server runs; real boto3 clients in every protocol."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint, start_server, stop_server

INTERNAL_FAILURE = (
    "InternalFailure",
    "The request processing has failed because of an unknown error, exception or failure.",
    500,
)
FAULT = "CREATE TRIGGER lp_fault BEFORE INSERT ON trail_events BEGIN SELECT RAISE(ABORT, 'injected trail fault'); END"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Endpoint]:
    endpoint = start_server(tmp_path / "state", tmp_path)
    yield endpoint
    stop_server(endpoint)


def client(server: Endpoint, service: str) -> Any:
    """A client that never retries: a retried 500 would be a second call (CreateUser's second try answers
    EntityAlreadyExists, since the first one did act)."""
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, s3={"addressing_style": "path"}),
    )


def state_sql(server: Endpoint, statement: str) -> list[tuple[Any, ...]]:
    assert server.state is not None
    conn = sqlite3.connect(server.state / "state.db", timeout=30)
    try:
        rows = conn.execute(statement).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def failure(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call()
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def wait_for_log(server: Endpoint, text: str) -> str:
    """The server's log once it contains `text` (bounded wait for a positive signal)."""
    deadline = time.monotonic() + 10
    log = ""
    while time.monotonic() < deadline:
        log = server.log.read_text(errors="replace")
        if text in log:
            return log
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in the server log:\n{log[-3000:]}")


def event_names(server: Endpoint) -> list[str]:
    return [str(r[0]) for r in state_sql(server, "SELECT event_name FROM trail_events ORDER BY seq")]


def test_a_call_whose_record_fails_is_not_acknowledged_and_the_server_recovers(server: Endpoint) -> None:
    iam, ddb, s3, lam = (client(server, s) for s in ("iam", "dynamodb", "s3", "lambda"))
    iam.create_user(UserName="before")
    assert event_names(server) == ["CreateUser"]

    state_sql(server, FAULT)
    # one call per protocol: query (IAM), json (DynamoDB), rest-xml (S3), rest-json (Lambda)
    assert failure(lambda: iam.create_user(UserName="during")) == INTERNAL_FAILURE
    assert failure(lambda: ddb.list_tables()) == INTERNAL_FAILURE
    assert failure(lambda: s3.create_bucket(Bucket="during-fault")) == INTERNAL_FAILURE
    assert failure(lambda: lam.list_functions()) == INTERNAL_FAILURE
    # an error answer acknowledges nothing: it stands (and its lost record is logged too)
    assert failure(lambda: iam.get_user(UserName="nobody"))[0] == "NoSuchEntity"
    log = wait_for_log(server, "its error NoSuchEntity")
    assert "the trail record of iam CreateUser" in log and "injected trail fault" in log
    assert "answering InternalFailure" in log
    assert "Traceback" not in log
    assert event_names(server) == ["CreateUser"]  # nothing of the failed calls was recorded

    state_sql(server, "DROP TRIGGER lp_fault")
    iam.create_user(UserName="after")
    assert ddb.list_tables()["TableNames"] == []
    assert event_names(server) == ["CreateUser", "CreateUser", "ListTables"]
    found = client(server, "cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": "after"}]
    )["Events"]
    assert [e["EventName"] for e in found] == ["CreateUser"]
