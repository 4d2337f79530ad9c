"""Every IAM user, group, role and managed policy an IAM or STS call names is held from its authorization to its
execution.

IAM names are reused: DeleteRole, then CreateRole of the same name gives a new role (another RoleId, its own tags,
path, permissions boundary and policies) at the same ARN when the path is the same. A call is decided on the entity
as it is then — its ARN with its path
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns), its tags
(`iam:ResourceTag`, https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html), its permissions
boundary (`iam:PermissionsBoundary`,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PermissionsBoundary),
a role's trust policy for AssumeRole — and must not act on another entity created since under the name: a deleted
entity's policies, tags and boundary go with it (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html).
Races review round 2 held a role's name from AssumeRole's decision to the session's issue (`bucket_names`), and
nothing else: a PutRolePolicy decided on a role's boundary (the delegation pattern "only on roles bounded by B")
wrote an administrator policy into the unbounded role created since under the name; a CreatePolicyVersion decided
on a policy's dev tags wrote into the prod policy created since at its ARN (races review round 7).

So an IAM or STS call holds every entity it names — `UserName`, `NewUserName`, `GroupName`, `RoleName`, the policy
of `PolicyArn` (CreatePolicy: `PolicyName`), the user/group/role of `PolicySourceArn` and `CallerArn`, the role of
`RoleArn`, and the calling IAM user when `UserName` is left out (IAM acts on the caller) — shared,
and exclusively for the calls that create, delete, rename or re-trust one, or change what a decision reads of it
(tags, boundary). The stripe is the kind and the lower-cased name: IAM names are unique per account whatever their
case (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-names), so
`DeleteRole(ADMIN)` waits for a call on `admin`. One call's names are taken in ascending stripe order on stripes of
their own (`ordered_locks`); IAM and STS calls take no other hold. After the decision, `HeldEntities.check`
refuses (501) a call authorized on a user, group, role or policy it does not hold, before anything executes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from lambdaperm.catalog.identifiers import iam_deletion_task, iam_service_linked_role
from lambdaperm.protocol import ServiceError

from .ordered_locks import StripedLocks

_LOCKS = StripedLocks(64)
_NAMES = {"UserName": "user", "NewUserName": "user", "GroupName": "group", "NewGroupName": "group", "RoleName": "role"}
_ARNS = ("PolicyArn", "PolicySourceArn", "CallerArn", "RoleArn")
_KINDS = frozenset({"user", "group", "role", "policy"})
_EXCLUSIVE = frozenset(
    {
        "CreateUser",
        "DeleteUser",
        "UpdateUser",
        "CreateGroup",
        "DeleteGroup",
        "UpdateGroup",
        "CreateRole",
        "DeleteRole",
        "UpdateRole",
        "UpdateAssumeRolePolicy",
        "CreatePolicy",
        "DeletePolicy",
        "TagUser",
        "UntagUser",
        "TagRole",
        "UntagRole",
        "TagPolicy",
        "UntagPolicy",
        "PutUserPermissionsBoundary",
        "DeleteUserPermissionsBoundary",
        "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
        "CreateServiceLinkedRole",
        "DeleteServiceLinkedRole",
    }
)
# decided on the user owning an access key (found by its id, never reused): the key, not a name, is what is acted on
_BY_ACCESS_KEY = frozenset({"GetAccessKeyLastUsed"})


def entity_of_arn(value: str) -> str | None:
    """`kind:name` (lower-cased) of an IAM user, group, role or managed policy ARN
    (`arn:aws:iam::<account>:<kind>/<path>/<name>`), None for any other ARN or a name with a wildcard."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam":
        return None
    kind, _, rest = parts[5].partition("/")
    name = rest.rsplit("/", 1)[-1]
    if kind not in _KINDS or not name or "*" in name:
        return None
    return f"{kind}:{name.lower()}"


def entities(operation: str, params: Mapping[str, Any] | None, caller: str | None = None) -> set[str]:
    """`kind:name` of every IAM entity an IAM or STS call names (see the module)."""
    if params is None:
        return set()
    found: set[str | None] = set()
    for member, kind in _NAMES.items():
        value = params.get(member)
        if isinstance(value, str) and value:
            found.add(f"{kind}:{value.lower()}")
    for member in _ARNS:
        value = params.get(member)
        if isinstance(value, str):
            found.add(entity_of_arn(value))
    name = params.get("PolicyName")
    if operation == "CreatePolicy" and isinstance(name, str) and name:
        found.add(f"policy:{name.lower()}")
    if operation in ("CreateServiceLinkedRole", "GetServiceLinkedRoleDeletionStatus"):  # the role its members name
        derive = iam_service_linked_role if operation == "CreateServiceLinkedRole" else iam_deletion_task
        for with_path in derive(params).get("RoleNameWithPath") or ():
            found.add(f"role:{with_path.rsplit('/', 1)[-1].lower()}")
    if params.get("UserName") is None and caller:  # IAM acts on the caller (the catalog decides on it the same way)
        found.add(f"user:{caller.lower()}")
    return {entity for entity in found if entity}


class HeldEntities:
    """The IAM entities one call holds."""

    def __init__(self, names: frozenset[str], by_access_key: bool = False) -> None:
        self.names, self._by_access_key = names, by_access_key

    def check(self, resources: list[str]) -> None:
        """501 NotImplemented when the call was authorized on a user, group, role or policy it does not hold (its
        decision may have read that entity's path, tags or boundary): it is not executed."""
        for resource in [] if self._by_access_key else resources:
            entity = entity_of_arn(resource)
            if entity is not None and entity not in self.names and not resource.startswith("arn:aws:iam::aws:"):
                raise ServiceError(
                    "NotImplemented",
                    f"lambdaperm does not hold the IAM entity {resource} this call was authorized on until the call "
                    "executes, so it cannot execute it as authorized",
                    501,
                    sender_fault=False,
                )


@contextmanager
def held(operation: str, params: Mapping[str, Any] | None, caller: str | None = None) -> Iterator[HeldEntities]:
    """Hold every IAM entity an IAM or STS call names (exclusively for the calls that create, delete, rename,
    re-trust, re-tag or re-bound one) while it is authorized and executed."""
    names = entities(operation, params, caller)
    with _LOCKS.held(names, operation in _EXCLUSIVE):
        yield HeldEntities(frozenset(names), operation in _BY_ACCESS_KEY)
