"""Quirks as data: which error each service answers when the protocol layer cannot read a request
(an unknown operation, a body that does not decode, a value of the wrong type). Defaults per protocol,
overrides per service. Sources: the AWS "Common Errors" pages (InvalidAction, MissingAction,
MalformedQueryString), DynamoDB/Coral's `SerializationException` for JSON it cannot bind, Lambda's
`InvalidRequestContentException`, Access Analyzer's `ValidationException` with a `reason`, S3's
`MalformedXML`/`InvalidArgument`/`MethodNotAllowed`.

Requests that can be read more than one way (docs/fidelity.md, "One reading"): `ambiguous` (a repeated
parameter or header, a JSON object with a repeated key) answers the protocol's "malformed input" code —
query `InvalidQueryParameter` ("The AWS query string is malformed or does not adhere to AWS standards",
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html), JSON
`SerializationException`, S3 `InvalidArgument`, Lambda `InvalidRequestContentException` ("…or a request
header is invalid", https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors);
`ambiguous_signature` (two Authorization headers, a form body beside a query string) the signature front
end's `IncompleteSignature`; `content_type` (a JSON service sent another content type) the 404
`UnknownOperationException` AWS answers; `region` (a host or User-Agent naming another region than the
credential scope) the scope-mismatch error of the spec §12.8.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from lambdaperm.protocol.bad_input import BadInput, Kind
from lambdaperm.protocol.errors import ServiceError

Problem = Literal[
    "unknown_operation",
    "missing_operation",
    "malformed_body",
    "malformed_encoding",
    "body_value",
    "param_value",
    "ambiguous",
    "ambiguous_signature",
    "content_type",
    "region",
    "unknown_parameter",
]


@dataclass(frozen=True, slots=True)
class ErrorTemplate:
    code: str
    status: int
    message: str  # str.format fields: {operation}, {version}, {detail}
    fields: Mapping[str, object] = field(default_factory=dict)

    def error(self, **values: str) -> ServiceError:
        return ServiceError(self.code, self.message.format(**values), self.status, fields=dict(self.fields))


_QUERY: Mapping[Problem, ErrorTemplate] = {
    "unknown_operation": ErrorTemplate(
        "InvalidAction", 400, "Could not find operation {operation} for version {version}"
    ),
    "missing_operation": ErrorTemplate("MissingAction", 400, "The request must contain the parameter Action"),
    "malformed_body": ErrorTemplate("MalformedQueryString", 404, "{detail}"),
    "body_value": ErrorTemplate("ValidationError", 400, "{detail}"),
    "param_value": ErrorTemplate("ValidationError", 400, "{detail}"),
    "ambiguous": ErrorTemplate("InvalidQueryParameter", 400, "{detail}"),
    "ambiguous_signature": ErrorTemplate("IncompleteSignature", 400, "{detail}"),
    "content_type": ErrorTemplate("InvalidQueryParameter", 400, "{detail}"),
    "region": ErrorTemplate("SignatureDoesNotMatch", 403, "{detail}"),
    "unknown_parameter": ErrorTemplate("InvalidQueryParameter", 400, "{detail}"),  # query_parameter_names.py
}
_EC2: Mapping[Problem, ErrorTemplate] = {
    **_QUERY,
    "unknown_operation": ErrorTemplate(
        "InvalidAction", 400, "The action {operation} is not valid for this web service."
    ),
    "body_value": ErrorTemplate("InvalidParameterValue", 400, "{detail}"),
    "param_value": ErrorTemplate("InvalidParameterValue", 400, "{detail}"),
    "unknown_parameter": ErrorTemplate("UnknownParameter", 400, "{detail}"),
}
_JSON: Mapping[Problem, ErrorTemplate] = {
    "unknown_operation": ErrorTemplate("UnknownOperationException", 400, "Unknown operation {operation}"),
    "missing_operation": ErrorTemplate("UnknownOperationException", 400, "Missing X-Amz-Target"),
    "malformed_body": ErrorTemplate("SerializationException", 400, "{detail}"),
    "body_value": ErrorTemplate("SerializationException", 400, "{detail}"),
    "param_value": ErrorTemplate("SerializationException", 400, "{detail}"),
    "ambiguous": ErrorTemplate("SerializationException", 400, "{detail}"),
    "ambiguous_signature": ErrorTemplate("IncompleteSignatureException", 400, "{detail}"),
    "content_type": ErrorTemplate("UnknownOperationException", 404, "{detail}"),
    "region": ErrorTemplate("InvalidSignatureException", 400, "{detail}"),
}
_REST_JSON: Mapping[Problem, ErrorTemplate] = {
    **_JSON,
    "missing_operation": ErrorTemplate("UnknownOperationException", 400, "Unknown operation {operation}"),
    "param_value": ErrorTemplate("ValidationException", 400, "{detail}"),
    "ambiguous": ErrorTemplate("ValidationException", 400, "{detail}"),
    "ambiguous_signature": ErrorTemplate("IncompleteSignatureException", 403, "{detail}"),
    "region": ErrorTemplate("InvalidSignatureException", 403, "{detail}"),
}
_REST_XML: Mapping[Problem, ErrorTemplate] = {
    "unknown_operation": ErrorTemplate(
        "MethodNotAllowed", 405, "The specified method is not allowed against this resource."
    ),
    "missing_operation": ErrorTemplate(
        "MethodNotAllowed", 405, "The specified method is not allowed against this resource."
    ),
    "malformed_body": ErrorTemplate(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    ),
    "body_value": ErrorTemplate(
        "MalformedXML",
        400,
        "The XML you provided was not well-formed or did not validate against our published schema",
    ),
    "param_value": ErrorTemplate("InvalidArgument", 400, "{detail}"),
    "malformed_encoding": ErrorTemplate("IncompleteBody", 400, "The request body terminated unexpectedly"),
    "ambiguous": ErrorTemplate("InvalidArgument", 400, "{detail}"),
    "ambiguous_signature": ErrorTemplate("InvalidArgument", 400, "{detail}"),
    "region": ErrorTemplate("AuthorizationHeaderMalformed", 400, "{detail}"),
}

_BY_PROTOCOL: Mapping[str, Mapping[Problem, ErrorTemplate]] = {
    "query": _QUERY,
    "ec2": _EC2,
    "json": _JSON,
    "rest-json": _REST_JSON,
    "rest-xml": _REST_XML,
}

_LAMBDA_BODY = "Could not parse request body into json: Could not parse payload into json: {detail}"
_ANALYZER_CODE = "ValidationException"

# (service, wire protocol) → overrides
_BY_SERVICE: Mapping[tuple[str, str], Mapping[Problem, ErrorTemplate]] = {
    ("sns", "query"): {
        "body_value": ErrorTemplate("InvalidParameter", 400, "{detail}"),
        "param_value": ErrorTemplate("InvalidParameter", 400, "{detail}"),
    },
    ("sqs", "query"): {
        "body_value": ErrorTemplate("InvalidParameterValue", 400, "{detail}"),
        "param_value": ErrorTemplate("InvalidParameterValue", 400, "{detail}"),
    },
    ("lambda", "rest-json"): {
        "malformed_body": ErrorTemplate("InvalidRequestContentException", 400, _LAMBDA_BODY, {"Type": "User"}),
        "body_value": ErrorTemplate("InvalidRequestContentException", 400, _LAMBDA_BODY, {"Type": "User"}),
        "param_value": ErrorTemplate("InvalidParameterValueException", 400, "{detail}", {"Type": "User"}),
        "ambiguous": ErrorTemplate("InvalidRequestContentException", 400, "{detail}", {"Type": "User"}),
    },
    ("accessanalyzer", "rest-json"): {
        "unknown_operation": ErrorTemplate(
            _ANALYZER_CODE, 400, "Unknown operation {operation}", {"reason": "unknownOperation"}
        ),
        "missing_operation": ErrorTemplate(
            _ANALYZER_CODE, 400, "Unknown operation {operation}", {"reason": "unknownOperation"}
        ),
        "malformed_body": ErrorTemplate(_ANALYZER_CODE, 400, "{detail}", {"reason": "cannotParse"}),
        "body_value": ErrorTemplate(_ANALYZER_CODE, 400, "{detail}", {"reason": "cannotParse"}),
        "param_value": ErrorTemplate(_ANALYZER_CODE, 400, "{detail}", {"reason": "cannotParse"}),
        "ambiguous": ErrorTemplate(_ANALYZER_CODE, 400, "{detail}", {"reason": "cannotParse"}),
    },
}


def protocol_error(
    service_name: str,
    protocol: str,
    problem: Problem,
    *,
    fields: Mapping[str, object] | None = None,
    **values: str,
) -> ServiceError:
    """The ServiceError this service answers for a protocol-level problem; `fields` join the template's
    own extra members (S3's `<Region>` of a region mismatch)."""
    overrides = _BY_SERVICE.get((service_name, protocol), {})
    defaults = _BY_PROTOCOL.get(protocol, _JSON)
    template = overrides.get(problem) or defaults.get(problem)
    if template is None:  # a broken transfer encoding reads like a body that does not decode
        template = overrides.get("malformed_body") or defaults["malformed_body"]
    values.setdefault("operation", "")
    values.setdefault("version", "")
    values.setdefault("detail", "")
    error = template.error(**values)
    if fields:
        error.fields.update(fields)
    return error


_PROBLEM_OF_KIND: Mapping[Kind, Problem] = {
    "body": "malformed_body",
    "encoding": "malformed_encoding",
    "body_value": "body_value",
    "value": "param_value",
    "ambiguous": "ambiguous",
    "signature": "ambiguous_signature",
    "content_type": "content_type",
    "unknown": "unknown_parameter",
}


def input_error(service_name: str, protocol: str, exc: BadInput, operation: str = "") -> ServiceError:
    """The ServiceError for input the protocol layer could not read (or could read more than one way)."""
    problem = _PROBLEM_OF_KIND[exc.kind]
    if protocol == "json" and problem == "param_value":
        problem = "body_value"
    return protocol_error(service_name, protocol, problem, detail=exc.message, operation=operation)
