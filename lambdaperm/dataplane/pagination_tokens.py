"""A pagination token the embedded backend did not issue is refused, never crashed on.

A pagination token is opaque: the caller passes back only a value an earlier response gave it ("ContinuationToken
indicates to Amazon S3 that the list is being continued on this bucket with a token. ContinuationToken is obfuscated
and is not a real key", https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html; SNS's and Logs'
`NextToken`/`nextToken` "returned from the previous call",
https://docs.aws.amazon.com/sns/latest/api/API_ListTopics.html,
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeDestinations.html; EC2's "The token
returned from a previous paginated request", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html).
A token nobody issued — crafted, or one issued before a restart (the backend keeps its tokens in memory) — is a
client error. The embedded backend reads each of these as a key it looks up or an integer it parses and failed
(500 InternalFailure) on any other value (review round 22); each is checked here first, in the backend's own token
format, and refused with the service's client error:

- S3 ListObjectsV2 `ContinuationToken`: one of the tokens the bucket owner's backend issued; S3's 400 InvalidArgument
  "The continuation token provided is incorrect" (its InvalidArgument, https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
- SNS ListTopics, ListSubscriptions, ListSubscriptionsByTopic `NextToken`: a decimal offset; SNS's 400
  InvalidParameter (https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html).
- Logs DescribeDestinations `nextToken`: a decimal count; 400 InvalidParameterException "The specified nextToken is
  invalid." (as Logs answers GetLogEvents).
- EC2 DescribeInstances `NextToken`: a reservation's ID; 400 InvalidParameterValue (EC2's "A value specified in a
  parameter is not valid", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). lambdaperm
  runs no instance, so no token is ever issued.

The table test in tests/security/test_parameter_confusion_round22.py sends a token nobody issued to every served
operation with a pagination member: a new operation whose backend crashes on one fails it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_DECIMAL = re.compile(r"[0-9]{1,18}", re.ASCII)

Valid = Callable[[str, Mapping[str, Any], str, str], bool]


def _s3_issued(token: str, params: Mapping[str, Any], account: str, region: str) -> bool:
    """A token the bucket owner's backend issued (an empty one is the backend's InvalidContinuationToken); True
    without the bucket (NoSuchBucket is the backend's)."""
    if token == "":
        return True
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(str(params.get("Bucket")))
    if owner is None:
        return True
    partition, owner_account = owner
    issued = getattr(s3_backends[owner_account][partition], "_pagination_tokens", {})
    return token in issued


def _decimal(token: str, params: Mapping[str, Any], account: str, region: str) -> bool:
    return _DECIMAL.fullmatch(token) is not None


def _reservation(token: str, params: Mapping[str, Any], account: str, region: str) -> bool:
    from moto.ec2.models import ec2_backends

    try:
        reservations = ec2_backends[account][region].reservations
    except (KeyError, AttributeError):
        return False
    return token in reservations


def _s3_error(token: str) -> ServiceError:
    return ServiceError(
        "InvalidArgument",
        "The continuation token provided is incorrect",
        400,
        fields={"ArgumentName": "continuation-token", "ArgumentValue": token},
    )


def _sns_error(token: str) -> ServiceError:
    return ServiceError("InvalidParameter", "Invalid parameter: NextToken", 400)


def _logs_error(token: str) -> ServiceError:
    return ServiceError("InvalidParameterException", "The specified nextToken is invalid.", 400)


def _ec2_error(token: str) -> ServiceError:
    return ServiceError("InvalidParameterValue", f"The value '{token}' for parameter NextToken is invalid.", 400)


# (service, operation) -> (the token member, whether the backend issued it, the service's client error)
TOKENS: dict[tuple[str, str], tuple[str, Valid, Callable[[str], ServiceError]]] = {
    ("s3", "ListObjectsV2"): ("ContinuationToken", _s3_issued, _s3_error),
    ("sns", "ListTopics"): ("NextToken", _decimal, _sns_error),
    ("sns", "ListSubscriptions"): ("NextToken", _decimal, _sns_error),
    ("sns", "ListSubscriptionsByTopic"): ("NextToken", _decimal, _sns_error),
    ("logs", "DescribeDestinations"): ("nextToken", _decimal, _logs_error),
    ("ec2", "DescribeInstances"): ("NextToken", _reservation, _ec2_error),
}


def check(service: str, operation: str, params: Mapping[str, Any], account: str, region: str) -> None:
    """Refuses, with the service's client error, a pagination token the embedded backend did not issue."""
    rule = TOKENS.get((service, operation))
    if rule is None:
        return
    member, valid, error = rule
    token = params.get(member)
    if token is None:
        return
    if not isinstance(token, str) or not valid(token, params, account, region):
        raise error(str(token))
