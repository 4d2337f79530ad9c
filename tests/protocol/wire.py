"""Test plumbing: botocore as the other end of the wire.

- `botocore_request`: what botocore's own serializer sends for (service, operation, params), as our
  HttpRequest (serializer → prepare_request_dict → AWSRequest.prepare, exactly the client's path).
- `botocore_parse` / `botocore_error`: what botocore's parser makes of our HttpResponse.
- `StubbedClient`: a real boto3 client whose `before-send` hook hands each signed request to our
  identify/parse, lets a handler answer, and returns our serialized response to the client.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.parsers
import botocore.serialize
from botocore.awsrequest import (
    AWSPreparedRequest,
    AWSResponse,
    HeadersDict,
    create_request_object,
    prepare_request_dict,
)
from botocore.config import Config

from lambdaperm.protocol import (
    HttpRequest,
    HttpResponse,
    Operation,
    ServiceError,
    identify,
    parse,
    serialize,
    serialize_error,
)
from lambdaperm.protocol.models import operation_model, protocol_of, services_for_signing_name

ENDPOINT = "http://localhost:4566"
REQUEST_ID = "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def to_http_request(prepared: AWSPreparedRequest) -> HttpRequest:
    url = urlsplit(prepared.url)
    body = prepared.body
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
    elif isinstance(body, bytes | bytearray):
        data = bytes(body)
    else:
        data = body.read()
        body.seek(0)
    headers = [(str(k), v.decode() if isinstance(v, bytes) else str(v)) for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):
        headers.append(("Host", url.netloc))
    return HttpRequest(
        method=prepared.method,
        path=url.path or "/",
        query_string=url.query,
        headers=headers,
        body=data,
        scheme=url.scheme,
    )


def botocore_request(
    service: str, operation: str, params: Mapping[str, Any], *, endpoint: str = ENDPOINT
) -> HttpRequest:
    model = operation_model(service, operation)
    serializer = botocore.serialize.create_serializer(protocol_of(service), include_validation=True)
    request_dict = serializer.serialize_to_request(dict(params), model)
    prepare_request_dict(request_dict, endpoint_url=endpoint)
    return to_http_request(create_request_object(request_dict).prepare())


def signing_service(req: HttpRequest) -> str | None:
    found = _SCOPE.search(req.header("authorization") or "")
    return found.group(1) if found else None


def botocore_parse(op: Operation, response: HttpResponse) -> dict[str, Any]:
    parser = botocore.parsers.create_parser(op.protocol)
    raw = {"status_code": response.status, "headers": _headers(response), "body": response.body}
    parsed: dict[str, Any] = parser.parse(raw, op.model.output_shape)
    return parsed


def botocore_error(protocol: str, response: HttpResponse) -> dict[str, Any]:
    parser = botocore.parsers.create_parser(protocol)
    raw = {"status_code": response.status, "headers": _headers(response), "body": response.body}
    parsed: dict[str, Any] = parser.parse(raw, None)
    return parsed


def _headers(response: HttpResponse) -> HeadersDict:
    """Case-insensitive, like the urllib3 headers botocore reads in a real client."""
    headers = HeadersDict()
    for name, value in response.headers:
        headers[name] = value
    return headers


def without_metadata(parsed: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in parsed.items() if key != "ResponseMetadata"}


class _Raw:
    """Enough of urllib3's response for botocore: stream() for content, read() for streaming bodies."""

    def __init__(self, body: bytes) -> None:
        self._io = io.BytesIO(body)

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._io.read()

    def read(self, amt: int | None = None, **kwargs: Any) -> bytes:
        return self._io.read() if amt is None else self._io.read(amt)

    def close(self) -> None:
        self._io.close()


Handler = Callable[[Operation, dict[str, Any]], Mapping[str, Any]]


class StubbedClient:
    """A boto3 client talking to our protocol layer in-process; `calls` records (operation, params)."""

    def __init__(self, service: str, handler: Handler, **client_kwargs: Any) -> None:
        self.handler = handler
        self.calls: list[tuple[Operation, dict[str, Any]]] = []
        self.requests: list[HttpRequest] = []
        config = client_kwargs.pop("config", None) or Config(retries={"total_max_attempts": 1})
        self.client: Any = boto3.client(
            service,
            endpoint_url=client_kwargs.pop("endpoint_url", ENDPOINT),
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            config=config,
            **client_kwargs,
        )
        self.client.meta.events.register("before-send", self._send)

    def _send(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
        req = to_http_request(request)
        self.requests.append(req)
        service = signing_service(req)
        try:
            op = identify(req, service)
            params = parse(op, req)
            self.calls.append((op, params))
            response = serialize(op, self.handler(op, params), REQUEST_ID)
        except ServiceError as error:
            served = services_for_signing_name(service or "")
            response = serialize_error(served[0] if served else "", error, REQUEST_ID, request=req)
        return AWSResponse(request.url, response.status, dict(response.headers), _Raw(response.body))
