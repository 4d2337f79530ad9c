"""The Lambda operation table: operation name (as in botocore's model) -> handler."""

from __future__ import annotations

from typing import Any

from ..context import Handler
from . import aliases, decided_incarnation, functions, invoke, mappings, permissions, tags, urls
from .errors import access_denied
from .names import named_account
from .owner_only import owner_only


def _no_cross_account_role(account: str, params: dict[str, Any]) -> None:
    """Lambda refuses a role of another account before it evaluates iam:PassRole (spec §3.1): another account
    than the caller's, and than the function's — a function runs as a role of its own account (region/account
    review round 3: a function policy granting lambda:* let another account make the function run as its role)."""
    role = params.get("Role")
    owner = named_account(params.get("FunctionName")) or account
    if isinstance(role, str) and role.count(":") >= 5 and (role.split(":")[4] not in ("", account) or owner != account):
        raise access_denied("Cross-account pass role is not allowed.")


# Checks that come before authorization, as AWS orders them: (caller account, params) -> None or raise.
PRECHECKS = {"CreateFunction": _no_cross_account_role, "UpdateFunctionConfiguration": _no_cross_account_role}

OPERATIONS: dict[str, Handler] = {
    "CreateFunction": functions.create_function,
    "GetFunction": functions.get_function,
    "GetFunctionConfiguration": functions.get_function_configuration,
    "ListFunctions": functions.list_functions,
    "UpdateFunctionConfiguration": owner_only("UpdateFunctionConfiguration", functions.update_function_configuration),
    "UpdateFunctionCode": functions.update_function_code,
    "DeleteFunction": functions.delete_function,
    "PublishVersion": functions.publish_version,
    "ListVersionsByFunction": functions.list_versions_by_function,
    "GetAccountSettings": functions.get_account_settings,
    "CreateAlias": aliases.create_alias,
    "GetAlias": aliases.get_alias,
    "UpdateAlias": aliases.update_alias,
    "DeleteAlias": aliases.delete_alias,
    "ListAliases": aliases.list_aliases,
    "AddPermission": owner_only("AddPermission", permissions.add_permission),
    "RemovePermission": owner_only("RemovePermission", permissions.remove_permission),
    "GetPolicy": permissions.get_policy,
    "Invoke": invoke.invoke,
    "CreateFunctionUrlConfig": urls.create_function_url_config,
    "GetFunctionUrlConfig": urls.get_function_url_config,
    "UpdateFunctionUrlConfig": urls.update_function_url_config,
    "DeleteFunctionUrlConfig": urls.delete_function_url_config,
    "CreateEventSourceMapping": mappings.create_event_source_mapping,
    "GetEventSourceMapping": mappings.get_event_source_mapping,
    "ListEventSourceMappings": mappings.list_event_source_mappings,
    "DeleteEventSourceMapping": mappings.delete_event_source_mapping,
    "UpdateEventSourceMapping": mappings.update_event_source_mapping,
    "TagResource": tags.tag_resource,
    "UntagResource": tags.untag_resource,
    "ListTags": tags.list_tags,
}
# every handler acts only on the function incarnations its decision read (races review round 4)
OPERATIONS = {name: decided_incarnation.bound(handler) for name, handler in OPERATIONS.items()}
