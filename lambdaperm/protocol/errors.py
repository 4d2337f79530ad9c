"""The one error type that reaches the wire."""

from __future__ import annotations


class ServiceError(Exception):
    """An AWS error: its code, message and HTTP status, plus any extra members of the error shape
    (e.g. Lambda's `Type`). Serialized per protocol by `protocol.serialize_error`."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        sender_fault: bool = True,
        fields: dict[str, object] | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault
        self.fields = dict(fields or {})
        self.headers = list(headers or [])  # response headers the error carries (S3's x-amz-bucket-region)

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, {self.message!r}, {self.status})"
