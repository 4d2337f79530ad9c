"""An SNS `lambda` subscription's Endpoint is a Lambda function's ARN, and nothing else.

"For the lambda protocol, the endpoint is the ARN of an Lambda function"
(https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html); SNS answers any other value with 400
InvalidParameter "Invalid parameter: Lambda endpoint ARN". moto stored any string (a bare name, a partial ARN,
an `aws-cn` ARN, a queue ARN, a URL), and lambdaperm's delivery then resolved a bare name or partial ARN in the
topic owner's account and region, decided on the text as written (region and account review round 7). A
function of another region is a documented subscriber
(https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html); another partition is not served.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.region import known_regions

_FUNCTION_ARN = re.compile(
    r"^arn:aws:lambda:(?P<region>[a-z0-9-]+):\d{12}:function:[A-Za-z0-9_-]{1,64}(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$",
    re.ASCII,
)


def check(operation: str, params: Mapping[str, object]) -> None:
    """Refuse a Subscribe with Protocol `lambda` whose Endpoint is not a function ARN of the aws partition."""
    if operation != "Subscribe" or not isinstance(params.get("Protocol"), str):
        return
    if str(params["Protocol"]).lower() != "lambda":
        return
    endpoint = params.get("Endpoint")
    m = _FUNCTION_ARN.fullmatch(endpoint) if isinstance(endpoint, str) else None
    if m is None or m.group("region") not in known_regions():
        raise ServiceError("InvalidParameter", "Invalid parameter: Lambda endpoint ARN", 400)
