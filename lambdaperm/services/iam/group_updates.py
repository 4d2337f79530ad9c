"""UpdateGroup: rename a group and/or move it to another path.

AWS's rule (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateGroup.html): the group keeps its id, its
members and its policies; its ARN follows the new name and path. The call is decided on the group under both names
(catalog rule `UpdateGroup`); a new name another group has is `EntityAlreadyExists` "Group with name … already
exists.", a missing group `NoSuchEntity`. Group names are unique whatever their case.
"""

from __future__ import annotations

from ..context import Output, Params, RequestContext
from . import store
from .errors import already_exists


def update_group(ctx: RequestContext, p: Params) -> Output:
    new_name = store.check_name(p["NewGroupName"], "newGroupName", 128) if "NewGroupName" in p else None
    new_path = store.check_path(p["NewPath"], "newPath") if "NewPath" in p else None
    with ctx.records.db.transaction():
        entity = store.get(ctx.records, store.GROUP, ctx.account, p["GroupName"])
        old = str(entity["GroupName"])
        name = new_name if new_name is not None else old
        if name.lower() != old.lower() and store.find(ctx.records, store.GROUP, ctx.account, name):
            raise already_exists(f"Group with name {name} already exists.")
        path = new_path if new_path is not None else str(entity["Path"])
        entity.update({"GroupName": name, "Path": path, "Arn": store.entity_arn(ctx, store.GROUP, path, name)})
        if name != old:
            for user in ctx.records.list(store.USER, ctx.account):
                groups = [name if g.lower() == old.lower() else g for g in user.get("Groups", [])]
                if groups != user.get("Groups", []):
                    user["Groups"] = groups
                    store.save(ctx.records, store.USER, ctx.account, user, "UserName")
            ctx.records.delete(store.GROUP, ctx.account, old.lower())
        store.save(ctx.records, store.GROUP, ctx.account, entity, "GroupName")
    return {}
