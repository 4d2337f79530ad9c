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

from lambdaperm import __version__
from lambdaperm.authn import AuthFailure, render, scope
from lambdaperm.authz import request_context
from lambdaperm.catalog import RequiredAction, UnmappedOperation, UnresolvedResource, required_actions
from lambdaperm.catalog.invalid import InvalidRequest
from lambdaperm.dataplane.ec2_default_groups import with_default_group
from lambdaperm.dataplane.ec2_defaults import with_default_vpc
from lambdaperm.dataplane.ec2_group_by_name import with_group_id
from lambdaperm.dataplane.logs_stream_identifier import for_decision as logs_stream_for_decision
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
from lambdaperm.protocol.constraints import check_input
from lambdaperm.protocol.created_names import check as check_created_name
from lambdaperm.protocol.s3_bucket_names import check as check_bucket_name
from lambdaperm.services.context import RequestContext
from lambdaperm.services.iam.keys import note_key_used
from lambdaperm.services.lambda_ import incarnation
from lambdaperm.state.identity import Identity

from . import (
    bucket_names,
    data_plane,
    dynamodb_s3,
    function_urls,
    iam_unreadable_arns,
    logs_s3,
    multi_delete,
    object_holds,
    request_log,
    state_disk,
)
from .call import Call
from .credentials import authenticate_call
from .denials import access_denied, unmapped
from .iam_paths import with_iam_paths
from .inherited_tags import with_inherited_tags
from .recording import is_read_only, record
from .server import DATA_PLANE, PRECHECKS, Server
from .trail_writer import WAIT_SECONDS, TrailNotCommitted
from .transport_keys import s3_transport_keys

log = logging.getLogger("lambdaperm.gateway")


def handle(server: Server, req: HttpRequest) -> HttpResponse:
    url = function_urls.match(req)
    if url is not None:
        return function_urls.handle(server, req, url[0], url[1])
    if req.path.startswith("/_lambdaperm/"):
        return admin(server, req)
    call = Call(req)
    response = _answer(server, call)
    request_log.logged(call, response.status)  # one line per request at debug level
    return response


def _answer(server: Server, call: Call) -> HttpResponse:
    req = call.req
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
    unrecorded = _record(server, call, output, None if response.status < 400 else _error_of(response))
    return unrecorded if unrecorded is not None else response


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
    if op.service_name == "iam":  # IAM's one endpoint is us-east-1's, whatever the scope: aws:RequestedRegion
        call.region = "us-east-1"  # and the trail say us-east-1 (docs/fidelity.md)
    call.identity = identity = authenticate_call(server, call)
    if identity.access_key_id and claimed is not None:  # GetAccessKeyLastUsed (services/iam/keys.py)
        note_key_used(server.records, identity.access_key_id, claimed.service, claimed.region, call.now)
    call.params = params = parse(op, req)
    check_input(op, params)  # the model's constraints, before any decision: AWS's validation error
    check_bucket_name(op, params)  # a bucket name S3 reads as it is written, or refused (round 15)
    check_created_name(op, params)  # a new queue, topic or group name in AWS's alphabet (round 15)
    precheck = PRECHECKS.get(op.service_name, {}).get(op.name)
    if precheck is not None:
        precheck(identity.account, params)
    # a bucket cannot change hands in between, nor an S3 object be written between the decision on its tags and
    # the execution (object_holds.py: taken after the bucket's hold, always in that order)
    with (bucket_names.held(op.service_name, op.name, params, identity.user_name) as names,
          object_holds.held(op.service_name, op.name, params) as objects):
        return _authorized_call(server, call, op, params, identity, names, objects)


def _authorized_call(server: Server, call: Call, op: Operation, params: dict[str, Any],
                     identity: Identity, names: bucket_names.HeldNames,
                     objects: object_holds.Held) -> tuple[HttpResponse, dict[str, Any] | None]:
    req = call.req
    # the incarnation of an invoked function, read before the decision (services/lambda_/incarnation.py)
    pinned = (incarnation.pin(server.records, op.name, params, identity.account or "000000000000", call.region)
              if op.service_name == "lambda" else {})
    if op.service_name == "ec2":  # a group by GroupName: its GroupId, decided on and executed (round 17)
        params = with_group_id(op.name, params, identity.account or "000000000000", call.region,
                               server.config.upstream is None)
    _authorize(server, call, op, params, identity)
    objects.check(op.service_name, call.resources)  # every S3 object decided on is held (object_holds.py)
    names.check(op.service_name, call.resources)  # every DynamoDB table decided on is held (table_holds.py)
    if server.state_disk is not None and not is_read_only(op.name) and not server.state_disk.admit(len(req.body)):
        raise state_disk.refusal(op.service_name)  # the state disk's reserve: refused before it runs (round 17)
    if op.service_name in server.services and op.name in server.services[op.service_name]:
        ctx = RequestContext(identity=identity, region=call.region, request_id=call.request_id, now=call.now,
                             records=server.records, trail=server.trail, env=server.lambda_env,
                             source_ip=req.remote_addr,
                             user_agent=req.header("user-agent", "") or "", pinned=pinned)
        output = server.services[op.service_name][op.name](ctx, params)
        return serialize(op, output, call.request_id), output
    if op.service_name in DATA_PLANE:
        return data_plane.run(server, call, op, params, identity)
    raise ServiceError("InvalidAction", f"The action {op.name} is not valid for this web service.", 400)


def _authorize(server: Server, call: Call, op: Operation, params: dict[str, Any], identity: Identity) -> None:
    account = identity.account or "000000000000"
    if op.service_name == "ec2":  # the default VPC a call acts in is authorized like a named one
        params = with_default_vpc(op.name, params, account, call.region, server.config.upstream is None)
        params = with_default_group(op.name, params, account, call.region, server.config.upstream is None)  # rnd 9
    if op.service_name == "logs":  # a GetLogEvents naming its own group by ARN: decided on the stream (round 9)
        params = logs_stream_for_decision(op.name, params, account, call.region)
    if (op.service_name, op.name) == ("s3", "DeleteObjects"):
        multi_delete.entries(params)  # a malformed list is S3's MalformedXML, before any authorization
    try:
        needed = _required_actions(op.service_name, op.name, params, account, call.region)
    except InvalidRequest as err:  # malformed as AWS reads it (a copy source, a PartiQL statement): AWS's error
        raise ServiceError(err.code, err.message, err.status, fields=err.fields) from None
    except UnresolvedResource as err:
        invalid = iam_unreadable_arns.refusal(op.service_name, err)  # IAM's InvalidInput (round 17)
        if invalid is not None:
            raise invalid from None
        implied = _implicit_params(server, err.implicit, params, identity)
        if implied is None:
            request_log.unmapped(call)
            raise unmapped(op.service_name, op.protocol, op.name) from None
        try:
            needed = required_actions(op.service_name, op.name, implied, account=account, region=call.region)
        except UnmappedOperation:
            request_log.unmapped(call)
            raise unmapped(op.service_name, op.protocol, op.name) from None
    except UnmappedOperation:
        request_log.unmapped(call)
        raise unmapped(op.service_name, op.protocol, op.name) from None
    needed = [with_iam_paths(server, n, op.service_name, op.name, params) for n in needed]
    needed = with_inherited_tags(server, identity, op.service_name, op.name, needed)
    call.resources = [r for n in needed for r in n.resources if r != "*"]
    if not needed:
        request_log.decided(call, needed, None)
        return
    tags = server.policies.principal_tags(identity) if identity.caller.is_iam_principal else {}
    context = request_context(identity, now=call.now, region=call.region, source_ip=call.req.remote_addr,
                              tags=tags, user_agent=call.req.header("user-agent", "") or "")
    transport = s3_transport_keys(call.req, call.now) if op.service_name == "s3" else None
    call.context, call.transport = context, transport
    if (op.service_name, op.name) == ("s3", "DeleteObjects"):  # each key on its own, refusals reported per key
        needs = multi_delete.per_key_actions(params, account, call.region)
        call.refused = multi_delete.refused(
            needs, lambda need: server.authorizer.enforce(identity, need, context, transport) is None)
        skip = set(call.refused)
        call.resources = [r for i, need in enumerate(needs) if i not in skip for n in need for r in n.resources]
        return
    denied = server.authorizer.enforce(identity, needed, context, transport)
    request_log.decided(call, needed, denied)
    if denied is not None:
        raise access_denied(op.service_name, op.protocol, denied.decision.message)
    if op.service_name == "dynamodb":  # S3 export/import buckets are accessed as the caller
        dynamodb_s3.authorize(server, call, op.name, params)
    if op.service_name == "logs":  # CreateExportTask writes its bucket as the caller (review round 3)
        logs_s3.authorize(server, call, op.name, params)


_REQUIRED_CACHE: dict[object, list[RequiredAction]] = {}


class _Unfreezable(Exception):
    pass


def _freeze(value: Any) -> Any:
    """A hashable image of request parameters (dict items keep their type tag so that {} != [])."""
    if isinstance(value, dict):
        return ("d", tuple(sorted((k, _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("l", tuple(_freeze(v) for v in value))
    if isinstance(value, bytes) and len(value) > 1024:
        raise _Unfreezable  # an upload's body: not kept in memory by a cache (nor worth a key)
    if isinstance(value, datetime):
        return ("datetime", value.isoformat())  # one instant in two zones is two values (their text differs)
    if isinstance(value, str | int | float | bool | bytes) or value is None:
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


def _record(
    server: Server, call: Call, output: dict[str, Any] | None, error: tuple[str, str] | None
) -> HttpResponse | None:
    """The call's CloudTrail record, committed (with the other calls' waiting at that moment) before the
    call is answered. An acknowledged call always has its record: when a successful call's record was not
    committed, the response to send instead is returned — AWS's 500 InternalFailure in the request's
    protocol (the call's outcome is then unknown to the client, as with any 500). An error answer
    acknowledges nothing and stands. The cause is logged either way.
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-concepts.html#cloudtrail-concepts-management-events
    """
    if call.op is None or call.identity is None:
        return None  # unauthenticated or unrouted requests are not recorded
    identity, op = call.identity, call.op

    def build() -> dict[str, Any]:
        return record(identity=identity, service=op.service_name, operation=op.name, region=call.region,
                      now=call.now, request_id=call.request_id, source_ip=call.req.remote_addr,
                      user_agent=call.req.header("user-agent", "") or "", params=call.params, output=output,
                      error=error, resources=call.resources, recipient=identity.account or "000000000000")
    try:
        server.trail.submit(build, WAIT_SECONDS).result(timeout=0)  # submit waits for the outcome
        return None
    except TimeoutError:
        cause = f"not committed within {WAIT_SECONDS} s"
    except TrailNotCommitted as exc:
        cause = str(exc)
    log.error("the trail record of %s %s (request %s) was not committed: %s; answering %s", op.service_name,
              op.name, call.request_id, cause, "InternalFailure" if error is None else f"its error {error[0]}")
    if error is not None:
        return None
    failure = ServiceError("InternalFailure", "The request processing has failed because of an unknown error, "
                           "exception or failure.", 500, sender_fault=False)
    return serialize_error(op.service_name, failure, call.request_id, request=call.req)


def admin(server: Server, req: HttpRequest) -> HttpResponse:
    if req.path in ("/_lambdaperm/health", "/_lambdaperm/health/"):
        body = {"status": "ok", "version": __version__,
                "services": sorted(set(server.services) | DATA_PLANE | {"cloudtrail"}),
                "upstream": server.config.upstream,
                "isolation": server.lambda_env.isolation.status()}  # no filesystem path: a handler can read this
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
