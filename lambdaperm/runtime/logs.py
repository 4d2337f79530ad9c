"""The platform's lines in a function's log, as Lambda writes them around the handler's own output.

    START RequestId: <id> Version: <v>
    <handler output>
    END RequestId: <id>
    REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
    Max Memory Used: 40 MB\t                                        (one line, each field ends with a tab)

On a cold start the init phase's output comes first and REPORT adds ``Init Duration: x ms``; since August
2025 the billed duration includes the init phase (docs example: Duration 15.74 ms + Init 130.49 ms →
Billed 147 ms). A platform failure adds ``Status: timeout`` or ``Status: error\tError Type: <type>``; a
failed init is reported by
``INIT_REPORT Init Duration: x ms\tPhase: init\tStatus: error\tError Type: <type>``.
https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

LOG_RESULT_BYTES = 4096


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    memory_size: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    status: str | None = None  # "timeout" | "error"
    error_type: str | None = None


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def billed_ms(duration_ms: float, init_duration_ms: float | None) -> int:
    return max(1, math.ceil(round(duration_ms + (init_duration_ms or 0.0), 2)))


def report_line(report: Report) -> str:
    fields = [
        f"REPORT RequestId: {report.request_id}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {billed_ms(report.duration_ms, report.init_duration_ms)} ms",
        f"Memory Size: {report.memory_size} MB",
        f"Max Memory Used: {report.max_memory_used_mb} MB",
    ]
    if report.init_duration_ms is not None:
        fields.append(f"Init Duration: {report.init_duration_ms:.2f} ms")
    if report.status is not None:
        fields.append(f"Status: {report.status}")
    if report.error_type is not None:
        fields.append(f"Error Type: {report.error_type}")
    return "\t".join(fields) + "\t\n"


def init_report_line(init_duration_ms: float, status: str, error_type: str | None) -> str:
    fields = [f"INIT_REPORT Init Duration: {init_duration_ms:.2f} ms", "Phase: init", f"Status: {status}"]
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\n"


def as_lines(output: str) -> str:
    """Handler output as log lines: whatever it printed, ending with a newline."""
    return output if not output or output.endswith("\n") else output + "\n"


def invocation_log(*, before: str, output: str, version: str, report: Report) -> str:
    """The whole text of one invocation: init-phase (or between-invocations) output, then START..REPORT."""
    return (as_lines(before) + start_line(report.request_id, version) + as_lines(output)
            + end_line(report.request_id) + report_line(report))


def log_result(log_tail: str) -> str:
    """X-Amz-Log-Result: base64 of the last 4 KB of the invocation's log (``X-Amz-Log-Type: Tail``)."""
    return base64.b64encode(log_tail.encode("utf-8")[-LOG_RESULT_BYTES:]).decode("ascii")
