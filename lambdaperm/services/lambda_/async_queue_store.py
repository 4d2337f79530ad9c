"""Accepted asynchronous invocations (Invoke ``Event``), kept in the server's SQLite state until their run ends.

Lambda: "Lambda places the event in a queue and returns a success response without additional information. A
separate process reads events from the queue and sends them to your function"; an event whose run fails is retried
twice by default (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html,
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). The 202 is a durable promise
(persistence review round 12): the event — the function's unqualified ARN, the version the call was decided on,
the incarnation pins read before its decision (`incarnation.pin`), the payload, the request id, the region, the
caller and the attempts made — is written in a write transaction (`Database.transaction`, BEGIN IMMEDIATE) before the
202, and deleted when its run ends. At start-up (`resume`) every stored event is submitted again, so an event
acknowledged before a ``kill -9`` runs (at least once, as in Lambda); one whose run ended is gone and does not run
again. An attempt is counted when its run starts: an event that already had the 3 attempts Lambda makes (the first
and 2 retries) is dropped at start-up instead of run again. (lambdaperm runs an event once per start and retries no
function error: `undelivered.py`.)

The caller's decision is never taken again: the event runs on the function it was authorized on — the run reads the
function as it is then (its $LATEST configuration at run time, as Lambda's queue does) and runs it only if the
incarnations pinned before the decision still hold (`incarnation.check`; a function or alias deleted, or deleted and
created again, drops the event, logged). With an ephemeral database (``--in-memory``) nothing is written: nothing
would outlive the process anyway.
"""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import Any

from lambdaperm.policy import Caller, PrincipalKind
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.state import Records
from lambdaperm.state.identity import Identity
from lambdaperm.state.records import delete_row, put_row

from ..context import RequestContext
from . import incarnation, store
from .names import parse_function

log = logging.getLogger("lambdaperm.lambda")
EVENTS = "lambda.async-event"  # records namespace: one record per accepted event, keyed by its request id
MAX_ATTEMPTS = 3  # Lambda's default: the first attempt and 2 retries


def _durable(records: Records) -> bool:
    return not records.db.ephemeral


def accept(ctx: RequestContext, fn: store.Function, version: str, payload: bytes) -> bool:
    """Store the event (durable state only), then queue its run on the function account's share of the asynchronous
    threads. False, and nothing kept, when the account's queue is full (the caller answers 429)."""
    event: dict[str, Any] = {
        "FunctionArn": str(fn["Arn"]).split(":$")[0],
        "Account": fn["Account"],
        "Region": fn["Region"],
        "Version": version,
        "Pinned": dict(ctx.pinned),
        "Payload": base64.b64encode(payload).decode(),
        "RequestId": ctx.request_id,
        "Caller": {
            "Arn": ctx.identity.caller.arn,
            "Kind": str(ctx.identity.caller.kind),
            "Account": ctx.identity.caller.account,
            "PrincipalId": ctx.identity.principal_id,
        },
        "Attempts": 0,
    }
    durable = _durable(ctx.records)
    if durable:  # before the 202: an acknowledged event is in the state
        with ctx.records.db.transaction() as conn:
            put_row(conn, EVENTS, event["Account"], ctx.request_id, event)
    if _submit(ctx, event, len(payload)):
        return True
    if durable:
        _forget(ctx.records, event)
    return False


def _submit(ctx: RequestContext, event: dict[str, Any], size: int) -> bool:
    ok: bool = ctx.env.submit(lambda: _run(ctx, event), event["Account"], size)
    return ok


def _run(ctx: RequestContext, event: dict[str, Any]) -> None:
    """One attempt: counted, run on the function as it is now if it is still the one decided on, then forgotten."""
    from .invoke import run  # invoke imports this module

    durable = _durable(ctx.records)
    try:
        if durable:
            with ctx.records.db.transaction() as conn:
                event["Attempts"] = int(event.get("Attempts", 0)) + 1
                put_row(conn, EVENTS, event["Account"], event["RequestId"], event)
        fn = _function(ctx.records, event)
        if fn is None:
            return
        run(ctx, fn, str(event["Version"]), base64.b64decode(event["Payload"]))
    finally:
        if durable:
            _forget(ctx.records, event)


def _function(records: Records, event: dict[str, Any]) -> store.Function | None:
    """The function the event was decided on, as it is now; None (logged) when it was deleted or replaced."""
    ref = parse_function(event["FunctionArn"], None, account=event["Account"], region=event["Region"])
    fn = store.find(records, ref)
    try:
        if fn is None:
            raise ServiceError("ResourceNotFoundException", event["FunctionArn"], 404)
        incarnation.check(dict(event.get("Pinned") or {}), fn)
    except ServiceError:
        log.warning(
            "asynchronous event %s dropped: %s was deleted or replaced since it was accepted",
            event["RequestId"],
            event["FunctionArn"],
        )
        return None
    return fn


def _forget(records: Records, event: dict[str, Any]) -> None:
    with records.db.transaction() as conn:
        delete_row(conn, EVENTS, event["Account"], event["RequestId"])


def resume(records: Records, trail: Any, env: Any) -> int:
    """Submit again every stored event (start-up, before any request is served); returns how many were queued. An
    event that had its attempts is dropped; one its account's queue cannot take is dropped (Lambda may delete
    events it cannot process), both logged."""
    queued = 0
    for account, event in list(records.scan(EVENTS)):
        if int(event.get("Attempts", 0)) >= MAX_ATTEMPTS:
            log.warning("asynchronous event %s dropped after %d attempts", event["RequestId"], event["Attempts"])
            _forget(records, event)
            continue
        who = event["Caller"]
        caller = Caller(who["Arn"], PrincipalKind(who["Kind"]), who["Account"])
        ctx = RequestContext(
            identity=Identity(caller, who["PrincipalId"]),
            region=event["Region"],
            request_id=event["RequestId"],
            now=datetime.now(UTC),
            records=records,
            trail=trail,
            env=env,
            pinned=dict(event.get("Pinned") or {}),
        )
        payload = base64.b64decode(event["Payload"])
        if _submit(ctx, event, len(payload)):
            queued += 1
        else:
            log.warning("asynchronous event %s dropped: the queue of account %s is full", event["RequestId"], account)
            _forget(records, event)
    return queued
