"""A carriage return in a canonical XML body stays a carriage return.

XML parsers turn a literal carriage return (`\r`, `\r\n`) into a line feed before the document is read
(XML 1.0 §2.11, https://www.w3.org/TR/xml/#sec-line-ends); only the character reference `&#13;` keeps it.
S3 asks clients for exactly that ("\r → &#13; or &#x0D;", "XML related object key constraints",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html#object-key-xml-related-constraints),
but botocore's XML serializer writes the character itself. Re-serialized as botocore writes it, a
DeleteObjects authorized on `k\rx` would delete `k\nx` in the backend (and a tag value would change).
So every carriage return in a canonical rest-xml body is written as `&#13;`: botocore's serializer emits
none of its own, so each one comes from a value, and the reference is valid in text and in attributes.

Only an XML body: an operation whose payload is a blob or a string (PutObject's and UploadPart's `Body`, a
bucket policy's JSON) sends those bytes as they are — a `\r` in an object is a byte of the object.
"""

from __future__ import annotations

from typing import Any

from botocore.model import OperationModel  # type: ignore[import-untyped]

_CR = b"\r"
_CR_REFERENCE = b"&#13;"


def keep_carriage_returns(model: OperationModel, request: Any) -> Any:
    """The canonical request (a botocore AWSPreparedRequest) with its XML body's carriage returns written as
    `&#13;` and its Content-Length to match; any other request (another protocol, a payload that is not XML)
    unchanged."""
    body = request.body
    if model.metadata["protocol"] != "rest-xml" or not isinstance(body, bytes) or _CR not in body:
        return request
    if not _xml_body(model):
        return request
    request.body = body.replace(_CR, _CR_REFERENCE)
    request.headers["Content-Length"] = str(len(request.body))
    return request


def _xml_body(model: OperationModel) -> bool:
    """Whether the operation's request body is an XML document (not a blob or string payload sent as is)."""
    shape = model.input_shape
    if shape is None:
        return False
    payload = shape.serialization.get("payload")
    if payload is None:
        return True
    return bool(shape.members[payload].type_name == "structure")
