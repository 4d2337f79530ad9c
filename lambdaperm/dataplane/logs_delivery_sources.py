"""CloudWatch Logs delivery sources (vended logs, V2): not served.

PutDeliverySource names the resource of another service that sends the logs (`resourceArn`: a Bedrock knowledge
base, a CloudFront distribution, ...). Besides `logs:PutDeliverySource` on the delivery source, the caller needs the
vending service's permission on that resource: "bedrock:AllowVendedLogDeliveryForResource" on the knowledge base
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-vended-logs-permissions-V2.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/vended-logs-crossaccount-example.html; the
ConfigurationTemplate's `allowedActionForAllowVendedLogsDeliveryForResource` is "the action permissions that a
caller needs to have to be able to successfully create a delivery source on the desired resource type").
lambdaperm decided the call on the delivery source alone and the embedded backend recorded any resource of the
services it knows (review round 8: a user allowed only `logs:PutDeliverySource` registered a Bedrock knowledge base
of its account as a log source; the structural oracle flagged the write of the resource). None of the vending
services is served, so their permission cannot be decided nor their logs produced: the call is 501 NotImplemented
after the decision (fail closed), naming the source that is not served.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Refuse a PutDeliverySource: the resource's vended-log permission is not decided by lambdaperm."""
    if (service, operation) != ("logs", "PutDeliverySource"):
        return
    raise ServiceError(
        "NotImplemented",
        f"lambdaperm does not serve delivery sources of vended logs (resourceArn {params.get('resourceArn')!r}): "
        "the service that vends them, and its AllowVendedLogDeliveryForResource permission, are not served",
        501,
        sender_fault=False,
    )
