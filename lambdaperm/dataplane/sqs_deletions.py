"""SQS queue names as SQS reuses them: "After you delete a queue, you must wait at least 60 seconds before
creating a queue with the same name" — CreateQueue answers QueueDeletedRecently until then.
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_DeleteQueue.html

The embedded backend re-creates a name at once. A call decided on a queue (its policy, its owner) and held
between authorization and execution then executed on a new queue of the same URL, whose policy never
allowed it (review round 2 of races: another account's SendMessage landed in the re-created queue). With the
wait, a call authorized on a deleted queue finds no queue (QueueDoesNotExist) for a minute, far longer than
any call spends between its two halves.

Deletions are remembered per (account, region, name) in memory, as long as the embedded data plane keeps its
queues (it starts empty). A CreateQueue and a DeleteQueue of the backend run one at a time, with the check
and the record, so a creation cannot slip between a deletion and its record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lambdaperm.protocol.errors import ServiceError

WAIT_SECONDS = 60.0

_LOCK = threading.Lock()
_DELETED: dict[tuple[str, str, str], float] = {}  # (account, region, name) -> monotonic time of the deletion


@contextmanager
def lifecycle(service: str, operation: str, params: Mapping[str, Any], account: str, region: str) -> Iterator[None]:
    """Wrap the backend's execution of a call: CreateQueue of a name deleted less than 60 s ago is refused
    (QueueDeletedRecently) before the backend sees it; a DeleteQueue that succeeded is remembered. Runs on the
    canonical parameters (QueueUrl `https://sqs.R.amazonaws.com/ACCOUNT/NAME`, in the acting account)."""
    if service != "sqs" or operation not in ("CreateQueue", "DeleteQueue"):
        yield
        return
    if operation == "CreateQueue":
        key = (account, region, str(params.get("QueueName", "")))
    else:
        url = str(params.get("QueueUrl", "")).rstrip("/").split("/")
        key = (url[-2] if len(url) >= 2 else account, region, url[-1])
    with _LOCK:
        now = time.monotonic()
        for old in [k for k, at in _DELETED.items() if now - at >= WAIT_SECONDS]:
            del _DELETED[old]
        if operation == "CreateQueue" and key in _DELETED:
            raise ServiceError(
                "QueueDeletedRecently",
                "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
                400,
            )
        yield
        if operation == "DeleteQueue":
            _DELETED[key] = time.monotonic()
