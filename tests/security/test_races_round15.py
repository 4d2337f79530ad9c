"""Attack class: races (time of check vs time of use, caches), review round 15.

Played deterministically in a real server (`race_gate_round15`: the IAM holds removed, and the authorizer stopped
right after it read a role for its trust policy), never with timing, and on the memo itself.

The rule ("one reading", docs/architecture.md): a call's outcome is one that some serial order of the calls gives,
and a cached value read before a write is never served after the write was acknowledged.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.services.policy_sources import ServicePolicies
from lambdaperm.state import Database, Records
from tests.e2e.conftest import ROOT, Endpoint
from tests.security.gated_servers import gated_for_module
from tests.security.race_support import Held

A = "121500001111"
B = "121500002222"
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
    yield from gated_for_module(tmp_path_factory, "races15", "tests.security.race_gate_round15")


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ClientError as err:
        return "error", (err.response["Error"]["Code"], err.response["Error"]["Message"])


def test_a_trust_read_before_an_update_is_not_served_after_it_without_the_role_hold(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's AssumeRole of A's role (whose trust allows B) is being decided: `policy_sources` has read the role
    from the records; A's UpdateAssumeRolePolicy takes B out of the trust and is acknowledged meanwhile — in a server
    whose IAM holds are removed (`race_gate_round15`), so nothing but the memo itself stands between the two. Keyed
    by the records' version read after the role (the update's), the memo filed the old trust under the new version
    and B's next AssumeRole, started after the acknowledgement, was allowed on it. The held call asks for 43,200 s
    (beyond MaxSessionDuration): it fails after its decision and writes nothing that would move the version on.

    AWS: a principal of another account the trust does not name is refused AccessDenied
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html,
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html). Fixed: the role is read inside the
    memo's compute, after `state.Derived` read the version (`services/policy_sources.py`); round 14 found this
    window closed only by `gateway/iam_holds.py`.
    """
    server, gate = gated
    iam_a = server.client("iam", key=A)
    iam_b = server.client("iam", key=B)
    iam_b.create_user(UserName="race15-bob")
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}
    iam_b.put_user_policy(UserName="race15-bob", PolicyName="assume", PolicyDocument=json.dumps(allow))
    key = iam_b.create_access_key(UserName="race15-bob")["AccessKey"]
    sts_b = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    role = iam_a.create_role(RoleName="race15-trust", AssumeRolePolicyDocument=json.dumps(_trusting(B)))["Role"]
    assert sts_b.assume_role(RoleArn=role["Arn"], RoleSessionName="warm")["Credentials"]  # the trust allows B

    (gate / "role.gate").touch()
    held = Held(
        gate,
        "role",
        lambda: sts_b.assume_role(RoleArn=role["Arn"], RoleSessionName="held", DurationSeconds=43200),
    ).start()
    # no hold: the update is acknowledged while the held call is between its read of the role and the memo
    iam_a.update_assume_role_policy(RoleName="race15-trust", PolicyDocument=json.dumps(EC2_TRUST))
    outcome = held.release()
    assert outcome[0] == "error", outcome  # whatever it was decided on, it writes nothing

    after = _outcome(lambda: sts_b.assume_role(RoleArn=role["Arn"], RoleSessionName="after"))
    assert after[0] == "error", after
    assert after[1][0] == "AccessDenied", after


def test_a_trust_read_before_a_commit_is_not_filed_under_the_commit(tmp_path: Path) -> None:
    """The same window on the memo alone (no server, no lock): the role's read returns the old trust and an
    UpdateAssumeRolePolicy commits right after it; the next lookup, after the commit, must see the new trust."""
    db = Database(None)
    records = Records(db)
    arn = f"arn:aws:iam::{A}:role/r"
    records.put("iam.role", A, "r", {"RoleName": "r", "Arn": arn, "RoleId": "AROA1", "AssumeRolePolicyDocument": "old"})

    class Racing:
        """Records whose first role read is followed by a committed update (what another thread could do)."""

        fired = False

        def __getattr__(self, name: str) -> Any:
            return getattr(records, name)

        def get(self, namespace: str, account: str, key: str) -> Any:
            found = records.get(namespace, account, key)
            if namespace == "iam.role" and not Racing.fired:
                Racing.fired = True
                records.put(namespace, account, key, {**found, "AssumeRolePolicyDocument": "new"})
            return found

    policies = ServicePolicies(records)
    policies.records = Racing()  # type: ignore[assignment]
    assert policies.resource_policy("sts:AssumeRole", arn) == ("trust", "old")  # read before the commit
    assert policies.resource_policy("sts:AssumeRole", arn) == ("trust", "new")  # after it: never the old one
    db.close()


def _reads_records_before(call: ast.Call, function: ast.FunctionDef) -> list[int]:
    """Lines of `function` (outside nested functions and lambdas) that read the records before `call`."""
    found: list[int] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            reads = (isinstance(child, ast.Attribute) and child.attr == "records") or (
                isinstance(child, ast.Name) and child.id == "records"
            )
            if reads and (child.lineno, child.col_offset) < (call.lineno, call.col_offset):
                found.append(child.lineno)
            visit(child)

    visit(function)
    return found


# The memos over the records (`state.Derived`) and the attributes that hold them.
_MEMO_HOLDERS = {
    "lambdaperm/services/policy_sources.py": "_cache",
    "lambdaperm/gateway/policy_source.py": "_pins",
}


def test_every_memo_over_the_records_reads_them_inside_its_compute() -> None:
    """The shape: `Derived.get(key, compute)` reads the records' version first; a value computed from records read
    before that (outside `compute`) can be filed under a version newer than what it was read at. So no function
    that asks a `Derived` memo reads the records before the call except inside its compute (a nested function or a
    lambda). Every module that builds a `Derived` is listed (the list is checked too)."""
    builders = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "lambdaperm").rglob("*.py")
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("lambdaperm.state")
        and any(alias.name == "Derived" for alias in node.names)
    )
    assert sorted(set(builders)) == sorted(_MEMO_HOLDERS), builders
    offending: list[str] = []
    asked = 0
    for path, holder in _MEMO_HOLDERS.items():
        tree = ast.parse((ROOT / path).read_text())
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
                f = call.func
                memo = isinstance(f, ast.Attribute) and f.attr == "get" and isinstance(f.value, ast.Attribute)
                if memo and f.value.attr == holder:  # type: ignore[attr-defined]
                    asked += 1
                    lines = _reads_records_before(call, function)
                    if lines:
                        offending.append(f"{path}:{function.name} reads the records at {lines} before its memo")
    assert asked >= 6, asked  # every memo lookup was found
    assert offending == []
