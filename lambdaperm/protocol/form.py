"""Query-protocol parameters: the query string, or an `application/x-www-form-urlencoded` body.
https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#request-serialization

One reading: `query_pairs` gives the parameters of a request only when there is exactly one way to read
them — every name once, and either a query string or a form body, never both (AWS's signature front end
answers `When Content-Type:application/x-www-form-urlencoded, URL cannot include query-string parameters
(after '?')` to the latter); a body of another content type is refused rather than ignored.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.content_types import FORM, is_exactly
from lambdaperm.protocol.http import HttpRequest


def decode_pairs(text: str) -> list[tuple[str, str]]:
    """`a=1&b=x%20y` → pairs; invalid UTF-8 in an escape is BadInput."""
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput("body", "The query string contains a syntax error.") from exc


def is_form(req: HttpRequest) -> bool:
    """The request says its body is form-encoded (`application/x-www-form-urlencoded[; charset=utf-8]`)."""
    return is_exactly(req.header("content-type"), FORM)


def has_form_body(req: HttpRequest) -> bool:
    return bool(req.body) and is_form(req)


def form_pairs(req: HttpRequest) -> list[tuple[str, str]]:
    """All parameters of a request as sent, repeats included: the query string's, then a form body's. For
    telling what a request names (routing); `query_pairs` is the one reading of them."""
    pairs = decode_pairs(req.query_string) if req.query_string else []
    if has_form_body(req):
        pairs.extend(decode_pairs(_body_text(req)))
    return pairs


def form_params(req: HttpRequest) -> dict[str, str]:
    """Parameters by name, for telling what a request names (a repeated name keeps its last value)."""
    return dict(form_pairs(req))


def query_pairs(req: HttpRequest) -> list[tuple[str, str]]:
    """The parameters of a query-protocol request, each name once. Raises BadInput: `content_type` for a
    body that is not form-encoded, `signature` for a form content type beside a query string, `ambiguous`
    for a name given twice, `body` for bytes that do not decode."""
    if req.body and not is_form(req):
        content_type = req.header("content-type")
        shown = f"'{content_type}'" if content_type is not None else "no Content-Type"
        raise BadInput("content_type", f"The request body must be {FORM}; it was sent with {shown} and cannot be read.")
    if is_form(req) and req.query_string:
        raise BadInput(
            "signature",
            f"When Content-Type:{FORM}, URL cannot include query-string parameters (after '?'): "
            f"'{req.path}?{req.query_string}'",
        )
    pairs = form_pairs(req)
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise BadInput("ambiguous", f"The parameter '{name}' is given more than once; each may appear once.")
        seen.add(name)
    return pairs


def _body_text(req: HttpRequest) -> str:
    try:
        return req.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput("body", "The request body is not valid UTF-8.") from exc
