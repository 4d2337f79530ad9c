"""DynamoDB TagResource / UntagResource on a resource that does not exist: ResourceNotFoundException.

AWS: TagResource "Associate a set of tags with an Amazon DynamoDB resource" and answers ResourceNotFoundException
when "the operation tried to access a nonexistent table or index"
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TagResource.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UntagResource.html). The embedded backend's
`tag_resource` / `untag_resource` compare the ARN with each table's and do nothing when none matches, so an ARN no
table has (region/account review round 14: A's table ARN ending in a newline or a space) was answered 200 and
tagged nothing. Such a call is refused before the backend, with the backend's own ListTagsOfResource answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_OPERATIONS = frozenset({"TagResource", "UntagResource"})


def check(service: str, operation: str, params: Mapping[str, Any], account: str, region: str, embedded: bool) -> None:
    """ResourceNotFoundException when the embedded backend holds no table whose ARN is `ResourceArn` exactly (run
    on the canonical parameters; without the embedded backend nothing is read here)."""
    if service != "dynamodb" or operation not in _OPERATIONS or not embedded:
        return
    arn = params.get("ResourceArn")
    if not isinstance(arn, str):
        return  # the backend answers a missing member itself
    from moto.dynamodb.models import dynamodb_backends

    try:
        tables = dynamodb_backends[account][region].tables
    except (KeyError, ValueError):  # an account or region the backend does not know: no table there
        tables = {}
    if not any(table.table_arn == arn for table in tables.values()):
        raise ServiceError("ResourceNotFoundException", "Requested resource not found", 400)
