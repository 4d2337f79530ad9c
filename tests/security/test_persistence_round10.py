"""Persistence, review round 10: what a start-up's replay of the data-plane journal restores, against what the
calls acknowledged before a `kill -9` did — structurally (every replacement of the backend's code is in place
before the first entry is replayed) and for the state changes made by calls that read.

The rule under test: what was acknowledged is durable, and a replayed entry does what its call did live
(docs/architecture.md, "Durable data plane"; AWS: an acknowledged write is durable,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-basic-architecture.html).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Endpoint

A = "777800000101"


def _counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_receive_that_returned_nothing_but_counted_a_receive_is_durable(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack: a ReceiveMessage that changes the queue without returning a message. The backend, meeting a
    message older than the queue's MessageRetentionPeriod, counts a receive on it (its ApproximateReceiveCount,
    its visibility timeout) and stops without returning it. If such an attempt is not journaled (it "received
    nothing and moved nothing"), the receive it counted is lost at a `kill -9`: here the queue's redrive policy
    (maxReceiveCount 1) then moved the message to its dead-letter queue on the next, journaled, receive, and a
    consumer of the dead-letter queue received it (acknowledged, with its body). Replayed without the first
    attempt, the second one counts the first receive instead of moving the message: after the restart the
    message is back in the source queue and the dead-letter queue the consumer received it from is empty.

    AWS: a message is moved to the dead-letter queue once its ReceiveCount exceeds maxReceiveCount
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html),
    and what was acknowledged (the move, the receive from the dead-letter queue) is durable."""
    state = tmp_path / "state"
    server = make_server(state)
    sqs = server.client("sqs", key=A)
    dlq = sqs.create_queue(QueueName="r10-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(
        QueueName="r10-src",
        Attributes={
            "MessageRetentionPeriod": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}),
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=source, MessageBody="expired")
    time.sleep(62)  # the message is now older than the source queue's retention period (the minimum, 60 s)
    first = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0, WaitTimeSeconds=0)
    assert "Messages" not in first  # the backend counted a receive on it and returned nothing
    second = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0, WaitTimeSeconds=0)
    assert "Messages" not in second  # moved to the dead-letter queue
    received = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0, WaitTimeSeconds=0).get("Messages", [])
    assert [m["Body"] for m in received] == ["expired"]  # acknowledged: the consumer has it
    live = (_counts(sqs, source), _counts(sqs, dlq))
    assert live == ((0, 0), (1, 0))

    server.proc.kill()  # kill -9 after the acknowledgements: the next start-up replays the journal
    server.proc.wait()
    restarted = make_server(state).client("sqs", key=A)
    assert (_counts(restarted, source), _counts(restarted, dlq)) == live
