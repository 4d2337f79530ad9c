"""Aliases: named pointers to a version, each with its own RevisionId and resource policy."""

from __future__ import annotations

import re
from typing import Any

from ..context import Output, Params, RequestContext
from . import store
from .errors import conflict, not_found, precondition_failed, validation
from .functions import _page, ref_of
from .urls import URL_INDEX

_ALIAS = re.compile(r"^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$")


def _alias_out(alias: dict[str, Any]) -> dict[str, Any]:
    return {k: alias[k] for k in ("AliasArn", "Name", "FunctionVersion", "Description", "RevisionId")} | (
        {"RoutingConfig": alias["RoutingConfig"]} if alias.get("RoutingConfig") else {})


def _version_exists(fn: dict[str, Any], version: object) -> str:
    if version != store.LATEST and version not in fn["Versions"]:
        raise not_found(f"Function not found: {fn['Arn']}:{version}")
    return str(version)


def create_alias(ctx: RequestContext, p: Params) -> Output:
    name = p.get("Name")
    if not isinstance(name, str) or not _ALIAS.match(name) or len(name) > 128:
        raise validation(name, "name", "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)")
    ref = ref_of(ctx, p, qualifier=False)
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        version = _version_exists(fn, p.get("FunctionVersion"))
        if name in fn["Aliases"]:
            raise conflict(f"Alias already exists: {fn['Arn']}:{name}")
        alias = {"AliasArn": f"{fn['Arn']}:{name}", "Name": name, "FunctionVersion": version,
                 "Description": p.get("Description", ""), "RevisionId": store.new_revision(),
                 "RoutingConfig": p.get("RoutingConfig"),
                 "Incarnation": store.new_revision()}  # which alias a call was decided on (incarnation.pin)
        fn["Aliases"][name] = alias
        store.save(ctx.records, fn)
    return _alias_out(alias)


def _alias(fn: dict[str, Any], name: str) -> dict[str, Any]:
    alias = fn["Aliases"].get(name)
    if alias is None:
        raise not_found(f"Cannot find alias arn: {fn['Arn']}:{name}")
    return dict(alias)


def get_alias(ctx: RequestContext, p: Params) -> Output:
    fn = store.load(ctx.records, ref_of(ctx, p, qualifier=False))
    return _alias_out(_alias(fn, p["Name"]))


def update_alias(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p, qualifier=False)
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        alias = _alias(fn, p["Name"])
        if p.get("RevisionId") and p["RevisionId"] != alias["RevisionId"]:
            raise precondition_failed()
        if "FunctionVersion" in p:
            alias["FunctionVersion"] = _version_exists(fn, p["FunctionVersion"])
        if "Description" in p:
            alias["Description"] = p["Description"]
        if "RoutingConfig" in p:
            alias["RoutingConfig"] = p["RoutingConfig"]
        alias["RevisionId"] = store.new_revision()
        fn["Aliases"][alias["Name"]] = alias
        store.save(ctx.records, fn)
    return _alias_out(alias)


def delete_alias(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p, qualifier=False)
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        if fn["Aliases"].pop(p["Name"], None) is not None:
            fn["Policies"].pop(p["Name"], None)
            url = fn["Urls"].pop(p["Name"], None)
            if url is not None:
                ctx.records.delete(URL_INDEX, "", url["UrlId"])
            store.save(ctx.records, fn)
    return {}


def list_aliases(ctx: RequestContext, p: Params) -> Output:
    fn = store.load(ctx.records, ref_of(ctx, p, qualifier=False))
    aliases = [_alias_out(a) for a in fn["Aliases"].values()
               if not p.get("FunctionVersion") or a["FunctionVersion"] == p["FunctionVersion"]]
    return _page(aliases, p, "Aliases")

