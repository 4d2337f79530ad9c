"""The event check, the service's error payloads and the platform log lines (pure functions)."""

from __future__ import annotations

import base64
import signal

import pytest

from lambdaperm.runtime import PayloadError, log_result, validate_payload
from lambdaperm.runtime.logs import Report, billed_ms, init_report_line, invocation_log, report_line
from lambdaperm.runtime.payloads import exit_reason, oversized_payload, timeout_payload


@pytest.mark.parametrize("payload", [b"", b"{}", b'{"a": [1, 2.5, null, true]}', b'"text"', b"42", b"[]",
                                     b" \n{}\n", '{"é": "ü"}'.encode()])
def test_valid_payloads(payload: bytes) -> None:
    validate_payload(payload)


@pytest.mark.parametrize("payload", [b"{not json", b"{}{}", b"NaN", b'{"a": Infinity}', b"\xff\xfe",
                                     b"{'a': 1}"])
def test_invalid_payloads(payload: bytes) -> None:
    with pytest.raises(PayloadError):
        validate_payload(payload)


def test_exit_reasons() -> None:
    assert exit_reason(1) == "Runtime exited with error: exit status 1"
    assert exit_reason(0) == "Runtime exited without providing a reason"
    assert exit_reason(-signal.SIGKILL) == "Runtime exited with error: signal: killed"
    assert exit_reason(-signal.SIGABRT) == "Runtime exited with error: signal: aborted"
    assert exit_reason(-signal.SIGSEGV) == "Runtime exited with error: signal: segmentation fault"


def test_service_payloads() -> None:
    assert timeout_payload("id", 900) == (b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: id '
                                          b'Error: Task timed out after 900.00 seconds"}')
    assert oversized_payload().startswith(b'{"errorType":"Function.ResponseSizeTooLarge","errorMessage":')


def test_report_lines() -> None:
    assert billed_ms(15.74, 130.49) == 147  # AWS's documented example: the init phase is billed
    assert billed_ms(0.05, None) == 1 and billed_ms(3000.0, None) == 3000
    assert report_line(Report("id", 1.234, 128, 40)) == (
        "REPORT RequestId: id\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\t\n")
    assert report_line(Report("id", 3000.0, 128, 73, 402.04, "timeout")) == (
        "REPORT RequestId: id\tDuration: 3000.00 ms\tBilled Duration: 3403 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 73 MB\tInit Duration: 402.04 ms\tStatus: timeout\t\n")
    assert init_report_line(88.4, "error", "Runtime.ImportModuleError") == (
        "INIT_REPORT Init Duration: 88.40 ms\tPhase: init\tStatus: error\t"
        "Error Type: Runtime.ImportModuleError\n")
    text = invocation_log(before="", output="no newline", version="3", report=Report("r", 1.0, 128, 1))
    assert text.splitlines() == ["START RequestId: r Version: 3", "no newline", "END RequestId: r",
                                 "REPORT RequestId: r\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
                                 "Memory Size: 128 MB\tMax Memory Used: 1 MB\t"]


def test_log_result_is_the_last_4_kb() -> None:
    text = "é" * 3000 + "END\n"
    decoded = base64.b64decode(log_result(text))
    assert len(decoded) == 4096 and decoded.endswith(b"END\n")
    assert base64.b64decode(log_result("short")) == b"short"
