"""The one pipeline every request goes through, in order:

    route → authenticate → parse → authorize → dispatch | forward → record → serialize

Every failure becomes the AWS error of the request's protocol; nothing but ServiceError (and the
authentication failures, rendered per protocol) reaches the wire, and no bad input yields a 500.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from lambdaperm import __version__
from lambdaperm.authn import AuthFailure, render, scope
from lambdaperm.authz import request_context
from lambdaperm.catalog import RequiredAction, UnmappedOperation, UnresolvedResource, required_actions
from lambdaperm.protocol import (
    HttpRequest,
    HttpResponse,
    Operation,
    ServiceError,
    identify,
    parse,
    request_protocol,
    serialize,
    serialize_error,
    service_of_request,
)
from lambdaperm.services.context import RequestContext
from lambdaperm.state.identity import Identity

from . import events, function_urls, policy_writes
from .call import Call
from .credentials import authenticate_call
from .denials import access_denied, unmapped
from .iam_paths import with_iam_paths
from .recording import record
from .server import DATA_PLANE, PRECHECKS, Server

log = logging.getLogger("lambdaperm.gateway")


def handle(server: Server, req: HttpRequest) -> HttpResponse:
    url = function_urls.match(req)
    if url is not None:
        return function_urls.handle(server, req, url[0], url[1])
    if req.path.startswith("/_lambdaperm/"):
        return admin(server, req)
    call = Call(req)
    try:
        response, output = _run(server, call)
    except ServiceError as err:
        _record(server, call, None, (err.code, err.message))
        return serialize_error(call.op.service_name if call.op else "", err, call.request_id, request=req)
    except AuthFailure as failure:
        protocol = call.op.protocol if call.op else request_protocol(req, service_of_request(req))
        status, code, message = render(failure, protocol)
        err = ServiceError(code, message, status)
        return serialize_error(call.op.service_name if call.op else "", err, call.request_id, request=req)
    _record(server, call, output, None if response.status < 400 else _error_of(response))
    return response


def _run(server: Server, call: Call) -> tuple[HttpResponse, dict[str, Any] | None]:
    req = call.req
    call.scope = claimed = scope(req)  # route: the credential scope names the service
    try:
        call.op = op = identify(req, claimed.service if claimed else None)
    except ServiceError:
        if claimed is not None:
            raise
        call.op = op = identify(req, "s3")  # an unsigned request naming no service: anonymous S3 (a browser)
    if claimed is not None:
        call.region = claimed.region
    call.identity = identity = authenticate_call(server, call)
    call.params = params = parse(op, req)
    precheck = PRECHECKS.get(op.service_name, {}).get(op.name)
    if precheck is not None:
        precheck(identity.account, params)
    _authorize(server, call, op, params, identity)
    if op.service_name in server.services and op.name in server.services[op.service_name]:
        ctx = RequestContext(identity=identity, region=call.region, request_id=call.request_id, now=call.now,
                             records=server.records, trail=server.trail, env=server.lambda_env,
                             source_ip=req.remote_addr,
                             user_agent=req.header("user-agent", "") or "")
        output = server.services[op.service_name][op.name](ctx, params)
        return serialize(op, output, call.request_id), output
    if op.service_name in DATA_PLANE:
        account = _acting_account(call, identity)
        targets = None
        _unambiguous(req, op)
        policy_writes.check(op.service_name, op.name, params)
        if op.service_name == "sqs" and "QueueUrl" in params:
            _canonical_queue_url(str(params["QueueUrl"]), call.region)
        if (op.service_name, op.name) == ("s3", "PutBucketNotificationConfiguration"):
            targets = events.check_bucket_notifications(server, params, account, call.region, call.now)
        bucket = params.get("Bucket") if op.service_name == "s3" else None
        response = server.dataplane.handle(req, account, op.service_name, bucket)
        if response.status >= 500 and server.config.upstream is None:
            # moto answers an operation it does not implement (or a bug) with a bare 500 page
            raise ServiceError("NotImplemented", f"lambdaperm's data plane could not serve {op.service_name}:"
                               f"{op.name} (not implemented by the embedded moto backend)", 501)
        if response.status < 300:
            _after(server, call, op.service_name, op.name, params, account, targets)
        return response, None
    raise ServiceError("InvalidAction", f"The action {op.name} is not valid for this web service.", 400)


def _authorize(server: Server, call: Call, op: Operation, params: dict[str, Any], identity: Identity) -> None:
    account = identity.account or "000000000000"
    try:
        needed = _required_actions(op.service_name, op.name, params, account, call.region)
    except UnresolvedResource as err:
        implied = _implicit_params(server, err.implicit, params, identity)
        if implied is None:
            raise unmapped(op.service_name, op.protocol, op.name) from None
        try:
            needed = required_actions(op.service_name, op.name, implied, account=account, region=call.region)
        except UnmappedOperation:
            raise unmapped(op.service_name, op.protocol, op.name) from None
    except UnmappedOperation:
        raise unmapped(op.service_name, op.protocol, op.name) from None
    needed = [with_iam_paths(server, n, op.service_name, op.name, params) for n in needed]
    call.resources = [r for n in needed for r in n.resources if r != "*"]
    if not needed:
        return
    tags = server.policies.principal_tags(identity) if identity.caller.is_iam_principal else {}
    context = request_context(identity, now=call.now, region=call.region, source_ip=call.req.remote_addr,
                              tags=tags, user_agent=call.req.header("user-agent", "") or "")
    denied = server.authorizer.enforce(identity, needed, context)
    if denied is not None:
        raise access_denied(op.service_name, op.protocol, denied.decision.message)


_REQUIRED_CACHE: dict[object, list[RequiredAction]] = {}


class _Unfreezable(Exception):
    pass


def _freeze(value: Any) -> Any:
    """A hashable image of request parameters (dict items keep their type tag so that {} != [])."""
    if isinstance(value, dict):
        return ("d", tuple(sorted((k, _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("l", tuple(_freeze(v) for v in value))
    if isinstance(value, str | int | float | bool | bytes | datetime) or value is None:
        return (type(value).__name__, value)
    raise _Unfreezable


def _required_actions(service: str, operation: str, params: dict[str, Any], account: str,
                      region: str) -> list[RequiredAction]:
    """catalog.required_actions, memoized: it is a pure function of its arguments, and the same calls
    (same operation on the same resources) repeat."""
    try:
        key = (service, operation, account, region, _freeze(params))
    except _Unfreezable:
        return required_actions(service, operation, params, account=account, region=region)
    found = _REQUIRED_CACHE.get(key)
    if found is not None:
        return found
    needed = required_actions(service, operation, params, account=account, region=region)
    if len(_REQUIRED_CACHE) >= 4096:
        _REQUIRED_CACHE.clear()
    _REQUIRED_CACHE[key] = needed
    return needed


def _implicit_params(server: Server, implicit: dict[str, str], params: dict[str, Any],
                     identity: Identity) -> dict[str, Any] | None:
    """Parameters AWS fills in when the request leaves them out: the calling user, or an access key's owner."""
    filled = dict(params)
    for name, source in implicit.items():
        if source == "caller" and identity.user_name:
            filled[name] = identity.user_name
        elif source == "access-key-owner":
            key = server.records.get("iam.access_key", "", str(params.get("AccessKeyId", "")))
            if key is None:
                return None
            filled[name] = key["UserName"]
        else:
            return None
    return filled


def _unambiguous(req: HttpRequest, op: Operation) -> None:
    """moto reads the operation by its own rules (the first `Action`, the query string before X-Amz-Target,
    multipart bodies): a request it could read as another operation than the one authorized is refused."""
    if op.service_name == "s3":
        return
    query_actions = [v for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k == "Action"]
    if req.header("x-amz-target") is not None or op.protocol == "json":
        if query_actions:
            raise ServiceError("InvalidAction", "An Action in the query string is not allowed with X-Amz-Target.")
        return
    content_type = (req.header("content-type") or "").split(";", 1)[0].strip().lower()
    if req.body and content_type != "application/x-www-form-urlencoded":
        raise ServiceError("MalformedQueryString", "The request body must be application/x-www-form-urlencoded.")
    body_actions = ([v for k, v in parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
                     if k == "Action"] if req.body else [])
    if len(query_actions) + len(body_actions) != 1:
        raise ServiceError("InvalidAction", "A request must name exactly one Action.")


_QUEUE_URL = re.compile(r"^https?://(?P<host>[^/?#]+)/(?P<account>\d{12})/(?P<name>[A-Za-z0-9_-]{1,80}(\.fifo)?)$")
_QUEUE_HOST_REGION = re.compile(r"(?:^|\.)sqs\.(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d)\.")


def _canonical_queue_url(url: str, region: str) -> None:
    """A queue URL must name exactly one queue, as SQS reads it, and in the request's region: otherwise
    the queue authorized and the queue served could differ."""
    m = _QUEUE_URL.match(url)
    host_region = _QUEUE_HOST_REGION.search(m.group("host")) if m else None
    if m is None or (host_region is not None and host_region.group("region") != region):
        raise ServiceError("InvalidAddress", f"The address {url} is not valid for this endpoint.", 400)


def _after(server: Server, call: Call, service: str, operation: str, params: dict[str, Any], account: str,
           targets: list[dict[str, Any]] | None) -> None:
    """Event sources fed by a successful data-plane call (S3 notifications, SNS subscriptions)."""
    if targets is not None:
        events.store_bucket_notifications(server, params["Bucket"], account, call.region, targets)
    elif service == "s3":
        events.s3_object_event(server, operation, params, call.now)
    elif (service, operation) == ("sns", "Publish"):
        events.sns_publish_event(server, params, None, account, call.region, call.now)


def _acting_account(call: Call, identity: Identity) -> str:
    """The account whose data-plane resources the call acts on: the owner named in the resource ARNs (a
    cross-account call the resource policy allowed), else the caller's own."""
    for arn in call.resources:
        parts = arn.split(":", 5)
        if len(parts) == 6 and len(parts[4]) == 12 and parts[4].isdigit():
            return parts[4]
    return identity.account or "000000000000"


def _error_of(response: HttpResponse) -> tuple[str, str]:
    code = response.header("x-amzn-ErrorType") or ""
    message = ""
    try:
        body = json.loads(response.body or b"{}")
        if isinstance(body, dict):
            code = code or str(body.get("__type", "")).rsplit("#", 1)[-1]
            message = str(body.get("message") or body.get("Message") or "")
    except (ValueError, UnicodeDecodeError):
        m = re.search(rb"<Code>([^<]*)</Code>.*?<Message>([^<]*)</Message>", response.body or b"", re.S)
        if m:
            code, message = m.group(1).decode(errors="replace"), m.group(2).decode(errors="replace")
    return (code.split(":", 1)[0] or f"HTTP{response.status}", message)


def _record(server: Server, call: Call, output: dict[str, Any] | None, error: tuple[str, str] | None) -> None:
    """The call's CloudTrail record, committed (with the other calls' waiting at that moment) before the
    call is answered."""
    if call.op is None or call.identity is None:
        return  # unauthenticated or unrouted requests are not recorded
    identity, op = call.identity, call.op

    def build() -> dict[str, Any]:
        return record(identity=identity, service=op.service_name, operation=op.name, region=call.region,
                      now=call.now, request_id=call.request_id, source_ip=call.req.remote_addr,
                      user_agent=call.req.header("user-agent", "") or "", params=call.params, output=output,
                      error=error, resources=call.resources, recipient=identity.account or "000000000000")
    if not server.trail.submit(build).wait(timeout=30):
        log.error("the trail record of %s %s was not committed in 30 s", op.service_name, op.name)


def admin(server: Server, req: HttpRequest) -> HttpResponse:
    if req.path in ("/_lambdaperm/health", "/_lambdaperm/health/"):
        body = {"status": "ok", "version": __version__,
                "services": sorted(set(server.services) | DATA_PLANE | {"cloudtrail"}),
                "state": server.db.path, "upstream": server.config.upstream}
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(body).encode())
    if req.path.startswith("/_lambdaperm/code/") and req.method in ("GET", "HEAD"):
        query = dict(req.query())
        data = server.lambda_env.code_for_url(req.path.rsplit("/", 1)[-1], query.get("Expires", ""),
                                              query.get("Signature", ""))
        if data is None:
            return HttpResponse(403, [("Content-Type", "application/xml")],
                                b"<Error><Code>AccessDenied</Code><Message>Request has expired or the signature "
                                b"does not match</Message></Error>")
        return HttpResponse(200, [("Content-Type", "application/zip")], data)
    return HttpResponse(404, [("Content-Type", "application/json")], b'{"message": "Not Found"}')
