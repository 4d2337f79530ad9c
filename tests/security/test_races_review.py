"""Attack class: races (time of check vs time of use, concurrency), review round 1.

lambdaperm's guarantee (docs/architecture.md, "Caches on the request path"): nothing memoized on the request
path outlives a change of the state it was computed from — a call that starts after a write was acknowledged
is decided on that write. And "one reading": what executes is what was authorized. Each test plays a window
deterministically (scripted preemption points, or a gate between authorization and execution in a real
server, tests/security/race_gate.py) and asserts the correct outcome.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.state import Derived
from tests.e2e.conftest import Endpoint
from tests.security import race_gate
from tests.security.gated_servers import start_gated

# --- the memo of derived state (state.Derived) ---------------------------------------------------------------

_STEP = 5.0  # bound for every scripted wait


class ScriptedRecords:
    """Stands in for `Records` where `Derived` reads it (`version`, moved by each commit), with a pause
    scripted per thread and per read: the preemption points a thread pool gives, put where the race needs them.
    A step is ("after", reached, go): read the version, then pause; ("before", reached, go): pause, then read."""

    def __init__(self, version: int) -> None:
        self.current = version
        self.script: dict[str, list[tuple[str, threading.Event, threading.Event] | None]] = {}

    @property
    def version(self) -> int:
        steps = self.script.get(threading.current_thread().name)
        step = steps.pop(0) if steps else None
        if step is None:
            return self.current
        when, reached, go = step
        value = self.current
        reached.set()
        assert go.wait(_STEP), "scripted pause never released"
        return value if when == "after" else self.current


def _wait(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + _STEP
    while not condition():
        assert time.monotonic() < deadline, "scripted step not reached"
        time.sleep(0.001)


def test_derived_value_computed_before_a_commit_is_not_served_after_it() -> None:
    """Race: thread C finds the cache stale (a write committed: version 5 → 6) and resets it in two steps —
    `_values = {}`, then `_version = records.version`, which reads the version *again*. Thread F, which
    checked the version before the write, takes the fresh dict and starts computing from the records. A second
    write (a Deny) commits and moves the version to 7 while F computes; C then stores 7 as the dict's version,
    and F stores its value — read before the Deny committed — into the dict now current at version 7. Every
    later call, started after the Deny was acknowledged, is served the value without the Deny.

    Rule: a value derived from records is never served after a write that committed after the value was read
    (docs/architecture.md, "Caches on the request path": none of these caches can outlive a change of the
    state they were computed from)."""
    records = ScriptedRecords(5)
    derived = Derived(records)  # type: ignore[arg-type]
    derived.get("prime", lambda: 0)  # the cache is current at version 5
    world = {"policies": "allow"}  # what the records say
    f_read, f_go = threading.Event(), threading.Event()
    c_second, c_go = threading.Event(), threading.Event()
    f_computing, f_finish = threading.Event(), threading.Event()
    records.script["F"] = [("after", f_read, f_go)]
    records.script["C"] = [None, ("before", c_second, c_go)]

    def compute_f() -> str:
        value = world["policies"]  # read from the records
        f_computing.set()
        assert f_finish.wait(_STEP)
        return value

    f = threading.Thread(target=lambda: derived.get("policies", compute_f), name="F")
    c = threading.Thread(target=lambda: derived.get("other", lambda: "x"), name="C")
    f.start()
    assert f_read.wait(_STEP)  # F has read version 5 and is preempted
    records.current = 6  # write 1 commits
    c.start()
    _wait(lambda: c_second.is_set() or not c.is_alive())  # C is preempted in its reset (or has finished)
    f_go.set()
    _wait(lambda: f_computing.is_set() or not f.is_alive())  # F has read the records
    world["policies"] = "deny"  # write 2 (the Deny) commits …
    records.current = 7  # … and is acknowledged after its commit hook moved the version
    c_go.set()
    c.join(_STEP)
    f_finish.set()
    f.join(_STEP)
    assert not f.is_alive() and not c.is_alive()
    assert derived.get("policies", lambda: world["policies"]) == "deny"


def test_derived_value_of_the_current_version_is_reused() -> None:
    """Positive control: without a write in between, the value is computed once."""
    records = ScriptedRecords(3)
    derived = Derived(records)  # type: ignore[arg-type]
    calls: list[int] = []
    assert derived.get("k", lambda: calls.append(1) or "v") == "v"
    assert derived.get("k", lambda: calls.append(1) or "w") == "v"
    records.current = 4
    assert derived.get("k", lambda: "w") == "w"
    assert calls == [1]


# --- a gate between authorization and execution in a real server --------------------------------------------


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[tuple[Endpoint, Path]]:
    gate = tmp_path / "gate"
    gate.mkdir()
    endpoint = start_gated("tests.security.race_gate", tmp_path, tmp_path / "st", gate)
    try:
        yield endpoint, gate
    finally:
        if endpoint.proc.poll() is None:
            endpoint.proc.kill()
            endpoint.proc.wait()


def _through_gate(client: Any, name: str) -> None:
    client.meta.events.register_first(
        "before-sign", lambda request, **_: request.headers.__setitem__(race_gate.HEADER, name)
    )


def test_put_object_does_not_land_in_a_bucket_recreated_by_another_account(gated: tuple[Endpoint, Path]) -> None:
    """Race: account A's PutObject into its own bucket `race-recreated` is authorized (A's bucket, A's
    account: A's identity policy decides). Before it executes, A deletes the bucket and account V creates a
    bucket of the same name, with no policy. Found in review round 1: the call then wrote A's object into V's
    bucket — a write V's bucket policy and aws:ResourceAccount V were never asked about.

    Rule (one reading; docs/architecture.md): what executes is what was authorized. A call on a bucket holds
    the bucket's name from authorization to execution (gateway/bucket_names.py), so the delete and the
    re-creation wait for the put: the object lands in A's bucket, A's delete answers BucketNotEmpty, and V
    never receives it. Without the hold, the delete and re-creation finish while the put is held and the
    put lands in V's bucket (the assertion below fails)."""
    server, gate = gated
    attacker, victim = "444400000001", "444400000002"
    s3_a, s3_v = server.client("s3", key=attacker), server.client("s3", key=victim)
    s3_a.create_bucket(Bucket="race-recreated")
    gated_put = server.client("s3", key=attacker)
    _through_gate(gated_put, "put")
    outcome: dict[str, Any] = {}

    def put() -> None:
        try:
            gated_put.put_object(Bucket="race-recreated", Key="planted", Body=b"from A")
            outcome["ok"] = True
        except ClientError as err:
            outcome["error"] = err.response["Error"]["Code"]

    def change_hands() -> None:
        for name, call in (
            ("delete", lambda: s3_a.delete_bucket(Bucket="race-recreated")),
            ("create", lambda: s3_v.create_bucket(Bucket="race-recreated")),
        ):
            try:
                call()
                outcome[name] = "ok"
            except ClientError as err:
                outcome[name] = err.response["Error"]["Code"]

    writer = threading.Thread(target=put)
    writer.start()
    race_gate.wait_for(gate / "put.arrived", 20)  # authorized, not executed
    changer = threading.Thread(target=change_hands)
    changer.start()
    changer.join(5)  # without the hold, the bucket changes hands now; with it, both wait for the put
    (gate / "put.go").touch()
    writer.join(30)
    changer.join(30)
    assert not writer.is_alive() and not changer.is_alive()
    assert outcome.get("ok") is True, outcome
    assert outcome["delete"] == "BucketNotEmpty", outcome
    assert outcome["create"] in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"), outcome
    keys = [o["Key"] for o in s3_a.list_objects_v2(Bucket="race-recreated").get("Contents", [])]
    assert keys == ["planted"]


def test_gate_positive_control(gated: tuple[Endpoint, Path]) -> None:
    """The gate holds a call between authorization and execution and releases it unchanged: without a
    concurrent change the object is written to the caller's bucket."""
    server, gate = gated
    s3 = server.client("s3", key="444400000003")
    s3.create_bucket(Bucket="race-control")
    gated_put = server.client("s3", key="444400000003")
    _through_gate(gated_put, "control")
    writer = threading.Thread(target=lambda: gated_put.put_object(Bucket="race-control", Key="k", Body=b"v"))
    writer.start()
    race_gate.wait_for(gate / "control.arrived", 20)
    assert s3.list_objects_v2(Bucket="race-control").get("KeyCount", 0) == 0  # held: not yet executed
    (gate / "control.go").touch()
    writer.join(30)
    assert s3.get_object(Bucket="race-control", Key="k")["Body"].read() == b"v"


# --- real concurrency against a real server ------------------------------------------------------------------


def test_no_call_started_after_a_deny_was_acknowledged_is_allowed(server: Endpoint) -> None:
    """Race: calls of a user run on the server's thread pool while a Deny is added to its policies; a cache
    (the user's policies, its access key) read before the Deny's commit could keep allowing.

    Rule: a call that starts after PutUserPolicy(Deny) was answered is denied (lambdaperm's own guarantee;
    AWS only promises eventual consistency). Every call answered has exactly one CloudTrail record."""
    iam = server.client("iam", key="444400000010")
    iam.create_user(UserName="racer")
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}
    iam.put_user_policy(UserName="racer", PolicyName="allow", PolicyDocument=json.dumps(allow))
    key = iam.create_access_key(UserName="racer")["AccessKey"]
    outcomes: list[tuple[float, str]] = []
    ack: list[float] = []
    lock = threading.Lock()

    def caller() -> None:
        client = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                client.get_user(UserName="racer")
                result = "allowed"
            except ClientError as err:
                result = err.response["Error"]["Code"]
            with lock:
                outcomes.append((started, result))
                if ack and started > ack[0] + 0.5:
                    return

    threads = [threading.Thread(target=caller) for _ in range(6)]
    for t in threads:
        t.start()
    _wait_long(lambda: sum(1 for _, r in outcomes if r == "allowed") >= 30)
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:GetUser", "Resource": "*"}]}
    iam.put_user_policy(UserName="racer", PolicyName="deny", PolicyDocument=json.dumps(deny))
    with lock:
        ack.append(time.monotonic())
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    after = [r for started, r in outcomes if started > ack[0]]
    assert after and all(r == "AccessDenied" for r in after), after
    assert {r for _, r in outcomes} <= {"allowed", "AccessDenied"}
    trail = server.client("cloudtrail", key="444400000010")
    ids: list[str] = []
    pages = trail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "racer"}]
    )
    for page in pages:
        ids += [json.loads(e["CloudTrailEvent"])["requestID"] for e in page["Events"] if e["EventName"] == "GetUser"]
    assert len(ids) == len(set(ids)) == len(outcomes)


def _wait_long(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)
