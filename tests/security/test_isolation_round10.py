"""Isolation review, round 10: a function author of one account attacks, through its own functions' live execution
environments, the memory the server shares with every other account, with real boto3 against a real
`lambdaperm serve` (docs/security.md, "Runtime isolation"; issue 7, class 8).

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts the outcome the server promises in AWS's terms.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdaperm.runtime.account_memory import ACCOUNT_MEMORY_MB, reserved_mb
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import payload
from tests.security.test_runtime_limits import _deploy, _server

ATTACKER = "111111111111"
OTHER = "222222222222"
REGION = "us-east-1"
BIG_MB = 10240  # Lambda's largest MemorySize: each sandbox may hold this much (plus the margin) at any time
# the functions of one account whose sandboxes fit in its budget: one more is past it
FIT = ACCOUNT_MEMORY_MB // reserved_mb(BIG_MB)
# the same handler in every function: which environment ran (a token drawn at its init) and an optional wait
HANDLER = """
import time, uuid
TOKEN = uuid.uuid4().hex

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"token": TOKEN}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[Endpoint]:
    with tempfile.TemporaryDirectory(prefix="lambdaperm-iso10-") as tmp, _server(home=Path(tmp)) as endpoint:
        assert endpoint.health()["isolation"]["available"] is True
        yield endpoint


def _functions(server: Endpoint, account: str, prefix: str, count: int) -> Any:
    for i in range(count):
        _deploy(server, account, f"{prefix}{i}", HANDLER, MemorySize=BIG_MB)
    config = Config(read_timeout=120, retries={"max_attempts": 0})  # boto3 retries a 429 by default
    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=account,
        aws_secret_access_key="test",
        config=config,
    )


def _token(lam: Any, name: str, sleep: float = 0) -> str:
    resp = lam.invoke(FunctionName=name, Payload=f'{{"sleep": {sleep}}}'.encode())
    assert "FunctionError" not in resp, payload(resp)
    return str(payload(resp)["token"])


def test_one_accounts_idle_environments_make_room_in_its_own_budget_only(server: Endpoint) -> None:
    """Attack: account A invokes one function of MemorySize 10,240 MB more than fit in its budget (half the host's
    memory) and leaves them idle: each environment stays warm for the idle timeout (600 s) with its memory cgroup's
    limit (MemorySize + 64 MiB) its to fill at any time, and nothing bounded how many one account kept (as root;
    unprivileged servers cap live sandboxes, round 5) — before the fix A's first environment stayed warm here, two
    of them reserving 20,608 MiB of this host's 24,105, and a third, fourth... would have stayed too. On AWS an
    account's capacity is its own quota and other accounts are unaffected
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html). Here an account's live environments may
    reserve at most ACCOUNT_MEMORY_MB: a cold start past it first recycles that account's own least recently used idle
    environment (the next invoke of that function is a cold start, as after Lambda recycles an environment) — never
    another account's."""
    other = _functions(server, OTHER, "b", 1)
    b_token = _token(other, "b0")
    lam = _functions(server, ATTACKER, "a", FIT + 1)
    first = _token(lam, "a0")
    assert _token(lam, "a0") == first  # warm while nothing else of the account needs room
    for i in range(1, FIT + 1):
        _token(lam, f"a{i}")
    assert _token(lam, "a0") != first, "account A kept more live environments than its memory budget"
    assert _token(other, "b0") == b_token, "A's cold starts recycled another account's environment"


def test_an_account_at_its_memory_budget_is_throttled_and_others_still_invoke(server: Endpoint) -> None:
    """Attack: account A keeps FIT + 1 environments of 10,240 MB busy at once (a sleeping handler each): past its
    budget nothing of A's is idle to recycle, so the cold start past it is throttled, as Lambda throttles an account
    at its own quota: Invoke answers TooManyRequestsException (429, Reason ConcurrentInvocationLimitExceeded;
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors). Meanwhile account B, whose
    budget is its own, still starts a 10,240 MB environment and invokes."""
    lam = _functions(server, ATTACKER, "busy", FIT + 1)
    other = _functions(server, OTHER, "bbig", 1)
    results: queue.Queue[tuple[str, str]] = queue.Queue()

    def call(name: str) -> None:
        try:
            results.put((name, _token(lam, name, sleep=20)))
        except ClientError as e:
            results.put((name, e.response["Error"]["Code"]))

    threads = [threading.Thread(target=call, args=(f"busy{i}",), daemon=True) for i in range(FIT + 1)]
    for t in threads:
        t.start()
    name, outcome = results.get(timeout=120)  # the first answer: the throttle, before any 20 s handler returns
    assert outcome == "TooManyRequestsException", f"{name}: {outcome}"
    assert _token(other, "bbig0")  # B invokes while A is at its limit
    assert sum(t.is_alive() for t in threads) == FIT, "A's busy invocations ended before B's invoke: not at its limit"
    for t in threads:
        t.join(timeout=120)
    rest = [results.get_nowait() for _ in range(FIT)]
    assert all(outcome != "TooManyRequestsException" for _, outcome in rest), rest
