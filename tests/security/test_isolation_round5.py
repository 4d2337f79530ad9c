"""Isolation review, round 5: a function author of one account attacks, from inside the handler's sandbox and through
its own invocations, the other accounts and the server, with real boto3 against a real `lambdaperm serve`
(docs/security.md, "Runtime isolation"; issue 7, class 8). The server runs as the test's user and, when that is
root, as a throwaway unprivileged uid: only the unprivileged server caps its live sandboxes (`sandbox_slots`).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts AWS's outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdaperm.runtime.kernel_budgets import MAX_SANDBOXES
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import payload
from tests.security.endpoint_gates import GATE, EndpointGate
from tests.security.test_runtime_limits import SANDBOX_MODES, _deploy, sandboxed_server

ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


# ---------------------------------------------------------------- 1. the sandbox cap, one account holding every slot

HOLDER = (
    GATE
    + """
def handler(event, context):
    # tell the test this invocation runs, then stay busy until the test lets go (bounded by the function timeout)
    arrive(event["gate"], "busy")
    return "released"
"""
)


def _slow_client(server: Endpoint, account: str) -> Any:
    """A Lambda client that waits out a busy invocation (the default 60 s read timeout is enough; no retries)."""
    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=account,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=90),
    )


def test_one_account_holding_busy_invocations_does_not_starve_another_accounts_cold_start(server: Endpoint) -> None:
    """Attack: an unprivileged server lets at most MAX_SANDBOXES (3) sandboxes live at once, for every account
    together; a cold start when all are busy waits 10 s, then its Invoke fails. Account A deploys as many functions
    as there are sandboxes and keeps one invocation of each busy (a handler that waits, up to its own timeout), so
    every cold start of account B — a function it has never run, or one whose idle worker was recycled — waits
    10 s and fails with ServiceException: a denial of service of one account by another, for as long as A keeps
    invoking. AWS rule: concurrency is a quota of each account in each Region; one account's invocations are
    throttled (TooManyRequestsException) against its own quota, never another account's
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html,
    https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
    Secure outcome: B's cold start runs while A holds all it can. Measured before the fix (throwaway uid): A's three
    handlers all ran, B's Invoke failed after 10 s with ServiceException. Fixed (`sandbox_slots`): an account holds
    at most MAX_SANDBOXES - 1 sandboxes, so one always remains for the other accounts (as root: no cap, held)."""
    gate = EndpointGate(server, ATTACKER, REGION)
    attacker = _slow_client(server, ATTACKER)
    names = [f"holder-{i}" for i in range(MAX_SANDBOXES)]
    for name in names:
        _deploy(server, ATTACKER, name, HOLDER)
        gate.allow(f"{name}-role")
    _deploy(server, VICTIM, "starved", "def handler(event, context):\n    return 'ran'\n")
    victim = _slow_client(server, VICTIM)

    outcomes: dict[str, Any] = {}

    def hold(name: str) -> None:
        try:
            outcomes[name] = payload(attacker.invoke(FunctionName=name, Payload=gate.event()))
        except ClientError as e:
            outcomes[name] = e.response["Error"]["Code"]

    threads = [threading.Thread(target=hold, args=(name,), daemon=True) for name in names]
    held: list[str] = []
    try:
        for t in threads:
            t.start()
        # A holds everything it can: every handler runs, or the invocations it cannot start have given up
        deadline = time.monotonic() + 60
        while len(held) + len(outcomes) < len(names) and time.monotonic() < deadline:
            held = gate.arrived()
            time.sleep(0.05)
        held = gate.arrived()
        assert len(held) + len(outcomes) == len(names), f"the attacker's invocations neither ran nor ended: {outcomes}"
        assert held, f"no attacker invocation ran at all (the positive control failed): {outcomes}"
        started = time.monotonic()
        try:
            answer = payload(victim.invoke(FunctionName="starved"))
        except ClientError as e:
            answer = (e.response["Error"]["Code"], round(time.monotonic() - started, 1))
        assert answer == "ran", f"account A's {len(held)} busy invocations left account B no sandbox: {answer}"
    finally:
        gate.open()
        for t in threads:
            t.join(60)
    # an invocation the account's own cap cannot start is throttled, as Lambda throttles an account at its quota
    assert all(outcomes.get(name) in ("released", "TooManyRequestsException") for name in names), outcomes
