"""Isolation review, round 8: one account's queued asynchronous work against the server's memory, with real boto3
against a real `lambdaperm serve` (docs/security.md, "Runtime isolation"; issue 7, class 8). The server runs as the
test's user and, when that is root, as a throwaway unprivileged uid.

Threat model: an account is untrusted with respect to every other account and to the server. Each test is one attack
and asserts AWS's outcome.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdaperm.gateway.async_invokes import JOB_OVERHEAD, AsyncInvokes
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.endpoint_gates import GATE, EndpointGate
from tests.security.test_runtime_limits import SANDBOX_MODES, sandboxed_server

ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"
EVENTS, EVENT_BYTES = 2000, 200_000  # at most 400 MB offered: bounded, never the host's memory


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _client(server: Endpoint, account: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=account,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5),
    )


def _deploy(server: Endpoint, account: str, name: str, code: str, *, timeout: int = 30) -> Any:
    lam = _client(server, account)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=make_role(server.client("iam", key=account), f"{name}-role"),
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": code})},
        Timeout=timeout,
    )
    return lam


def _rss_kib(pid: int) -> int:
    """The largest VmRSS among `pid` and its descendants (the server process, under a setpriv wrapper or not)."""
    best, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            best = max(best, next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:")), 0))
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return best


SLOW = "import time\n\ndef handler(event, context):\n    time.sleep(25)\n    return 'slow'\n"
NOTIFY = (
    GATE
    + """
def handler(event, context):
    arrive(event["gate"], "ran", wait=False)
    return "ran"
"""
)


def test_one_accounts_queued_event_invocations_are_bounded(server: Endpoint) -> None:
    """Attack: an Event invocation is queued with its payload (up to 256 KB) in the server's memory, and an account's
    queue had no bound: account A invoking its slow function with InvocationType=Event 2,000 times with 200 KB each
    grew the server by about 400 MB (measured before the fix: RSS +~390 MB, every invocation 202), a denial of service
    of every account's server. AWS rule: an invocation Lambda cannot take is throttled, TooManyRequestsException (429)
    (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors,
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html); one account's invocations never use another's
    capacity (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html). Secure outcome: A is throttled
    (429 TooManyRequestsException, Reason ConcurrentInvocationLimitExceeded) before 2,000 events, the server grows by
    less than 200 MB, and account B's Event invocation is still accepted and runs."""
    attacker = _deploy(server, ATTACKER, "queue-hog", SLOW)
    victim = _deploy(server, VICTIM, "queue-own", NOTIFY)
    before = _rss_kib(server.proc.pid)
    body = json.dumps({"pad": "x" * EVENT_BYTES})
    throttle: dict[str, Any] | None = None
    accepted = 0
    for _ in range(EVENTS):
        try:
            attacker.invoke(FunctionName="queue-hog", InvocationType="Event", Payload=body)
            accepted += 1
        except ClientError as e:
            throttle = e.response
            break
    grown_mib = (_rss_kib(server.proc.pid) - before) // 1024
    print(f"accepted {accepted} events of {EVENT_BYTES} bytes; server RSS grew {grown_mib} MiB")
    assert throttle is not None, f"all {accepted} Event invocations were queued; the server grew {grown_mib} MiB"
    assert throttle["Error"]["Code"] == "TooManyRequestsException"
    assert throttle["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert throttle.get("Reason") == "ConcurrentInvocationLimitExceeded"
    assert grown_mib < 200, f"the server grew {grown_mib} MiB"
    ran = EndpointGate(server, VICTIM, REGION)
    ran.allow("queue-own-role")
    answer = victim.invoke(FunctionName="queue-own", InvocationType="Event", Payload=ran.event())
    assert answer["StatusCode"] == 202
    assert ran.wait_arrived(1, 30) == ["ran"], "account B's Event invocation did not run"


def test_the_async_pool_bounds_each_accounts_queued_bytes() -> None:
    """The pool itself (gateway/async_invokes.py), without a server: with its threads busy, an account's queued jobs
    are refused past its byte bound (payload + JOB_OVERHEAD each) — nothing queued — while another account's job is
    still taken; a job taken off the queue frees its bytes."""
    pool = AsyncInvokes(workers=1, per_account=1, name="test-async-bytes", queued_bytes=3 * (1000 + JOB_OVERHEAD))
    release = threading.Event()
    started = threading.Semaphore(0)

    def hold() -> None:
        started.release()
        release.wait(10)

    try:
        assert pool.submit("a", hold, 1000)
        assert started.acquire(timeout=10), "the first job did not start"
        assert all(pool.submit("a", hold, 1000) for _ in range(3))  # queued: exactly the bound
        assert not pool.submit("a", hold, 0), "a job past the account's bound was queued"
        assert pool.submit("b", hold, 1000), "another account's job was refused"
        release.set()
        assert started.acquire(timeout=10), "the queue did not move"
        assert pool.submit("a", hold, 1000), "a job taken off the queue did not free its bytes"
    finally:
        release.set()
        pool.shutdown()


def test_one_accounts_queued_push_deliveries_are_bounded(server: Endpoint) -> None:
    """Attack: the same through SNS. A push delivery (SNS, S3 notification) is queued on the function's account with
    its event, and was counted without its payload (one job of 1 KiB), so account A's topic subscribed to its own slow
    function, published 2,000 times with 200 KB messages, queued every delivery: about 400 MB in the server. AWS rule:
    Lambda queues asynchronous events and may drop those it cannot process ("events might also be deleted from the
    queue without being sent to the function",
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html); SNS's Publish is not failed by
    a subscriber (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). Secure outcome: every Publish answers
    a MessageId, the server grows by less than 300 MiB — three quarters of the 400 MB offered; bounded, it grew 190–203
    MiB, allocator high water included (deliveries past A's queue bound are dropped), and account B's
    Event invocation is still accepted and runs. Measured: +784 MiB before the delivery was counted with its event,
    +468 MiB after — the rest is moto's SNS keeping every published message in `Topic.sent_notifications` (its test
    backdoor), unbounded for any account that may Publish, subscribers or not: emptied after each publish since
    (dataplane/sns_retention.py)."""
    lam = _deploy(server, ATTACKER, "sns-hog", SLOW)
    victim = _deploy(server, VICTIM, "sns-own", NOTIFY)
    sns = boto3.client(
        "sns",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=ATTACKER,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=5),
    )
    topic = sns.create_topic(Name="flood")["TopicArn"]
    function = lam.get_function(FunctionName="sns-hog")["Configuration"]["FunctionArn"]
    lam.add_permission(
        FunctionName="sns-hog",
        StatementId="sns",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        SourceArn=topic,
    )
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)
    before = _rss_kib(server.proc.pid)
    message = "x" * EVENT_BYTES
    for _ in range(EVENTS):
        assert sns.publish(TopicArn=topic, Message=message)["MessageId"]
    grown_mib = (_rss_kib(server.proc.pid) - before) // 1024
    print(f"published {EVENTS} messages of {EVENT_BYTES} bytes; server RSS grew {grown_mib} MiB")
    assert grown_mib < 300, f"the server grew {grown_mib} MiB"
    ran = EndpointGate(server, VICTIM, REGION)
    ran.allow("sns-own-role")
    answer = victim.invoke(FunctionName="sns-own", InvocationType="Event", Payload=ran.event())
    assert answer["StatusCode"] == 202
    assert ran.wait_arrived(1, 30) == ["ran"], "account B's Event invocation did not run"
