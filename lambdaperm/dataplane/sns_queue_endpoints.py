"""An SNS `sqs` subscription's Endpoint is an SQS queue's ARN of the `aws` partition, and nothing else.

"For the sqs protocol, the endpoint is the ARN of an Amazon SQS queue"
(https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html); an ARN names a resource of its partition
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html), and a queue name is at most 80 letters,
digits, hyphens and underscores, `.fifo` ending a FIFO queue's
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html). SNS answers an
Endpoint that is not a queue ARN with 400 InvalidParameter "Invalid parameter: SQS endpoint ARN".

Why it matters here (region/account review round 13): each delivery is decided on the Endpoint as written (the
queue policy, `dataplane/deliveries.py`), while moto sends by the ARN's account, region and last segment alone. So
`arn:aws-cn:sqs:us-east-1:A:q` (or `arn:aws-us-gov:…`) was decided as a resource no Deny on `arn:aws:sqs:…:A:q`
matches and delivered to queue `q`: a queue policy's Deny for the topic was bypassed. A queue of another region or
account is a documented subscriber (https://docs.aws.amazon.com/sns/latest/dg/sns-send-message-to-sqs-cross-region.html)
and is decided on its own ARN.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.region import known_regions

_QUEUE_ARN = re.compile(r"arn:aws:sqs:(?P<region>[a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?", re.ASCII)


def is_queue_arn(endpoint: object) -> bool:
    """Whether `endpoint` is an `aws` partition SQS queue ARN of a region this server knows."""
    m = _QUEUE_ARN.fullmatch(endpoint) if isinstance(endpoint, str) else None
    return m is not None and m.group("region") in known_regions()


def check(operation: str, params: Mapping[str, object]) -> None:
    """Refuse a Subscribe with Protocol `sqs` whose Endpoint is not a queue ARN of the aws partition."""
    if operation != "Subscribe" or not isinstance(params.get("Protocol"), str):
        return
    if str(params["Protocol"]).lower() != "sqs":
        return
    if not is_queue_arn(params.get("Endpoint")):
        raise ServiceError("InvalidParameter", "Invalid parameter: SQS endpoint ARN", 400)
