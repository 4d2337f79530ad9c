"""Invocation payloads: the event check and the payloads that the Lambda *service* (not the function's
runtime) writes when an invocation fails outside the handler.

Formats as AWS returns them (compact JSON, errorType first), confirmed from real invoke output:
- ``{"errorType":"Sandbox.Timedout",
  "errorMessage":"RequestId: <id> Error: Task timed out after 3.00 seconds"}``
- ``{"errorType":"Runtime.ExitError",
  "errorMessage":"RequestId: <id> Error: Runtime exited with error: exit status 1"}``
- ``{"errorType":"Function.ResponseSizeTooLarge",
  "errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes)."}``
https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
"""

from __future__ import annotations

import json
import signal

from lambdaperm.runtime.bootstrap import MAX_RESPONSE_BYTES
from lambdaperm.runtime.errors import PayloadError

__all__ = ["MAX_RESPONSE_BYTES", "MAX_SYNC_REQUEST_BYTES", "exit_payload", "exit_reason", "out_of_memory_payload",
           "oversized_payload", "timeout_payload", "validate_payload"]

MAX_SYNC_REQUEST_BYTES = 6291456  # synchronous request payload limit (the caller enforces it)

# Go's names for signals, as the Lambda service prints "Runtime exited with error: signal: <name>".
_SIGNAL_NAMES = {
    signal.SIGHUP: "hangup",
    signal.SIGINT: "interrupt",
    signal.SIGQUIT: "quit",
    signal.SIGILL: "illegal instruction",
    signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGKILL: "killed",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGUSR2: "user defined signal 2",
    signal.SIGPIPE: "broken pipe",
    signal.SIGALRM: "alarm clock",
    signal.SIGTERM: "terminated",
}


def _reject_constant(name: str) -> object:
    raise ValueError(f"Unrecognized token '{name}'")


def validate_payload(payload: bytes) -> None:
    """The event must be one JSON value (strict JSON: no NaN/Infinity); empty means ``{}``.

    Raises PayloadError, which the caller answers with InvalidRequestContentException."""
    if not payload:
        return
    try:
        json.loads(payload, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise PayloadError(f"Could not parse request body into json: {e}") from None


def _platform_error(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}, separators=(",", ":")).encode()


def timeout_payload(request_id: str, timeout: int) -> bytes:
    message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
    return _platform_error("Sandbox.Timedout", message)


def exit_reason(returncode: int | None) -> str:
    """The service's description of a runtime process that ended (a Popen returncode)."""
    if returncode is None or returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode > 0:
        return f"Runtime exited with error: exit status {returncode}"
    try:
        name = _SIGNAL_NAMES.get(signal.Signals(-returncode), f"signal {-returncode}")
    except ValueError:
        name = f"signal {-returncode}"
    return f"Runtime exited with error: signal: {name}"


def exit_payload(request_id: str, returncode: int | None) -> bytes:
    return _platform_error("Runtime.ExitError", f"RequestId: {request_id} Error: {exit_reason(returncode)}")


def out_of_memory_payload(request_id: str, returncode: int | None) -> bytes:
    """A runtime the kernel killed at the function's memory: ``Runtime.OutOfMemory`` with the exit's own message
    (``Error: Runtime exited with error: signal: killed``), as the REPORT line's ``Error Type`` says
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html)."""
    return _platform_error("Runtime.OutOfMemory", f"RequestId: {request_id} Error: {exit_reason(returncode)}")


def oversized_payload() -> bytes:
    return _platform_error(
        "Function.ResponseSizeTooLarge",
        f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
    )
