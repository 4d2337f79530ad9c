"""Invoke when every execution environment is busy: 429 TooManyRequestsException, as Lambda throttles.

An unprivileged server holds at most ``MAX_SANDBOXES`` sandboxes (runtime/sandbox_slots.py). Lambda answers an
invocation it has no concurrency for with HTTP 429 TooManyRequestsException, "Rate Exceeded.", with a `Reason`
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors); lambdaperm answered 500
ServiceException after its bounded wait.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdaperm.runtime.kernel_budgets import MAX_SANDBOXES
from tests.e2e.conftest import Endpoint
from tests.security.test_runtime_limits import _deploy, sandboxed_server

HOLD_SECONDS = 45  # well above the runtime's wait for a sandbox (10 s) plus the spread of the holders' cold starts
BUSY = f"""
import time

def handler(event, context):
    time.sleep({HOLD_SECONDS})
    return {{"held": True}}
"""


@pytest.fixture(scope="module", params=["as-a-throwaway-unprivileged-user"])
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _invoke(server: Endpoint, account: str, name: str) -> Any:
    """Invoke `name` of `account` with a read timeout above the hold: its payload, or the error response."""
    lam = boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=account,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=HOLD_SECONDS * 3),
    )
    try:
        return json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    except ClientError as e:
        return e.response


def test_an_invoke_with_every_sandbox_busy_is_throttled(server: Endpoint) -> None:
    """``MAX_SANDBOXES`` + 1 functions (of three accounts, none holding more than ``MAX_SANDBOXES`` - 1) invoked at
    once, each holding its sandbox for longer than the runtime waits for one: exactly one invocation is refused,
    with Lambda's throttle — 429 TooManyRequestsException "Rate Exceeded." — and the others run."""
    accounts = ["111100000001", "111100000002", "111100000003"]
    targets = [(accounts[i % len(accounts)], f"busy-{i}") for i in range(MAX_SANDBOXES + 1)]
    for account, name in targets:
        lam = _deploy(server, account, name, BUSY)
        lam.update_function_configuration(FunctionName=name, Timeout=HOLD_SECONDS * 2)
    with ThreadPoolExecutor(len(targets)) as pool:
        outcomes = list(pool.map(lambda t: _invoke(server, *t), targets))
    throttled = [o for o in outcomes if "Error" in o]
    held = [o for o in outcomes if o == {"held": True}]
    assert len(held) == MAX_SANDBOXES and len(throttled) == 1, outcomes
    refused = throttled[0]
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert refused["Error"]["Code"] == "TooManyRequestsException"
    assert refused["Error"]["Message"] == "Rate Exceeded."
    assert refused["Reason"] == "ConcurrentInvocationLimitExceeded"
