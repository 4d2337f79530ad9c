"""Persistence, review round 13: a call refused after it reached the backend is journaled (what it did, if anything,
is done again at a restart); its replay must be refused again, or the restart creates state nobody was answered
for.

AWS: an acknowledged write is durable, and a refused one changed nothing
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html: "If the
condition expression evaluates to false, DynamoDB returns ... ConditionalCheckFailedException" and the item is
not written). `replay.run` took the replay's answer as it came: an entry whose replay succeeded where the call had
been refused restored a write nobody was answered for, and nothing said so. The rule under test: every journaled
call carries the HTTP status the backend answered it live, and a replay that answers another refuses the start-up
with a message naming the entry — the state directory is left as it is, for the backend that wrote it.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.gated_servers import gated_starter

A = "777800000113"
TABLE = "r13-table"
BUCKET = "r13-bucket"


def _journal(state: Path) -> list[Any]:
    """The committed journal entries of a stopped server's state directory, in order."""
    with sqlite3.connect(state / "state.db") as conn:
        rows = conn.execute("SELECT entry FROM dataplane_journal ORDER BY seq").fetchall()
    return [pickle.loads(blob) for (blob,) in rows]  # written by lambdaperm into the test's own state directory


def _table(ddb: Any) -> None:
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "v": {"S": "acknowledged"}})


def _refused_put(ddb: Any) -> None:
    with pytest.raises(ClientError) as refused:
        ddb.put_item(
            TableName=TABLE,
            Item={"pk": {"S": "a"}, "v": {"S": "refused"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_every_journaled_call_carries_the_status_it_was_answered(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack: calls refused by the backend (a conditional PutItem, DeleteBucket of a bucket holding an object) are
    journaled beside acknowledged ones; after `kill -9` the restart replays them all. Each entry must carry the status
    it was answered (the refused ones 4xx, the acknowledged ones 2xx), and the restart must restore the acknowledged
    item and object, the refused put and delete having done nothing."""
    state = tmp_path / "state"
    server = make_server(state)
    ddb, s3 = server.client("dynamodb", key=A), server.client("s3", key=A)
    _table(ddb)
    _refused_put(ddb)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"kept")
    with pytest.raises(ClientError) as not_empty:
        s3.delete_bucket(Bucket=BUCKET)
    assert not_empty.value.response["Error"]["Code"] == "BucketNotEmpty"
    server.proc.kill()  # kill -9: the restart replays the whole journal
    server.proc.wait()

    outcomes = [(e.service, e.operation, getattr(e, "outcome", "missing")) for e in _journal(state) if e.kind == "call"]
    assert ("dynamodb", "PutItem", 400) in outcomes, outcomes  # the refused conditional put, as answered
    assert ("s3", "DeleteBucket", 409) in outcomes, outcomes
    assert ("dynamodb", "PutItem", 200) in outcomes, outcomes
    assert all(isinstance(status, int) and 200 <= status < 600 for _s, _o, status in outcomes), outcomes

    restarted = make_server(state)
    item = restarted.client("dynamodb", key=A).get_item(TableName=TABLE, Key={"pk": {"S": "a"}})["Item"]
    assert item["v"] == {"S": "acknowledged"}
    body = restarted.client("s3", key=A).get_object(Bucket=BUCKET, Key="k")["Body"].read()
    assert body == b"kept"


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[Callable[[], tuple[Endpoint, Path]]]:
    yield from gated_starter(tmp_path, "tests.security.replay_gate_round13")


def test_a_replay_answered_otherwise_than_the_call_refuses_to_start(
    gated: Callable[[], tuple[Endpoint, Path]], tmp_path: Path
) -> None:
    """Attack: a conditional PutItem refused live (ConditionalCheckFailedException) is journaled; the server is killed
    and restarted on a backend that reads the condition otherwise (the gate drops it: another moto version or a
    changed replacement of moto's code does the same). Before this round the replay succeeded silently: after the
    restart the item held 'refused', a write the caller had been told failed. The start-up must refuse, naming the
    entry and both statuses, and leave the state directory for the backend that wrote it."""
    first, gate = gated()
    ddb = first.client("dynamodb", key=A)
    _table(ddb)
    _refused_put(ddb)
    first.proc.kill()
    first.proc.wait()

    (gate / "conditions.ignored").touch()
    try:
        second, _ = gated()
    except RuntimeError as refused:
        message = str(refused)
    else:  # started: show what it restored
        item = second.client("dynamodb", key=A).get_item(TableName=TABLE, Key={"pk": {"S": "a"}})["Item"]
        pytest.fail(f"the restart replayed a refused PutItem as a success and started; the item now holds {item}")
    assert "dynamodb:PutItem" in message and "400" in message and "200" in message, message
    assert "Traceback" not in message, message

    (gate / "conditions.ignored").unlink()  # the backend that wrote the journal restores it as it was answered
    third, _ = gated()
    item = third.client("dynamodb", key=A).get_item(TableName=TABLE, Key={"pk": {"S": "a"}})["Item"]
    assert item["v"] == {"S": "acknowledged"}
