"""The policies that apply to an IAM identity: what the authorizer needs about a caller.

User: its inline and attached policies plus those of its groups; role session: the role's inline and
attached policies, its boundary, and the session policies; root: none (implicitly allowed in its own
account).
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdaperm.policy import PrincipalKind
from lambdaperm.state import Records
from lambdaperm.state.identity import Identity

from . import store
from .policy_owner import usable


@dataclass(frozen=True, slots=True)
class IdentityPolicies:
    """Policy documents (JSON text) with the names they are reported under."""

    identity: tuple[tuple[str, str], ...]
    boundary: str | None
    session: tuple[str, ...]


def managed_document(records: Records, arn: str) -> str | None:
    from lambdaperm.catalog import aws_managed_policy

    owner, _path, name = store.parse_policy_arn(arn)
    if owner == "aws":
        mp = aws_managed_policy(arn)
        if mp is None:
            return None
        import json

        return json.dumps(mp.document)
    entity = records.get(store.POLICY, owner, name.lower())
    if entity is None or entity["Arn"] != arn:
        return None
    for version in entity["Versions"]:
        if version["VersionId"] == entity["DefaultVersionId"]:
            return str(version["Document"])
    return None


def _entity_docs(records: Records, entity: dict[str, object], label: str) -> list[tuple[str, str]]:
    docs: list[tuple[str, str]] = []
    inline = entity.get("InlinePolicies")
    if isinstance(inline, dict):
        docs += [(f"{label} inline policy {n}", str(d)) for n, d in inline.items()]
    attached = entity.get("AttachedPolicies")
    account = str(entity.get("Arn", "")).split(":")[4:5]
    if isinstance(attached, list):
        for arn in attached:
            if not account or not usable(str(arn), account[0]):
                continue  # another account's policy (state written before policy_owner): grants nothing
            doc = managed_document(records, str(arn))
            if doc is not None:
                docs.append((str(arn), doc))
    return docs


# A boundary whose document cannot be found allows nothing (fail closed, never "no boundary").
ALLOWS_NOTHING = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"none:none","Resource":"*"}]}'
NO_POLICIES = IdentityPolicies((), None, ())


def policies_for(records: Records, identity: Identity) -> IdentityPolicies:
    """The caller's policies. A session is bound to the unique id of its role (or user): once that entity
    is deleted — even if re-created under the same name — the session has no permissions."""
    caller = identity.caller
    account = caller.account
    docs: list[tuple[str, str]] = []
    boundary_arn = None
    if caller.kind is PrincipalKind.USER:
        user = records.get(store.USER, account, caller.name.lower())
        if user is not None and identity.principal_id not in (user["UserId"], ""):
            return NO_POLICIES
        if user is not None:
            docs += _entity_docs(records, user, f"user {user['UserName']}")
            for group_name in user.get("Groups", []):
                group = records.get(store.GROUP, account, str(group_name).lower())
                if group is not None:
                    docs += _entity_docs(records, group, f"group {group['GroupName']}")
            boundary_arn = user.get("PermissionsBoundary")
    elif caller.kind in (PrincipalKind.ASSUMED_ROLE, PrincipalKind.ROLE):
        role = records.get(store.ROLE, account, caller.name.lower())
        if role is not None and identity.role_id is not None and identity.role_id != role["RoleId"]:
            return NO_POLICIES
        if role is not None:
            docs += _entity_docs(records, role, f"role {role['RoleName']}")
            boundary_arn = role.get("PermissionsBoundary")
    boundary = (managed_document(records, boundary_arn) or ALLOWS_NOTHING) if boundary_arn else None
    if boundary_arn and not usable(str(boundary_arn), account):
        boundary = ALLOWS_NOTHING  # another account's policy (state written before policy_owner): allows nothing
    return IdentityPolicies(tuple(docs), boundary, identity.session_policies)


def principal_tags(records: Records, identity: Identity) -> dict[str, str]:
    caller = identity.caller
    if caller.kind is PrincipalKind.USER:
        user = records.get(store.USER, caller.account, caller.name.lower())
        if user is not None and identity.principal_id not in (user["UserId"], ""):
            return {}  # a user of the same name created since (a session outlived its user): not the caller's tags
        return dict(user.get("Tags", {})) if user else {}
    if caller.kind is PrincipalKind.ASSUMED_ROLE:
        role = records.get(store.ROLE, caller.account, caller.name.lower())
        if role is not None and identity.role_id is not None and identity.role_id != role["RoleId"]:
            role = None  # a role of the same name created since: its tags are not the session's
        # session tags take precedence over the role's tags of the same key, whatever its case
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html)
        session = {k.lower() for k in identity.tags}
        tags = {k: v for k, v in (role.get("Tags", {}) if role else {}).items() if k.lower() not in session}
        tags.update(identity.tags)
        return tags
    return {}
