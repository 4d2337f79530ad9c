"""One reading of every request: the request-level shapes that another reader (the backend behind
lambdaperm, an `--upstream` endpoint, AWS itself) could read differently from lambdaperm are refused
before the request is routed, never resolved by picking one reading. docs/fidelity.md ("One reading")
lists the rules, AWS's answer to each and where lambdaperm is stricter.

Every protocol: the headers that say where the request goes, what its body is and who signed it (Host,
Content-Type, Authorization, X-Amz-Date or Date, X-Amz-Security-Token, X-Amz-Content-Sha256,
X-Amz-Decoded-Content-Length) appear once, and so
do the presigned-URL parameters in the query string (RFC 9110 §5.3 lets a recipient join repeated lines
only for list-valued fields; none of these is one).
https://www.rfc-editor.org/rfc/rfc9110#section-5.3

AWS JSON 1.0/1.1 (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html): the body is
`application/x-amz-json-<jsonVersion>` (AWS answers another content type with a 404
`UnknownOperationException`), one X-Amz-Target, the path `/`, and no query string (AWS ignores it; a
reader that does not would act on it, so it is refused).

Query and EC2 (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html): no X-Amz-Target, and the
parameters read by `form.query_pairs` (a form body or a query string, never both, each name once).
REST (S3, Lambda): no X-Amz-Target either (AWS ignores it; a router that reads it first would not); bound
headers and query parameters once (`parse_rest`).
"""

from __future__ import annotations

from lambdaperm.protocol.bad_input import BadInput, Kind
from lambdaperm.protocol.content_types import is_exactly
from lambdaperm.protocol.form import query_pairs
from lambdaperm.protocol.http import HttpRequest, signed_query_pairs
from lambdaperm.protocol.serialize import json_content_type

# headers whose second line would give a second reading of where the request goes or what its body is
ROUTING_HEADERS = ("host", "content-type")
# headers a second line of which would give a second reading of the signature
SIGNATURE_HEADERS = (
    "authorization",
    "x-amz-date",
    "date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "x-amz-decoded-content-length",
)
# the query-string authentication parameters (SigV4 presigned URLs; S3's SigV2 presigned URLs)
PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
    "AWSAccessKeyId",
    "Signature",
    "Expires",
)


def check_request(req: HttpRequest, service_name: str, protocol: str) -> None:
    """Raises BadInput (`ambiguous`, `signature` or `content_type`) for a request with more than one
    reading in `protocol`; returns None when there is exactly one."""
    _once(req, ROUTING_HEADERS, "ambiguous")
    _once(req, SIGNATURE_HEADERS, "signature")
    _presign_params_once(req.query_string)
    if protocol == "json":
        _json_request(req, service_name)
    elif protocol in ("query", "ec2"):
        if req.header_values("x-amz-target"):
            raise BadInput(
                "ambiguous",
                f"The {protocol} protocol takes its operation from the Action parameter; the request also "
                "carries an X-Amz-Target header.",
            )
        query_pairs(req)
    elif req.header_values("x-amz-target"):
        raise BadInput(
            "ambiguous",
            f"The {protocol} protocol takes its operation from the method and path; the request also carries "
            "an X-Amz-Target header.",
        )


def _once(req: HttpRequest, names: tuple[str, ...], kind: Kind) -> None:
    for name in names:
        if len(req.header_values(name)) > 1:
            raise BadInput(kind, f"The header '{_display(name)}' is given more than once; it may appear once.")


def _display(name: str) -> str:
    return "-".join("Amz" if part == "amz" else part.capitalize() for part in name.split("-"))


def _presign_params_once(query_string: str) -> None:
    if not query_string:
        return
    seen: set[str] = set()
    for name, _ in signed_query_pairs(query_string):
        if name in PRESIGN_PARAMS:
            if name in seen:
                raise BadInput(
                    "signature", f"The query parameter '{name}' is given more than once; it may appear once."
                )
            seen.add(name)


def _json_request(req: HttpRequest, service_name: str) -> None:
    targets = req.header_values("x-amz-target")
    if len(targets) > 1:
        raise BadInput("ambiguous", "The header 'X-Amz-Target' is given more than once; it may appear once.")
    expected = json_content_type(service_name)
    content_type = req.header("content-type")
    if (req.body or content_type is not None) and not is_exactly(content_type, expected):
        shown = f"'{content_type}'" if content_type is not None else "no Content-Type"
        raise BadInput("content_type", f"The request must be sent as {expected}; it was sent with {shown}.")
    if req.query_string:
        raise BadInput(
            "ambiguous",
            f"An AWS JSON request carries its input in the body only; it was sent with the query string "
            f"'{req.query_string}'.",
        )
    if req.path not in ("", "/"):
        raise BadInput("ambiguous", f"An AWS JSON request is sent to '/'; it was sent to '{req.path}'.")
