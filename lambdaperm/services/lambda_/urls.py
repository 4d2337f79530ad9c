"""Function URLs (spec §3.6): one URL per alias or $LATEST, AuthType AWS_IAM or NONE.

The URL lambdaperm returns is `http://<url-id>.lambda-url.<region>.localhost:<port>/`; the endpoint also
serves the same function at `http://<host>:<port>/_lambdaperm/url/<url-id>/…` for clients that do not
resolve `*.localhost` (see docs/lambda.md)."""

from __future__ import annotations

import secrets
import string
from typing import Any
from urllib.parse import urlsplit

from ..context import Output, Params, RequestContext
from . import store
from .errors import conflict, not_found, validation
from .functions import ref_of

URL_ID_CHARS = string.ascii_lowercase + string.digits
URL_INDEX = "lambda.url"  # url id -> (account, region, function, qualifier)


def _qualifier_slot(ctx: RequestContext, p: Params, fn: dict[str, Any]) -> str:
    """The URL config slot: "" (the unqualified function) or an alias. A function URL's qualifier is an alias name,
    FunctionUrlQualifier `((?!^\\d+$)^[0-9a-zA-Z-_]+$)` — `$LATEST` is not one: it was decided on `…:f:$LATEST`
    and acted on the unqualified URL past a Deny on `…:f` (region/account review round 5;
    https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionUrlConfig.html)."""
    qualifier = ref_of(ctx, p).qualifier  # from the name or the Qualifier parameter (they must agree)
    if qualifier is None:
        return ""
    if qualifier.isdigit() or qualifier == store.LATEST or qualifier not in fn["Aliases"]:
        raise validation(qualifier, "qualifier", "Member must satisfy regular expression pattern: "
                         "((?!^\\d+$)^[0-9a-zA-Z-_]+$)")
    return str(qualifier)


def _url(ctx: RequestContext, url_id: str, region: str) -> str:
    parts = urlsplit(ctx.env.endpoint_url)
    return f"http://{url_id}.lambda-url.{region}.localhost:{parts.port or 80}/"


def _check_auth(value: object) -> str:
    if value not in ("NONE", "AWS_IAM"):
        raise validation(value, "authType", "Member must satisfy enum value set: [NONE, AWS_IAM]")
    return str(value)


def create_function_url_config(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p)
    auth = _check_auth(p.get("AuthType"))
    with ctx.records.db.transaction():
        fn = store.load(ctx.records, ref)
        slot = _qualifier_slot(ctx, p, fn)
        if slot in fn["Urls"]:
            arn = fn["Arn"] + (f":{slot}" if slot else "")
            raise conflict(f"Failed to create function url config for [functionArn = {arn}]. Error message:  "
                           "FunctionUrlConfig exists for this Lambda function")
        url_id = "".join(secrets.choice(URL_ID_CHARS) for _ in range(32))
        now = store.timestamp(ctx.now)
        config = {"UrlId": url_id, "FunctionUrl": _url(ctx, url_id, ref.region),
                  "FunctionArn": fn["Arn"] + (f":{slot}" if slot else ""), "AuthType": auth,
                  "Cors": p.get("Cors") or {}, "CreationTime": now, "LastModifiedTime": now,
                  "InvokeMode": p.get("InvokeMode") or "BUFFERED"}
        fn["Urls"][slot] = config
        store.save(ctx.records, fn)
        ctx.records.put(URL_INDEX, "", url_id, {"Account": fn["Account"], "Region": fn["Region"],
                                                "Name": fn["Name"], "Slot": slot})
    return {k: config[k] for k in ("FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime", "InvokeMode")}


def _config(ctx: RequestContext, p: Params) -> tuple[dict[str, Any], str]:
    fn = store.load(ctx.records, ref_of(ctx, p))
    slot = _qualifier_slot(ctx, p, fn)
    config = fn["Urls"].get(slot)
    if config is None:
        raise not_found("The resource you requested does not exist.")
    return fn, slot


def get_function_url_config(ctx: RequestContext, p: Params) -> Output:
    fn, slot = _config(ctx, p)
    config = fn["Urls"][slot]
    return {k: config[k] for k in ("FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime",
                                   "LastModifiedTime", "InvokeMode")}


def update_function_url_config(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        fn, slot = _config(ctx, p)
        config = fn["Urls"][slot]
        if "AuthType" in p:
            config["AuthType"] = _check_auth(p["AuthType"])
        if "Cors" in p:
            config["Cors"] = p["Cors"]
        if "InvokeMode" in p:
            config["InvokeMode"] = p["InvokeMode"]
        config["LastModifiedTime"] = store.timestamp(ctx.now)
        store.save(ctx.records, fn)
    return {k: config[k] for k in ("FunctionUrl", "FunctionArn", "AuthType", "Cors", "CreationTime",
                                   "LastModifiedTime", "InvokeMode")}


def delete_function_url_config(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        fn, slot = _config(ctx, p)
        config = fn["Urls"].pop(slot)
        store.save(ctx.records, fn)
        ctx.records.delete(URL_INDEX, "", config["UrlId"])
    return {}
