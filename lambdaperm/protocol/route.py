"""identify(): which service and operation a request is.

The service comes from the SigV4 credential scope (its signing name), else (unsigned requests such as
STS AssumeRoleWithWebIdentity or anonymous S3 reads) from X-Amz-Target, the query `Version`, or the host.
The operation: query/ec2 → the `Action` parameter; json → `X-Amz-Target: <targetPrefix>.<Operation>`;
rest-json/rest-xml → method + `requestUri` template (S3 path-style and virtual-hosted style).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, parse_qsl

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.dialects import input_error, protocol_error
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.form import form_params, query_pairs
from lambdaperm.protocol.hosts import VIRTUAL_HOST_MEMBERS, service_from_host, virtual_host_label
from lambdaperm.protocol.http import HttpRequest
from lambdaperm.protocol.models import (
    is_query_compatible,
    operation_model,
    operation_names,
    protocol_of,
    service_for_query_version,
    service_for_target_prefix,
    service_model,
    services_for_signing_name,
)
from lambdaperm.protocol.one_reading import check_request
from lambdaperm.protocol.operation import Operation
from lambdaperm.protocol.region import check_region
from lambdaperm.protocol.route_rest import RestRoute, match_route
from lambdaperm.protocol.s3_endpoints import refuse_unserved_endpoint
from lambdaperm.protocol.unserved import refusal


def identify(req: HttpRequest, signing_service: str | None) -> Operation:
    """The operation a request calls. Raises ServiceError: the protocol's unknown-operation error, or its
    refusal of a request that has more than one reading (`one_reading`) or names another region than its
    credential scope (`region`)."""
    service = _service(req, signing_service)
    protocol = request_protocol(req, service)
    try:
        check_request(req, service, protocol)
        check_region(req, service, protocol)
    except BadInput as exc:
        raise input_error(service, protocol, exc) from exc
    if service == "s3":  # an Object Lambda / access point / S3 Control host is not a bucket's (s3_endpoints)
        refuse_unserved_endpoint(req.host)
    if protocol in ("query", "ec2"):
        return _by_action(req, service, protocol)
    if protocol == "json":
        return _by_target(req, service)
    route = rest_route(req, service)
    return Operation(service, route[0].operation, operation_model(service, route[0].operation), protocol)


def request_protocol(req: HttpRequest, service_name: str) -> str:
    """The wire protocol of a request to this service: the model's, or `query` for a query-compatible
    JSON service (SQS) addressed without X-Amz-Target but with an `Action` parameter."""
    protocol = protocol_of(service_name)
    if protocol == "json" and req.header("x-amz-target") is None and is_query_compatible(service_name):
        try:
            if "Action" in form_params(req):
                return "query"
        except BadInput:
            return protocol
    return protocol


def _unknown_service(what: str) -> ServiceError:
    return ServiceError("UnknownOperationException", f"lambdaperm does not serve {what}", 400)


def _service(req: HttpRequest, signing_service: str | None) -> str:
    if signing_service is not None:
        candidates = services_for_signing_name(signing_service)
        if not candidates:
            raise refusal(signing_service)  # in the protocol of the service named (protocol/unserved.py)
        if len(candidates) == 1:
            return candidates[0]
        return _narrow(req, candidates) or candidates[0]
    found = _unsigned_service(req)
    if found is None:
        raise _unknown_service("this request: it names no service (unsigned, no X-Amz-Target, Action or host)")
    return found


_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request", re.ASCII)


def claimed_signing_name(req: HttpRequest) -> str | None:
    """The service name of the request's credential scope (header or presigned query), read, not verified."""
    scope = _SCOPE.search(req.header("authorization") or "") or _SCOPE.search(
        "Credential=" + dict(parse_qsl(req.query_string)).get("X-Amz-Credential", "")
    )
    return scope.group(1) if scope is not None else None


def service_of_request(req: HttpRequest) -> str | None:
    """A best guess at the service of any request, for rendering an error when identify() could not
    finish: the credential scope's service name (read, not verified), else what an unsigned request shows."""
    scope = _SCOPE.search(req.header("authorization") or "") or _SCOPE.search(
        "Credential=" + dict(parse_qsl(req.query_string)).get("X-Amz-Credential", "")
    )
    if scope is not None:
        candidates = services_for_signing_name(scope.group(1))
        if candidates:
            return _narrow(req, candidates) or candidates[0]
    return _unsigned_service(req)


def _narrow(req: HttpRequest, candidates: tuple[str, ...]) -> str | None:
    """Among services sharing a signing name, the one the target prefix or the host names."""
    target = req.header("x-amz-target")
    if target:
        by_target = service_for_target_prefix(target.rpartition(".")[0])
        if by_target in candidates:
            return by_target
    by_host = service_from_host(req.host)
    return by_host if by_host in candidates else None


def _unsigned_service(req: HttpRequest) -> str | None:
    target = req.header("x-amz-target")
    if target:
        return service_for_target_prefix(target.rpartition(".")[0])
    try:
        params = form_params(req)
    except BadInput:
        params = {}
    if "Action" in params:
        by_version = service_for_query_version(params.get("Version", ""))
        if by_version is not None:
            return by_version
    by_host = service_from_host(req.host)
    if by_host is not None:
        return by_host
    if virtual_host_label(req.host) is not None:
        return "s3"
    if _is_lambda_path(req):
        return "lambda"
    return None


def _is_lambda_path(req: HttpRequest) -> bool:
    """An unsigned path-style request whose method and path are a Lambda route (`/2015-03-31/functions…`): a
    Lambda call, refused as Lambda refuses an unsigned one (MissingAuthenticationTokenException), not an
    anonymous S3 read of a bucket named after Lambda's API version (issue 8 §4)."""
    query = parse_qs(req.query_string, keep_blank_values=True)
    found = match_route("lambda", req.method, req.path or "/", query, lambda name: req.header(name) is not None)
    return found is not None


def _by_action(req: HttpRequest, service: str, protocol: str) -> Operation:
    try:
        params = dict(query_pairs(req))
    except BadInput as exc:
        raise input_error(service, protocol, exc) from exc
    action = params.get("Action")
    version = str(service_model(service).metadata.get("apiVersion", ""))
    if not action:
        raise protocol_error(service, protocol, "missing_operation", version=version)
    if action not in operation_names(service):
        raise protocol_error(service, protocol, "unknown_operation", operation=action, version=version)
    return Operation(service, action, operation_model(service, action), protocol)


def _by_target(req: HttpRequest, service: str) -> Operation:
    target = req.header("x-amz-target")
    if not target:
        raise protocol_error(service, "json", "missing_operation")
    prefix, _, name = target.strip().rpartition(".")
    expected = service_model(service).metadata.get("targetPrefix")
    if prefix != expected or name not in operation_names(service):
        raise protocol_error(service, "json", "unknown_operation", operation=target)
    return Operation(service, name, operation_model(service, name), "json")


def effective_path(req: HttpRequest, service: str) -> str:
    """The raw request path with a virtual host's bucket put back in front (`/bucket/key`)."""
    path = req.path or "/"
    if service in VIRTUAL_HOST_MEMBERS:
        label = virtual_host_label(req.host)
        if label is not None:
            return f"/{label}" + (path if path != "/" else "")
    return path


def rest_route(req: HttpRequest, service: str) -> tuple[RestRoute, dict[str, str]]:
    """The REST route of a request and its raw (percent-encoded) label values."""
    path = effective_path(req, service)
    query = parse_qs(req.query_string, keep_blank_values=True)
    found = match_route(service, req.method, path, query, lambda name: req.header(name) is not None)
    if found is None:
        protocol = protocol_of(service)
        raise protocol_error(service, protocol, "unknown_operation", operation=f"{req.method} {req.path}")
    return found
