"""Persistence, review round 11: what a start-up's replay of the data-plane journal restores, against what the
calls acknowledged before a `kill -9` did — here, a journaling decision taken outside the execution lock.

The rule under test: what was acknowledged is durable, and what a call did to the backend is in the journal
(docs/architecture.md, "Durable data plane"; AWS: an object written to a bucket is durable once it is there,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/DataDurability.html).
"""

from __future__ import annotations

import ast
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.gated_servers import gated_starter
from tests.security.iam_users import clients_of, user_keys

A = "777800000111"


@pytest.fixture
def gated_logged(tmp_path: Path) -> Iterator[Callable[[], tuple[Endpoint, Path]]]:
    """Servers on `tmp_path/state` whose access-logging reading stops for `gated-` buckets (`race_gate_logged`)."""
    yield from gated_starter(tmp_path, "tests.security.race_gate_logged")


def _objects(s3: Any, bucket: str) -> dict[str, bytes]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def _wait(path: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} did not appear within {seconds} s"
        time.sleep(0.01)


def test_a_read_racing_put_bucket_logging_leaves_no_unjournaled_object(
    gated_logged: Callable[[], tuple[Endpoint, Path]],
) -> None:
    """Attack: whether an S3 read is journaled is decided by whether its bucket has server access logging (moto
    writes a log object into the target bucket for each request to a logged bucket). If that is read before the
    read takes the execution lock, a PutBucketLogging that enables logging can run in between: the read then
    executes with logging on and writes a log object, but its unit was decided "a read" and is not journaled. The
    log object is in the target bucket — listed, read, copied by acknowledged calls — and a `kill -9` loses it:
    after the restart the object is gone, and the acknowledged CopyObject of it, replayed without its source,
    answers NoSuchKey and its copy is gone too.

    AWS: server access logs are delivered on a best-effort basis
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html) — whether a log object is written
    may vary — but an object that was delivered and that calls were answered about is an object like any other,
    and an acknowledged CopyObject is durable. What the backend did under a unit is in the journal."""
    first, gate = gated_logged()
    s3 = first.client("s3", key=A)
    s3.create_bucket(Bucket="gated-r11-src")
    s3.put_object(Bucket="gated-r11-src", Key="o", Body=b"payload")
    s3.create_bucket(Bucket="r11-logs")
    s3.put_bucket_policy(
        Bucket="r11-logs",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::r11-logs/*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": A}},
                    }
                ],
            }
        ),
    )

    answers: dict[str, Any] = {}

    def read() -> None:
        answers["read"] = s3.get_object(Bucket="gated-r11-src", Key="o")["Body"].read()

    def enable() -> None:
        answers["logging"] = s3.put_bucket_logging(
            Bucket="gated-r11-src",
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "r11-logs", "TargetPrefix": "log/"}},
        )["ResponseMetadata"]["HTTPStatusCode"]

    reader = threading.Thread(target=read)
    reader.start()
    _wait(gate / "logged.arrived")  # the read's "is this bucket logged?" was answered (no)
    enabler = threading.Thread(target=enable)
    enabler.start()
    enabler.join(timeout=5)  # with the reading under the execution lock, the enable waits for the read: bounded
    (gate / "logged.go").touch()
    reader.join(timeout=30)
    enabler.join(timeout=30)
    assert answers == {"read": b"payload", "logging": 200}

    logs = _objects(s3, "r11-logs")
    for key in logs:
        s3.copy_object(Bucket="gated-r11-src", Key=f"copy/{key}", CopySource={"Bucket": "r11-logs", "Key": key})
    live = (logs, sorted(o["Key"] for o in s3.list_objects_v2(Bucket="gated-r11-src").get("Contents", [])))

    first.proc.kill()  # kill -9 after the acknowledgements: the next start-up replays the journal
    first.proc.wait()
    second, _ = gated_logged()
    again = second.client("s3", key=A)
    restored = (
        {key: body for key, body in _objects(again, "r11-logs").items() if key in logs},
        sorted(o["Key"] for o in again.list_objects_v2(Bucket="gated-r11-src").get("Contents", [])),
    )
    assert restored == live


# --- DynamoDB table resource policies across kill -9 ------------------------------------------------------------

TABLE_ARGS: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:us-east-1:{A}:table/{name}"


def _denied(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as failed:
        call()
    return str(failed.value.response["Error"]["Code"])


def test_a_table_policy_and_its_pins_survive_kill_9(make_server: Callable[..., Endpoint], tmp_path: Path) -> None:
    """Attack: a table's resource policy allows user u; u is deleted and a user of the same name created; then
    `kill -9`. After the restart the policy must be the one acknowledged (its RevisionId: an update with that
    ExpectedRevisionId succeeds) and still name the deleted user's unique id — the new u is not granted.

    AWS: a policy names a principal by unique id once stored
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles);
    PutResourcePolicy's RevisionId is what ExpectedRevisionId is compared with
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html)."""
    state = tmp_path / "state"
    first = make_server(state)
    ddb = first.client("dynamodb", key=A)
    iam = first.client("iam", key=A)
    user = f"arn:aws:iam::{A}:user/r11-pinned"
    keys = user_keys(first, A, "r11-pinned")
    ddb.create_table(TableName="r11-pins", **TABLE_ARGS)
    ddb.put_item(TableName="r11-pins", Item={"k": {"S": "secret"}})
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": user}, "Action": "dynamodb:GetItem", "Resource": "*"}
            ],
        }
    )
    revision = ddb.put_resource_policy(ResourceArn=_table_arn("r11-pins"), Policy=policy)["RevisionId"]
    assert clients_of(first, keys)("dynamodb").get_item(TableName="r11-pins", Key={"k": {"S": "secret"}})["Item"]
    for key in iam.list_access_keys(UserName="r11-pinned")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="r11-pinned", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="r11-pinned")
    new_keys = user_keys(first, A, "r11-pinned")
    shown = ddb.get_resource_policy(ResourceArn=_table_arn("r11-pins"))

    first.proc.kill()
    first.proc.wait()
    second = make_server(state)
    again = second.client("dynamodb", key=A)
    assert again.get_resource_policy(ResourceArn=_table_arn("r11-pins")) | {"ResponseMetadata": None} == shown | {
        "ResponseMetadata": None
    }
    reader = clients_of(second, new_keys)("dynamodb")
    get = lambda: reader.get_item(TableName="r11-pins", Key={"k": {"S": "secret"}})  # noqa: E731
    assert _denied(get) == "AccessDeniedException"
    again.put_resource_policy(ResourceArn=_table_arn("r11-pins"), Policy=policy, ExpectedRevisionId=revision)


# --- the Lambda control plane across kill -9 --------------------------------------------------------------------


def test_lambda_permissions_versions_aliases_and_urls_survive_kill_9(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack: a function's acknowledged control-plane changes — AddPermission and RemovePermission guarded by
    RevisionId, PublishVersion, an alias with a weighted routing config, a function URL config — then `kill -9`.
    After the restart every one reads back as acknowledged (the same RevisionIds, versions, weights, URL and auth
    type), and the removed statement does not come back.

    AWS: each of these calls is answered once it is stored
    (https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunctionUrlConfig.html)."""
    state = tmp_path / "state"
    first = make_server(state)
    lam = first.client("lambda", key=A)
    role = make_role(first.client("iam", key=A), "r11-fn-role")
    code = zip_of({"index.py": "def handler(e, c):\n    return 1\n"})
    created = lam.create_function(
        FunctionName="r11-fn", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": code}
    )
    v1 = lam.publish_version(FunctionName="r11-fn", RevisionId=created["RevisionId"])
    lam.update_function_configuration(FunctionName="r11-fn", Description="second")
    lam.get_waiter("function_updated_v2").wait(FunctionName="r11-fn")
    v2 = lam.publish_version(FunctionName="r11-fn")
    alias = lam.create_alias(
        FunctionName="r11-fn",
        Name="live",
        FunctionVersion=v1["Version"],
        RoutingConfig={"AdditionalVersionWeights": {v2["Version"]: 0.25}},
    )
    url = lam.create_function_url_config(FunctionName="r11-fn", Qualifier="live", AuthType="AWS_IAM")
    lam.add_permission(
        FunctionName="r11-fn", StatementId="keep", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com"
    )
    revision = lam.get_policy(FunctionName="r11-fn")["RevisionId"]
    lam.add_permission(
        FunctionName="r11-fn",
        StatementId="gone",
        Action="lambda:InvokeFunction",
        Principal="sns.amazonaws.com",
        RevisionId=revision,
    )
    revision = lam.get_policy(FunctionName="r11-fn")["RevisionId"]
    lam.remove_permission(FunctionName="r11-fn", StatementId="gone", RevisionId=revision)

    def snapshot(client: Any) -> dict[str, Any]:
        def bare(reply: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in reply.items() if k != "ResponseMetadata"}

        policy = client.get_policy(FunctionName="r11-fn")
        return {
            "policy": (policy["RevisionId"], json.loads(policy["Policy"])),
            "versions": bare(client.list_versions_by_function(FunctionName="r11-fn")),
            "alias": bare(client.get_alias(FunctionName="r11-fn", Name="live")),
            "url": bare(client.get_function_url_config(FunctionName="r11-fn", Qualifier="live")),
            "function": bare(client.get_function_configuration(FunctionName="r11-fn")),
        }

    live = snapshot(lam)
    assert [s["Sid"] for s in live["policy"][1]["Statement"]] == ["keep"]
    assert live["alias"]["RevisionId"] == alias["RevisionId"]
    assert live["url"]["FunctionUrl"] == url["FunctionUrl"]
    assert live["alias"]["RoutingConfig"] == {"AdditionalVersionWeights": {v2["Version"]: 0.25}}

    first.proc.kill()
    first.proc.wait()
    second = make_server(state)
    assert snapshot(second.client("lambda", key=A)) == live


# --- every journaling decision is taken under the execution lock (structural) -----------------------------------

_ROOT = Path(__file__).resolve().parents[2]


def _decisions_outside_the_lock(source: str, filename: str) -> list[str]:
    """Where `source` decides whether a unit is journaled from anything but a constant outside the unit: a
    `keep=` argument of a `.unit(...)` call that is not a literal (evaluated before the unit takes the execution
    lock), or an assignment to `<x>.keep` that is not inside a `with <...>.unit(...)` block."""
    tree = ast.parse(source, filename)
    found: list[str] = []
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Call)
            and isinstance(item.context_expr.func, ast.Attribute)
            and item.context_expr.func.attr == "unit"
            for item in node.items
        ):
            inside.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "unit":
            for keyword in node.keywords:
                if keyword.arg == "keep" and not isinstance(keyword.value, ast.Constant):
                    found.append(f"{filename}:{node.lineno}: keep={ast.unparse(keyword.value)}")
    # a function that assigns `.keep` is itself inside the lock when every call of it (by name) is
    deciders: dict[str, ast.FunctionDef] = {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any(
            isinstance(inner, ast.Assign)
            and any(isinstance(t, ast.Attribute) and t.attr == "keep" for t in inner.targets)
            for inner in ast.walk(node)
        )
    }
    for node in ast.walk(tree):
        called = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in deciders
        if called and id(node) not in inside:
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)} (decides keep)")
    in_deciders = {id(inner) for function in deciders.values() for inner in ast.walk(function)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and id(node) not in inside and id(node) not in in_deciders:
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "keep":
                    found.append(f"{filename}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_every_journaling_decision_is_taken_under_the_execution_lock() -> None:
    """Structural: whether a data-plane unit is journaled (`Unit.keep`) must be decided while the unit holds the
    execution lock — what the decision reads (a bucket's access logging, a queue's receive counts) can otherwise
    change between the decision and the execution (the access-log race above). Every `.unit(...)` call in
    lambdaperm passes `keep` as a literal, and every `<unit>.keep =` is inside a `with ….unit(...)` block (or in a
    function every call of which is). Negative
    control: round 10's shape (`keep=_changes_state(...)` as the call's argument) is flagged."""
    found = [
        finding
        for path in sorted((_ROOT / "lambdaperm").rglob("*.py"))
        for finding in _decisions_outside_the_lock(path.read_text(), str(path.relative_to(_ROOT)))
    ]
    assert found == []
    old = (
        "with journal.unit('call', service, operation, params, account, region,\n"
        "                  keep=_changes_state(service, operation, params)):\n"
        "    pass\n"
        "unit.keep = received\n"
        "def decide(unit):\n"
        "    unit.keep = True\n"
        "decide(unit)\n"
    )
    assert [f.split(": ", 1)[1] for f in _decisions_outside_the_lock(old, "old.py")] == [
        "keep=_changes_state(service, operation, params)",
        "decide(unit) (decides keep)",
        "unit.keep = received",
    ]
