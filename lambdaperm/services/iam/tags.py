"""Tags and permissions boundaries of users and roles (Tag/Untag/List<Entity>Tags,
Put/Delete<Entity>PermissionsBoundary)."""

from __future__ import annotations

from typing import Any

from ..context import Output, Params, RequestContext
from . import store
from .errors import invalid_input, limit_exceeded, no_such_entity

MAX_TAGS = 50
_NAME_PARAM = {store.USER: "UserName", store.ROLE: "RoleName"}


def tag_dict(tags: object) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags if isinstance(tags, list) else []:
        key, value = tag.get("Key"), tag.get("Value", "")
        if not isinstance(key, str) or not 1 <= len(key) <= 128 or not isinstance(value, str) or len(value) > 256:
            raise invalid_input("Tag keys must be 1-128 characters and values at most 256 characters.")
        if key.lower() in (k.lower() for k in out):
            raise invalid_input("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
        out[key] = value
    if len(out) > MAX_TAGS:
        raise limit_exceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
    return out


def tag(kind: str) -> Any:
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        new = tag_dict(p.get("Tags"))
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, kind, ctx.account, p[name_param])
            tags = entity.setdefault("Tags", {})
            for key, value in new.items():
                for existing in [k for k in tags if k.lower() == key.lower()]:
                    del tags[existing]
                tags[key] = value
            if len(tags) > MAX_TAGS:
                raise limit_exceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")
            store.save(ctx.records, kind, ctx.account, entity, name_param)
        return {}
    return handler


def untag(kind: str) -> Any:
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, kind, ctx.account, p[name_param])
            drop = {k.lower() for k in p.get("TagKeys", [])}
            entity["Tags"] = {k: v for k, v in entity.get("Tags", {}).items() if k.lower() not in drop}
            store.save(ctx.records, kind, ctx.account, entity, name_param)
        return {}
    return handler


def list_tags(kind: str) -> Any:
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        entity = store.get(ctx.records, kind, ctx.account, p[name_param])
        return store.paginate(store.tags_out(entity), p, "Tags")
    return handler


def put_boundary(kind: str) -> Any:
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        from .managed import find_policy

        arn = p["PermissionsBoundary"]
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, kind, ctx.account, p[name_param])
            if find_policy(ctx, arn) is None:
                raise invalid_input(f"ARN {arn} is not valid.")
            entity["PermissionsBoundary"] = arn
            store.save(ctx.records, kind, ctx.account, entity, name_param)
        return {}
    return handler


def delete_boundary(kind: str) -> Any:
    name_param = _NAME_PARAM[kind]

    def handler(ctx: RequestContext, p: Params) -> Output:
        with ctx.records.db.transaction():
            entity = store.get(ctx.records, kind, ctx.account, p[name_param])
            if not entity.get("PermissionsBoundary"):
                raise no_such_entity(f"The {store.KIND_NAMES[kind]} {entity[name_param]} has no permissions boundary.")
            entity["PermissionsBoundary"] = None
            store.save(ctx.records, kind, ctx.account, entity, name_param)
        return {}
    return handler


def boundary_out(entity: dict[str, Any]) -> dict[str, str] | None:
    arn = entity.get("PermissionsBoundary")
    return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn} if arn else None
