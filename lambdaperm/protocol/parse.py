"""parse(): a request's input parameters exactly as a boto3 call takes them."""

from __future__ import annotations

from lambdaperm.protocol.bad_input import BadInput
from lambdaperm.protocol.dialects import Problem, protocol_error
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.form import form_pairs
from lambdaperm.protocol.http import HttpRequest
from lambdaperm.protocol.legacy_query import query_dialect
from lambdaperm.protocol.models import protocol_of
from lambdaperm.protocol.operation import Operation
from lambdaperm.protocol.parse_json import decode_json, read_json_structure
from lambdaperm.protocol.parse_query import naming_for, parse_query_params
from lambdaperm.protocol.parse_rest import parse_rest

_PROBLEMS: dict[str, Problem] = {
    "body": "malformed_body",
    "encoding": "malformed_encoding",
    "body_value": "body_value",
    "value": "param_value",
}


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
        raise _service_error(op, exc.kind, exc.message) from exc
    except RecursionError as exc:
        raise _service_error(op, "body", "The request is nested too deeply") from exc


def _service_error(op: Operation, kind: str, message: str) -> ServiceError:
    problem = _PROBLEMS.get(kind, "param_value")
    if op.protocol == "json" and problem == "param_value":
        problem = "body_value"
    return protocol_error(op.service_name, op.protocol, problem, detail=message, operation=op.name)


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
    pairs = form_pairs(req)
    shape = op.model.input_shape
    dialect = query_dialect(op.service_name) if protocol_of(op.service_name) != op.protocol else None
    naming = dialect.naming if dialect is not None else naming_for(op.protocol)
    params = parse_query_params(shape, pairs, naming)
    if dialect is not None and dialect.path_member and shape is not None:
        member = dialect.path_member
        if member in shape.members and member not in params and req.path not in ("", "/"):
            params[member] = f"{req.scheme}://{req.host}{req.path}"
    return params
