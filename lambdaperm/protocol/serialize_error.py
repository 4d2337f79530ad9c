"""serialize_error(): a ServiceError as the service's protocol renders it.

query: `<ErrorResponse xmlns><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/>`;
ec2: `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`;
json: `{"__type": code, "message": …}` (+ `x-amzn-query-error` for query-compatible services);
rest-json: `x-amzn-ErrorType: code` and `{"Type": "User", "message": …}` — `Message` where the modelled
error shape names it so (Lambda's ResourceNotFoundException); rest-xml (S3): `<Error><Code/><Message/>
<RequestId/><HostId/></Error>`, no body for HEAD. The error's `fields` join the body.
https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html#operation-error-serialization
"""

from __future__ import annotations

import json

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.http import HttpRequest, HttpResponse
from lambdaperm.protocol.json_body import json_value
from lambdaperm.protocol.legacy_query import legacy_code, shape_for_legacy_code
from lambdaperm.protocol.models import SUPPORTED_SERVICES, error_shape, is_query_compatible, protocol_of
from lambdaperm.protocol.route import claimed_signing_name, request_protocol, service_of_request
from lambdaperm.protocol.serialize import json_content_type, query_namespace
from lambdaperm.protocol.serialize_rest import request_id_headers
from lambdaperm.protocol.unserved import render_unserved
from lambdaperm.protocol.xml_writer import XmlNode, render


def serialize_error(
    service_name: str, error: ServiceError, request_id: str, *, request: HttpRequest | None = None
) -> HttpResponse:
    """The error response. Pass the request when there is one: it tells a query-mode SQS call from a JSON
    one and a HEAD request (no body) from the others, and names the service when `service_name` is unknown
    (identify() failed)."""
    response = _serialize_error(service_name, error, request_id, request)
    response.headers.extend(error.headers)
    return response


def _serialize_error(
    service_name: str, error: ServiceError, request_id: str, request: HttpRequest | None
) -> HttpResponse:
    if service_name not in SUPPORTED_SERVICES and request is not None:
        service_name = service_of_request(request) or service_name
    if service_name not in SUPPORTED_SERVICES:
        claimed = claimed_signing_name(request) if request is not None else None
        unserved = render_unserved(claimed, error, request_id) if claimed is not None else None
        return unserved if unserved is not None else _generic(error, request_id)
    protocol = request_protocol(request, service_name) if request is not None else protocol_of(service_name)
    if protocol == "query":
        return _query(service_name, error, request_id)
    if protocol == "ec2":
        return _ec2(error, request_id)
    if protocol == "json":
        return _json(service_name, error, request_id)
    if protocol == "rest-json":
        return _rest_json(service_name, error, request_id)
    head = request is not None and request.method.upper() == "HEAD"
    return _rest_xml(error, request_id, head=head)


def _shape(service_name: str, code: str) -> Shape | None:
    shape = error_shape(service_name, code)
    if shape is None:
        legacy_shape = shape_for_legacy_code(service_name, code)
        if legacy_shape is not None:
            shape = error_shape(service_name, legacy_shape)
    return shape


def _fault(error: ServiceError) -> str:
    return "Sender" if error.sender_fault else "Receiver"


def _query(service_name: str, error: ServiceError, request_id: str) -> HttpResponse:
    shape = _shape(service_name, error.code)
    code = error.code
    if shape is not None:
        code = (
            shape.error_code
            if protocol_of(service_name) == "query"
            else legacy_code(service_name, shape.name)
        )
    root = XmlNode("ErrorResponse", attributes=[("xmlns", query_namespace(service_name, "query"))])
    detail = root.add("Error")
    detail.add("Type", _fault(error))
    detail.add("Code", code)
    detail.add("Message", error.message)
    for name, value in error.fields.items():
        detail.add(name, _text(value))
    root.add("RequestId", request_id)
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    return HttpResponse(error.status, headers, render(root))


def _ec2(error: ServiceError, request_id: str) -> HttpResponse:
    root = XmlNode("Response")
    detail = root.add("Errors").add("Error")
    detail.add("Code", error.code)
    detail.add("Message", error.message)
    for name, value in error.fields.items():
        detail.add(name, _text(value))
    root.add("RequestID", request_id)
    headers = [("Content-Type", "text/xml;charset=UTF-8"), ("x-amzn-RequestId", request_id)]
    return HttpResponse(error.status, headers, render(root, declaration=True))


def _json_document(shape: Shape | None, error: ServiceError) -> dict[str, object]:
    members = shape.members if shape is not None else {}
    message_key = "Message" if "Message" in members and "message" not in members else "message"
    document: dict[str, object] = {message_key: error.message}
    for name, value in error.fields.items():
        document[name] = json_value(members[name], value) if name in members else value
    return document


def _json(service_name: str, error: ServiceError, request_id: str) -> HttpResponse:
    shape = _shape(service_name, error.code)
    type_name = shape.name if shape is not None else error.code
    document = {"__type": type_name, **_json_document(shape, error)}
    headers = [("Content-Type", json_content_type(service_name)), ("x-amzn-RequestId", request_id)]
    if is_query_compatible(service_name):
        query_code = legacy_code(service_name, shape.name) if shape is not None else error.code
        headers.append(("x-amzn-query-error", f"{query_code};{_fault(error)}"))
    return HttpResponse(error.status, headers, _dumps(document))


def _rest_json(service_name: str, error: ServiceError, request_id: str) -> HttpResponse:
    shape = _shape(service_name, error.code)
    type_name = shape.name if shape is not None else error.code
    document: dict[str, object] = {"Type": "User" if error.sender_fault else "Service"}
    document.update(_json_document(shape, error))
    headers = [("x-amzn-ErrorType", type_name), ("Content-Type", "application/json")]
    headers.extend(request_id_headers("rest-json", request_id))
    return HttpResponse(error.status, headers, _dumps(document))


def _rest_xml(error: ServiceError, request_id: str, *, head: bool) -> HttpResponse:
    headers = request_id_headers("rest-xml", request_id)
    if head:
        return HttpResponse(error.status, headers, b"")
    root = XmlNode("Error")
    root.add("Code", error.code)
    root.add("Message", error.message)
    for name, value in error.fields.items():
        root.add(name, _text(value))
    root.add("RequestId", request_id)
    root.add("HostId", headers[1][1])
    headers.append(("Content-Type", "application/xml"))
    return HttpResponse(error.status, headers, render(root, declaration=True))


def _generic(error: ServiceError, request_id: str) -> HttpResponse:
    """An error for a service this endpoint does not serve: JSON that both JSON parsers of botocore read."""
    document = {"__type": error.code, "message": error.message, **error.fields}
    headers = [
        ("x-amzn-ErrorType", error.code),
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
    ]
    return HttpResponse(error.status, headers, _dumps(document))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _dumps(document: dict[str, object]) -> bytes:
    return json.dumps(document, separators=(",", ":"), default=str).encode("utf-8")
