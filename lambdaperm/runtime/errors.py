"""The runtime layer's typed errors. The caller (the Lambda service) maps them to AWS's wire errors."""

from __future__ import annotations

UNZIP_MESSAGE = "Could not unzip uploaded file. Please check your file, then try to upload again."


class LambdaRuntimeError(Exception):
    """Base of every error the runtime raises to its caller."""


class CodeError(LambdaRuntimeError):
    """The deployment package can't be used (not a zip, unsafe entries, too large once unzipped).

    The caller answers InvalidParameterValueException with `message` (AWS's own text)."""

    def __init__(self, message: str = UNZIP_MESSAGE, detail: str = "") -> None:
        super().__init__(f"{message} ({detail})" if detail else message)
        self.message = message
        self.detail = detail


class PayloadError(LambdaRuntimeError):
    """The invocation payload is not JSON: the caller answers InvalidRequestContentException."""


class UnsupportedRuntime(LambdaRuntimeError):
    """The function's runtime is not one this package can run (python3.8 to python3.13)."""


class WorkerStartError(LambdaRuntimeError):
    """The worker process could not be started at all (an OS error, not a function error)."""


class RuntimeClosed(LambdaRuntimeError):
    """invoke() after shutdown()."""
