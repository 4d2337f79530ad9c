"""Invocations that succeed: payloads, the context object, the environment, warm reuse, logs."""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from lambdaperm.runtime import Credentials, Runtime
from tests.runtime.conftest import ACCOUNT, CREDS, ENDPOINT, REGION, Functions, invoke

ECHO = """
import os
def handler(event, context):
    print("hello from the handler")
    return {"event": event, "pid": os.getpid(), "ns": os.readlink("/proc/self/ns/pid")}
"""

CONTEXT = """
def handler(event, context):
    cc = context.client_context
    return {
        "function_name": context.function_name, "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id, "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name, "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": None if cc is None else {"custom": cc.custom, "env": cc.env,
                                                   "app_title": cc.client.app_title},
    }
"""

ENV = """
import os, sys
def fds():
    out = {}
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            out[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # the directory listing's own descriptor
            pass
    return out
def handler(event, context):
    return {"env": dict(os.environ), "cwd": os.getcwd(), "path0": sys.path[0], "fds": fds()}
"""

COUNTER = """
import os
calls = 0
TOKEN = os.urandom(16).hex()  # one per execution environment
def handler(event, context):
    global calls
    calls += 1
    return {"pid": [os.getpid(), os.readlink("/proc/self/ns/pid")], "calls": calls, "token": TOKEN}
"""


def test_hello_world(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": ECHO})
    result = invoke(runtime, spec, b'{"name": "world", "n": [1, 2.5, null]}', request_id="req-1")
    assert result.function_error is None
    body = json.loads(result.payload)
    assert body["event"] == {"name": "world", "n": [1, 2.5, None]}
    assert result.request_id == "req-1" and result.init_duration_ms is not None and result.duration_ms >= 0
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", result.log_stream_name)


def test_empty_payload_is_an_empty_object(runtime: Runtime, functions: Functions) -> None:
    result = invoke(runtime, functions.spec({"app.py": ECHO}), b"")
    assert json.loads(result.payload)["event"] == {}


def test_handler_paths_dotted_and_slashed(runtime: Runtime, functions: Functions) -> None:
    code = "def handler(event, context):\n    return __name__\n"
    dotted = functions.spec({"pkg/__init__.py": "", "pkg/mod.py": code}, handler="pkg.mod.handler")
    slashed = functions.spec({"src/lambdas/app.py": code}, name="other", handler="src/lambdas/app.handler")
    assert invoke(runtime, dotted).payload == b'"pkg.mod"'
    assert invoke(runtime, slashed).payload == b'"src.lambdas.app"'


def test_context_fields(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": CONTEXT}, name="ctx", version="7", memory_size=256, timeout=5)
    result = invoke(runtime, spec, request_id="rid-42")
    ctx = json.loads(result.payload)
    assert ctx["function_name"] == "ctx" and ctx["function_version"] == "7"
    assert ctx["invoked_function_arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ctx:7"
    assert ctx["memory_limit_in_mb"] == "256"  # a string, as AWS's context has it
    assert ctx["aws_request_id"] == "rid-42" and ctx["log_group_name"] == "/aws/lambda/ctx"
    assert ctx["log_stream_name"] == result.log_stream_name and "[7]" in ctx["log_stream_name"]
    assert 4000 < ctx["remaining"] <= 5000
    assert ctx["identity"] == [None, None] and ctx["client_context"] is None
    cc = {"custom": {"k": "v"}, "env": {"locale": "en"}, "client": {"app_title": "demo"}}
    encoded = base64.b64encode(json.dumps(cc).encode()).decode()
    with_cc = json.loads(invoke(runtime, spec, client_context=encoded).payload)
    assert with_cc["client_context"] == {"custom": {"k": "v"}, "env": {"locale": "en"}, "app_title": "demo"}


def test_environment_is_lambdas_and_nothing_of_the_server(runtime: Runtime, functions: Functions,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDAPERM_SERVER_SECRET", "do-not-leak")
    monkeypatch.setenv("PYTHONPATH", "/nowhere")
    spec = functions.spec({"app.py": ENV}, environment={"STAGE": "test", "AWS_REGION": "eu-west-1",
                                                        "TZ": "Europe/Paris"})
    out = json.loads(invoke(runtime, spec).payload)
    env = out["env"]
    root = env["LAMBDA_TASK_ROOT"]
    if runtime.isolation.available:  # the code directory as AWS names it, and the bootstrap's
        assert root == "/var/task" and env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"
    else:
        assert Path(root).name != "" and "work/code" in root
    assert out["cwd"] == root == out["path0"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn" and env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION  # reserved: the function can't override
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11" and env["_HANDLER"] == "app.handler"
    assert env["AWS_ENDPOINT_URL"] == ENDPOINT
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]) == (
        CREDS.access_key_id, CREDS.secret_access_key, CREDS.session_token)
    assert env["STAGE"] == "test" and env["TZ"] == "Europe/Paris"  # TZ is a default a function may set
    assert "LAMBDAPERM_SERVER_SECRET" not in env and "PYTHONPATH" not in env and "HOME" not in env
    expected = {
        "PATH", "LANG", "TZ", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "STAGE",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
        "_HANDLER", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
    }
    assert set(env) - {"LD_LIBRARY_PATH"} == expected
    fds = {int(k): v for k, v in out["fds"].items()}
    assert fds[0] == os.devnull and fds[1] == fds[2] and fds[1].endswith("(deleted)")
    rest = [v for fd, v in fds.items() if fd > 2 and not v.startswith("/proc")]
    # pipes, and the sandbox's own endpoint relay: one listening socket per loopback address (isolation round 13)
    assert all(v.startswith("pipe:") for v in rest if not v.startswith("socket:"))
    assert sum(v.startswith("socket:") for v in rest) <= (2 if runtime.isolation.available else 0)


def test_warm_reuse_keeps_the_process_and_module_state(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": COUNTER})
    results = [invoke(runtime, spec) for _ in range(4)]
    bodies = [json.loads(r.payload) for r in results]
    assert len({tuple(b["pid"]) for b in bodies}) == 1
    assert [b["calls"] for b in bodies] == [1, 2, 3, 4]
    assert results[0].init_duration_ms is not None
    assert all(r.init_duration_ms is None for r in results[1:])
    assert "Init Duration" in results[0].log_tail and "Init Duration" not in results[1].log_tail


def test_new_code_or_configuration_gets_a_cold_start(runtime: Runtime, functions: Functions) -> None:
    first = functions.spec({"app.py": COUNTER})
    second = replace(functions.spec({"app.py": COUNTER + "\n# v2\n"}))
    a1, a2 = json.loads(invoke(runtime, first).payload), json.loads(invoke(runtime, first).payload)
    b1 = invoke(runtime, second)
    assert b1.init_duration_ms is not None and json.loads(b1.payload)["calls"] == 1
    # a new environment: told apart by a token drawn at its init (a pid and a namespace inode are reused by the
    # kernel once the old worker is gone)
    assert a1["token"] == a2["token"] != json.loads(b1.payload)["token"]
    reconfigured = replace(second, environment={"NEW": "1"})
    c1 = invoke(runtime, reconfigured)
    assert c1.init_duration_ms is not None and json.loads(c1.payload)["calls"] == 1


def test_print_and_logging_output_in_the_log(runtime: Runtime, functions: Functions) -> None:
    code = """
    import logging, sys
    print("init line")
    logger = logging.getLogger()
    logger.setLevel(logging.INFO)
    def handler(event, context):
        print("to stdout")
        print("to stderr", file=sys.stderr)
        logger.info("via logging")
        return "ok"
    """
    spec = functions.spec({"app.py": code}, memory_size=256)
    cold = invoke(runtime, spec, request_id="r1")
    lines = cold.log_tail.splitlines()
    assert lines[0] == "init line" and lines[1] == "START RequestId: r1 Version: $LATEST"
    assert lines[2:4] == ["to stdout", "to stderr"]
    assert re.fullmatch(r"\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tr1\tvia logging", lines[4])
    assert lines[5] == "END RequestId: r1"
    assert re.fullmatch(r"REPORT RequestId: r1\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
                        r"Memory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t",
                        lines[6])
    assert len(lines) == 7
    warm = invoke(runtime, spec, request_id="r2")
    assert warm.log_tail.splitlines()[0] == "START RequestId: r2 Version: $LATEST"
    assert "init line" not in warm.log_tail and "to stdout" in warm.log_tail


def test_large_output_is_captured(runtime: Runtime, functions: Functions) -> None:
    code = """
    def handler(event, context):
        for i in range(20000):
            print(f"line {i:05d} " + "x" * 90)
        return len(event)
    """
    result = invoke(runtime, functions.spec({"app.py": code}))
    assert result.payload == b"0"
    assert "line 00000 " in result.log_tail and "line 19999 " in result.log_tail
    assert len(result.log_tail) > 2_000_000 and result.log_tail.splitlines()[-1].startswith("REPORT ")


def test_credentials_change_between_invocations(runtime: Runtime, functions: Functions) -> None:
    code = """
    import os
    import boto3
    def handler(event, context):
        fresh = boto3.DEFAULT_SESSION is None
        boto3.setup_default_session() if fresh else None
        key = boto3.DEFAULT_SESSION.get_credentials().access_key
        return {"env": [os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                      "AWS_SESSION_TOKEN")], "fresh": fresh, "boto3": key}
    """
    spec = functions.spec({"app.py": code})
    first = json.loads(invoke(runtime, spec).payload)
    assert first == {"env": ["ASIATESTACCESSKEY001", "test-secret-1", "test-token-1"], "fresh": True,
                     "boto3": "ASIATESTACCESSKEY001"}
    same = json.loads(invoke(runtime, spec).payload)
    assert same["fresh"] is False  # unchanged credentials keep boto3's default session warm
    rotated = Credentials("ASIATESTACCESSKEY002", "test-secret-2", "test-token-2")
    second = json.loads(invoke(runtime, spec, creds=rotated).payload)
    assert second == {"env": ["ASIATESTACCESSKEY002", "test-secret-2", "test-token-2"], "fresh": True,
                      "boto3": "ASIATESTACCESSKEY002"}
    no_token = json.loads(invoke(runtime, spec, creds=Credentials("AKIATEST3", "s3", "")).payload)
    assert no_token["env"] == ["AKIATEST3", "s3", None]


def test_result_encoding_like_awslambdaric(runtime: Runtime, functions: Functions) -> None:
    code = """
    from decimal import Decimal
    def handler(event, context):
        kind = event["kind"]
        if kind == "decimal":
            return {"d": Decimal("1.10"), "n": Decimal("NaN"), "l": [Decimal("3"), 2.5]}
        if kind == "bytes":
            return b"raw\\xff"
        if kind == "none":
            return None
        return {"text": "caf\\u00e9"}
    """
    spec = functions.spec({"app.py": code})
    assert invoke(runtime, spec, b'{"kind": "decimal"}').payload == b'{"d": 1.10, "n": NaN, "l": [3, 2.5]}'
    assert invoke(runtime, spec, b'{"kind": "bytes"}').payload == b"raw\xff"
    assert invoke(runtime, spec, b'{"kind": "none"}').payload == b"null"
    assert invoke(runtime, spec, b'{"kind": "text"}').payload == b'{"text": "caf\\u00e9"}'
    py312 = replace(spec, runtime="python3.12")  # awslambdaric sets ensure_ascii=False on 3.12 only
    assert invoke(runtime, py312, b'{"kind": "text"}').payload == '{"text": "café"}'.encode()
