"""serialize(): an operation's output as the HTTP response AWS sends and botocore parses.

query: `<OpResponse xmlns><OpResult>…</OpResult><ResponseMetadata><RequestId>…`; ec2: `<OpResponse xmlns>
<requestId>…` then the members; json: the members as JSON (`application/x-amz-json-1.0|1.1`); rest
protocols: status, headers and body per the members' locations (see `serialize_rest`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from lambdaperm.protocol.http import HttpResponse
from lambdaperm.protocol.json_body import json_members
from lambdaperm.protocol.legacy_query import query_dialect
from lambdaperm.protocol.models import protocol_of, service_model
from lambdaperm.protocol.naming import MODEL_NAMING, Naming
from lambdaperm.protocol.operation import Operation
from lambdaperm.protocol.serialize_rest import serialize_rest
from lambdaperm.protocol.xml_body import add_members
from lambdaperm.protocol.xml_writer import XmlNode, render

XML_CONTENT_TYPE = "text/xml"


def serialize(op: Operation, output: Mapping[str, object], request_id: str) -> HttpResponse:
    """The response for a successful call of `op` returning `output` (a boto3-shaped result dict)."""
    if op.protocol == "query":
        return _query(op, output, request_id)
    if op.protocol == "ec2":
        return _ec2(op, output, request_id)
    if op.protocol == "json":
        return _json(op, output, request_id)
    return serialize_rest(op, output, request_id)


def query_namespace(service_name: str, protocol: str) -> str:
    """The xmlns of a query/ec2 response (EC2's carries a trailing slash on the wire)."""
    if protocol_of(service_name) != protocol:
        dialect = query_dialect(service_name)
        if dialect is not None:
            return dialect.xml_namespace
    namespace = str(service_model(service_name).metadata.get("xmlNamespace", ""))
    if protocol == "ec2" and namespace and not namespace.endswith("/"):
        namespace += "/"
    return namespace


def _naming(op: Operation) -> Naming:
    if protocol_of(op.service_name) != op.protocol:
        dialect = query_dialect(op.service_name)
        if dialect is not None:
            return dialect.naming
    return MODEL_NAMING


def _query(op: Operation, output: Mapping[str, object], request_id: str) -> HttpResponse:
    root = XmlNode(f"{op.name}Response", attributes=[("xmlns", query_namespace(op.service_name, "query"))])
    shape = op.model.output_shape
    if shape is not None:
        wrapper = str(shape.serialization.get("resultWrapper") or f"{op.name}Result")
        add_members(root.add(wrapper), shape, output, _naming(op))
    root.add("ResponseMetadata").add("RequestId", request_id)
    return HttpResponse(200, _xml_headers(request_id), render(root))


def _ec2(op: Operation, output: Mapping[str, object], request_id: str) -> HttpResponse:
    root = XmlNode(f"{op.name}Response", attributes=[("xmlns", query_namespace(op.service_name, "ec2"))])
    root.add("requestId", request_id)
    shape = op.model.output_shape
    if shape is not None:
        add_members(root, shape, output, MODEL_NAMING)
    return HttpResponse(200, _xml_headers(request_id), render(root, declaration=True))


def _xml_headers(request_id: str) -> list[tuple[str, str]]:
    return [("Content-Type", XML_CONTENT_TYPE), ("x-amzn-RequestId", request_id)]


def json_content_type(service_name: str) -> str:
    version = service_model(service_name).metadata.get("jsonVersion", "1.0")
    return f"application/x-amz-json-{version}"


def _json(op: Operation, output: Mapping[str, object], request_id: str) -> HttpResponse:
    shape = op.model.output_shape
    document = json_members(shape, output) if shape is not None else {}
    body = json.dumps(document, separators=(",", ":")).encode("utf-8")
    headers = [("Content-Type", json_content_type(op.service_name)), ("x-amzn-RequestId", request_id)]
    return HttpResponse(200, headers, body)
