"""S3 event notification destinations are ARNs of the `aws` partition naming a destination of their kind.

AWS: a bucket's notification destination is an SQS queue, an SNS topic or a Lambda function of the bucket's partition
and region, named by its ARN; S3 checks each destination before storing the configuration and answers 400
InvalidArgument "Unable to validate the following destination configurations" when it cannot
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).

Why it matters here (region/account review round 12): the destination's policy was decided on the ARN as written,
while the backend delivers by the ARN's account, region and name alone. `arn:aws-cn:sqs:us-east-1:A:q` (or
`arn:aws:sns:us-east-1:A:q` as a QueueArn) was therefore decided as a resource no Deny on `arn:aws:sqs:…:A:q`
matches, and delivered to queue `q`: a queue policy's Deny for the bucket was bypassed. Anything but the ARN form of
the destination's kind is now refused before the decision and the backend.
"""

from __future__ import annotations

import re
from typing import Any

from lambdaperm.protocol.errors import ServiceError

# configuration list -> (ARN member, the ARN form of its destination kind)
_FORMS: dict[str, tuple[str, re.Pattern[str]]] = {
    "QueueConfigurations": (
        "QueueArn",
        re.compile(r"arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?", re.ASCII),
    ),
    "TopicConfigurations": (
        "TopicArn",
        re.compile(r"arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?", re.ASCII),
    ),
    "LambdaFunctionConfigurations": (
        "LambdaFunctionArn",
        re.compile(
            r"arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?",
            re.ASCII,
        ),
    ),
}


def check(config: dict[str, Any]) -> None:
    """Refuse a notification configuration naming a destination by anything but its kind's `aws` ARN: 400
    InvalidArgument with ArgumentName<n>/ArgumentValue<n> per refused destination, as S3 answers a destination it
    cannot validate."""
    refused: list[str] = []
    for member, (arn_member, form) in _FORMS.items():
        for target in config.get(member) or []:
            arn = target.get(arn_member) if isinstance(target, dict) else None
            if not isinstance(arn, str) or form.fullmatch(arn) is None:
                refused.append(str(arn))
    if refused:
        fields: dict[str, str] = {}
        for i, arn in enumerate(refused, start=1):
            fields[f"ArgumentName{i}"] = arn
            fields[f"ArgumentValue{i}"] = "The destination ARN is not well formed"
        raise ServiceError(
            "InvalidArgument", "Unable to validate the following destination configurations", 400, fields=fields
        )
