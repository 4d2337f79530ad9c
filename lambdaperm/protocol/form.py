"""Query-protocol parameters: the query string plus an `application/x-www-form-urlencoded` body.
https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#request-serialization
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.http import HttpRequest

_FORM = "application/x-www-form-urlencoded"


def decode_pairs(text: str) -> list[tuple[str, str]]:
    """`a=1&b=x%20y` → pairs; invalid UTF-8 in an escape is BadInput."""
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput("body", "The query string contains a syntax error.") from exc


def has_form_body(req: HttpRequest) -> bool:
    content_type = (req.header("content-type") or "").split(";", 1)[0].strip().lower()
    return bool(req.body) and content_type in ("", _FORM)


def form_pairs(req: HttpRequest) -> list[tuple[str, str]]:
    """All query parameters of a request, the query string's first, then the form body's."""
    pairs = decode_pairs(req.query_string) if req.query_string else []
    if has_form_body(req):
        try:
            text = req.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput("body", "The request body is not valid UTF-8.") from exc
        pairs.extend(decode_pairs(text))
    return pairs


def form_params(req: HttpRequest) -> dict[str, str]:
    """Parameters by name; a repeated name keeps its last value."""
    return dict(form_pairs(req))
