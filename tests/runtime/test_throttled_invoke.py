"""An Invoke that finds no free execution environment is throttled as Lambda throttles: 429
TooManyRequestsException, never a 500.

Lambda answers an invocation over the account's (or the function's reserved) concurrency with HTTP 429
`TooManyRequestsException` ("Rate Exceeded.", `Reason` one of the ThrottleReason values, e.g.
`ConcurrentInvocationLimitExceeded`): https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors.
An unprivileged lambdaperm server holds at most a few sandboxes (runtime/sandbox_slots.py); when all are busy the
invoke waits a bounded time and then fails with SandboxesExhausted, which the gateway renders (gateway/lambda_env.py).
The end-to-end proof is tests/e2e/test_lambda_throttling.py.
"""

from __future__ import annotations

import json

from lambdaperm.gateway.lambda_env import invoke_error
from lambdaperm.protocol.serialize_error import serialize_error
from lambdaperm.runtime import WorkerStartError
from lambdaperm.runtime.sandbox_slots import SandboxesExhausted


def test_no_free_sandbox_is_a_throttle_in_lambdas_wire_form() -> None:
    error = invoke_error(SandboxesExhausted("all 3 sandboxes of this server are busy"))
    response = serialize_error("lambda", error, "req-1")
    assert response.status == 429
    assert response.header("x-amzn-ErrorType") == "TooManyRequestsException"
    body = json.loads(response.body)
    assert body == {"Type": "User", "message": "Rate Exceeded.", "Reason": "ConcurrentInvocationLimitExceeded"}


def test_a_worker_that_cannot_start_is_still_a_service_exception() -> None:
    """Only the sandbox cap is a throttle: any other start failure stays 500 ServiceException."""
    error = invoke_error(WorkerStartError("the worker exited during init"))
    assert (error.code, error.status) == ("ServiceException", 500)
