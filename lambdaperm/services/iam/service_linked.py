"""Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole, GetServiceLinkedRoleDeletionStatus, and
the protection of those roles from ordinary IAM calls.

AWS's rules (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html):

- the role is `/aws-service-role/<service>/AWSServiceRoleFor<Suffix>`, named by the service (the documented names,
  else `AWSServiceRoleFor<Label>`), with `_<CustomSuffix>` when the caller gives one; its trust policy lets the
  service, and only it, assume it. The name is the one the call was decided on: `catalog.identifiers
  .iam_service_linked_role` derives both (one reading). A taken name is `InvalidInput` "Service role name … has
  been taken in this account, please try a different suffix.";
- the role is modifiable by AWS only: DeleteRole, UpdateAssumeRolePolicy, Put/DeleteRolePolicy,
  Attach/DetachRolePolicy and the permissions boundary calls are refused with `UnmodifiableEntity` "Cannot perform
  the operation on the protected role '<name>' - this role is only modifiable by AWS";
- DeleteServiceLinkedRole answers a deletion task `task/aws-service-role/<service>/<name>/<uuid>`, whose status
  GetServiceLinkedRoleDeletionStatus reports. No service of lambdaperm uses a service-linked role, so the deletion
  completes at once (`SUCCEEDED`).

Not modelled: the AWS managed permissions policy a service attaches to its role (none is attached), and which
services refuse a custom suffix (every service accepts one here).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from lambdaperm.catalog.identifiers import iam_service_linked_role
from lambdaperm.protocol.errors import ServiceError

from ..context import Handler, Output, Params, RequestContext
from . import store
from .errors import invalid_input, no_such_entity
from .ids import unique_id

DELETION_TASK = "iam.slr_deletion_task"
PATH_PREFIX = "/aws-service-role/"
_SERVICE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.amazonaws\.com$")
_TASK = re.compile(r"^task/aws-service-role/([^/]+)/([^/]+)/([0-9a-f-]{36})$")


def unmodifiable(name: str) -> ServiceError:
    return ServiceError(
        "UnmodifiableEntity",
        f"Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS",
        400,
    )


def is_service_linked(entity: dict[str, Any]) -> bool:
    """Created by CreateServiceLinkedRole (a role CreateRole put under `/aws-service-role/` is an ordinary role)."""
    return bool(entity.get("ServiceLinked"))


def protected(handler: Handler) -> Handler:
    """`handler` of a call on a role, refused for a service-linked role: the role is read in the transaction the
    handler's own joins, so it cannot become another between the check and the write."""

    def guarded(ctx: RequestContext, p: Params) -> Output:
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, store.ROLE, ctx.account, p["RoleName"])
            if is_service_linked(entity):
                raise unmodifiable(str(entity["RoleName"]))
            return handler(ctx, p)

    return guarded


def _role_name(p: Params) -> tuple[str, str]:
    """(service, role name) as the call was decided on."""
    service = p.get("AWSServiceName")
    if not isinstance(service, str) or not _SERVICE.match(service):
        raise invalid_input(f"Invalid service name: {service}")
    with_path = iam_service_linked_role(p).get("RoleNameWithPath") or ()
    if len(with_path) != 1:
        raise invalid_input(f"Invalid service name: {service}")
    name = with_path[0].rsplit("/", 1)[-1]
    store.check_name(name, "roleName")
    return service, name


def create_service_linked_role(ctx: RequestContext, p: Params) -> Output:
    from .roles import role_out

    service, name = _role_name(p)
    path = f"{PATH_PREFIX}{service}/"
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )
    with ctx.records.db.transaction():
        if store.find(ctx.records, store.ROLE, ctx.account, name):
            raise invalid_input(
                f"Service role name {name} has been taken in this account, please try a different suffix."
            )
        entity = {
            "RoleName": name,
            "RoleId": unique_id("AROA"),
            "Path": path,
            "Arn": store.entity_arn(ctx, store.ROLE, path, name),
            "CreateDate": ctx.now.isoformat(),
            "AssumeRolePolicyDocument": trust,
            "TrustPrincipalIds": {},
            "Description": p.get("Description", ""),
            "MaxSessionDuration": 3600,
            "Tags": {},
            "PermissionsBoundary": None,
            "InlinePolicies": {},
            "AttachedPolicies": [],
            "ServiceLinked": True,
        }
        store.save(ctx.records, store.ROLE, ctx.account, entity, "RoleName")
    return {"Role": role_out(entity)}


def delete_service_linked_role(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        entity = store.get(ctx.records, store.ROLE, ctx.account, p["RoleName"])
        if not is_service_linked(entity):
            raise invalid_input(f"Role {entity['RoleName']} is not a service-linked role.")
        task = f"task{entity['Path']}{entity['RoleName']}/{uuid.uuid4()}"
        ctx.records.delete(store.ROLE, ctx.account, str(entity["RoleName"]).lower())
        ctx.records.put(DELETION_TASK, ctx.account, task, {"DeletionTaskId": task, "Status": "SUCCEEDED"})
    return {"DeletionTaskId": task}


def get_service_linked_role_deletion_status(ctx: RequestContext, p: Params) -> Output:
    task = p.get("DeletionTaskId")
    if not isinstance(task, str) or not _TASK.match(task):
        raise invalid_input(f"Invalid deletion task id: {task}")
    found = ctx.records.get(DELETION_TASK, ctx.account, task)
    if found is None:
        raise no_such_entity(f"Deletion task {task} not found.")
    return {"Status": found["Status"]}
