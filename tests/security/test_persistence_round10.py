"""Persistence, review round 10: what a start-up's replay of the data-plane journal restores, against what the
calls acknowledged before a `kill -9` did — structurally (every replacement of the backend's code is in place
before the first entry is replayed) and for the state changes made by calls that read.

The rule under test: what was acknowledged is durable, and a replayed entry does what its call did live
(docs/architecture.md, "Durable data plane"; AWS: an acknowledged write is durable,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-basic-architecture.html).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Endpoint

A = "777800000101"


def _counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_a_receive_that_returned_nothing_but_counted_a_receive_is_durable(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack: a ReceiveMessage that changes the queue without returning a message. The backend, meeting a
    message older than the queue's MessageRetentionPeriod, counts a receive on it (its ApproximateReceiveCount,
    its visibility timeout) and stops without returning it. If such an attempt is not journaled (it "received
    nothing and moved nothing"), the receive it counted is lost at a `kill -9`: here the queue's redrive policy
    (maxReceiveCount 1) then moved the message to its dead-letter queue on the next, journaled, receive, and a
    consumer of the dead-letter queue received it (acknowledged, with its body). Replayed without the first
    attempt, the second one counts the first receive instead of moving the message: after the restart the
    message is back in the source queue and the dead-letter queue the consumer received it from is empty.

    AWS: a message is moved to the dead-letter queue once its ReceiveCount exceeds maxReceiveCount
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html),
    and what was acknowledged (the move, the receive from the dead-letter queue) is durable."""
    state = tmp_path / "state"
    server = make_server(state)
    sqs = server.client("sqs", key=A)
    dlq = sqs.create_queue(QueueName="r10-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    source = sqs.create_queue(
        QueueName="r10-src",
        Attributes={
            "MessageRetentionPeriod": "60",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"}),
        },
    )["QueueUrl"]
    sqs.send_message(QueueUrl=source, MessageBody="expired")
    time.sleep(62)  # the message is now older than the source queue's retention period (the minimum, 60 s)
    first = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0, WaitTimeSeconds=0)
    assert "Messages" not in first  # the backend counted a receive on it and returned nothing
    second = sqs.receive_message(QueueUrl=source, VisibilityTimeout=0, WaitTimeSeconds=0)
    assert "Messages" not in second  # moved to the dead-letter queue
    received = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0, WaitTimeSeconds=0).get("Messages", [])
    assert [m["Body"] for m in received] == ["expired"]  # acknowledged: the consumer has it
    live = (_counts(sqs, source), _counts(sqs, dlq))
    assert live == ((0, 0), (1, 0))

    server.proc.kill()  # kill -9 after the acknowledgements: the next start-up replays the journal
    server.proc.wait()
    restarted = make_server(state).client("sqs", key=A)
    assert (_counts(restarted, source), _counts(restarted, dlq)) == live


# --- every replacement of the backend's code is installed before the first replayed entry -----------------------

_ROOT = Path(__file__).resolve().parents[2]

# patch sites whose target is not a name imported from moto: (file, variable) -> the moto objects it stands for
_BOUND_BY_CALLER = {
    ("lambdaperm/dataplane/fresh_tags.py", "backend"): ("moto.s3.models.S3Backend", "moto.logs.models.LogsBackend"),
    # every loaded moto module that imported the helper by name; checked on the helper's own module
    ("lambdaperm/dataplane/determinism.py", "module"): ("moto.core.utils",),
    ("lambdaperm/dataplane/moto_backend.py", "module"): ("moto.core.responses", "moto.core.utils"),
}
# names the scan would take for a patch target that are lambdaperm's own objects (a thread-local unit)
_OWN_OBJECTS = {("lambdaperm/dataplane/journal.py", "_current")}


def _imports(tree: ast.AST, package: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.update({a.asname or a.name: f"{module}.{a.name}" for a in node.names})
        elif isinstance(node, ast.Import):
            names.update(
                {a.asname or a.name.split(".")[0]: (a.asname and a.name) or a.name.split(".")[0] for a in node.names}
            )
    return names


def _dotted(node: ast.AST) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def patch_sites() -> list[dict[str, Any]]:
    """Every assignment (or setattr) in lambdaperm of a function onto a moto module or class attribute: the file,
    line, the moto objects assigned to, the attribute, and what identifies the replacement (its function's name
    and file, or `lru_cache`)."""
    sites: list[dict[str, Any]] = []
    for path in sorted((_ROOT / "lambdaperm").rglob("*.py")):
        tree = ast.parse(path.read_text())
        imported = _imports(tree, ".".join(path.relative_to(_ROOT).parent.parts))
        if not any(v.startswith("moto") for v in imported.values()):
            continue
        rel = str(path.relative_to(_ROOT))
        defs = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        module_name = ".".join(path.relative_to(_ROOT).with_suffix("").parts)
        assigned = {  # module-level names a replacement may be kept in (a memo built at install time)
            t.id for n in ast.walk(tree) if isinstance(n, ast.Global) for t in [ast.Name(id=i) for i in n.names]
        }
        for node in ast.walk(tree):
            pairs: list[tuple[ast.AST, ast.AST]] = []
            if isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "setattr"
                and len(node.args) == 3
                and isinstance(node.args[1], ast.Constant)
            ):
                pairs = [(ast.Attribute(value=node.args[0], attr=str(node.args[1].value)), node.args[2])]
            for target, value in pairs:
                chain = _dotted(target) if isinstance(target, ast.Attribute) else None
                if not chain or chain[0] in ("self", "cls") or (rel, chain[0]) in _OWN_OBJECTS:
                    continue
                if isinstance(value, ast.Call) and _dotted(value.func) == ["lru_cache"]:
                    replacement: dict[str, str] = {"kind": "lru_cache"}
                elif (
                    isinstance(value, ast.Call)
                    and isinstance(value.func, ast.Call)
                    and _dotted(value.func.func) == ["lru_cache"]
                ):
                    replacement = {"kind": "lru_cache"}
                else:
                    named = _dotted(value)
                    if not named:
                        continue
                    if len(named) == 1 and named[0] in assigned:
                        replacement = {"kind": "global", "module": module_name, "name": named[0]}
                    elif len(named) == 1 and named[0] in defs:
                        replacement = {"kind": "function", "name": named[0], "file": rel}
                    elif imported.get(named[0], "").startswith("lambdaperm") and len(named) == 2:
                        module = imported[named[0]].replace(".", "/") + ".py"
                        replacement = {"kind": "function", "name": named[1], "file": module}
                    else:
                        continue
                root = imported.get(chain[0])
                if root is not None and root.startswith("moto"):
                    owners = [".".join([root, *chain[1:-1]])]
                elif (rel, chain[0]) in _BOUND_BY_CALLER and len(chain) == 2:
                    owners = list(_BOUND_BY_CALLER[(rel, chain[0])])
                else:
                    owners = [f"UNRESOLVED {'.'.join(chain[:-1])}"]
                sites.append({"site": f"{rel}:{node.lineno}", "owners": owners, "attr": chain[-1], **replacement})
    return sites


_PROBE = r"""
import json, os, sys, importlib
from lambdaperm.dataplane import snapshots

sites = json.loads(os.environ["R10_SITES"])
load = snapshots.load

def layers(value, seen):
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    for cell in getattr(value, "__closure__", None) or ():
        try:
            inner = cell.cell_contents
        except ValueError:
            continue
        if callable(inner):
            yield from layers(inner, seen)
    if hasattr(value, "__wrapped__"):
        yield from layers(value.__wrapped__, seen)

def resolve(dotted):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)

def installed(site):
    for owner in site["owners"]:
        if owner.startswith("UNRESOLVED"):
            return False
        value = getattr(resolve(owner), site["attr"], None)
        if site["kind"] == "global":
            if value is not None and value is getattr(importlib.import_module(site["module"]), site["name"]):
                return True
            continue
        for layer in layers(value, set()):
            if site["kind"] == "lru_cache" and hasattr(layer, "cache_info"):
                return True
            code = getattr(layer, "__code__", None)
            if (site["kind"] == "function" and code is not None and code.co_name == site["name"]
                    and code.co_filename.endswith(site["file"])):
                return True
    return False

def probe(directory):
    missing = [f"{s['site']}: {s['owners']}.{s['attr']}" for s in sites if not installed(s)]
    with open(os.environ["R10_OUT"], "w") as out:
        json.dump(missing, out)
    os._exit(0)  # the first entry would be replayed now

snapshots.load = probe
from lambdaperm.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_every_replacement_of_the_backends_code_is_installed_before_the_first_replayed_entry(tmp_path: Path) -> None:
    """Attack (structural): a replacement of moto's code that lambdaperm installs lazily — at the first live call
    that needs it — is not in place when a start-up replays the journal, so a replayed entry runs moto's own code
    where the live call ran lambdaperm's (round 9: the Logs export). This test reads every assignment of a
    lambdaperm function onto a moto class or module in lambdaperm's source, then starts a real `lambdaperm serve`
    on a state directory and, at the moment `replay.restore` would replay its first entry, checks that each one is
    in place (the attribute holds that function, directly or as a layer under another replacement). A new lazy
    replacement fails here; so does one whose target cannot be read from the source (name it in
    `_BOUND_BY_CALLER`).

    AWS: what was acknowledged is what is durable — a replayed call does what the call did
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel)."""
    from tests.e2e.conftest import free_port, start_server, stop_server

    sites = patch_sites()
    assert len(sites) >= 30  # the scan reads the replacements (deliveries, fresh tags, exports, imports, …)
    # a state with something to restore (a start-up with nothing to restore loads each backend at its first call)
    first = start_server(tmp_path / "state", tmp_path)
    first.client("sqs").create_queue(QueueName="r10-restored")
    stop_server(first)
    out = tmp_path / "missing.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(R10_SITES=json.dumps(sites), R10_OUT=str(out))
    args = ["serve", "--port", str(free_port()), "--state", str(tmp_path / "state")]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], cwd=_ROOT, env=env, timeout=120, capture_output=True, text=True
    )
    assert out.exists(), done.stderr[-3000:]
    assert json.loads(out.read_text()) == []


# --- Lambda-driven data-plane writes across kill -9 -----------------------------------------------------------------

_R10_REGION = "us-west-2"
_WRITER = """
import boto3

def handler(event, context):
    ddb = boto3.client("dynamodb", region_name="us-west-2")
    for record in event["Records"]:
        ddb.put_item(TableName="r10-seen", Item={"id": {"S": record["messageId"] + ":" + context.aws_request_id},
                                                 "body": {"S": record["body"]}})
    return {}
"""


def _seen(ddb: Any, count: int) -> dict[str, str]:
    """The items the handler wrote, once there are at least `count` (bounded wait for that positive signal)."""
    deadline = time.monotonic() + 60
    while True:
        items = {i["id"]["S"]: i["body"]["S"] for i in ddb.scan(TableName="r10-seen")["Items"]}
        if len(items) >= count:
            return items
        assert time.monotonic() < deadline, f"only {len(items)} of {count} records were processed: {items}"
        time.sleep(0.2)


def _drained(sqs: Any, url: str) -> tuple[int, int]:
    deadline = time.monotonic() + 30
    while True:
        counts = _counts(sqs, url)
        if counts == (0, 0) or time.monotonic() >= deadline:
            return counts
        time.sleep(0.2)


def test_a_pollers_receives_deletes_and_the_handlers_writes_replay_as_they_ran(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack: the writes Lambda makes on a caller's behalf — an event source mapping's poller receiving and
    deleting SQS messages under the function's role, the handler's own writes with the role's credentials —
    are outside any client's call. If a start-up's replay dropped or re-ordered them, a message deleted after a
    successful invocation would be back after a `kill -9` and processed a second time (a second set of writes),
    or a handler's acknowledged write would be gone.

    AWS: Lambda deletes the messages of a batch once the function succeeds
    (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html); a deleted message is not received again and an
    acknowledged write is durable. After the restart the queue is still empty, the handler's items are the same,
    and a marker sent afterwards is the only new record processed."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    state = tmp_path / "state"
    server = make_server(state)
    ddb = server.client("dynamodb", region=_R10_REGION)
    ddb.create_table(
        TableName="r10-seen",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    account = server.client("sts").get_caller_identity()["Account"]
    table = f"arn:aws:dynamodb:{_R10_REGION}:{account}:table/r10-seen"
    writes = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}],
    }
    role = make_role(
        server.client("iam"),
        "r10-writer",
        writes,
        managed=["arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"],
    )
    lam = server.client("lambda", region=_R10_REGION)
    lam.create_function(
        FunctionName="r10-writer",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": _WRITER})},
        Timeout=20,
    )
    sqs = server.client("sqs", region=_R10_REGION)
    url = sqs.create_queue(QueueName="r10-jobs")["QueueUrl"]
    lam.create_event_source_mapping(
        EventSourceArn=f"arn:aws:sqs:{_R10_REGION}:{account}:r10-jobs", FunctionName="r10-writer", BatchSize=10
    )
    for body in ("one", "two", "three"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    live = _seen(ddb, 3)
    assert sorted(live.values()) == ["one", "three", "two"]
    assert _drained(sqs, url) == (0, 0)  # deleted after the successful invocations

    server.proc.kill()  # kill -9: the next start-up replays the journal
    server.proc.wait()
    restarted = make_server(state)
    rsqs = restarted.client("sqs", region=_R10_REGION)
    rddb = restarted.client("dynamodb", region=_R10_REGION)
    assert _counts(rsqs, url) == (0, 0)
    assert _seen(rddb, 3) == live
    rsqs.send_message(QueueUrl=url, MessageBody="marker")
    after = _seen(rddb, 4)
    assert sorted(after.values()) == ["marker", "one", "three", "two"]  # nothing processed twice
    assert {k: v for k, v in after.items() if v != "marker"} == live
