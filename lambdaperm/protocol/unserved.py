"""A service lambdaperm does not serve, refused in the protocol its client speaks.

A request signed for a service outside `SUPPORTED_SERVICES` (`aws cloudformation list-stacks` against
lambdaperm) cannot be routed. Its client only reads an error in its own service's protocol — a JSON answer
to a query client is "invalid XML received" — so the protocol is the one botocore's model of the service
named by the credential scope gives (`metadata.protocols`), and the code that protocol's services answer for
a request they cannot route: `InvalidAction` for query/ec2/rest-xml (AWS Common Errors: "The action or
operation requested is invalid"), `UnknownOperationException` for json/rest-json (what DynamoDB and the other
JSON services answer for an operation they do not know).
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html
A scope naming no service botocore knows is answered as JSON (no protocol to speak).
"""

from __future__ import annotations

import re
from functools import cache

from botocore.exceptions import DataNotFoundError  # type: ignore[import-untyped]
from botocore.model import ServiceModel  # type: ignore[import-untyped]

from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.http import HttpResponse
from lambdaperm.protocol.models import _loader
from lambdaperm.protocol.xml_writer import XmlNode, render

_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_XML = ("query", "ec2", "rest-xml")


@cache
def _available() -> frozenset[str]:
    return frozenset(_loader().list_available_services("service-2"))


@cache
def protocol_of_unserved(name: str) -> str | None:
    """The wire protocol of the botocore service `name` (a credential scope's service), or None when botocore
    has no such service."""
    if not _NAME.fullmatch(name) or name not in _available():
        return None
    try:
        model = ServiceModel(_loader().load_service_model(name, "service-2"), service_name=name)
    except DataNotFoundError:
        return None
    return str(model.resolved_protocol)


def refusal(name: str) -> ServiceError:
    """The error for a request signed for the unserved service `name`."""
    code = "InvalidAction" if protocol_of_unserved(name) in _XML else "UnknownOperationException"
    return ServiceError(code, f"lambdaperm does not serve the service '{name}' (credential scope)", 400)


def render_unserved(name: str, error: ServiceError, request_id: str) -> HttpResponse | None:
    """`error` as the XML the client of the unserved service `name` reads, or None when that client reads
    JSON (or botocore does not know the service)."""
    protocol = protocol_of_unserved(name)
    if protocol not in _XML:
        return None
    if protocol == "ec2":
        root = XmlNode("Response")
        detail = root.add("Errors").add("Error")
        detail.add("Code", error.code)
        detail.add("Message", error.message)
        root.add("RequestID", request_id)
    else:  # the query error document; botocore's rest-xml parser reads it too (Route 53, CloudFront)
        root = XmlNode("ErrorResponse")
        detail = root.add("Error")
        detail.add("Type", "Sender" if error.sender_fault else "Receiver")
        detail.add("Code", error.code)
        detail.add("Message", error.message)
        root.add("RequestId", request_id)
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    return HttpResponse(error.status, headers, render(root, declaration=protocol != "query"))
