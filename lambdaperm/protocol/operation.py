"""What a request is: a service, one of its operations, and the wire protocol it arrived in."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.model import OperationModel  # type: ignore[import-untyped]


@dataclass(frozen=True, slots=True, eq=False)
class Operation:
    """`protocol` is the wire protocol of this request: the model's, except for a query-compatible JSON
    service (SQS) reached with the query protocol, where it is `query`."""

    service_name: str
    name: str
    model: OperationModel
    protocol: str

    def __repr__(self) -> str:
        return f"Operation({self.service_name}.{self.name}, {self.protocol})"
