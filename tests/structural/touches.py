"""A touch is one resource a backend call read or changed; a frame collects the touches of one request.

The frame is a context variable: set around the backend's execution of one authorized call (the embedded
backend) or around one HTTP request (a moto server used as `--upstream`). Backend calls made outside any
frame — lambdaperm's own bookkeeping (event-source pollers, resource-policy lookups, S3-hosted code) — are
not recorded: they are not the execution of a caller's request.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

# modes: "read" and "write" of an existing resource, "create" of a resource the call brought into being
# (its identity known only from the backend's result), "list" of a whole collection (a service's resources
# in one account and region: the touch's ARN is then the scope, `arn:aws:sqs:us-east-1:123456789012:`).
READ, WRITE, CREATE, LIST = "read", "write", "create", "list"


@dataclass(frozen=True, slots=True)
class Touch:
    arn: str
    mode: str
    account: str  # the account of the backend (or of the object) touched
    region: str  # its region; for S3, the bucket's region ("" when the bucket does not exist)
    via: str  # "DynamoDBBackend.put_item(table_name)": the backend call and the argument it came from
    depth: int  # 0: called by moto's response layer; deeper: called by the backend itself
    call: int  # the sequence number, in the frame, of the depth-0 call this touch happened under
    source: bool = False  # read as the source of a copy (S3 CopyObject/UploadPartCopy)
    delivery: str | None = None  # made by the service on its own behalf (a push delivery …), not by the caller

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Touch:
        return Touch(**data)


@dataclass
class Frame:
    """The touches of one request, and the backend methods moto's response layer called for it."""

    touches: list[Touch] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)  # depth-0 backend calls, in order
    depth: int = 0
    calls: int = 0
    delivery: str | None = None
    errors: list[str] = field(default_factory=list)  # calls the oracle could not map (fails the check)
    stack: list[tuple[str, str, Any]] = field(default_factory=list)  # (service, method, backend) in progress
    count: int = 0  # touches recorded, duplicates included
    _keys: set[tuple[Any, ...]] = field(default_factory=set)

    def add(self, arn: str, mode: str, account: str, region: str, via: str, source: bool = False) -> None:
        touch = Touch(arn, mode, account, region, via, max(self.depth - 1, 0), self.calls, source, self.delivery)
        self.count += 1
        key = (arn, mode, account, region, touch.depth, touch.call, source, touch.delivery)
        if key not in self._keys:
            self._keys.add(key)
            self.touches.append(touch)


_FRAME: contextvars.ContextVar[Frame | None] = contextvars.ContextVar("structural_oracle_frame", default=None)


def current() -> Frame | None:
    return _FRAME.get()


@contextmanager
def recording(frame: Frame | None = None) -> Iterator[Frame]:
    """Record the backend calls made in this context into `frame` (a new one by default)."""
    frame = frame if frame is not None else Frame()
    token = _FRAME.set(frame)
    try:
        yield frame
    finally:
        _FRAME.reset(token)


@contextmanager
def delivering(source: str) -> Iterator[None]:
    """Touches made inside are a push delivery from `source` (the backend delivering as a service)."""
    frame = _FRAME.get()
    if frame is None:
        yield
        return
    outer, frame.delivery = frame.delivery, source
    try:
        yield
    finally:
        frame.delivery = outer


@contextmanager
def paused() -> Iterator[None]:
    """Nothing inside is recorded (a backend setting itself up for a new account or region)."""
    token = _FRAME.set(None)
    try:
        yield
    finally:
        _FRAME.reset(token)
