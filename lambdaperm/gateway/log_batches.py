"""A function's log output as CloudWatch Logs batches (isolation review round 15).

AWS rule: CloudWatch Logs takes at most 10,000 log events in one PutLogEvents batch, and at most 1,048,576 bytes,
"calculated as the sum of all event messages in UTF-8, plus 26 bytes for each log event"
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html). Lambda's output reaches
the function's log group through that service, so one invocation's output is many batches, never one.

Why it matters here: each batch is written to the Logs backend as one journaled unit, under the data plane's one
execution lock (`dataplane/journal.py`). Written as one unit, a handler printing 8 MiB of one-character lines
(4,194,304 events) held that lock for about 13 s, and every other account's data-plane call waited. In batches the
lock is released between them, so another account's call waits for one batch at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

BATCH_EVENTS = 10_000
BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26  # bytes counted for each event beside its message


def batches(events: Iterable[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    """(timestamp ms, message) events, in order, as consecutive batches within PutLogEvents' limits. An event whose
    message alone exceeds the byte limit travels as a batch of its own (the runtime does not split a line)."""
    batch: list[tuple[int, str]] = []
    size = 0
    for event in events:
        cost = len(event[1].encode("utf-8")) + EVENT_OVERHEAD
        if batch and (len(batch) == BATCH_EVENTS or size + cost > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += cost
    if batch:
        yield batch
