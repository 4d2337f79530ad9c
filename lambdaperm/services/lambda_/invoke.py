"""Invoke: the function's Python code runs under its execution role (spec §3.5).

Authorization already happened in the gateway (lambda:InvokeFunction on the addressed ARN, with the
function policy of that qualifier). Here: InvocationType RequestResponse (200), Event (202, run in the
background) and DryRun (204, nothing runs); the payload limits; the role's temporary credentials (a
session named after the function); the logs, shipped to CloudWatch Logs only when the role allows it.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lambdaperm.catalog import RequiredAction
from lambdaperm.protocol.errors import ServiceError

from ..context import Output, Params, RequestContext
from ..sts import issue_role_session
from . import async_queue_store, incarnation, store
from .errors import invalid
from .functions import ref_of
from .roles import calls, lambda_can_assume, role_allows, role_entity

SYNC_LIMIT = 6 * 1024 * 1024
ASYNC_LIMIT = 1024 * 1024
LOG_TAIL = 4096


@dataclass(frozen=True, slots=True)
class Target:
    """What the runtime needs to run one version of a function."""

    function_name: str
    function_arn: str  # qualified with the version
    version: str
    handler: str
    runtime: str
    code_hex: str
    environment: dict[str, str]
    timeout: int
    memory_size: int
    region: str
    account: str
    log_group: str
    role_arn: str = ""  # what a worker's init read: a worker never serves another role or incarnation (round 14)
    incarnation: str = ""


@dataclass(frozen=True, slots=True)
class SessionCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime


_sessions: dict[tuple[str, str], SessionCredentials] = {}
_sessions_lock = threading.Lock()


def credentials_for(ctx: RequestContext, role: dict[str, Any], function_name: str,
                    function_arn: str) -> SessionCredentials:
    """The execution role's credentials for this function, reused until five minutes before expiry. They carry
    lambda:SourceFunctionArn, so they are keyed by the function's ARN (a function of the same name in another
    region or account is another source)."""
    cache_key = (role["Arn"], function_arn)
    with _sessions_lock:
        cached = _sessions.get(cache_key)
        if cached is not None and cached.expiration - timedelta(minutes=5) > ctx.now:
            return cached
        creds = issue_role_session(ctx.records, role, function_name, ctx.now, seconds=3600,
                                   source_function=function_arn)
        fresh = SessionCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"],
                                   creds["Expiration"])
        _sessions[cache_key] = fresh
        return fresh


def _check_payload(payload: bytes, limit: int) -> None:
    if len(payload) > limit:
        raise ServiceError("RequestTooLargeException",
                           f"Request must be smaller than {limit} bytes for the InvokeFunction operation", 413,
                           fields={"Type": "User"})
    if payload.strip():
        try:
            json.loads(payload)
        except (ValueError, UnicodeDecodeError) as err:
            raise ServiceError("InvalidRequestContentException",
                               f"Could not parse request body into json: Could not parse payload into json: {err}",
                               400, fields={"Type": "User"}) from None


def target_of(fn: dict[str, Any], config: dict[str, Any], version: str) -> Target:
    return Target(
        function_name=fn["Name"], function_arn=f"{fn['Arn']}:{version}", version=version,
        handler=config["Handler"], runtime=config["Runtime"], code_hex=config["_CodeHex"],
        environment=dict((config.get("Environment") or {}).get("Variables") or {}), timeout=config["Timeout"],
        memory_size=config["MemorySize"], region=fn["Region"], account=fn["Account"],
        log_group=f"/aws/lambda/{fn['Name']}", role_arn=str(config["Role"]),
        incarnation=str(fn.get("Incarnation") or ""),
    )


def run(ctx: RequestContext, fn: dict[str, Any], version: str, payload: bytes, *,
        client_context: str | None = None) -> Any:
    """Run one invocation synchronously and ship its logs; returns the runtime's result."""
    config = store.config_of(fn, version)
    if not str(config["Runtime"]).startswith("python"):
        raise invalid(f"lambdaperm runs Python handlers only; the runtime {config['Runtime']} is not supported.")
    seen = ctx.records.version  # before the role is read: the memo's key (races review round 11)
    role = role_entity(ctx, config["Role"])
    if role is None or not _assumable(ctx, seen, role, fn["Arn"]):  # Lambda assumes the role on every invoke
        raise invalid("The role defined for the function cannot be assumed by Lambda.")
    creds = credentials_for(ctx, role, fn["Name"], fn["Arn"])
    target = target_of(fn, config, version)
    result = ctx.env.invoke(target, payload, creds, request_id=ctx.request_id, client_context=client_context)
    stream = getattr(result, "log_stream_name", None) or f"{ctx.now:%Y/%m/%d}/[{version}]{ctx.request_id[:32]}"
    # Lambda creates the log group only when it does not exist (implicit accesses review round 8)
    create = not ctx.env.log_group_exists(fn["Account"], fn["Region"], target.log_group)
    if _may_write_logs(ctx, fn, role, target.log_group, stream, create_group=create):
        ctx.env.ship_logs(fn["Account"], fn["Region"], target.log_group, stream, result.log_tail, create_group=create)
    return result


_trusted: dict[tuple[int, int, str, str, int], bool] = {}


def _assumable(ctx: RequestContext, seen: int, role: dict[str, Any], function_arn: str) -> bool:
    """lambda_can_assume for this function, memoized until the records change or the clock moves on. `seen` is the
    records' version read before `role` was: a role read before a write committed is filed under a version older than
    the write's, never served to an invocation that reads the role after the write (races review round 11: keyed by
    the version read after the role, a trust read before an UpdateAssumeRolePolicy was served to every later
    invocation). The answer depends on the time too (aws:CurrentTime, aws:EpochTime: whole seconds), so the key holds
    the second it was decided in (races review round 12: a trust's Deny from a date on was never applied once an
    invocation before the date had filed "assumable")."""
    key = (id(ctx.records), seen, role["Arn"], function_arn, int(ctx.now.timestamp()))
    found = _trusted.get(key)
    if found is None:
        found = lambda_can_assume(role, function_arn, ctx.now)
        if len(_trusted) > 4096:
            _trusted.clear()
        _trusted[key] = found
    return found


def _may_write_logs(ctx: RequestContext, fn: dict[str, Any], role: dict[str, Any], group: str, stream: str, *,
                    create_group: bool = True) -> bool:
    """Whether a session of the role may write the invocation's logs, decided as the calls Lambda makes would be;
    they carry lambda:SourceFunctionArn, the function's ARN
    (https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html). CreateLogGroup only when
    the group does not exist: "If no log group exists with the name that you entered, Lambda creates a new log
    group" (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html). Not memoized:
    resource policies and time-based conditions live outside the records."""
    source = {"lambda:sourcefunctionarn": (fn["Arn"],)}
    calls_made = [
        ("CreateLogStream", {"logGroupName": group, "logStreamName": stream}),
        ("PutLogEvents", {"logGroupName": group, "logStreamName": stream, "logEvents": []}),
    ]
    if create_group:
        calls_made.insert(0, ("CreateLogGroup", {"logGroupName": group}))
    needed = [
        RequiredAction(n.action, n.resources, {**n.context, **source})
        for operation, params in calls_made
        for n in calls(ctx, "logs", operation, params, account=fn["Account"], region=fn["Region"])
    ]
    return role_allows(ctx, role, fn["Name"], needed)


def invoke(ctx: RequestContext, p: Params) -> Output:
    ref = ref_of(ctx, p)
    fn = store.load(ctx.records, ref)
    incarnation.check(ctx.pinned, fn)  # the function the call was authorized on, not a namesake made since
    version, _alias = store.resolve_qualifier(fn, ref)
    kind = p.get("InvocationType") or "RequestResponse"
    payload = p.get("Payload") or b""
    if not isinstance(payload, bytes | bytearray):
        payload = str(payload).encode()
    payload = bytes(payload)
    _check_payload(payload, ASYNC_LIMIT if kind == "Event" else SYNC_LIMIT)
    if kind == "DryRun":
        return {"StatusCode": 204}
    if kind == "Event":
        # the account's share of async threads; its queue full: throttled (isolation review round 8)
        # stored in the state before the 202, run again after a restart (persistence round 12: async_queue_store)
        if not async_queue_store.accept(ctx, fn, version, payload):
            raise ServiceError("TooManyRequestsException", "Rate Exceeded.", 429,
                               fields={"Type": "User", "Reason": "ConcurrentInvocationLimitExceeded"})
        return {"StatusCode": 202}
    result = run(ctx, fn, version, payload, client_context=p.get("ClientContext"))
    out: dict[str, Any] = {"StatusCode": 200, "Payload": result.payload, "ExecutedVersion": version}
    if result.function_error:
        out["FunctionError"] = result.function_error
    if p.get("LogType") == "Tail":
        tail = result.log_tail.encode()[-LOG_TAIL:]
        out["LogResult"] = base64.b64encode(tail).decode()
    return out
