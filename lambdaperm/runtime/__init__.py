"""Lambda's Python runtime, locally: handlers run in warm worker processes under the execution role.

The function's code is unzipped once per CodeSha256; each (function ARN, code, configuration) has a pool of
at most ``max_workers_per_function`` worker processes, started on demand (cold start) and reused (warm).
A worker has a clean environment with Lambda's variables, the role's temporary credentials (refreshed with
every invocation) and ``AWS_ENDPOINT_URL`` pointing back at the lambdaperm endpoint, so every boto3 call the
handler makes is authorized as the role. Results, errors and logs have AWS's shapes (see `payloads`,
`logs`, and `bootstrap` for the runtime's own error documents).

    runtime = Runtime(work_dir, "http://127.0.0.1:4566")
    result = runtime.invoke(spec, b'{"x": 1}', credentials, request_id=str(uuid.uuid4()))
"""

from lambdaperm.runtime.errors import (
    UNZIP_MESSAGE,
    CodeError,
    LambdaRuntimeError,
    PayloadError,
    RuntimeClosed,
    UnsupportedRuntime,
    WorkerStartError,
)
from lambdaperm.runtime.invocation import Credentials, FunctionSpec, InvokeResult
from lambdaperm.runtime.logs import log_result
from lambdaperm.runtime.payloads import MAX_RESPONSE_BYTES, MAX_SYNC_REQUEST_BYTES, validate_payload
from lambdaperm.runtime.runtime import Runtime

__all__ = [
    "MAX_RESPONSE_BYTES",
    "MAX_SYNC_REQUEST_BYTES",
    "UNZIP_MESSAGE",
    "CodeError",
    "Credentials",
    "FunctionSpec",
    "InvokeResult",
    "LambdaRuntimeError",
    "PayloadError",
    "Runtime",
    "RuntimeClosed",
    "UnsupportedRuntime",
    "WorkerStartError",
    "log_result",
    "validate_payload",
]
