"""Single-change helpers for the mutation tests: copies of an `HttpRequest` with one thing altered."""

from __future__ import annotations

import dataclasses
import string
from typing import Any

from hypothesis import strategies as st

from lambdaperm.protocol.http import HttpRequest

ALNUM = string.ascii_letters + string.digits


def rebuilt(req: HttpRequest, **changes: Any) -> HttpRequest:
    return dataclasses.replace(req, _lower={}, **changes)


def other_char(draw: Any, original: str) -> str:
    char: str = draw(st.sampled_from([c for c in ALNUM if c != original]))
    return char


def replace_at(draw: Any, text: str) -> str:
    index = draw(st.integers(0, len(text) - 1))
    return text[:index] + other_char(draw, text[index]) + text[index + 1 :]


def set_header(req: HttpRequest, name: str, value: str | None) -> HttpRequest:
    headers = [(k, v) for k, v in req.headers if k.lower() != name]
    if value is not None:
        headers.append((name, value))
    return rebuilt(req, headers=headers)


def query_items(req: HttpRequest) -> list[tuple[str, str]]:
    """The raw name/value pairs of the query string, in order."""
    items = []
    for pair in req.query_string.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            items.append((name, value))
    return items


def set_query(req: HttpRequest, items: list[tuple[str, str]]) -> HttpRequest:
    return rebuilt(req, query_string="&".join(f"{k}={v}" for k, v in items))
