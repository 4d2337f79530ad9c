"""The region an SQS `QueueUrl`'s host names — the one reading shared by the authorization (catalog) and the
executor (`dataplane.canonical_params`).

AWS resolves a queue by account and name at the endpoint the request is sent to; the URL's host may be SQS's
`sqs.<region>.amazonaws.com`, the legacy `<region>.queue.amazonaws.com`, or `queue.amazonaws.com` (us-east-1)
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html,
https://docs.aws.amazon.com/general/latest/gr/sqs-service.html). Only these hosts name a region. Any other host
(the local endpoint, or one that merely starts like SQS's, e.g. `sqs.eu-west-1.localhost`) names none: the queue
is the signed region's, and that is the queue the call must be decided on (region/account review round 6: the
catalog read `sqs.eu-west-1.<anything>` as eu-west-1 while the backend acted on the signed region's queue, so a
Deny on the queue's ARN did not apply). An AWS host of any other form is no SQS address at all.
"""

from __future__ import annotations

import re

US_EAST_1 = "us-east-1"

_SQS_HOST = re.compile(r"^sqs\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?::\d+)?$", re.ASCII)
_LEGACY_HOST = re.compile(r"^(?:(?P<region>[a-z0-9-]+)\.)?queue\.amazonaws\.com(?::\d+)?$", re.ASCII)
_AWS = re.compile(r"amazonaws\.com(?:[.:]|$)")  # AWS's domain, whatever follows it


class NotAnSqsHost(ValueError):
    """An AWS host (`….amazonaws.com`) of no form SQS answers on."""


def named_region(host: str) -> str | None:
    """The region `host` (`name[:port]`, any case) names, or None when it names none (a non-AWS host: the
    endpoint's own region). Raises NotAnSqsHost for an AWS host SQS does not answer on."""
    host = host.lower()
    sqs = _SQS_HOST.match(host)
    if sqs is not None:
        return sqs.group("region")
    legacy = _LEGACY_HOST.match(host)
    if legacy is not None:
        return legacy.group("region") or US_EAST_1
    if _AWS.search(host):
        raise NotAnSqsHost(host)
    return None
