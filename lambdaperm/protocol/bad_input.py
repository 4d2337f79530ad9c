"""The protocol's internal report of input it cannot read; `parse` turns it into a ServiceError."""

from __future__ import annotations

from typing import Literal

Kind = Literal["body", "encoding", "body_value", "value", "ambiguous", "signature", "content_type", "unknown"]


class BadInput(Exception):
    """`body`: the body does not decode (bad JSON/XML, broken chunked encoding).
    `encoding`: the transfer encoding of the body is broken (aws-chunked).
    `body_value`: a decoded body holds a value of the wrong type (a string where a list belongs).
    `value`: a parameter has the wrong type or form (`MaxItems=abc` in a query string or header).
    `ambiguous`: the request can be read more than one way (a repeated parameter or header, a value in two
    places, a JSON object with a repeated key); it is refused, never resolved by picking one reading.
    `signature`: the signed parts of the request can be read more than one way (two Authorization headers,
    a form body beside a query string).
    `content_type`: the body's content type is not the protocol's (a form body sent to a JSON service).
    `unknown`: a query parameter whose name no member of the input has (`protocol/query_parameter_names.py`)."""

    def __init__(self, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.kind: Kind = kind
        self.message = message
