"""Attack class: races (time of check vs time of use, caches), review round 11.

Played deterministically in a real server (`race_gate_round11`: an invocation stops between the read of its
function's execution role and the check that Lambda may assume it), never with timing.

The rule ("one reading", docs/architecture.md): a call's outcome is one that some serial order of the calls gives,
and a cached value read before a write is never served after the write was acknowledged.
"""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import ROOT, Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security import race_gate
from tests.security.gated_servers import gated_for_module

A = "121200001111"
REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoint, Path]]:
    yield from gated_for_module(tmp_path_factory, "races11", "tests.security.race_gate_round11")


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ClientError as err:
        return "error", (err.response["Error"]["Code"], err.response["Error"]["Message"])


def test_a_trust_removed_while_an_invocation_reads_the_role_is_not_cached_for_later_invocations(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: an invocation of A's function reads the execution role (trusting lambda.amazonaws.com), then — held —
    A's UpdateAssumeRolePolicy takes Lambda out of the role's trust and is acknowledged; the held invocation then
    checks the trust on the role it read before. `invoke._assumable` memoized that answer keyed by the records'
    version read after the role (the version of the update), so every later invocation — reading the new trust —
    was served the stale "assumable" and ran the function under a role Lambda may no longer assume.

    AWS: Lambda assumes the execution role on every invocation; a role whose trust policy does not let
    lambda.amazonaws.com assume it fails the invocation ("The role defined for the function cannot be assumed by
    Lambda.", https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html). The held invocation may run (it read the role
    before the update was acknowledged); one started after the acknowledgement is refused, as it is without a race.
    """
    server, gate = gated
    iam = server.client("iam", key=A)
    lam = server.client("lambda", key=A, region=REGION)
    role = make_role(iam, "race11-trust")
    lam.create_function(
        FunctionName="race11-trust", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    assert lam.invoke(FunctionName="race11-trust")["StatusCode"] == 200  # warm: the role's session is issued

    (gate / "race11-trust.gate").touch()
    held: dict[str, tuple[str, Any]] = {}
    thread = threading.Thread(
        target=lambda: held.setdefault("first", _outcome(lambda: lam.invoke(FunctionName="race11-trust")))
    )
    thread.start()
    race_gate.wait_for(gate / "race11-trust.arrived", 20)
    iam.update_assume_role_policy(RoleName="race11-trust", PolicyDocument=json.dumps(EC2_TRUST))  # acknowledged
    (gate / "race11-trust.go").touch()
    thread.join(60)
    assert not thread.is_alive() and held["first"][0] == "ok"  # it read the role before the update: a valid order

    after = _outcome(lambda: lam.invoke(FunctionName="race11-trust"))
    assert after[0] == "error", after
    assert after[1] == (
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    )


# Every reader of the records' version outside the cache that owns the rule (state.Derived reads it once, before
# anything is looked up), reviewed: (module, function) — each reads the version before the records it keys.
_VERSION_READERS = {
    ("lambdaperm/state/records.py", "get"),  # Derived.get: the version first, then the lookup
    ("lambdaperm/services/lambda_/invoke.py", "run"),  # read before the role; the key of _assumable's memo
}


def _version_readers() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "lambdaperm").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Attribute) and node.attr == "version":
                    holder = node.value
                    if (isinstance(holder, ast.Attribute) and holder.attr == "records") or (
                        isinstance(holder, ast.Name) and holder.id == "records"
                    ):
                        found.add((str(path.relative_to(ROOT)), fn.name))
    return found


def test_every_memo_keyed_by_the_records_version_is_a_reviewed_one() -> None:
    """Structural: a memo keyed by the records' version is correct only when the version is read before the records
    the memoized value is computed from (`state.Derived`'s rule). Round 11 found one reading it after
    (`invoke._assumable`); every function that reads `records.version` is listed here, reviewed — a new one fails
    this test until it is reviewed (or uses `state.Derived`)."""
    assert _version_readers() == _VERSION_READERS
