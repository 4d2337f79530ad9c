"""An SQS event source is named by a queue's ARN of the `aws` partition, and nothing else.

Lambda's EventSourceArn for SQS is "the Amazon Resource Name (ARN) of the event source" — the queue's ARN,
`arn:aws:sqs:<region>:<account>:<queue name>` (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html); a queue name is at most 80 letters, digits,
hyphens and underscores, `.fifo` ending a FIFO queue's
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html). A name no queue can
hold is a queue Lambda cannot read: it answers InvalidParameterValueException, as it does for a queue its execution
role cannot read ("The provided execution role does not have permissions to call ReceiveMessage on SQS" for a queue
named by its URL: aws/chalice#1388).

Why it matters here (region/account review rounds 13-14): the mapping is decided on the EventSourceArn as written and
the poller resolves the queue from its segments, so `…:A:q ` (a trailing space) and `…:A:x:q` (an extra segment)
were accepted and stored as sources naming no queue. Refused now before anything is stored.
"""

from __future__ import annotations

import re

from .errors import invalid

_QUEUE_ARN = re.compile(r"arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?", re.ASCII)


def check(source: str) -> None:
    """Refuse an SQS event source (third segment `sqs`) that is not an `aws` queue ARN (fullmatch)."""
    parts = source.split(":")
    if len(parts) >= 3 and parts[2] == "sqs" and _QUEUE_ARN.fullmatch(source) is None:
        raise invalid("The function execution role does not have permissions to call ReceiveMessage on SQS")
