"""The HTTP request and response as the gateway sees them (independent of the server framework)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote


@dataclass(slots=True)
class HttpRequest:
    method: str
    path: str  # raw, still percent-encoded, without the query string
    query_string: str  # raw, without the leading '?'
    headers: list[tuple[str, str]]  # as received, names in their original case
    body: bytes = b""
    remote_addr: str = "127.0.0.1"
    scheme: str = "http"
    _lower: dict[str, str] = field(default_factory=dict, repr=False)

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of a header (case-insensitive); several values are joined with ','."""
        if not self._lower:
            merged: dict[str, str] = {}
            for k, v in self.headers:
                key = k.lower()
                merged[key] = f"{merged[key]},{v}" if key in merged else v
            self._lower = merged
        return self._lower.get(name.lower(), default)

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, one per header line, in order (names compared case-insensitively)."""
        low = name.lower()
        return [v for k, v in self.headers if k.lower() == low]

    @property
    def host(self) -> str:
        return self.header("host", "") or ""

    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query_string, keep_blank_values=True)


@dataclass(slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return None


def signed_query_pairs(query_string: str) -> list[tuple[str, str]]:
    """The query parameters as SigV4 authentication reads them: split on `&` and the first `=`, `%XX`
    decoded, `+` kept, empty segments dropped."""
    pairs: list[tuple[str, str]] = []
    for segment in query_string.split("&"):
        if segment:
            name, _, value = segment.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return pairs
