"""The worker's environment: clean, with exactly Lambda's variables.

Nothing of the server's environment reaches a function (no inherited variables; LD_LIBRARY_PATH is the one
exception, when set, because the interpreter may need it to start). Lambda's reserved variables
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
win over the function's own; PATH, LANG and TZ are Lambda defaults a function may override, as on AWS.
AWS_ENDPOINT_URL (the server's URL) always wins, so boto3 >= 1.28 in the handler talks to lambdaperm.
AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE point at /dev/null (overridable), so the server user's
~/.aws files never feed a handler's SDK.
"""

from __future__ import annotations

import datetime
import os
import site
import sys
import uuid
from pathlib import Path

from lambdaperm.runtime.errors import UnsupportedRuntime
from lambdaperm.runtime.invocation import Credentials, FunctionSpec

SUPPORTED_RUNTIMES = frozenset(f"python3.{minor}" for minor in range(8, 14))


def log_stream_name(version: str, now: datetime.datetime | None = None) -> str:
    """``2025/08/31/[$LATEST]3893...`` as Lambda names one execution environment's stream."""
    day = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def worker_environment(spec: FunctionSpec, *, task_root: Path, runtime_dir: Path, endpoint_url: str,
                       stream: str, credentials: Credentials) -> dict[str, str]:
    if spec.runtime not in SUPPORTED_RUNTIMES:
        raise UnsupportedRuntime(f"runtime {spec.runtime!r} is not supported (python3.8 to python3.13)")
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    if os.environ.get("LD_LIBRARY_PATH"):
        env["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH"]
    env.update(spec.environment)
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(runtime_dir),
        "_HANDLER": spec.handler,
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_ENDPOINT_URL": endpoint_url,
    })
    env.pop("AWS_SESSION_TOKEN", None)
    if credentials.session_token:
        env["AWS_SESSION_TOKEN"] = credentials.session_token
    return env


def library_paths() -> list[str]:
    """The interpreter's site-packages (boto3 lives there), added to the worker's sys.path after the
    standard library. The worker runs with -S (``.pth`` files of the server's environment are not
    processed: an AWS runtime has none of them either, and they cost 100+ ms per cold start)."""
    return [p for p in site.getsitepackages() if os.path.isdir(p)]
