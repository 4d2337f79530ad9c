"""Whether a handler's function URL response can be sent as an HTTP response at all.

A function URL turns the handler's result ``{"statusCode", "headers", "cookies", "body", "isBase64Encoded"}``
(payload format 2.0, https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads) into the
HTTP response. The handler is untrusted with respect to the server (docs/security.md, "Runtime isolation"): a
status the protocol does not allow as a final answer (``101`` switches the client's connection to another protocol,
``99`` is none), a header whose name is not an HTTP token or whose value carries CR/LF/NUL (response splitting) or
a character the header block cannot carry, a ``headers`` that is not an object, or a body declared base64 that is
not, used to reach the HTTP layer — which sent 101 as is, dropped the connection without an answer, or answered
a bare 500 with a traceback in the server's log. Lambda answers a malformed function response with 502
``{"Message": "Internal Server Error"}``, as it does for a function error.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

# RFC 9110 §5.6.2: token = 1*tchar
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# RFC 9110 §5.5: field values are visible characters, SP and HTAB (obs-text, 0x80-0xFF, is latin-1)
_FIELD_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")
FIRST_STATUS, LAST_STATUS = 200, 599  # final answers; 1xx are interim, below 100 is no status


def _status(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        status = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        status = int(value)
    else:
        return None
    return status if FIRST_STATUS <= status <= LAST_STATUS else None


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def malformed(response: dict[str, Any]) -> str | None:
    """Why `response` (a handler result with ``statusCode``) cannot be sent, or None when it can."""
    if _status(response.get("statusCode")) is None:
        return "statusCode is not an HTTP status from 200 to 599"
    headers = response.get("headers") or {}
    if not isinstance(headers, dict):
        return "headers is not an object"
    for name, value in headers.items():
        if not _TOKEN.fullmatch(str(name)):  # `$` passes a final newline (round 17)
            return "a header name is not an HTTP token"
        if not _scalar(value) or not _FIELD_VALUE.fullmatch(str(value)):
            return "a header value is not an HTTP field value"
    cookies = response.get("cookies") or []
    if not isinstance(cookies, list) or not all(_scalar(c) and _FIELD_VALUE.fullmatch(str(c)) for c in cookies):
        return "cookies is not a list of HTTP field values"
    body = response.get("body")
    if response.get("isBase64Encoded") and body:
        try:
            base64.b64decode(str(body), validate=True)
        except (binascii.Error, ValueError):
            return "body is not base64"
    return None
