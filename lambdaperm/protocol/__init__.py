"""Wire formats only, driven by botocore's service models: which service and operation a request is,
its parameters, and the serialized response or error. Never imports services.

    op = identify(req, signing_service)          # Operation(service_name, name, model, protocol)
    params = parse(op, req)                      # dict, exactly as a boto3 call takes it
    serialize(op, output, request_id)            # HttpResponse
    serialize_error(service_name, error, request_id, request=req)
"""

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.http import HttpRequest, HttpResponse
from lambdaperm.protocol.models import SUPPORTED_SERVICES, service_model, services_for_signing_name
from lambdaperm.protocol.operation import Operation
from lambdaperm.protocol.parse import parse
from lambdaperm.protocol.route import identify, request_protocol, service_of_request
from lambdaperm.protocol.route_rest import preload
from lambdaperm.protocol.serialize import serialize
from lambdaperm.protocol.serialize_error import serialize_error

__all__ = [
    "SUPPORTED_SERVICES",
    "HttpRequest",
    "HttpResponse",
    "Operation",
    "ServiceError",
    "identify",
    "parse",
    "preload",
    "request_protocol",
    "serialize",
    "serialize_error",
    "service_model",
    "service_of_request",
    "services_for_signing_name",
]
