"""The IAM operation table: operation name -> handler."""

from __future__ import annotations

from ..context import Handler
from . import authdetails, group_updates, inline, keys, managed, roles, service_linked, simulate, store, tags, users

OPERATIONS: dict[str, Handler] = {
    "CreateUser": users.create_user, "GetUser": users.get_user, "ListUsers": users.list_users,
    "UpdateUser": users.update_user, "DeleteUser": users.delete_user,
    "CreateGroup": users.create_group, "GetGroup": users.get_group, "ListGroups": users.list_groups,
    "DeleteGroup": users.delete_group, "AddUserToGroup": users.add_user_to_group,
    "RemoveUserFromGroup": users.remove_user_from_group, "ListGroupsForUser": users.list_groups_for_user,
    "CreateRole": roles.create_role, "GetRole": roles.get_role, "ListRoles": roles.list_roles,
    "UpdateRole": roles.update_role, "UpdateAssumeRolePolicy": roles.update_assume_role_policy,
    "DeleteRole": roles.delete_role,
    "CreatePolicy": managed.create_policy, "GetPolicy": managed.get_policy, "DeletePolicy": managed.delete_policy,
    "ListPolicies": managed.list_policies, "CreatePolicyVersion": managed.create_policy_version,
    "GetPolicyVersion": managed.get_policy_version, "ListPolicyVersions": managed.list_policy_versions,
    "DeletePolicyVersion": managed.delete_policy_version,
    "SetDefaultPolicyVersion": managed.set_default_policy_version,
    "ListEntitiesForPolicy": managed.list_entities_for_policy,
    "CreateAccessKey": keys.create_access_key, "ListAccessKeys": keys.list_access_keys,
    "UpdateAccessKey": keys.update_access_key, "DeleteAccessKey": keys.delete_access_key,
    "GetAccessKeyLastUsed": keys.get_access_key_last_used,
    "GetAccountAuthorizationDetails": authdetails.get_account_authorization_details,
    "SimulatePrincipalPolicy": simulate.simulate_principal_policy,
    "SimulateCustomPolicy": simulate.simulate_custom_policy,
    "UpdateGroup": group_updates.update_group,
    "CreateServiceLinkedRole": service_linked.create_service_linked_role,
    "DeleteServiceLinkedRole": service_linked.delete_service_linked_role,
    "GetServiceLinkedRoleDeletionStatus": service_linked.get_service_linked_role_deletion_status,
}

for _kind, _noun in ((store.USER, "User"), (store.GROUP, "Group"), (store.ROLE, "Role")):
    OPERATIONS[f"Put{_noun}Policy"] = inline.put(_kind)
    OPERATIONS[f"Get{_noun}Policy"] = inline.get(_kind)
    OPERATIONS[f"Delete{_noun}Policy"] = inline.delete(_kind)
    OPERATIONS[f"List{_noun}Policies"] = inline.list_names(_kind)
    OPERATIONS[f"Attach{_noun}Policy"] = managed.attach(_kind, f"{_noun}Name")
    OPERATIONS[f"Detach{_noun}Policy"] = managed.detach(_kind, f"{_noun}Name")
    OPERATIONS[f"ListAttached{_noun}Policies"] = managed.list_attached(_kind, f"{_noun}Name")

for _kind, _noun in ((store.USER, "User"), (store.ROLE, "Role")):
    OPERATIONS[f"Tag{_noun}"] = tags.tag(_kind)
    OPERATIONS[f"Untag{_noun}"] = tags.untag(_kind)
    OPERATIONS[f"List{_noun}Tags"] = tags.list_tags(_kind)
    OPERATIONS[f"Put{_noun}PermissionsBoundary"] = tags.put_boundary(_kind)
    OPERATIONS[f"Delete{_noun}PermissionsBoundary"] = tags.delete_boundary(_kind)

# A service-linked role is modifiable by AWS only (service_linked.py): UnmodifiableEntity from these.
for _name in ("DeleteRole", "UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "AttachRolePolicy",
              "DetachRolePolicy", "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary"):
    OPERATIONS[_name] = service_linked.protected(OPERATIONS[_name])
