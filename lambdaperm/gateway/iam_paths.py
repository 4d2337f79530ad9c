"""IAM ARNs with their paths.

An IAM entity's ARN carries its path: `arn:aws:iam::123456789012:group/privileged/admins`. Requests name users,
groups and roles by name (`GroupName=admins`), and the catalog builds a path-less ARN from the name; AWS
authorizes the ARN *with* the entity's path, so a statement on `group/privileged/*` applies to every request
that names the group. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns

The rules, per resource ARN of an IAM entity type:

- the entity exists: its own ARN is authorized. An ARN the request gave with a different path (`user/x/carol`
  for `user/privileged/carol`) is authorized as well, since IAM finds entities by name (names are unique per
  account whatever their case);
- the entity does not exist: the ARN as built (the call then fails with NoSuchEntity);
- an entity being created (CreateUser, CreateGroup, CreateRole, CreatePolicy, …) does not exist yet: AWS
  authorizes the ARN with the path the request gives (`Path`, default `/`), which the catalog already built;
- a rename or move (UpdateUser, UpdateGroup, UpdateServerCertificate) needs permission on the source and on the
  target (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html, API_UpdateGroup.html). The
  target ARN is the new path (`NewPath`, else the entity's path) with the new name (else the entity's name).
  AWS's documentation speaks only of the names; carrying the path too is the stricter reading (moving a user
  into `/privileged/` needs permission on `user/privileged/<name>`).

Managed policies are always named by ARN (`PolicyArn`), which carries the path, and IAM refuses an ARN that is
not the policy's own (NoSuchEntity), so a policy ARN is authorized as given. Instance profiles, server
certificates, virtual MFA devices, SAML and OIDC providers are not served (no operation stores them): their
ARNs are authorized as built; `tests/security/test_iam_paths.py` fails if an operation on them is served
without a lookup here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lambdaperm.catalog import RequiredAction

if TYPE_CHECKING:
    from .server import Server

_IAM_ARN = re.compile(
    r"^arn:aws:iam::(?P<account>\d{12}):(?P<kind>[a-z-]+)(?P<path>/(?:.*/)?)(?P<name>[^/]+)$", re.ASCII
)

# IAM entity kinds the state stores (and so can look up by name): the kind in the ARN → the record kind.
LOOKUP_KINDS: dict[str, str] = {"user": "iam.user", "group": "iam.group", "role": "iam.role"}

# IAM entity kinds authorized exactly as the request names them: IAM compares the whole ARN (with its path).
AS_GIVEN_KINDS = frozenset({"policy"})

# Operations that create the entity they name: the ARN of that kind is the request's (with its `Path`).
CREATES: dict[tuple[str, str], str] = {
    ("iam", "CreateUser"): "user",
    ("iam", "CreateGroup"): "group",
    ("iam", "CreateRole"): "role",
    ("iam", "CreateServiceLinkedRole"): "role",
    ("iam", "CreatePolicy"): "policy",
    ("iam", "CreateInstanceProfile"): "instance-profile",
    ("iam", "UploadServerCertificate"): "server-certificate",
    ("iam", "CreateVirtualMFADevice"): "mfa",
    ("iam", "CreateSAMLProvider"): "saml-provider",
    ("iam", "CreateOpenIDConnectProvider"): "oidc-provider",
}

# Renames and moves: (kind, name parameter, new-name parameter).
RENAMES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("iam", "UpdateUser"): ("user", "UserName", "NewUserName"),
    ("iam", "UpdateGroup"): ("group", "GroupName", "NewGroupName"),
    ("iam", "UpdateServerCertificate"): ("server-certificate", "ServerCertificateName", "NewServerCertificateName"),
}


def with_iam_paths(
    server: Server,
    need: RequiredAction,
    service: str = "",
    operation: str = "",
    params: Mapping[str, object] | None = None,
) -> RequiredAction:
    """`need` with every IAM entity ARN replaced by (or joined with) the ARN AWS authorizes (see the module)."""
    created = CREATES.get((service, operation))
    rename = RENAMES.get((service, operation))
    target = _rename_target(server, need, rename, params or {}) if rename is not None else None
    fixed: list[str] = []
    for arn in need.resources:
        m = _IAM_ARN.match(arn)
        if m is None or m.group("kind") == created:
            fixed.append(arn)
        elif target is not None and target[1] and (m.group("kind"), m.group("name")) == target[:2]:
            fixed.append(target[2])  # the new name, with the path it will have
        else:
            fixed.extend(_authorized_arns(server, arn, m))
    if target is not None:
        fixed.append(target[2])
    resources = tuple(dict.fromkeys(fixed))
    if resources == need.resources:
        return need
    return RequiredAction(need.action, resources, need.context)


def _authorized_arns(server: Server, arn: str, m: re.Match[str]) -> list[str]:
    kind = m.group("kind")
    if kind not in LOOKUP_KINDS:
        return [arn]
    real = server.policies.iam_entity_arn(LOOKUP_KINDS[kind], m.group("account"), m.group("name"))
    if real is None or real == arn:
        return [arn]
    if m.group("path") == "/":
        return [real]  # a name the catalog made into an ARN (or a path-less ARN): the entity's own ARN
    return [arn, real]


def _rename_target(
    server: Server, need: RequiredAction, rename: tuple[str, str, str], params: Mapping[str, object]
) -> tuple[str, str, str] | None:
    """(kind, new name as the request gives it, ARN after the rename or move) for an entity that exists."""
    kind, name_param, new_name_param = rename
    name, new_name, new_path = params.get(name_param), params.get(new_name_param), params.get("NewPath")
    if not isinstance(name, str) or not isinstance(new_name, str | None) or not isinstance(new_path, str | None):
        return None
    if new_name is None and new_path is None:
        return None
    for arn in need.resources:
        m = _IAM_ARN.match(arn)
        if m is None or m.group("kind") != kind or m.group("name") != name:
            continue
        real = (
            server.policies.iam_entity_arn(LOOKUP_KINDS[kind], m.group("account"), name)
            if kind in LOOKUP_KINDS
            else None
        )
        current = _IAM_ARN.match(real) if real is not None else None
        if current is None:
            return None  # no such entity: the call fails with NoSuchEntity, the catalog's ARNs are authorized
        path = new_path or current.group("path")
        final = new_name or current.group("name")
        renamed = new_name if new_name is not None and new_name != name else ""
        return kind, renamed, f"arn:aws:iam::{current.group('account')}:{kind}{path}{final}"
    return None
