"""Access keys of IAM users (at most two per user)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..context import Output, Params, RequestContext
from . import store
from .errors import limit_exceeded, no_such_entity, validation
from .ids import access_key_id, secret_access_key

MAX_KEYS = 2


def _user_name(ctx: RequestContext, p: Params) -> str:
    name = p.get("UserName") or ctx.identity.user_name
    if not name:
        raise validation(None, "userName", "Must specify userName when calling with non-User credentials")
    return str(store.get(ctx.records, store.USER, ctx.account, name)["UserName"])


def _keys_of(ctx: RequestContext, user: str) -> list[dict[str, str]]:
    return [k for _, k in ctx.records.scan(store.ACCESS_KEY)
            if k["Account"] == ctx.account and k["UserName"].lower() == user.lower()]


def create_access_key(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        user = _user_name(ctx, p)
        if len(_keys_of(ctx, user)) >= MAX_KEYS:
            raise limit_exceeded(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS}")
        key = {"AccessKeyId": access_key_id(), "SecretAccessKey": secret_access_key(), "UserName": user,
               "Account": ctx.account, "Status": "Active", "CreateDate": ctx.now.isoformat()}
        ctx.records.put(store.ACCESS_KEY, store.GLOBAL, key["AccessKeyId"], key)
    return {"AccessKey": {k: key[k] for k in ("UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate")}}


def list_access_keys(ctx: RequestContext, p: Params) -> Output:
    user = _user_name(ctx, p)
    keys = [{k: key[k] for k in ("UserName", "AccessKeyId", "Status", "CreateDate")} for key in _keys_of(ctx, user)]
    return store.paginate(keys, p, "AccessKeyMetadata")


def _own_key(ctx: RequestContext, p: Params) -> dict[str, str]:
    user = _user_name(ctx, p)
    key = ctx.records.get(store.ACCESS_KEY, store.GLOBAL, p["AccessKeyId"])
    if key is None or key["Account"] != ctx.account or key["UserName"].lower() != user.lower():
        raise no_such_entity(f"The Access Key with id {p['AccessKeyId']} cannot be found.")
    return key


def update_access_key(ctx: RequestContext, p: Params) -> Output:
    if p.get("Status") not in ("Active", "Inactive"):
        raise validation(p.get("Status"), "status", "Member must satisfy enum value set: [Active, Inactive]")
    with ctx.records.db.transaction():
        key = _own_key(ctx, p)
        key["Status"] = p["Status"]
        ctx.records.put(store.ACCESS_KEY, store.GLOBAL, key["AccessKeyId"], key)
    return {}


def delete_access_key(ctx: RequestContext, p: Params) -> Output:
    with ctx.records.db.transaction():
        key = _own_key(ctx, p)
        ctx.records.delete(store.ACCESS_KEY, store.GLOBAL, key["AccessKeyId"])
    return {}


def get_access_key_last_used(ctx: RequestContext, p: Params) -> Output:
    key = ctx.records.get(store.ACCESS_KEY, store.GLOBAL, p["AccessKeyId"])
    if key is None or key["Account"] != ctx.account:
        raise no_such_entity(f"The Access Key with id {p['AccessKeyId']} cannot be found.")
    last = key.get("LastUsed") or {"ServiceName": "N/A", "Region": "N/A"}
    return {"UserName": key["UserName"], "AccessKeyLastUsed": last}


USE_RECORDED_EVERY_SECONDS = 60


def note_key_used(records: Any, key_id: str, service: str, region: str, now: datetime) -> None:
    """Keep when, with which service and in which region an IAM user's access key was last used
    (GetAccessKeyLastUsed's `LastUsedDate`, `ServiceName`, `Region`). Written at most once a minute per key for
    the same service and region: AWS itself reports last use with a delay ("within 4 hours").
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyLastUsed.html
    A key deleted meanwhile stays deleted (the read and the write are one transaction)."""
    key = records.get(store.ACCESS_KEY, store.GLOBAL, key_id)
    if key is None or not _stale(key.get("LastUsed"), service, region, now):
        return
    with records.db.transaction():
        key = records.get(store.ACCESS_KEY, store.GLOBAL, key_id)
        if key is None or not _stale(key.get("LastUsed"), service, region, now):
            return
        key["LastUsed"] = {"LastUsedDate": now.isoformat(), "ServiceName": service, "Region": region}
        records.put(store.ACCESS_KEY, store.GLOBAL, key_id, key)


def _stale(last: Any, service: str, region: str, now: datetime) -> bool:
    if not isinstance(last, dict) or (last.get("ServiceName"), last.get("Region")) != (service, region):
        return True
    try:
        return (now - datetime.fromisoformat(str(last["LastUsedDate"]))).total_seconds() >= USE_RECORDED_EVERY_SECONDS
    except (KeyError, ValueError, TypeError):
        return True
