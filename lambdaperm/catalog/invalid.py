"""A request AWS itself would refuse as malformed, found while reading which resources it names.

The catalog cannot know which table a PartiQL statement names, or which object an `x-amz-copy-source`
header names, without parsing them; when the parse fails, AWS answers with an error of its own
(`InvalidArgument`, `ValidationException`), not with a denial. `InvalidRequest` carries that error to the
gateway, which renders it in the service's protocol. It is an `UnmappedOperation`, so code that does not
know it still denies the request (fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import UnmappedOperation


class InvalidRequest(UnmappedOperation):
    """AWS's error for a malformed request: `code`, `message`, HTTP `status` and extra error members
    (`fields`, e.g. S3's `ArgumentName`/`ArgumentValue`)."""

    def __init__(
        self,
        service: str,
        operation: str,
        code: str,
        message: str,
        status: int = 400,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status = status
        self.fields: dict[str, str] = dict(fields or {})
        super().__init__(service, operation, f"{code}: {message}")
