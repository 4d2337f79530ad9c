"""A carriage return in a canonical XML body stays a carriage return.

XML parsers turn a literal carriage return (`\r`, `\r\n`) into a line feed before the document is read
(XML 1.0 §2.11, https://www.w3.org/TR/xml/#sec-line-ends); only the character reference `&#13;` keeps it.
S3 asks clients for exactly that ("\r → &#13; or &#x0D;", "XML related object key constraints",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html#object-key-xml-related-constraints),
but botocore's XML serializer writes the character itself. Re-serialized as botocore writes it, a
DeleteObjects authorized on `k\rx` would delete `k\nx` in the backend (and a tag value would change).
So every carriage return in a canonical rest-xml body is written as `&#13;`: botocore's serializer emits
none of its own, so each one comes from a value, and the reference is valid in text and in attributes.
"""

from __future__ import annotations

from typing import Any

_CR = b"\r"
_CR_REFERENCE = b"&#13;"


def keep_carriage_returns(protocol: str, request: Any) -> Any:
    """The canonical request (a botocore AWSPreparedRequest) with its XML body's carriage returns written as
    `&#13;` and its Content-Length to match; any other request unchanged."""
    body = request.body
    if protocol != "rest-xml" or not isinstance(body, bytes) or _CR not in body:
        return request
    request.body = body.replace(_CR, _CR_REFERENCE)
    request.headers["Content-Length"] = str(len(request.body))
    return request
