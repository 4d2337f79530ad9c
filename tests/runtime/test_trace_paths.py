"""A handler's stack trace shows the paths a Lambda function sees — `/var/task` for its code, `/var/lang/lib/
python3.X` for the standard library and installed packages, `/var/runtime` for the runtime — never the server's
install paths (issue 8 §4: a trace revealed the host's Python prefix and lambdaperm's checkout)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lambdaperm.runtime import Runtime
from tests.runtime.conftest import Functions, invoke

STDLIB_RAISES = """\
import json
def handler(event, context):
    return json.loads("not json")
"""
ROOT = str(Path(__file__).resolve().parents[2])


def test_a_trace_through_the_standard_library_shows_lambda_paths(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": STDLIB_RAISES})
    result = invoke(runtime, spec, b"{}", request_id="req-paths")
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "JSONDecodeError"
    trace = "".join(error["stackTrace"])
    assert trace.startswith('  File "/var/task/app.py", line 3, in handler\n')
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert f'File "/var/lang/lib/{version}/json/__init__.py"' in trace
    assert f'File "/var/lang/lib/{version}/json/decoder.py"' in trace
    for leak in (sys.base_prefix, sys.prefix, ROOT, "site-packages/lambdaperm", "/root/"):
        assert leak not in trace and leak not in result.log_tail, leak
