"""The Lambda service's collaborators, wired: code archives beside the state, the runtime's warm
workers, the data plane (S3 code, VPC lookups, CloudWatch Logs) and a pool for asynchronous invokes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from lambdaperm.dataplane import moto_state
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.runtime.code_store import sweep as sweep_unzipped_code
from lambdaperm.runtime.errors import CodeError, LambdaRuntimeError, PayloadError, RuntimeClosed, UnsupportedRuntime
from lambdaperm.runtime.isolation import MAX_TASKS
from lambdaperm.runtime.isolation import probe as probe_isolation
from lambdaperm.runtime.sandbox_slots import SandboxesExhausted
from lambdaperm.runtime.worker import BOOTSTRAP
from lambdaperm.services.lambda_.invoke import SessionCredentials, Target
from lambdaperm.services.lambda_.store import CodeStore

from . import log_batches
from .async_invokes import AsyncInvokes
from .code_read_holds import held_read
from .invoke_threads import InvokeThreads, on_request_thread
from .role_sessions import authorize_role_session
from .sandbox_links import SandboxLinks

log = logging.getLogger("lambdaperm.lambda")
MAX_TASKS_VARIABLE = "LAMBDAPERM_LAMBDA_MAX_TASKS"  # processes/threads per sandbox (default: Lambda's 1,024)


def _max_tasks() -> int:
    raw = os.environ.get(MAX_TASKS_VARIABLE, "")
    if not raw:
        return MAX_TASKS
    if not raw.isdigit() or not 8 <= int(raw) <= 1 << 20:  # 8: the sandbox's own init, worker and threads
        raise ValueError(f"{MAX_TASKS_VARIABLE}={raw!r} is not a number of processes from 8 to {1 << 20}")
    return int(raw)


def invoke_error(e: LambdaRuntimeError) -> ServiceError:
    """Invoke's documented error for a runtime failure (https://docs.aws.amazon.com/lambda/latest/api/
    API_Invoke.html#API_Invoke_Errors): InvalidZipFileException (502, "Lambda could not unzip the deployment
    package"), InvalidRuntimeException (502, "The runtime or runtime version specified is not supported"),
    TooManyRequestsException (429 "Rate Exceeded.", Reason ConcurrentInvocationLimitExceeded: every execution
    environment the server, or the account, may hold is busy — an account at its concurrency quota), else
    ServiceException (500, "The AWS Lambda service encountered an internal error": the worker could not start,
    the runtime is shutting down). The message says what happened, never where (no path, no traceback)."""
    if isinstance(e, CodeError):
        return ServiceError("InvalidZipFileException", e.message, 502, fields={"Type": "User"})
    if isinstance(e, UnsupportedRuntime):
        return ServiceError("InvalidRuntimeException", str(e), 502, fields={"Type": "User"})
    if isinstance(e, PayloadError):  # 400 "The request body could not be parsed as JSON"
        return ServiceError("InvalidRequestContentException", str(e), 400, fields={"Type": "User"})
    if isinstance(e, SandboxesExhausted):  # no execution environment free: Lambda throttles (429), never a 500
        log.warning("Invoke throttled: %s", e)
        return ServiceError("TooManyRequestsException", "Rate Exceeded.", 429,
                            fields={"Type": "User", "Reason": "ConcurrentInvocationLimitExceeded"})
    log.error("Invoke failed in the runtime: %s", e)
    message = ("The Lambda service is shutting down." if isinstance(e, RuntimeClosed)
               else "The Lambda service could not start an execution environment for the function.")
    return ServiceError("ServiceException", message, 500, sender_fault=False, fields={"Type": "Service"})


class LambdaEnv:
    def __init__(self, state_dir: Path | None, endpoint_url: str) -> None:
        self._tmp = None if state_dir is not None else tempfile.TemporaryDirectory(prefix="lambdaperm-")
        base = state_dir if state_dir is not None else Path(self._tmp.name)  # type: ignore[union-attr]
        self.code = CodeStore(base / "code")
        self.work_dir = base / "runtime"
        sweep_unzipped_code(self.work_dir / "code")  # what a killed server left: no worker of ours uses it yet
        # Handlers are untrusted: each worker runs in a sandbox that cannot see `base` (the state database,
        # every function's code). Probed now, so that start-up says whether handlers will be isolated.
        self.isolation = probe_isolation(
            [Path(base)], BOOTSTRAP.parent, max_tasks=_max_tasks(), views=self.work_dir / "proc-views"
        )
        if self.isolation.available:
            log.info("%s", self.isolation.log_line())
        else:
            log.warning("%s", self.isolation.log_line())
        self.endpoint_url = endpoint_url
        self.links = SandboxLinks()  # each sandbox's one way to the endpoint, served by `lambdaperm serve`'s loop
        self._runtime: Any = None
        self._async = AsyncInvokes()  # each account's asynchronous invocations hold a bounded share (round 6)
        self._request_threads = InvokeThreads()  # one account's invocations hold a bounded share (round 6)
        self._url_key = secrets.token_bytes(32)  # signs code download URLs (valid for this process only)

    CODE_URL_SECONDS = 600

    def code_url(self, code_hex: str) -> str:
        """A presigned, short-lived URL of a code archive (what GetFunction's Code.Location is in AWS)."""
        expires = int(time.time()) + self.CODE_URL_SECONDS
        signature = self._sign(code_hex, expires)
        return f"{self.endpoint_url}/_lambdaperm/code/{code_hex}?Expires={expires}&Signature={signature}"

    def code_for_url(self, code_hex: str, expires: str, signature: str) -> bytes | None:
        """The archive, if the URL's signature is ours and has not expired."""
        if not expires.isdigit() or int(expires) < time.time():
            return None
        if not hmac.compare_digest(signature, self._sign(code_hex, int(expires))):
            return None
        path = self.code.path(code_hex)
        return path.read_bytes() if path.is_file() else None

    def _sign(self, code_hex: str, expires: int) -> str:
        return hmac.new(self._url_key, f"{code_hex}:{expires}".encode(), hashlib.sha256).hexdigest()

    @property
    def runtime(self) -> Any:
        if self._runtime is None:
            from lambdaperm.runtime import Runtime

            self._runtime = Runtime(self.work_dir, self.endpoint_url, isolation=self.isolation, links=self.links)
        return self._runtime

    # --- implicit accesses (code from S3), authorized as the caller: gateway/implicit.py ---
    implicit: Any = None  # ImplicitAccess, set by the server

    def s3_bucket(self, bucket: str) -> tuple[str, str] | None:
        found = moto_state.bucket_identity(bucket)
        return (found.owner, found.region) if found is not None else None

    def s3_object(self, bucket: str, key: str, version: str | None) -> bytes | None:
        return moto_state.s3_object(bucket, key, version)

    def s3_object_held(self, bucket: str, key: str) -> AbstractContextManager[None]:
        return held_read(bucket, key)

    def authorize_implicit(self, ctx: Any, service: str, operation: str, params: dict[str, Any]) -> str | None:
        if self.implicit is None:  # not wired: nothing can be authorized
            return f"{service}:{operation} cannot be authorized on the caller's behalf"
        denial: str | None = self.implicit.authorize(ctx, service, operation, params, via="lambda.amazonaws.com")
        return denial
    # --- end of implicit accesses ---

    # --- calls Lambda makes with a function's execution role: gateway/role_sessions.py ---
    def authorize_role_session(self, ctx: Any, session: Any, needed: Sequence[Any]) -> str | None:
        if self.implicit is None:  # not wired: nothing can be authorized
            return "the execution role's session cannot be authorized"
        return authorize_role_session(self.implicit.server, session, needed, now=ctx.now, region=ctx.region)
    # --- end of execution role calls ---

    def vpc_of(self, account: str, region: str, subnet_ids: list[str], security_group_ids: list[str]) -> str:
        return moto_state.vpc_of(account, region, subnet_ids, security_group_ids)

    def invoke(self, target: Target, payload: bytes, credentials: SessionCredentials, *, request_id: str,
               client_context: str | None) -> Any:
        from lambdaperm.runtime import Credentials, FunctionSpec

        spec = FunctionSpec(
            function_name=target.function_name, function_arn=target.function_arn, version=target.version,
            handler=target.handler, runtime=target.runtime, code_zip=self.code.path(target.code_hex),
            code_sha256=target.code_hex, environment=target.environment, timeout=target.timeout,
            memory_size=target.memory_size, region=target.region, account=target.account,
            log_group=target.log_group, role_arn=target.role_arn, incarnation=target.incarnation,
        )
        creds = Credentials(credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
        if not on_request_thread():  # an asynchronous invocation, an event source's poll: threads of their own
            return self._run(spec, payload, creds, request_id, client_context)
        with self._request_threads.hold(target.account):  # the function's account: Lambda counts its concurrency
            return self._run(spec, payload, creds, request_id, client_context)

    def _run(self, spec: Any, payload: bytes, creds: Any, request_id: str, client_context: str | None) -> Any:
        try:
            return self.runtime.invoke(spec, payload, creds, request_id=request_id, client_context=client_context)
        except LambdaRuntimeError as e:
            raise invoke_error(e) from None

    def evict(self, function_arn: str) -> None:
        if self._runtime is not None:
            self._runtime.evict(function_arn)

    def ship_logs(self, account: str, region: str, group: str, stream: str, text: str, *,
                  create_group: bool = True) -> None:
        now = int(time.time() * 1000)
        lines = [(now, line) for line in _events(text)]
        # decided without logs:CreateLogGroup: a group deleted since is not created again
        put = moto_state.put_logs if create_group else moto_state.put_logs_existing
        try:
            for batch in log_batches.batches(lines):  # one unit each: the execution lock is released between them
                put(account, region, group, stream, batch)
        except Exception:  # logs are best effort, as in Lambda: the invocation's result stands
            log.exception("could not write logs to %s", group)

    def log_group_exists(self, account: str, region: str, group: str) -> bool:
        return moto_state.log_group_exists(account, region, group)

    def submit(self, job: Callable[[], Any], account: str = "", size: int = 0) -> bool:
        """Run `job` (an asynchronous invocation, a push delivery, holding `size` bytes of payload) on the asynchronous
        threads, counted on `account` (the function's: Lambda counts concurrency per account; see `async_invokes`).
        False when the account's queue is full (round 8): the caller throttles an Invoke; a delivery is dropped."""
        if self._async.submit(account, job, size):
            return True
        log.warning("asynchronous queue of account %s is full: job of %d bytes not queued", account, size)
        return False

    def close(self) -> None:
        self._async.shutdown()
        if self._runtime is not None:
            self._runtime.shutdown()
        if self._tmp is not None:
            self._tmp.cleanup()


def _events(text: str) -> list[str]:
    """Log events as Lambda ships them: one per line, except that continuation lines (a multi-line
    `[ERROR]` record, a traceback) stay with the line they continue."""
    events: list[str] = []
    for line in text.split("\n"):
        if not line:
            continue
        if events and (line[0] in " \t\u00a0" or line.startswith("Traceback")):
            events[-1] += "\n" + line
        else:
            events.append(line)
    return events
