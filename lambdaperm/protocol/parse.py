"""parse(): a request's input parameters exactly as a boto3 call takes them."""

from __future__ import annotations

from urllib.parse import urlsplit

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.dialects import input_error
from lambdaperm.protocol.form import query_pairs
from lambdaperm.protocol.http import HttpRequest
from lambdaperm.protocol.legacy_query import query_dialect
from lambdaperm.protocol.models import protocol_of
from lambdaperm.protocol.operation import Operation
from lambdaperm.protocol.parse_json import decode_json, read_json_structure
from lambdaperm.protocol.parse_query import naming_for, parse_query_params
from lambdaperm.protocol.parse_rest import parse_rest


def parse(op: Operation, req: HttpRequest) -> dict[str, object]:
    """The input parameters of `op` from the request: ints, floats, bools, aware UTC datetimes, bytes for
    blobs, lists, maps and nested structures. Raises ServiceError (the service's protocol-level error
    for a body that does not decode or a value of the wrong type), never anything else."""
    try:
        if op.protocol in ("query", "ec2"):
            return _parse_query(op, req)
        if op.protocol == "json":
            return _parse_json(op, req)
        return parse_rest(op, req)
    except BadInput as exc:
        raise input_error(op.service_name, op.protocol, exc, op.name) from exc
    except RecursionError as exc:
        too_deep = BadInput("body", "The request is nested too deeply")
        raise input_error(op.service_name, op.protocol, too_deep, op.name) from exc


def _parse_json(op: Operation, req: HttpRequest) -> dict[str, object]:
    document = decode_json(req.body)
    shape = op.model.input_shape
    if shape is None:
        return {}
    try:
        return read_json_structure(shape, document)
    except BadInput as exc:
        raise BadInput("body_value", exc.message) from exc


def _parse_query(op: Operation, req: HttpRequest) -> dict[str, object]:
    pairs = query_pairs(req)
    shape = op.model.input_shape
    dialect = query_dialect(op.service_name) if protocol_of(op.service_name) != op.protocol else None
    naming = dialect.naming if dialect is not None else naming_for(op.protocol)
    params = parse_query_params(shape, pairs, naming)
    if dialect is not None and dialect.path_member and shape is not None and req.path not in ("", "/"):
        member = dialect.path_member
        if member not in shape.members:
            raise BadInput("ambiguous", f"{op.name} takes no resource path; the request was sent to {req.path}.")
        if member not in params:
            params[member] = f"{req.scheme}://{req.host}{req.path}"
        elif urlsplit(str(params[member])).path != req.path:
            raise BadInput(
                "ambiguous", f"The request path {req.path} and the {member} parameter name different resources."
            )
    return params
