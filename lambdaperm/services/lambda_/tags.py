"""TagResource / UntagResource / ListTags on functions."""

from __future__ import annotations

from typing import Any

from ..context import Output, Params, RequestContext
from . import store
from .taggable import taggable_function


def _fn(ctx: RequestContext, p: Params) -> dict[str, Any]:
    ref = taggable_function(p.get("Resource"), account=ctx.account, region=ctx.region)  # a full, unqualified ARN
    return store.load(ctx.records, ref)


def tag_resource(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        fn = _fn(ctx, p)
        fn["Tags"].update(p.get("Tags") or {})
        store.save(ctx.records, fn)
    return {}


def untag_resource(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        fn = _fn(ctx, p)
        for key in p.get("TagKeys") or []:
            fn["Tags"].pop(key, None)
        store.save(ctx.records, fn)
    return {}


def list_tags(ctx: RequestContext, p: Params) -> Output:
    return {"Tags": _fn(ctx, p)["Tags"]}
