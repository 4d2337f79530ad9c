"""What the authorizer reads about our own control plane's resources at decision time: their tags and the
permissions boundary of IAM users and roles, from the records.

- A Lambda function's tags are the tags of every version and alias of it (Lambda tags functions, not
  qualifiers: https://docs.aws.amazon.com/lambda/latest/dg/attribute-based-access-control.html).
- IAM users and roles: their tags, the same for `aws:ResourceTag` and `iam:ResourceTag`
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html); customer managed policies: theirs.
  IAM names are unique per account whatever the path, so the entity is found by its name.
- An event source mapping's `lambda:FunctionArn`: the function it invokes.
- `iam:PermissionsBoundary` on an action that acts on an existing user or role: the boundary set on it
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PermissionsBoundary).

Each answer is {} / () for a resource that does not exist (its keys are absent) and None for a kind of
resource whose tags the records do not keep (the authorizer then treats the keys as unsupplied).
"""

from __future__ import annotations

import re

from lambdaperm.state import Records

from .iam import store
from .lambda_ import store as lambda_store
from .lambda_.mappings import MAPPING
from .lambda_.names import FunctionRef

_FUNCTION = re.compile(r"^arn:aws:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_.]+)(?::[^:]+)?$", re.ASCII)
_IAM = re.compile(r"^arn:aws:iam::(\d{12}|aws):(user|role|policy)(?:/.*)?/([^/]+)$", re.ASCII)
_IAM_KINDS = {"user": store.USER, "role": store.ROLE, "policy": store.POLICY}


def resource_tags(records: Records, resource: str) -> dict[str, str] | None:
    m = _FUNCTION.match(resource)
    if m:
        fn = lambda_store.find(records, FunctionRef(m.group(2), m.group(1), m.group(3), None))
        return dict(fn.get("Tags") or {}) if fn is not None else {}
    m = _IAM.match(resource)
    if m and m.group(1) == "aws":
        return {}  # AWS managed policies carry no tags
    if m:
        entity = store.find(records, _IAM_KINDS[m.group(2)], m.group(1), m.group(3))
        if entity is None:
            return {}
        if m.group(2) == "policy" and entity.get("Arn") != resource:
            return {}  # a policy is named by its ARN (path included): another path is another policy
        return dict(entity.get("Tags") or {})
    return None


def permissions_boundary(records: Records, resource: str) -> tuple[str, ...] | None:
    m = _IAM.match(resource)
    if m is None or m.group(2) == "policy" or m.group(1) == "aws":
        return None
    entity = store.find(records, _IAM_KINDS[m.group(2)], m.group(1), m.group(3))
    boundary = entity.get("PermissionsBoundary") if entity is not None else None
    return (str(boundary),) if boundary else ()


_MAPPING = re.compile(r"^arn:aws:lambda:([a-z0-9-]+):(\d{12}):event-source-mapping:([^:/]+)$", re.ASCII)


def mapping_function(records: Records, resource: str) -> tuple[str, ...] | None:
    """`lambda:FunctionArn` of an event source mapping named by its ARN: the function it invokes (as it was
    addressed, qualifier included); () for a mapping that does not exist or belongs to another account."""
    m = _MAPPING.match(resource)
    if m is None:
        return None
    found = records.get(MAPPING, "", m.group(3))
    if found is None or found.get("_Account") != m.group(2) or found.get("_Region") != m.group(1):
        return ()
    return (str(found["FunctionArn"]),)
