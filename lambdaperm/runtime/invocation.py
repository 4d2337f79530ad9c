"""The values that go into and come out of one invocation."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs to know about one function version.

    handler: ``module.function``, where module may be dotted (``pkg.mod.fn``) or a path (``dir/file.fn``),
    as Lambda's Python runtime accepts. runtime: python3.8 to python3.13, all run on this interpreter.
    function_arn: qualified with the version (``...:function:f:3`` or ``...:function:f:$LATEST``).
    code_sha256: Lambda's CodeSha256 (base64); it names the unzipped code, which is trusted to match.
    role_arn, incarnation: the execution role whose credentials a worker's init phase gets, and the function's
    incarnation (a function deleted and created again under its name is another function). A configuration update
    makes Lambda prepare new execution environments
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): a worker initialized for one role
    or incarnation never serves another (races review round 14: a worker started for the old role by an invocation
    in flight across UpdateFunctionConfiguration served every later invocation, its init-time clients acting as the
    old role).
    """

    function_name: str
    function_arn: str
    version: str
    handler: str
    runtime: str
    code_zip: Path
    code_sha256: str
    environment: dict[str, str]
    timeout: int
    memory_size: int
    region: str
    account: str
    log_group: str
    role_arn: str = ""
    incarnation: str = ""

    def config_hash(self) -> str:
        """Everything but the code that a warm environment depends on: a change means new workers."""
        config = [self.function_name, self.version, self.handler, self.runtime,
                  sorted(self.environment.items()), self.timeout, self.memory_size, self.region, self.account,
                  self.log_group, self.role_arn, self.incarnation]
        return hashlib.sha256(json.dumps(config).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(access_key_id={self.access_key_id!r})"


@dataclass(frozen=True)
class InvokeResult:
    """payload: the response (or error) document. function_error: "Unhandled" or None.
    log_tail: the invocation's whole log text (init output on a cold start, START, the handler's
    stdout/stderr, END, REPORT); the caller takes the last 4 KB for X-Amz-Log-Result.
    duration_ms: time in the handler. init_duration_ms: set on a cold start.
    log_stream_name: the worker's stream (``YYYY/MM/DD/[version]<32 hex>``), for shipping log_tail."""

    payload: bytes
    function_error: str | None
    log_tail: str
    duration_ms: float
    init_duration_ms: float | None
    request_id: str
    log_stream_name: str = ""
