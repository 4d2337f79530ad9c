"""Isolation review, round 7: a function author of one account attacks, from inside the handler's sandbox, the other
accounts and the server, with real boto3 against a real `lambdaperm serve` (docs/security.md, "Runtime isolation";
issue 7, class 8). The server runs as the test's user and, when that is root, as a throwaway unprivileged uid.

Threat model: handler code is untrusted with respect to every other account and to the server. Each test is one
attack and asserts AWS's outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, payload, zip_of
from tests.security.endpoint_gates import GATE, EndpointGate
from tests.security.test_runtime_limits import SANDBOX_MODES, sandboxed_server

ATTACKER, VICTIM = "000000000000", "222233334444"
REGION = "us-east-1"
MAX_USER_WATCHES = int(Path("/proc/sys/fs/epoll/max_user_watches").read_text())


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def server(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


def _client(server: Endpoint, account: str, service: str = "lambda", *, read_timeout: float = 30) -> Any:
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=account,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=read_timeout, connect_timeout=5),
    )


def _deploy(server: Endpoint, account: str, name: str, code: str, *, timeout: int = 30, memory: int = 128) -> Any:
    lam = _client(server, account, read_timeout=timeout + 60)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=make_role(server.client("iam", key=account), f"{name}-role"),
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": code})},
        Timeout=timeout,
        MemorySize=memory,
    )
    return lam


def _answer(call: Any) -> Any:
    try:
        return call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    except (ReadTimeoutError, OSError, Exception) as e:  # the server gone: a connection error
        return f"no answer: {type(e).__name__}"


# ---------------------------------------------------------------- 1. the uid's epoll watches

EPOLL_HOG = (
    GATE
    + """
import errno, os, resource, select

def handler(event, context):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    fds = [os.eventfd(0) for _ in range(min(hard // 2 - 16, 4000))]
    polls, watches, stop = [], 0, None
    while watches < event["target"] and stop is None:
        ep = select.epoll()
        polls.append(ep)
        for fd in fds:
            try:
                ep.register(fd, select.EPOLLIN)  # one watch: counted on the uid (fs.epoll.max_user_watches)
            except OSError as e:
                stop = errno.errorcode.get(e.errno, str(e.errno))
                break
            watches += 1
            if watches >= event["target"]:
                break
    # tell the test, then hold every watch until the test lets go
    arrive(event["gate"], f"{watches} {stop}", timeout=150)
    return {"watches": watches, "stop": stop}
"""
)


def test_a_handler_cannot_exhaust_the_servers_epoll_watches(server: Endpoint) -> None:
    """Attack: epoll watches are counted per user across the host (fs.epoll.max_user_watches, 4 % of low memory
    over a watch's cost: 5,491,333 here) and not per user namespace: an unprivileged server's sandboxes run as the
    server's own uid (bwrap's user namespace maps it), so a handler that adds that many watches (eventfds registered
    in many epoll instances; a worker's RLIMIT_NOFILE allows it in one process, in about 30 s) leaves none for the
    server. The server's event loop (uvicorn on uvloop, libuv) registers every accepted connection with
    epoll_ctl, and libuv aborts the process when that fails: measured before the fix, the unprivileged server died
    (connection refused for every account) as soon as the next request arrived. AWS rule: each execution environment
    is isolated from every other and from the service — one function's code cannot deny the service to other
    accounts (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
    https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/lambda-isolation-technologies.html).
    Secure outcome: while the handler holds every watch it could add, account B's STS call is answered and the
    server stays up; the handler's invocation returns (positive control: it reached the uid's limit, ENOSPC, or
    the host's whole budget)."""
    lam = _deploy(server, ATTACKER, "epoll-hog", EPOLL_HOG, timeout=240, memory=2048)
    gate = EndpointGate(server, ATTACKER, REGION)
    gate.allow("epoll-hog-role")
    outcome: dict[str, Any] = {}
    target = MAX_USER_WATCHES + 1
    hog = threading.Thread(
        target=lambda: outcome.update(
            r=_answer(lambda: payload(lam.invoke(FunctionName="epoll-hog", Payload=gate.event(target=target))))
        ),
        daemon=True,
    )
    hog.start()
    arrived = gate.wait_arrived(1, 150)
    if arrived is None:
        gate.open()
        hog.join(5)
        pytest.fail(f"the handler never reported (the positive control failed): {outcome}")
    said = arrived[0].split()
    try:
        watches, stop = int(said[0]), said[1]
        assert stop == "ENOSPC" or watches >= MAX_USER_WATCHES, said  # the handler holds all it could add
        sts = _client(server, VICTIM, "sts", read_timeout=10)
        identity = _answer(lambda: sts.get_caller_identity()["Account"])
        assert identity == VICTIM, f"one handler's epoll watches denied the server to every account: {identity}"
    finally:
        gate.open()
    hog.join(60)
    assert outcome.get("r") == {"watches": watches, "stop": stop}, outcome
    assert server.proc.poll() is None, "the server died"
    assert server.health()["isolation"]["available"] is True


# ---------------------------------------------------------------- 2. the asynchronous threads' per-account queues

PING = (
    GATE
    + """
def handler(event, context):
    arrive(event["gate"], "ran", wait=False)
    return "ran"
"""
)
SUBSCRIPTIONS, PUBLISHES = 200, 300  # 60,000 deliveries the victim's function policy refuses
VICTIM_WAIT_SECONDS = 10.0


def test_another_accounts_refused_deliveries_do_not_queue_ahead_of_an_accounts_event_invocations(
    server: Endpoint,
) -> None:
    """Attack: asynchronous invocations and push deliveries run on 8 threads shared fairly by accounts
    (gateway/async_invokes.py, round 6): each account's jobs wait in a queue of their own, counted on the function's
    account. A push delivery was queued on the function's account before the function's policy was asked — so
    account A, subscribing its own SNS topic to 200 qualifiers of account B's function (Subscribe needs nothing of
    B: the policy is asked at delivery) and publishing 300 times, put 60,000 deliveries in B's queue; each is
    refused when it runs (recorded), but B's own Event invocations waited behind all of them (measured before the
    fix: about 30 s, growing with the flood: A enqueues faster than the threads refuse). AWS rule: an account's
    concurrency is its own, and a delivery the function's resource-based policy does not allow is refused
    without invoking the function (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html,
    https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html): nothing of B's capacity is
    used by A. Secure outcome: B's Event invocation runs within VICTIM_WAIT_SECONDS of the flood."""
    victim = _deploy(server, VICTIM, "own", PING)
    ran = EndpointGate(server, VICTIM, REGION)
    ran.allow("own-role")
    sns = _client(server, ATTACKER, "sns")
    topic = sns.create_topic(Name="flood")["TopicArn"]
    for i in range(SUBSCRIPTIONS):
        sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=f"arn:aws:lambda:{REGION}:{VICTIM}:function:own:q{i}")
    for _ in range(PUBLISHES):
        sns.publish(TopicArn=topic, Message="flood")
    started = time.monotonic()
    victim.invoke(FunctionName="own", InvocationType="Event", Payload=ran.event())
    arrived = ran.wait_arrived(1, VICTIM_WAIT_SECONDS)
    if arrived is None:
        pytest.fail(f"B's Event invocation did not run within {VICTIM_WAIT_SECONDS} s of A's refused deliveries")
    assert arrived == ["ran"]
    assert time.monotonic() - started < VICTIM_WAIT_SECONDS
