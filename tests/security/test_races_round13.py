"""Attack class: races (time of check vs time of use, caches), review round 13.

The rule ("one reading", docs/architecture.md): a call's outcome is one that some serial order of the calls gives.
This round plays the SQS event source poller (`gateway/events.SqsPoller`) against the calls that change what it
may do — UpdateEventSourceMapping, DeleteEventSourceMapping, UpdateAssumeRolePolicy — in a real server, with
`race_gate_objects`'s gate inside a poll (after its decision and receive, before the run), never with timing.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security import race_gate
from tests.security.gated_servers import gated_for_module

REGION = "us-east-1"

# writes one item per record it is given: the message body and which function ran it
_WRITER = """
import boto3

def handler(event, context):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    for record in event["Records"]:
        ddb.put_item(TableName="ran", Item={{"id": {{"S": record["messageId"]}}, "body": {{"S": record["body"]}},
                                             "which": {{"S": {which!r}}}}})
"""


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    yield from gated_for_module(tmp_path_factory, "races13", "tests.security.race_gate_objects")


def _wait(predicate: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


class _Mapped:
    """Account `account`: functions `f` and `g` (each writing what it ran into the table `ran`) under one role that
    may read every queue of the account, and three queues, each with a mapping to `f`, created in this order (the
    poller polls the mappings of one pass in the order they were created)."""

    def __init__(self, server: Endpoint, account: str, prefix: str) -> None:
        self.lam = server.client("lambda", key=account)
        self.sqs = server.client("sqs", key=account)
        self.ddb = server.client("dynamodb", key=account)
        self.ddb.create_table(
            TableName="ran",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        iam = server.client("iam", key=account)
        statements = [
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": f"arn:aws:sqs:{REGION}:{account}:*",
            },
        ]
        self.role_name = f"{prefix}-role"
        role = make_role(iam, self.role_name, {"Version": "2012-10-17", "Statement": statements})
        self.iam = iam
        for which in ("f", "g"):
            self.lam.create_function(
                FunctionName=f"{prefix}-{which}",
                Runtime="python3.12",
                Role=role,
                Handler="app.handler",
                Code={"ZipFile": zip_of({"app.py": _WRITER.format(which=which)})},
                Timeout=10,
            )
        self.f, self.g = f"{prefix}-f", f"{prefix}-g"
        self.queues: list[str] = []
        self.urls: list[str] = []
        self.uuids: list[str] = []
        for i in (1, 2, 3):
            name = f"{prefix}-q{i}"
            self.urls.append(self.sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1"})["QueueUrl"])
            self.queues.append(name)
            arn = f"arn:aws:sqs:{REGION}:{account}:{name}"
            self.uuids.append(
                self.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=self.f, BatchSize=1)["UUID"]
            )

    def ran(self) -> dict[str, str]:
        """body → which function ran it."""
        return {i["body"]["S"]: i["which"]["S"] for i in self.ddb.scan(TableName="ran")["Items"]}

    def send(self, queue: int, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.urls[queue], MessageBody=body)

    def in_queue(self, queue: int) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.urls[queue],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _held_pass(gate: Path, m: _Mapped, change: Callable[[], None]) -> None:
    """Hold a poll of queue 0 after its decision and receive (a pass of the poller has read every mapping by then),
    apply `change` (acknowledged), send "late" to queue 1, release the poll, and return once the same pass has
    polled queue 2 (its message "marker", sent while the pass was held, is run: the poller is one thread, polling
    the mappings of a pass one after the other, so the pass is past queue 1's mapping by then)."""
    queue = m.queues[0]
    (gate / f"poll-{queue}.hold").touch()
    m.send(0, "held")
    race_gate.wait_for(gate / f"poll-{queue}.arrived")
    (gate / f"poll-{queue}.hold").unlink()
    change()
    m.send(1, "late")
    m.send(2, "marker")
    (gate / f"poll-{queue}.go").touch()
    _wait(lambda: "marker" in m.ran(), "the held pass did not reach queue 2's mapping")


def _controls(m: _Mapped) -> None:
    """Every mapping works before the attack."""
    for i in (0, 1, 2):
        m.send(i, f"control-{i}")
    _wait(lambda: all(f"control-{i}" in m.ran() for i in (0, 1, 2)), "the mappings did not run the function")


@pytest.mark.parametrize(
    ("how", "account"),
    [("disabled", "555500001301"), ("deleted", "555500001302"), ("moved", "555500001303")],
)
def test_a_mapping_changed_before_a_poll_is_not_polled_as_it_was(
    gated: tuple[Endpoint, Path], how: str, account: str
) -> None:
    """Attack: B's queues q1, q2, q3 feed B's function f through three event source mappings. The poller read
    every mapping at the start of a pass (`records.scan`), then polled them one after the other, each with the
    record read then. While the pass was busy with q1's mapping (held here after its receive; in life, a function
    that runs for up to its timeout), B disabled q2's mapping (UpdateEventSourceMapping Enabled=false, answered
    State Disabled), deleted it (DeleteEventSourceMapping, GetEventSourceMapping then answering
    ResourceNotFoundException), or moved it to function g (UpdateEventSourceMapping FunctionName=g). A message
    sent to q2 after that acknowledgement was then received and run by f, under a mapping that in the acknowledged
    state no longer existed, was disabled, or fed g — the whole poll began after the change.

    AWS: "If you disable the event source mapping, Lambda stops polling" and a deleted mapping stops processing
    (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html: Enabled — "When true, the
    event source mapping is active. When false, Lambda pauses polling and invocation"); the state reported
    Disabled (or the mapping gone) means no poll of it begins; a mapping moved to g invokes g."""
    server, gate = gated
    m = _Mapped(server, account, f"r13{how[:3]}")
    _controls(m)

    def change() -> None:
        if how == "disabled":
            m.lam.update_event_source_mapping(UUID=m.uuids[1], Enabled=False)
            assert m.lam.get_event_source_mapping(UUID=m.uuids[1])["State"] == "Disabled"
        elif how == "deleted":
            m.lam.delete_event_source_mapping(UUID=m.uuids[1])
            with pytest.raises(m.lam.exceptions.ResourceNotFoundException):
                m.lam.get_event_source_mapping(UUID=m.uuids[1])
        else:
            m.lam.update_event_source_mapping(UUID=m.uuids[1], FunctionName=m.g)
            assert m.lam.get_event_source_mapping(UUID=m.uuids[1])["FunctionArn"].endswith(f":function:{m.g}")

    _held_pass(gate, m, change)
    ran = m.ran()
    if how == "moved":
        assert ran.get("late") in (None, "g"), ran  # never f: the mapping feeds g
        _wait(lambda: m.ran().get("late") == "g", "the moved mapping did not run g")  # control: it does run g
    else:
        assert "late" not in ran, ran
        assert m.in_queue(1) == 1  # still in q2, neither received for good nor deleted


def test_the_poller_does_not_run_a_batch_after_the_role_stops_trusting_lambda(gated: tuple[Endpoint, Path]) -> None:
    """Attack: B's queue feeds B's function through a mapping. A poll is decided on the execution role (which
    trusts lambda.amazonaws.com) and its batch received; held there, B's UpdateAssumeRolePolicy (trust:
    ec2.amazonaws.com only) is acknowledged. The batch must not be run under the role: Lambda assumes the execution
    role to invoke the function, on every invocation, and an invocation whose role it cannot assume fails
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html); the message stays in the queue
    (visible again after the visibility timeout, as after a failed invocation). Later polls receive nothing."""
    server, gate = gated
    m = _Mapped(server, "555500001304", "r13trust")
    _controls(m)
    ec2_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }

    def change() -> None:
        m.iam.update_assume_role_policy(RoleName=m.role_name, PolicyDocument=json.dumps(ec2_only))

    queue = m.queues[0]
    (gate / f"poll-{queue}.hold").touch()
    m.send(0, "held")
    race_gate.wait_for(gate / f"poll-{queue}.arrived")
    (gate / f"poll-{queue}.hold").unlink()
    change()
    done = gate / f"poll-{queue}.done"
    before = done.read_text().count("done") if done.exists() else 0
    (gate / f"poll-{queue}.go").touch()
    _wait(lambda: done.exists() and done.read_text().count("done") > before, "the held poll did not end")
    assert "held" not in m.ran(), m.ran()
    assert m.in_queue(0) == 1


def test_the_poller_does_not_receive_for_a_role_whose_trust_denies_lambda_from_a_past_date(
    gated: tuple[Endpoint, Path],
) -> None:
    """Round 12's fix, played on the poller's half (round 12 tested invocations only): B's execution role trusted
    lambda.amazonaws.com, then B added a Deny of the same assumption once aws:CurrentTime is past 2020-01-01 (a
    role retired at a date). The poller decides with `roles.lambda_can_assume`; had it no aws:CurrentTime, the
    Deny's condition would never match and messages would be received and run under the retired role. AWS: Lambda
    polls with the credentials of the execution role it assumes
    (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions), and aws:CurrentTime is in
    every request context (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    #condition-keys-currenttime): nothing is received, the message stays in the queue. A later mapping of another
    role run twice in a row proves a whole pass of the poller began after the trust changed."""
    server, _gate = gated
    account = "555500001305"
    m = _Mapped(server, account, "r13date")
    _controls(m)
    retired = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {
                "Effect": "Deny",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
            },
        ],
    }
    m.iam.update_assume_role_policy(RoleName=m.role_name, PolicyDocument=json.dumps(retired))
    m.send(0, "retired")
    # the canary: another role, another function, a mapping created after the others (polled after them in a pass)
    statements = [
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": f"arn:aws:sqs:{REGION}:{account}:*",
        },
    ]
    canary_role = make_role(m.iam, "r13date-canary", {"Version": "2012-10-17", "Statement": statements})
    m.lam.create_function(
        FunctionName="r13date-c",
        Runtime="python3.12",
        Role=canary_role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": _WRITER.format(which="c")})},
        Timeout=10,
    )
    url = m.sqs.create_queue(QueueName="r13date-qc")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{account}:r13date-qc"
    m.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="r13date-c", BatchSize=1)
    for body in ("c1", "c2"):  # c2 sent once c1 ran: its pass began after the trust changed
        m.sqs.send_message(QueueUrl=url, MessageBody=body)
        _wait(lambda body=body: body in m.ran(), f"the canary mapping did not run {body}")  # type: ignore[misc]
    assert "retired" not in m.ran(), m.ran()
    assert m.in_queue(0) == 1


# --- the shape: a scan of the records read once and acted on later --------------------------------------------------

# Every function in lambdaperm/ that scans a namespace of the records (`records.scan`), and why what it acts on is not
# a stale copy: a scan reads every record at once, and a loop that acts on each copy later acts on a record changed
# or deleted since (the poller's pass, above). A new scan fails this test until it is reviewed and listed.
_REVIEWED_SCANS = {
    # the poller's pass: each mapping is read again when its poll begins (mapping_current.current, round 13)
    ("lambdaperm/gateway/events.py", "_loop"),
    # start-up, before any request is served: each bucket's target is decided again (`_current`) when pruned
    ("lambdaperm/gateway/events.py", "prune_bucket_notifications"),
    # inside the rename's or deletion's own transaction (BEGIN IMMEDIATE): no write commits between scan and use
    ("lambdaperm/services/iam/users.py", "_move_access_keys"),
    ("lambdaperm/services/iam/users.py", "delete_user"),
    # a user's keys: counted inside CreateAccessKey's transaction, or answered by ListAccessKeys as of the scan
    ("lambdaperm/services/iam/keys.py", "_keys_of"),
    # an answer (ListEventSourceMappings): a read, returned as of the scan
    ("lambdaperm/services/lambda_/mappings.py", "list_event_source_mappings"),
    # start-up, before any request is served; each event runs only the incarnation it pinned (incarnation.check)
    ("lambdaperm/services/lambda_/async_queue_store.py", "resume"),
}


def _scans() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "lambdaperm").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "scan"
                    and "records" in ast.unparse(node.func.value)
                ):
                    found.add((str(path.relative_to(ROOT)), fn.name))
    return found


def test_every_scan_of_the_records_is_a_reviewed_one() -> None:
    """A scan copies every record of a namespace at once; whatever acts on those copies later acts on the state as
    it was then. Each function that scans is listed with why that is safe (re-read before use, inside the write's
    own transaction, at start-up before requests, or a read answered as of the scan)."""
    assert _scans() == _REVIEWED_SCANS


def test_the_poller_reads_each_mapping_again_when_its_poll_begins() -> None:
    """The poller's half of the table above, in process: a poll given a mapping record that was disabled, deleted or
    moved since the pass read it acts on the mapping as it is now."""
    from lambdaperm.gateway import mapping_current
    from lambdaperm.services.lambda_.mappings import MAPPING

    class _Records:
        def __init__(self, stored: dict[str, Any] | None) -> None:
            self.stored = stored

        def get(self, namespace: str, account: str, key: str) -> dict[str, Any] | None:
            assert (namespace, account, key) == (MAPPING, "", "u-1")
            return self.stored

    stale = {"UUID": "u-1", "State": "Enabled", "FunctionArn": "f"}
    assert mapping_current.current(_Records(None), stale) is None  # type: ignore[arg-type]
    assert mapping_current.current(_Records({**stale, "State": "Disabled"}), stale) is None  # type: ignore[arg-type]
    moved = {**stale, "FunctionArn": "g"}
    assert mapping_current.current(_Records(moved), stale) == moved  # type: ignore[arg-type]
