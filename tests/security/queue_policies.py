"""Queue policies that let SNS deliver to a queue, for tests whose topics publish to SQS subscriptions.

SNS delivers a message to an `sqs` subscription only if the queue's resource policy allows the service principal
`sns.amazonaws.com` to `sqs:SendMessage` on it (optionally only for a given topic, by `aws:SourceArn`).

AWS: https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
"""

from __future__ import annotations

import json
from typing import Any


def allow_sns_to_send(sqs: Any, url: str, resource: str, condition: dict[str, Any] | None = None) -> None:
    """Set the policy of queue `url` (through SQS client `sqs`) to one statement allowing `sns.amazonaws.com`
    `sqs:SendMessage` on `resource`, under `condition` when one is given."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": resource,
    }
    if condition is not None:
        statement["Condition"] = condition
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
