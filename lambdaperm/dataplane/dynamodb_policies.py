"""DynamoDB resource-based policies: which policy governs a resource, which resources take one, and which calls
a policy may open to another account.

AWS (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html):

- A policy is attached to a table or to a stream ("The resources you can specify include tables and streams");
  an index has none of its own: "You can control index permissions using the base table's policy". A stream's
  policy is its own (the table's does not govern the stream, nor the stream's the table).
- Only some operations support cross-account access through a resource-based policy
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-iam-actions.html): the item operations,
  DescribeTable / UpdateTable / DeleteTable, the tag operations and the stream reads. PartiQL, the resource-policy
  operations themselves, TTL, backups, exports, imports, Kinesis destinations, contributor insights and the
  global-table operations do not: a caller of another account is refused whatever the policy says.
- ExpectedRevisionId: "if the revision ID of the existing policy on the resource doesn't match or if there's no
  policy attached to the resource, your request will be rejected with a PolicyNotFoundException"; `NO_POLICY`
  attaches only when none exists. "DeleteResourcePolicy is an idempotent operation; running it multiple times on
  the same resource doesn't result in an error response, unless you specify an ExpectedRevisionId"
  (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteResourcePolicy.html).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lambdaperm.protocol.errors import ServiceError

_ARN = re.compile(
    r"^arn:aws:dynamodb:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):table/(?P<table>[A-Za-z0-9_.-]{3,255})"
    r"(?:/(?P<kind>index|stream)/(?P<sub>[^/]+))?$", re.ASCII
)
_POLICY_OPERATIONS = frozenset({"PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy"})

# Operations "Cross-account support: Yes" (rbac-iam-actions.html); the stream reads are not served by lambdaperm
CROSS_ACCOUNT_OPERATIONS = frozenset(
    {
        "DeleteItem",
        "GetItem",
        "PutItem",
        "Query",
        "Scan",
        "UpdateItem",
        "TransactGetItems",
        "TransactWriteItems",
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteTable",
        "DescribeTable",
        "UpdateTable",
        "ListTagsOfResource",
        "TagResource",
        "UntagResource",
    }
)


def holder(arn: str) -> str | None:
    """The ARN of the table or stream whose policy governs `arn` (a table, one of its indexes, a stream), or None
    when `arn` is nothing a DynamoDB resource-based policy governs (a backup, an export, an import, a global
    table)."""
    m = _ARN.fullmatch(arn)
    if m is None:
        return None
    if m.group("kind") == "index":
        return arn.split("/index/", 1)[0]
    return arn


def policy(arn: str) -> tuple[str, str | None] | None:
    """(owner account, policy text or None) of the table or stream that governs `arn` in the embedded backend, or
    None when none exists (an index of a table that does not exist, or no such table)."""
    m = _ARN.fullmatch(arn)
    governing = holder(arn)
    if m is None or governing is None:
        return None
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[m.group("account")][m.group("region")]
    table = backend.tables.get(m.group("table"))
    if table is None:
        return None
    found = backend.resource_policies.get(governing)
    return m.group("account"), (str(found.policy_doc) if found is not None else None)


def check_resource_arn(service: str, operation: str, params: dict[str, Any], account: str, region: str) -> None:
    """A resource-policy call names a table (or a stream) of the account and region acted in, by its exact ARN:
    the backend finds the table by the ARN's last path segment alone, so anything else (an index ARN, a longer
    path) would act on another table than the one decided on. Stream policies are not served (the backend cannot
    attach them): 501."""
    if service != "dynamodb" or operation not in _POLICY_OPERATIONS:
        return
    arn = params.get("ResourceArn")
    m = _ARN.fullmatch(arn) if isinstance(arn, str) else None
    if m is None or m.group("kind") == "index" or m.group("account") != account or m.group("region") != region:
        raise ServiceError("ValidationException", f"Invalid ResourceArn provided as input {arn}", 400)
    if m.group("kind") == "stream":
        raise ServiceError(
            "NotImplemented", f"lambdaperm does not serve {operation} on a stream ARN (ResourceArn {arn})", 501
        )


def check_cross_account(service: str, operation: str, acting: str, caller_account: str, caller_arn: str) -> None:
    """A call acting in another account than the caller's (allowed by the resource's policy) must be one DynamoDB
    supports across accounts; AccessDeniedException otherwise."""
    if service != "dynamodb" or not caller_account or acting == caller_account:
        return
    if operation not in CROSS_ACCOUNT_OPERATIONS:
        raise ServiceError(
            "AccessDeniedException",
            f"User: {caller_arn} is not authorized to perform: dynamodb:{operation} on a resource of account "
            f"{acting}: {operation} does not support cross-account access through a resource-based policy",
            400,
        )


def install() -> None:
    """PutResourcePolicy with an ExpectedRevisionId (other than NO_POLICY) when no policy is attached: the
    backend attached it; DynamoDB answers PolicyNotFoundException. DeleteResourcePolicy of a table without a policy:
    the backend answered ResourceNotFoundException; DynamoDB succeeds (PolicyNotFoundException with an
    ExpectedRevisionId). Checked inside the backend call (atomic with the write). Idempotent."""
    from moto.dynamodb.exceptions import PolicyNotFoundException
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.put_resource_policy
    if getattr(original, "_lambdaperm_revision", False):
        return

    @functools.wraps(original)
    def put_resource_policy(self: Any, resource_arn: str, policy_doc: str, expected_revision_id: str | None) -> Any:
        if expected_revision_id and expected_revision_id != "NO_POLICY" and resource_arn not in self.resource_policies:
            table = resource_arn.split("/")[-1]
            if table in self.tables:
                raise PolicyNotFoundException(
                    f"Resource-based policy not found for the provided ResourceArn: Requested update for policy with "
                    f"revision id {expected_revision_id}, but the policy associated to target table {table} does "
                    "not exist."
                )
        return original(self, resource_arn, policy_doc, expected_revision_id)

    original_delete = DynamoDBBackend.delete_resource_policy

    @functools.wraps(original_delete)
    def delete_resource_policy(self: Any, resource_arn: str, expected_revision_id: str | None) -> None:
        table = resource_arn.split("/")[-1]
        if resource_arn not in self.resource_policies and table in self.tables:
            if expected_revision_id:  # no policy to match the revision asked for
                raise PolicyNotFoundException(
                    f"Resource-based policy not found for the provided ResourceArn: Requested update for policy with "
                    f"revision id {expected_revision_id}, but the policy associated to target table {table} does "
                    "not exist."
                )
            return  # idempotent: nothing to delete is no error (moto answered ResourceNotFoundException)
        original_delete(self, resource_arn, expected_revision_id)

    put_resource_policy._lambdaperm_revision = True  # type: ignore[attr-defined]
    DynamoDBBackend.put_resource_policy = put_resource_policy  # type: ignore[method-assign]
    DynamoDBBackend.delete_resource_policy = delete_resource_policy  # type: ignore[method-assign]
