"""Isolation review, round 15: one account's handler output against the data plane every account shares, with real
boto3 against a real `lambdaperm serve` (docs/security.md, "Isolation (handler code), review round 15"; issue 7).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts the outcome AWS promises.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lambdaperm.gateway.log_batches import BATCH_BYTES, BATCH_EVENTS, EVENT_OVERHEAD, batches
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.test_isolation_round11 import _client
from tests.security.test_runtime_limits import REGION, _server

ATTACKER = "111111111111"
VICTIM = "222222222222"
BASIC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

# Prints 8 MiB of one-character lines (the last 8 MiB of an invocation's output is what the runtime keeps):
# 4,194,304 log events from one invocation.
CHATTY = """
import sys

def handler(event, context):
    sys.stdout.write("a\\n" * (4 << 20))
    sys.stdout.flush()
    return "printed"
"""


@pytest.fixture(scope="module")
def server() -> Iterator[Endpoint]:
    with _server() as endpoint:
        assert endpoint.health()["isolation"]["available"] is True
        yield endpoint


def test_one_invocations_log_output_does_not_stall_every_accounts_data_plane(server: Endpoint) -> None:
    """Attack: account A's handler prints 8 MiB of one-character lines. Lambda ships each line as a CloudWatch Logs
    event; lambdaperm wrote all 4,194,304 of them to the Logs backend as one journaled unit, under the data plane's one
    execution lock — 13 s of it measured offline (moto builds an object per event, then the unit's arguments are
    pickled for the journal), during which every other account's data-plane call waits; A re-invokes for as long as
    it likes (8 at a time). AWS: one function's code cannot deny the service to other accounts
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html); CloudWatch Logs takes at most
    10,000 events and 1,048,576 bytes (messages plus 26 bytes per event) in one PutLogEvents batch
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html), so a function's
    output reaches the service as many batches, never as one. B's SQS calls during A's shipping must be answered
    within a bound far below the whole shipping time; A's log must still hold its REPORT line (positive control)."""
    iam = server.client("iam", key=ATTACKER)
    role = make_role(iam, "chatty-role", managed=[BASIC_ROLE])
    server.client("lambda", key=ATTACKER, region=REGION).create_function(
        FunctionName="chatty",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": CHATTY})},
        Timeout=60,
        MemorySize=512,
    )
    sqs = _client(server, "sqs", VICTIM, 60)
    url = sqs.create_queue(QueueName="victim-q")["QueueUrl"]
    invoker = _client(server, "lambda", ATTACKER, 300)
    outcome: dict[str, Any] = {}

    def invoke() -> None:
        started = time.monotonic()
        answer = invoker.invoke(FunctionName="chatty", Payload=b"{}")
        outcome["status"] = answer["StatusCode"]
        outcome["payload"] = answer["Payload"].read()
        outcome["seconds"] = time.monotonic() - started

    attacker = threading.Thread(target=invoke, daemon=True)
    attacker.start()
    latencies: list[float] = []
    while attacker.is_alive():
        started = time.monotonic()
        sqs.send_message(QueueUrl=url, MessageBody="victim")
        latencies.append(time.monotonic() - started)
    attacker.join(timeout=300)
    assert outcome.get("status") == 200 and outcome["payload"] == b'"printed"', outcome
    assert len(latencies) >= 3, f"B's calls did not overlap A's invocation: {latencies}"
    logs = _client(server, "logs", ATTACKER, 60)
    stream = logs.describe_log_streams(logGroupName="/aws/lambda/chatty")["logStreams"][0]["logStreamName"]
    tail = logs.get_log_events(logGroupName="/aws/lambda/chatty", logStreamName=stream, limit=2, startFromHead=False)
    assert any(e["message"].startswith("REPORT RequestId:") for e in tail["events"]), tail["events"]
    assert max(latencies) < 3.0, (
        f"B's SendMessage waited {max(latencies):.1f} s while A's {outcome['seconds']:.1f} s invocation shipped its log"
    )


def _batch_bytes(batch: list[tuple[int, str]]) -> int:
    return sum(len(message.encode("utf-8")) + EVENT_OVERHEAD for _, message in batch)


@pytest.mark.parametrize(
    "messages",
    [
        ["a"] * 25_001,  # the event count bounds
        ["x" * 1000] * 3_000,  # the byte bound
        ["é" * 300_000, "b", "c" * 2_000_000, "d"],  # an event above the byte bound travels alone
        [],
    ],
    ids=["many-small", "byte-bound", "oversized-event", "empty"],
)
def test_log_batches_keep_cloudwatch_limits_and_order(messages: list[str]) -> None:
    """The batches `ship_logs` writes: each within PutLogEvents' limits (10,000 events; 1,048,576 bytes, messages in
    UTF-8 plus 26 bytes per event) unless it is one event larger than that, every event once, in order."""
    events = [(1_000 + i, m) for i, m in enumerate(messages)]
    made = list(batches(events))
    assert [e for batch in made for e in batch] == events
    for batch in made:
        assert batch
        assert len(batch) <= BATCH_EVENTS
        assert _batch_bytes(batch) <= BATCH_BYTES or len(batch) == 1
