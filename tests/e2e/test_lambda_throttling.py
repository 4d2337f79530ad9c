"""Invoke when every execution environment is busy: 429 TooManyRequestsException, as Lambda throttles.

An unprivileged server holds at most ``MAX_SANDBOXES`` sandboxes (runtime/sandbox_slots.py). Lambda answers an
invocation it has no concurrency for with HTTP 429 TooManyRequestsException, "Rate Exceeded.", with a `Reason`
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors); lambdaperm answered 500
ServiceException after its bounded wait.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdaperm.runtime.kernel_budgets import MAX_SANDBOXES
from tests.e2e.conftest import Endpoint
from tests.security.endpoint_gates import GATE, EndpointGate
from tests.security.test_runtime_limits import _deploy, sandboxed_server

HOLD_SECONDS = 100  # a holder waits at its gate at most this long (the test opens the gates once it has its answers)
BUSY = (
    GATE
    + f"""
def handler(event, context):
    arrive(event["gate"], "busy", timeout={HOLD_SECONDS})
    return {{"held": True}}
"""
)


@pytest.fixture(scope="module", params=["as-a-throwaway-unprivileged-user"])
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _invoke(server: Endpoint, account: str, name: str, event: str) -> Any:
    """Invoke `name` of `account` with a read timeout above the hold: its payload, or the error response."""
    lam = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=account,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=HOLD_SECONDS * 2),
    )
    try:
        return json.loads(lam.invoke(FunctionName=name, Payload=event.encode())["Payload"].read())
    except ClientError as e:
        return e.response


def test_an_invoke_with_every_sandbox_busy_is_throttled(server: Endpoint) -> None:
    """``MAX_SANDBOXES`` + 1 functions (of three accounts, none holding more than ``MAX_SANDBOXES`` - 1) invoked at
    once, each holding its sandbox at a gate until the test has its answers (not for a fixed time: the holders' cold
    starts may spread past any hold under load): exactly one invocation is refused, with Lambda's throttle — 429
    TooManyRequestsException "Rate Exceeded." — and the others run."""
    accounts = ["111100000001", "111100000002", "111100000003"]
    gates = {account: EndpointGate(server, account) for account in accounts}
    targets = [(accounts[i % len(accounts)], f"busy-{i}") for i in range(MAX_SANDBOXES + 1)]
    for account, name in targets:
        lam = _deploy(server, account, name, BUSY)
        lam.update_function_configuration(FunctionName=name, Timeout=HOLD_SECONDS + 20)
        gates[account].allow(f"{name}-role")
    with ThreadPoolExecutor(len(targets)) as pool:
        futures = [pool.submit(_invoke, server, account, name, gates[account].event()) for account, name in targets]
        try:  # every invocation holds its sandbox at its gate or has been answered
            deadline = time.monotonic() + HOLD_SECONDS
            while time.monotonic() < deadline:
                arrived = sum(len(gate.arrived()) for gate in gates.values())
                if arrived + sum(f.done() for f in futures) >= len(targets):
                    break
                time.sleep(0.1)
        finally:
            for gate in gates.values():
                gate.open()
        outcomes = [f.result() for f in futures]
    throttled = [o for o in outcomes if "Error" in o]
    held = [o for o in outcomes if o == {"held": True}]
    assert len(held) == MAX_SANDBOXES and len(throttled) == 1, outcomes
    refused = throttled[0]
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert refused["Error"]["Code"] == "TooManyRequestsException"
    assert refused["Error"]["Message"] == "Rate Exceeded."
    assert refused["Reason"] == "ConcurrentInvocationLimitExceeded"
