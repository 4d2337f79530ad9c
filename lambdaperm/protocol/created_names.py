"""The name a create call gives an SQS queue, an SNS topic or an EC2 security group, in AWS's alphabet or refused,
before any decision.

SQS: "A queue name can have up to 80 characters. Valid values: alphanumeric characters, hyphens (-), and
underscores (_)"; a FIFO queue's name ends with `.fifo` (within the 80). SQS answers another name with 400
`InvalidParameterValue` "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length".
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
SNS: "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens,
and must be between 1 and 256 characters long"; a FIFO topic's name ends with `.fifo`. SNS answers another name
with 400 `InvalidParameter` "Invalid parameter: Topic Name".
https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
EC2 CreateSecurityGroup `GroupName`: "Up to 255 characters in length. Cannot start with sg-. Valid characters:
a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*"; 400 `InvalidParameterValue` otherwise.
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html

Why here (parameter confusion review round 15): the backend's own checks end in `$`, which Python's `re.match`
also matches before a final newline, so `orders\\n` was created as a queue and `alerts\\n` as a topic (the decision
and the backend read the same name there: no wrong allow, names AWS refuses), and EC2 took any group name, `sg-…`
included. A group named `sg-0123456789abcdef0\\n` was then reached by `GroupId=sg-0123456789abcdef0\\n`, which the
decision read as another group's ARN and the backend, finding no such ID, resolved as a name (with the ID check's
own `$`, `dataplane/ec2_groups.py`). `fullmatch` reads each alphabet as AWS states it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.operation import Operation

_QUEUE = re.compile(r"[A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo")
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,256}|[A-Za-z0-9_-]{1,251}\.fifo")
_GROUP = re.compile(r"[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}")


def check(op: Operation, params: Mapping[str, object]) -> None:
    """400 with the service's error when CreateQueue's `QueueName`, CreateTopic's `Name` or CreateSecurityGroup's
    `GroupName` is outside its alphabet."""
    key = (op.service_name, op.name)
    if key == ("sqs", "CreateQueue"):
        name = params.get("QueueName")
        if isinstance(name, str) and not _QUEUE.fullmatch(name):
            raise ServiceError(
                "InvalidParameterValue",
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
                400,
            )
    elif key == ("sns", "CreateTopic"):
        name = params.get("Name")
        if isinstance(name, str) and not _TOPIC.fullmatch(name):
            raise ServiceError("InvalidParameter", "Invalid parameter: Topic Name", 400)
    elif key == ("ec2", "CreateSecurityGroup"):
        name = params.get("GroupName")
        if isinstance(name, str) and name.startswith("sg-"):
            raise ServiceError("InvalidParameterValue", "Group names may not be in the format sg-*.", 400)
        if isinstance(name, str) and not _GROUP.fullmatch(name):
            raise ServiceError("InvalidParameterValue", f"Value ({name}) for parameter GroupName is invalid.", 400)
