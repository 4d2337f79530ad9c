"""Function errors with the payloads and log records of AWS's Python runtime (awslambdaric)."""

from __future__ import annotations

import json

from lambdaperm.runtime import Runtime
from tests.runtime.conftest import Functions, invoke

RAISES = """\
import helper
def handler(event, context):
    return helper.lookup(event)
"""
HELPER = """\
def lookup(event):
    return event["action"]
"""


def test_handler_exception(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": RAISES, "helper.py": HELPER})
    result = invoke(runtime, spec, b"{}", request_id="req-err")
    assert result.function_error == "Unhandled"
    expected = {
        "errorMessage": "'action'", "errorType": "KeyError", "requestId": "req-err",
        "stackTrace": [
            '  File "/var/task/app.py", line 3, in handler\n    return helper.lookup(event)\n',
            '  File "/var/task/helper.py", line 2, in lookup\n    return event["action"]\n',
        ],
    }
    assert result.payload == json.dumps(expected).encode()  # simplejson's default separators, key order
    nbsp2, nbsp4 = "\xa0" * 2, "\xa0" * 4
    record = ("[ERROR] KeyError: 'action'\nTraceback (most recent call last):\n"
              f'{nbsp2}File "/var/task/app.py", line 3, in handler\n{nbsp4}return helper.lookup(event)\n'
              f'{nbsp2}File "/var/task/helper.py", line 2, in lookup\n{nbsp4}return event["action"]\n')
    assert record in result.log_tail
    again = invoke(runtime, spec, b'{"action": "ok"}')  # the worker survives a handler exception
    assert again.payload == b'"ok"' and again.init_duration_ms is None


def test_import_error(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": "x = 1\n"}, handler="nope.handler")
    result = invoke(runtime, spec, request_id="req-imp")
    assert result.function_error == "Unhandled"
    assert result.payload == (b'{"errorMessage": "Unable to import module \'nope\': No module named '
                              b'\'nope\'", "errorType": "Runtime.ImportModuleError", "requestId": "", '
                              b'"stackTrace": []}')
    assert ("[ERROR] Runtime.ImportModuleError: Unable to import module 'nope': No module named 'nope'\n"
            "Traceback (most recent call last):\n") in result.log_tail
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError\n" in result.log_tail
    log = result.log_tail
    assert log.index("INIT_REPORT Init Duration: ") < log.index("START RequestId: req-imp")
    assert log.splitlines(True)[-1].endswith("\tStatus: error\tError Type: Runtime.ImportModuleError\t\n")
    assert invoke(runtime, spec).init_duration_ms is not None  # every invoke retries the init
    assert runtime.worker_pids(spec.function_arn) == []


def test_missing_and_malformed_handler(runtime: Runtime, functions: Functions) -> None:
    missing = json.loads(invoke(runtime, functions.spec({"app.py": "x = 1\n"}, handler="app.nope")).payload)
    assert (missing["errorType"], missing["errorMessage"]) == (
        "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'app'")
    malformed = json.loads(invoke(runtime, functions.spec({"app.py": ""}, name="m", handler="app")).payload)
    assert (malformed["errorType"], malformed["errorMessage"]) == (
        "Runtime.MalformedHandlerName", "Bad handler 'app': not enough values to unpack (expected 2, got 1)")
    conflict = functions.spec({"app.py": ""}, name="b", handler="sys.exit")
    builtin = json.loads(invoke(runtime, conflict).payload)
    assert (builtin["errorType"], builtin["errorMessage"]) == (
        "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module")


def test_syntax_error_and_exception_at_import(runtime: Runtime, functions: Functions) -> None:
    syntax = json.loads(invoke(runtime, functions.spec({"app.py": "def handler(:\n"})).payload)
    assert syntax["errorType"] == "Runtime.UserCodeSyntaxError" and syntax["requestId"] == ""
    assert syntax["errorMessage"].startswith("Syntax error in module 'app': ")
    assert syntax["stackTrace"][0].startswith('  File "/var/task/app.py" Line 1\n    def handler(:')
    raising = functions.spec({"app.py": "raise ValueError('bad config')\n"}, name="r")
    failed = json.loads(invoke(runtime, raising).payload)
    assert (failed["errorType"], failed["errorMessage"], failed["requestId"]) == ("ValueError", "bad config",
                                                                                  "")
    assert failed["stackTrace"][-1] == ('  File "/var/task/app.py", line 1, in <module>\n'
                                        "    raise ValueError('bad config')\n")


def test_result_not_serializable(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": "def handler(event, context):\n    return {1, 2}\n"})
    result = invoke(runtime, spec, request_id="req-m")
    assert result.function_error == "Unhandled"
    assert result.payload == (b'{"errorMessage": "Unable to marshal response: Object of type set is not JSON '
                              b'serializable", "errorType": "Runtime.MarshalError", "requestId": "req-m", '
                              b'"stackTrace": []}')


def test_event_that_is_not_json_reaches_the_runtime_as_unmarshal_error(runtime: Runtime,
                                                                      functions: Functions) -> None:
    spec = functions.spec({"app.py": "def handler(event, context):\n    return event\n"})
    body = json.loads(invoke(runtime, spec, b"{nope").payload)  # the caller normally refuses it first
    assert body["errorType"] == "Runtime.UnmarshalError"
    assert body["errorMessage"].startswith("Unable to unmarshal input: Expecting property name")


def test_response_too_large(runtime: Runtime, functions: Functions) -> None:
    code = """
    import os
    TOKEN = os.urandom(16).hex()  # drawn once per execution environment (at init)
    def handler(event, context):
        return {"token": TOKEN} if event.get("pid") else "x" * event["n"]
    """
    spec = functions.spec({"app.py": code})
    me = json.loads(invoke(runtime, spec, b'{"pid": true}').payload)
    at_limit = invoke(runtime, spec, b'{"n": 6291554}')  # 6291556 bytes with the quotes: allowed
    assert at_limit.function_error is None and len(at_limit.payload) == 6291556
    over = invoke(runtime, spec, b'{"n": 6291555}')
    assert over.function_error == "Unhandled"
    assert over.payload == (b'{"errorType":"Function.ResponseSizeTooLarge","errorMessage":"Response payload '
                            b'size exceeded maximum allowed payload size (6291556 bytes)."}')
    assert "\tStatus: error\tError Type: Runtime.ExitError\t" in over.log_tail
    # The environment was recycled, as on AWS: a new init, and a token drawn by a new one (a pid and a namespace
    # inode can both be reused by the kernel; 16 random bytes are not).
    after = invoke(runtime, spec, b'{"pid": true}')
    assert after.init_duration_ms is not None and json.loads(after.payload)["token"] != me["token"]
