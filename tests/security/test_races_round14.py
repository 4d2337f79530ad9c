"""Attack class: races (time of check vs time of use, caches), review round 14.

Played deterministically in a real server (`race_gate_round14`: the authorizer stops between reading a role from
the records and asking its memo for the role's trust policy), never with timing.

The rule ("one reading", docs/architecture.md): a call's outcome is one that some serial order of the calls gives,
and a cached value read before a write is never served after the write was acknowledged.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.runtime.invocation import FunctionSpec
from tests.e2e.conftest import ROOT, Endpoint
from tests.e2e.lambda_helpers import make_role, payload, zip_of
from tests.security.gated_servers import gated_for_module
from tests.security.race_support import Held, release_after, through_gate

A = "121400001111"
B = "121400002222"
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _trusting(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    yield from gated_for_module(tmp_path_factory, "races14", "tests.security.race_gate_round14")


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ClientError as err:
        return "error", (err.response["Error"]["Code"], err.response["Error"]["Message"])


def test_a_trust_update_waits_for_an_assume_role_decided_on_the_old_trust(gated: tuple[Endpoint, Path]) -> None:
    """Attack: B's AssumeRole of A's role (whose trust allows B) is being decided: the authorizer has read the role
    from the records but not yet asked its memo (`state.Derived`) for the role's trust; A's UpdateAssumeRolePolicy
    takes B out of the trust meanwhile. Had the update committed in that window, the memo (keyed by the records'
    version it reads then, the update's) would have filed the old trust under the new version, and B's next
    AssumeRole, started after the acknowledgement, would have been allowed on it. The held call asks for 43,200 s
    (beyond the role's MaxSessionDuration), so it fails after its decision and writes nothing that would move the
    version on.

    Held: AssumeRole holds the role it names from its decision to its execution and UpdateAssumeRolePolicy holds it
    exclusively (`gateway/iam_holds.py`), so the update waits for the held call: a serial order, and B's next
    AssumeRole is refused. AWS: a principal of another account the trust does not name is refused AccessDenied
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html,
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html). The trust branch of
    `ServicePolicies.resource_policy` still reads the role outside its memo: safe only because of that hold (noted
    in docs/security.md, round 14).
    """
    server, gate = gated
    iam_a = server.client("iam", key=A)
    iam_b = server.client("iam", key=B)
    iam_b.create_user(UserName="race14-bob")
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam_b.put_user_policy(UserName="race14-bob", PolicyName="assume", PolicyDocument=json.dumps(allow))
    key = iam_b.create_access_key(UserName="race14-bob")["AccessKey"]
    sts_b = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    role = iam_a.create_role(RoleName="race14-trust", AssumeRolePolicyDocument=json.dumps(_trusting(B)))["Role"]
    assert sts_b.assume_role(RoleArn=role["Arn"], RoleSessionName="warm")["Credentials"]  # the trust allows B

    (gate / "trust.gate").touch()
    held = Held(
        gate,
        "trust",
        lambda: sts_b.assume_role(RoleArn=role["Arn"], RoleSessionName="held", DurationSeconds=43200),
    ).start()
    outcome = release_after(
        held,
        lambda: iam_a.update_assume_role_policy(RoleName="race14-trust", PolicyDocument=json.dumps(EC2_TRUST)),
    )
    assert outcome == ("error", "ValidationError"), outcome  # decided on the old trust, refused its duration

    after = _outcome(lambda: sts_b.assume_role(RoleArn=role["Arn"], RoleSessionName="after"))
    assert after[0] == "error", after
    assert after[1][0] == "AccessDenied", after


# module-level clients, created at the worker's init with the credentials it started with (a common pattern)
_MODULE_CLIENTS = zip_of(
    {
        "app.py": """
import boto3
from botocore.exceptions import ClientError

STS = boto3.client("sts", region_name="us-east-1")
SQS = boto3.client("sqs", region_name="us-east-1")


def handler(event, context):
    try:
        SQS.list_queues()
        listed = "allowed"
    except ClientError as err:
        listed = err.response["Error"]["Code"]
    return {"arn": STS.get_caller_identity()["Arn"], "list": listed}
"""
    }
)


def test_a_worker_started_for_the_old_role_does_not_serve_invocations_under_the_new_one(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: A's function runs as role `r1` (allowed sqs:ListQueues); its code creates its clients at init, as
    Lambda's own guidance recommends. An invocation reads the configuration (role r1, r1's credentials) and —
    held before the runtime picks a worker — A's UpdateFunctionConfiguration switches the role to `r2` (allowed
    nothing) and is acknowledged. The held invocation then starts a worker, initialized with r1's credentials: an
    in-flight invocation, a valid order. But the runtime kept warm workers keyed by the function's ARN, code and a
    configuration hash that left the role out, so every later invocation — reading r2, after the acknowledgement —
    was served by that worker, whose clients still acted as r1: the handler listed queues as r1.

    AWS: a configuration update (the execution role included) makes Lambda prepare new execution environments;
    invocations after the update completes run in environments of the new configuration, whose init phase gets
    the new role's credentials (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html,
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html). So an invocation started after
    the acknowledged switch acts as r2 (denied ListQueues).
    """
    server, gate = gated
    iam = server.client("iam", key=A)
    lam = server.client("lambda", key=A, region="us-east-1")
    listing = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}]}
    r1 = make_role(iam, "race14-r1", policy=listing)
    r2 = make_role(iam, "race14-r2")
    lam.create_function(
        FunctionName="race14-role",
        Runtime="python3.11",
        Role=r1,
        Handler="app.handler",
        Code={"ZipFile": _MODULE_CLIENTS},
        Timeout=30,
    )

    (gate / "race14-role.start.gate").touch()
    held = Held(gate, "race14-role.start", lambda: payload(lam.invoke(FunctionName="race14-role"))).start()
    outcome = release_after(held, lambda: lam.update_function_configuration(FunctionName="race14-role", Role=r2))
    assert outcome[0] == "ok", outcome  # read the configuration before the switch: it may run as r1
    assert lam.get_function_configuration(FunctionName="race14-role")["Role"] == r2

    after = payload(lam.invoke(FunctionName="race14-role"))
    assert ":assumed-role/race14-r2/" in after["arn"], after
    assert after["list"] != "allowed", after


# the pool key is (function_arn, code_sha256, config_hash()); code_zip is the file code_sha256 names
_IN_THE_KEY = {"function_arn", "code_sha256", "code_zip"}


def _changed(value: Any) -> Any:
    if isinstance(value, dict):
        return {**value, "CHANGED": "1"}
    if isinstance(value, int):
        return value + 1
    if isinstance(value, Path):
        return value.with_name("changed")
    return f"{value}-changed"


def test_every_field_a_worker_is_started_with_is_in_its_pool_key() -> None:
    """Structural: a warm worker serves only invocations of what its init read (the shape of round 14's finding,
    a worker of the old role serving the new one). Every field of `FunctionSpec` is either in the runtime's pool
    key or changes `config_hash` — a new field left out of both fails here — and the gateway passes every field
    when it builds the spec from a `Target` (none left at its default)."""
    base = FunctionSpec(
        function_name="f",
        function_arn="arn:aws:lambda:us-east-1:121400001111:function:f:$LATEST",
        version="$LATEST",
        handler="app.handler",
        runtime="python3.11",
        code_zip=Path("/tmp/code"),
        code_sha256="abc",
        environment={"A": "1"},
        timeout=3,
        memory_size=128,
        region="us-east-1",
        account="121400001111",
        log_group="/aws/lambda/f",
        role_arn="arn:aws:iam::121400001111:role/r1",
        incarnation="i1",
    )
    for field in fields(FunctionSpec):
        if field.name in _IN_THE_KEY:
            continue
        other = replace(base, **{field.name: _changed(getattr(base, field.name))})
        assert other.config_hash() != base.config_hash(), f"FunctionSpec.{field.name} is not in the pool key"

    tree = ast.parse((ROOT / "lambdaperm/gateway/lambda_env.py").read_text())
    built = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "FunctionSpec"
    ]
    assert built, "lambda_env builds no FunctionSpec"
    for call in built:
        assert {k.arg for k in call.keywords} == {f.name for f in fields(FunctionSpec)}, ast.unparse(call)


_ECHO = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})


def test_an_invoke_after_an_acknowledged_remove_permission_is_refused(gated: tuple[Endpoint, Path]) -> None:
    """Attack: A's function allows B to invoke it (AddPermission). B's Invoke is authorized and — held before its
    execution — A's RemovePermission is acknowledged (Lambda functions take no hold: it completes at once). The held
    Invoke was decided before the removal, so it may run (an in-flight call, a valid order); B's next Invoke, started
    after the acknowledgement, must be refused: no cache of the function policy may serve the removed statement.

    Held: the function policy is read from the records at each decision (`policy_sources.resource_policy`, not
    memoized). AWS: "Revokes function-use permission from an AWS service or another AWS account"
    (https://docs.aws.amazon.com/lambda/latest/api/API_RemovePermission.html); a cross-account Invoke needs the
    function policy's allow (https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-cross-account.html).
    """
    server, gate = gated
    lam_a = server.client("lambda", key=A, region="us-east-1")
    iam_a = server.client("iam", key=A)
    lam_b = server.client("lambda", key=B, region="us-east-1")
    role = make_role(iam_a, "race14-perm")
    arn = lam_a.create_function(
        FunctionName="race14-perm", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": _ECHO}
    )["FunctionArn"]
    lam_a.add_permission(FunctionName="race14-perm", StatementId="b", Action="lambda:InvokeFunction", Principal=B)
    assert payload(lam_b.invoke(FunctionName=arn)) == "ran"

    held_client = through_gate(server.client("lambda", key=B, region="us-east-1"), "perm")
    held = Held(gate, "perm", lambda: payload(held_client.invoke(FunctionName=arn))).start()
    outcome = release_after(held, lambda: lam_a.remove_permission(FunctionName="race14-perm", StatementId="b"))
    assert outcome == ("ok", "ran"), outcome  # decided before the removal: an in-flight call

    after = _outcome(lambda: lam_b.invoke(FunctionName=arn))
    assert after[0] == "error" and after[1][0] == "AccessDeniedException", after
