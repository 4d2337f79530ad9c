"""Function URLs served by the endpoint (spec §3.6).

A URL is reached as `http://<url-id>.lambda-url.<region>.localhost:<port>/path` (the FunctionUrl the API
returns) or `http://<host>:<port>/_lambdaperm/url/<url-id>/path`. AuthType AWS_IAM: the request is SigV4
signed for service `lambda` and the caller needs lambda:InvokeFunctionUrl; AuthType NONE: no
authentication, but the function policy must still grant lambda:InvokeFunctionUrl to "*". Either way the
caller also needs lambda:InvokeFunction with lambda:InvokedViaFunctionUrl = true (required for every URL
since 2026-11-01). A denial is HTTP 403 `{"Message":"Forbidden"}`; a function error is 502; a throttled invocation
(the account at its concurrency, Invoke's TooManyRequestsException) is 429 `{"Message":"Rate Exceeded."}`
(a throttle is a 429 however the function is invoked: https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html;
the body's text is Invoke's, the URL's own is not documented).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from lambdaperm.authn import AuthFailure, scope
from lambdaperm.authz import request_context
from lambdaperm.catalog import RequiredAction
from lambdaperm.protocol import HttpRequest, HttpResponse, ServiceError
from lambdaperm.services.context import RequestContext
from lambdaperm.services.lambda_ import store as lambda_store
from lambdaperm.services.lambda_.invoke import run
from lambdaperm.services.lambda_.names import FunctionRef
from lambdaperm.services.lambda_.urls import URL_INDEX

from . import function_url_hosts, function_url_response
from .call import ANONYMOUS, Call
from .credentials import authenticate_call
from .recording import record
from .server import Server
from .url_pins import same_target

_HOST = re.compile(r"^(?P<id>[a-z0-9]{32})\.lambda-url\.(?P<region>[a-z0-9-]+)\.[^:]+(:\d+)?$", re.ASCII)
_PATH = re.compile(r"^/_lambdaperm/url/(?P<id>[a-z0-9]{32})(?P<path>/.*)?$")


def match(req: HttpRequest) -> tuple[str, str] | None:
    """(url id, path within the URL) when the request is addressed to a function URL."""
    host = _HOST.match(req.host.lower())
    if host:
        return host.group("id"), req.path or "/"
    path = _PATH.match(req.path)
    if path:
        return path.group("id"), path.group("path") or "/"
    return None


def _json(status: int, body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json"), ("x-amzn-RequestId", str(uuid.uuid4()))],
                        json.dumps(body).encode())


def handle(server: Server, req: HttpRequest, url_id: str, path: str) -> HttpResponse:
    entry = server.records.get(URL_INDEX, "", url_id)
    if entry is None or not function_url_hosts.reaches(req, entry["Region"]):  # another region knows no such URL
        return _json(404, {"Message": None})
    ref = FunctionRef(entry["Account"], entry["Region"], entry["Name"], entry["Slot"] or None)
    fn = lambda_store.find(server.records, ref)
    config = fn["Urls"].get(entry["Slot"]) if fn else None
    if fn is None or config is None or config.get("UrlId") != url_id:
        # a URL dies with the function (or qualifier) it was created for: a function or alias of the same name
        # created later has a URL of its own (https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html)
        return _json(404, {"Message": None})
    call = Call(req)
    if config["AuthType"] == "AWS_IAM":
        try:
            call.scope = claimed = scope(req)
            if claimed is None or claimed.service != "lambda" or claimed.region != ref.region:
                return _json(403, {"Message": "Forbidden"})  # signed for Lambda in the function's region only
            identity = authenticate_call(server, call)
        except AuthFailure:
            return _json(403, {"Message": "Forbidden"})
    else:
        identity = ANONYMOUS
    addressed = ref.addressed_arn
    tags = server.policies.principal_tags(identity) if identity.caller.is_iam_principal else {}  # aws:PrincipalTag
    context = request_context(identity, now=call.now, region=ref.region, source_ip=req.remote_addr, tags=tags,
                              user_agent=req.header("user-agent", "") or "")
    needed = [
        RequiredAction("lambda:InvokeFunctionUrl", (addressed,),
                       {"lambda:functionurlauthtype": (config["AuthType"],), "lambda:functionarn": (addressed,)}),
        RequiredAction("lambda:InvokeFunction", (addressed,), {"lambda:invokedviafunctionurl": ("true",)}),
    ]
    denied = server.authorizer.enforce(identity, needed, context)
    _trail(server, call, identity, ref, denied.decision.message if denied else None)
    if denied is not None:
        return _json(403, {"Message": "Forbidden"})
    # the function, alias and URL the decision read, or the URL's 404 (re-created since: races review round 8)
    decided, fn = fn, lambda_store.find(server.records, ref)
    if fn is None or not same_target(decided, fn, entry["Slot"] or ""):
        return _json(404, {"Message": None})
    version, _alias = lambda_store.resolve_qualifier(fn, ref)
    ctx = RequestContext(identity=identity, region=ref.region, request_id=call.request_id, now=call.now,
                         records=server.records, trail=server.trail, env=server.lambda_env,
                         source_ip=req.remote_addr)
    try:
        result = run(ctx, fn, version, json.dumps(_event(req, url_id, ref, path, identity)).encode())
    except ServiceError as e:
        if e.status == 429:  # throttled (the account at its concurrency): Lambda's URL answers 429, not a 502
            return _json(429, {"Message": "Rate Exceeded."})
        return _json(502, {"Message": "Internal Server Error"})
    if result.function_error:
        return _json(502, {"Message": "Internal Server Error"})
    return _response(result.payload)


def _event(req: HttpRequest, url_id: str, ref: FunctionRef, path: str, identity: Any) -> dict[str, Any]:
    """The payload format version 2.0 event Lambda builds for a URL request."""
    now = datetime.now(UTC)
    headers: dict[str, str] = {}
    for k, v in req.headers:  # payload 2.0: duplicate headers are combined with commas
        headers[k.lower()] = f"{headers[k.lower()]},{v}" if k.lower() in headers else v
    body = req.body
    text: str | None
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": req.query_string,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous" if identity.caller.account == "" else identity.caller.account,
            "apiId": url_id, "domainName": req.host, "domainPrefix": url_id,
            "http": {"method": req.method, "path": path, "protocol": "HTTP/1.1", "sourceIp": req.remote_addr,
                     "userAgent": headers.get("user-agent", "")},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if req.query_string:
        query: dict[str, str] = {}
        for k, v in parse_qsl(req.query_string, keep_blank_values=True):  # duplicates combined with commas
            query[k] = f"{query[k]},{v}" if k in query else v
        event["queryStringParameters"] = query
    if "cookie" in headers:
        event["cookies"] = [c.strip() for value in req.header_values("cookie") for c in value.split(";")]
    if body:
        event["body"] = text
    if identity.caller.account:
        event["requestContext"]["authorizer"] = {"iam": {
            "accessKey": identity.access_key_id, "accountId": identity.caller.account,
            "callerId": identity.principal_id, "userArn": identity.caller.arn, "userId": identity.principal_id}}
    return event


def _response(payload: bytes) -> HttpResponse:
    """A handler result with `statusCode` is an HTTP response; anything else is a 200 JSON body."""
    try:
        value = json.loads(payload or b"null")
    except ValueError:
        return HttpResponse(200, [("Content-Type", "application/json")], payload)
    if isinstance(value, dict) and "statusCode" in value:
        if function_url_response.malformed(value) is not None:  # unsendable: Lambda's 502
            return _json(502, {"Message": "Internal Server Error"})
        headers = [(str(k), str(v)) for k, v in (value.get("headers") or {}).items()]
        for cookie in value.get("cookies") or []:
            headers.append(("Set-Cookie", str(cookie)))
        body = value.get("body") or ""
        data = base64.b64decode(body) if value.get("isBase64Encoded") else str(body).encode()
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return HttpResponse(int(value["statusCode"]), headers, data)
    return HttpResponse(200, [("Content-Type", "application/json")], payload)


def _trail(server: Server, call: Any, identity: Any, ref: FunctionRef, denial: str | None) -> None:
    rec = record(identity=identity, service="lambda", operation="InvokeFunctionUrl", region=ref.region,
                 now=call.now, request_id=call.request_id, source_ip=call.req.remote_addr,
                 user_agent=call.req.header("user-agent", "") or "", params={"FunctionName": ref.addressed_arn},
                 output=None, error=("AccessDenied", denial) if denial else None, resources=[ref.arn],
                 recipient=ref.account)
    server.trail.append(rec)
