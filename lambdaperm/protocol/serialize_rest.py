"""REST responses (restJson1, restXml): the status (`http.responseCode`, or a `statusCode` member),
header and header-prefix members, and the body — the payload member (raw bytes for a blob/string
payload) or the unbound members as a JSON object / XML document.
https://smithy.io/2.0/spec/http-bindings.html
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from botocore.model import Shape  # type: ignore[import-untyped]

from lambdaperm.protocol.http import HttpResponse
from lambdaperm.protocol.json_body import json_members, json_value
from lambdaperm.protocol.models import service_model
from lambdaperm.protocol.naming import MODEL_NAMING
from lambdaperm.protocol.operation import Operation
from lambdaperm.protocol.scalars import as_int, to_text
from lambdaperm.protocol.timestamps import ISO8601, RFC822
from lambdaperm.protocol.xml_body import add_members
from lambdaperm.protocol.xml_writer import XmlNode, render

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

# Quirks as data: the root element of S3 results, which the model does not name.
_XML_ROOTS: Mapping[str, str] = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListDirectoryBuckets": "ListAllMyDirectoryBucketsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListParts": "ListPartsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "DeleteObjects": "DeleteResult",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketTagging": "Tagging",
    "GetObjectTagging": "Tagging",
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    "GetBucketNotification": "NotificationConfiguration",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketWebsite": "WebsiteConfiguration",
    "GetBucketRequestPayment": "RequestPaymentConfiguration",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetObjectAttributes": "GetObjectAttributesResponse",
}
# The result is the text of one root element (`<LocationConstraint>eu-west-1</LocationConstraint>`).
_XML_TEXT_ROOTS: Mapping[str, str] = {"GetBucketLocation": "LocationConstraint"}


def request_id_headers(protocol: str, request_id: str) -> list[tuple[str, str]]:
    if protocol == "rest-xml":
        host_id = base64.b64encode(request_id.encode("utf-8")).decode("ascii")
        return [("x-amz-request-id", request_id), ("x-amz-id-2", host_id)]
    return [("x-amzn-RequestId", request_id)]


def serialize_rest(op: Operation, output: Mapping[str, object], request_id: str) -> HttpResponse:
    status = int(op.model.http.get("responseCode", 200))
    headers = request_id_headers(op.protocol, request_id)
    shape = op.model.output_shape
    if shape is None:
        return HttpResponse(status, headers, b"")
    for name, member in shape.members.items():
        value = output.get(name)
        if value is None:
            continue
        location = member.serialization.get("location")
        wire = str(member.serialization.get("name", name))
        if location == "statusCode":
            status = as_int(value)
        elif location == "header":
            headers.append((wire, header_text(member, value)))
        elif location == "headers" and isinstance(value, Mapping):
            headers.extend((wire + str(key), str(item)) for key, item in value.items())
    body, content_type = _body(op, shape, output)
    if body and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", content_type))
    return HttpResponse(status, headers, body)


def header_text(member: Shape, value: object) -> str:
    """A header member's value: RFC 822 dates, comma-joined lists, base64 JSON for `jsonvalue`."""
    if member.type_name == "list" and isinstance(value, list | tuple):
        items = [header_text(member.member, item) for item in value]
        return ",".join(f'"{_quote(item)}"' if ("," in item or '"' in item) else item for item in items)
    if member.type_name == "string" and member.serialization.get("jsonvalue"):
        text = json.dumps(value, separators=(",", ":"))
        return base64.b64encode(text.encode("utf-8")).decode("ascii")
    return to_text(member, value, RFC822)


def _quote(item: str) -> str:
    return item.replace("\\", "\\\\").replace('"', '\\"')


def _body(op: Operation, shape: Shape, output: Mapping[str, object]) -> tuple[bytes, str]:
    json_type = "application/json"
    xml_type = "application/xml"
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        value = output.get(payload)
        if value is None:
            return b"", json_type
        if member.type_name in ("blob", "string"):
            return _raw(value), "application/octet-stream" if member.type_name == "blob" else "text/plain"
        if op.protocol == "rest-xml":
            root = XmlNode(str(member.serialization.get("name", member.name)))
            add_value_root(root, member, value, xml_namespace(op.service_name))
            return render(root, declaration=True), xml_type
        return json.dumps(json_value(member, value), separators=(",", ":")).encode("utf-8"), json_type
    body_members = [n for n, m in shape.members.items() if "location" not in m.serialization]
    if not body_members:
        return b"", json_type
    if op.protocol == "rest-xml":
        return _xml_document(op, shape, output), xml_type
    document = json_members(shape, output, body_only=True)
    return json.dumps(document, separators=(",", ":")).encode("utf-8"), json_type


def add_value_root(root: XmlNode, member: Shape, value: object, namespace: str | None) -> None:
    """A payload structure written as the document's root element."""
    if isinstance(value, Mapping):
        add_members(root, member, value, MODEL_NAMING)
    else:
        root.text = to_text(member, value, ISO8601)
    if namespace and not any(name == "xmlns" for name, _ in root.attributes):
        root.attributes.append(("xmlns", namespace))


def xml_namespace(service_name: str) -> str | None:
    namespace = service_model(service_name).metadata.get("xmlNamespace")
    if namespace:
        return str(namespace)
    return S3_NAMESPACE if service_name == "s3" else None


def _xml_document(op: Operation, shape: Shape, output: Mapping[str, object]) -> bytes:
    text_root = _XML_TEXT_ROOTS.get(op.name)
    if text_root is not None:
        value = output.get(text_root)
        root = XmlNode(text_root, None if value is None else str(value))
    else:
        name = _XML_ROOTS.get(op.name) or str(shape.serialization.get("name") or f"{op.name}Result")
        root = XmlNode(name)
        add_members(root, shape, output, MODEL_NAMING)
    namespace = xml_namespace(op.service_name)
    if namespace and not any(key == "xmlns" for key, _ in root.attributes):
        root.attributes.insert(0, ("xmlns", namespace))
    return render(root, declaration=True)


def _raw(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    read = getattr(value, "read", None)
    if callable(read):
        data = read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return str(value).encode("utf-8")
