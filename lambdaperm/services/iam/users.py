"""IAM users and groups."""

from __future__ import annotations

from typing import Any

from lambdaperm.protocol.errors import ServiceError

from ..context import Output, Params, RequestContext
from . import store
from .errors import already_exists, delete_conflict, no_such_entity
from .ids import unique_id
from .managed import find_policy
from .tags import boundary_out, tag_dict


def user_out(entity: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
    out = {k: entity[k] for k in ("Path", "UserName", "UserId", "Arn", "CreateDate")}
    if full:
        if (boundary := boundary_out(entity)) is not None:
            out["PermissionsBoundary"] = boundary
        if entity.get("Tags"):
            out["Tags"] = store.tags_out(entity)
    return out


def create_user(ctx: RequestContext, p: Params) -> Output:
    name = store.check_name(p.get("UserName"), "userName")
    path = store.check_path(p.get("Path"))
    boundary = p.get("PermissionsBoundary")
    tags = tag_dict(p.get("Tags", []))
    with ctx.records.db.transaction():
        if store.find(ctx.records, store.USER, ctx.account, name):
            raise already_exists(f"User with name {name} already exists.")
        if boundary and find_policy(ctx, boundary) is None:
            raise no_such_entity(f"Policy {boundary} does not exist or is not attachable.")
        entity = {"UserName": name, "UserId": unique_id("AIDA"), "Path": path,
                  "Arn": store.entity_arn(ctx, store.USER, path, name), "CreateDate": ctx.now.isoformat(),
                  "Tags": tags, "PermissionsBoundary": boundary, "InlinePolicies": {}, "AttachedPolicies": [],
                  "Groups": []}
        store.save(ctx.records, store.USER, ctx.account, entity, "UserName")
    return {"User": user_out(entity, full=True)}


def get_user(ctx: RequestContext, p: Params) -> Output:
    name = p.get("UserName") or ctx.identity.user_name
    if not name:
        raise ServiceError("ValidationError", "Must specify userName when calling with non-User credentials", 400)
    return {"User": user_out(store.get(ctx.records, store.USER, ctx.account, name), full=True)}


def list_users(ctx: RequestContext, p: Params) -> Output:
    users = store.with_path_prefix(ctx.records.list(store.USER, ctx.account), p)
    return store.paginate([user_out(u) for u in users], p, "Users")


def _move_access_keys(ctx: RequestContext, old_name: str, new_name: str) -> None:
    """A renamed user keeps her access keys: they belong to the user, not to the name, so a user created later
    under the old name never authenticates with them (https://docs.aws.amazon.com/IAM/latest/UserGuide/
    id_users_manage.html#id_users_renaming). Call inside the rename's transaction."""
    for _, key in list(ctx.records.scan(store.ACCESS_KEY)):
        if key.get("Account") == ctx.account and str(key.get("UserName", "")).lower() == old_name.lower():
            ctx.records.put(store.ACCESS_KEY, store.GLOBAL, key["AccessKeyId"], {**key, "UserName": new_name})


def update_user(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        entity = store.get(ctx.records, store.USER, ctx.account, p["UserName"])
        new_name = p.get("NewUserName")
        if new_name:
            store.check_name(new_name, "newUserName")
            if new_name.lower() != entity["UserName"].lower() and store.find(ctx.records, store.USER, ctx.account,
                                                                              new_name):
                raise already_exists(f"User with name {new_name} already exists.")
            ctx.records.delete(store.USER, ctx.account, entity["UserName"].lower())
            _move_access_keys(ctx, entity["UserName"], new_name)
            entity["UserName"] = new_name
        if p.get("NewPath"):
            entity["Path"] = store.check_path(p["NewPath"], "newPath")
        entity["Arn"] = store.entity_arn(ctx, store.USER, entity["Path"], entity["UserName"])
        store.save(ctx.records, store.USER, ctx.account, entity, "UserName")
    return {}


def delete_user(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        entity = store.get(ctx.records, store.USER, ctx.account, p["UserName"])
        if any(k.get("UserName") == entity["UserName"] and k.get("Account") == ctx.account
               for _, k in ctx.records.scan(store.ACCESS_KEY)):
            raise delete_conflict("Cannot delete entity, must delete access keys first.")
        if entity.get("InlinePolicies"):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if entity.get("AttachedPolicies"):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        if entity.get("Groups"):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        ctx.records.delete(store.USER, ctx.account, entity["UserName"].lower())
    return {}


def group_out(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: entity[k] for k in ("Path", "GroupName", "GroupId", "Arn", "CreateDate")}


def create_group(ctx: RequestContext, p: Params) -> Output:
    name = store.check_name(p.get("GroupName"), "groupName", 128)
    path = store.check_path(p.get("Path"))
    with ctx.records.db.transaction():
        if store.find(ctx.records, store.GROUP, ctx.account, name):
            raise already_exists(f"Group with name {name} already exists.")
        entity = {"GroupName": name, "GroupId": unique_id("AGPA"), "Path": path,
                  "Arn": store.entity_arn(ctx, store.GROUP, path, name), "CreateDate": ctx.now.isoformat(),
                  "InlinePolicies": {}, "AttachedPolicies": []}
        store.save(ctx.records, store.GROUP, ctx.account, entity, "GroupName")
    return {"Group": group_out(entity)}


def members(ctx: RequestContext, group_name: str) -> list[dict[str, Any]]:
    low = group_name.lower()
    return [u for u in ctx.records.list(store.USER, ctx.account) if low in (g.lower() for g in u.get("Groups", []))]


def get_group(ctx: RequestContext, p: Params) -> Output:
    entity = store.get(ctx.records, store.GROUP, ctx.account, p["GroupName"])
    page = store.paginate([user_out(u) for u in members(ctx, entity["GroupName"])], p, "Users")
    page["Group"] = group_out(entity)
    return page


def list_groups(ctx: RequestContext, p: Params) -> Output:
    groups = store.with_path_prefix(ctx.records.list(store.GROUP, ctx.account), p)
    return store.paginate([group_out(g) for g in groups], p, "Groups")


def delete_group(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        entity = store.get(ctx.records, store.GROUP, ctx.account, p["GroupName"])
        if members(ctx, entity["GroupName"]):
            raise delete_conflict("Cannot delete entity, must remove users from group first.")
        if entity.get("InlinePolicies"):
            raise delete_conflict("Cannot delete entity, must delete policies first.")
        if entity.get("AttachedPolicies"):
            raise delete_conflict("Cannot delete entity, must detach all policies first.")
        ctx.records.delete(store.GROUP, ctx.account, entity["GroupName"].lower())
    return {}


def add_user_to_group(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        group = store.get(ctx.records, store.GROUP, ctx.account, p["GroupName"])
        user = store.get(ctx.records, store.USER, ctx.account, p["UserName"])
        if group["GroupName"] not in user.setdefault("Groups", []):
            user["Groups"].append(group["GroupName"])
            store.save(ctx.records, store.USER, ctx.account, user, "UserName")
    return {}


def remove_user_from_group(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        group = store.get(ctx.records, store.GROUP, ctx.account, p["GroupName"])
        user = store.get(ctx.records, store.USER, ctx.account, p["UserName"])
        if group["GroupName"] not in user.get("Groups", []):
            raise no_such_entity(f"User {user['UserName']} is not in group {group['GroupName']}.")
        user["Groups"].remove(group["GroupName"])
        store.save(ctx.records, store.USER, ctx.account, user, "UserName")
    return {}


def list_groups_for_user(ctx: RequestContext, p: Params) -> Output:
    user = store.get(ctx.records, store.USER, ctx.account, p["UserName"])
    groups = [g for name in user.get("Groups", []) if (g := store.find(ctx.records, store.GROUP, ctx.account, name))]
    return store.paginate([group_out(g) for g in groups], p, "Groups")
