"""CloudWatch Logs subscription destinations, as Logs reads them.

PutSubscriptionFilter's `destinationArn` is a Kinesis stream, a Firehose stream, a Lambda function, or a
CloudWatch Logs *destination* (`arn:aws:logs:R:A:destination:NAME`, for cross-account delivery); a log group
is not a destination, and AWS answers InvalidParameterException.
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html
The embedded backend took any `logs` ARN for a log group (a `destination:NAME` ARN for the group named
`destination`) and copied every event later written to the subscribed group into it — writes into a log
group authorized on neither side. A log group ARN is refused as AWS refuses it; a Logs destination is 501
NotImplemented (the backend does not deliver to one faithfully).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def check_destination(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Refuse a subscription filter whose destination the backend would read as a log group."""
    if (service, operation) != ("logs", "PutSubscriptionFilter"):
        return
    arn = params.get("destinationArn")
    parts = arn.split(":", 5) if isinstance(arn, str) else []
    if len(parts) < 6 or parts[2] != "logs":
        return
    if parts[5].startswith("destination:"):
        raise ServiceError(
            "NotImplemented",
            "Subscription filters to a CloudWatch Logs destination are not implemented by the embedded moto backend",
            501,
            sender_fault=False,
        )
    raise ServiceError("InvalidParameterException", f"Invalid destinationArn: {arn}", 400)
