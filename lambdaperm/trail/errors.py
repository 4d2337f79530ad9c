"""Typed errors of the trail.

`TrailError` is a bad argument or a bad stored record (a programming error of the caller).
`LookupEventsError` is a LookupEvents request AWS would reject: it carries AWS's error code and HTTP
status so the service layer can turn it into the wire `ServiceError` without knowing the rules.
"""

from __future__ import annotations


class TrailError(Exception):
    """A record, an identity or an argument the trail cannot accept; says exactly what was wrong."""


class LookupEventsError(TrailError):
    """A LookupEvents request AWS rejects. `code` is the modelled exception name (botocore
    cloudtrail-2013-11-01: InvalidLookupAttributesException, InvalidMaxResultsException,
    InvalidNextTokenException, InvalidTimeRangeException, InvalidEventCategoryException)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"LookupEventsError({self.code!r}, {self.message!r}, {self.status})"
