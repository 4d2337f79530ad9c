"""Attack class: races (time of check vs time of use, caches), review round 12.

The rule ("one reading", docs/architecture.md): a call's outcome is one that some serial order of the calls gives,
and a cached value is never served after its inputs changed — the records, or the clock when the value depends on it.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from tests.e2e.conftest import ROOT, Endpoint
from tests.e2e.lambda_helpers import LAMBDA_TRUST, make_role, zip_of

A = "121200001212"
REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
CANNOT_ASSUME = ("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except ClientError as err:
        return "error", (err.response["Error"]["Code"], err.response["Error"]["Message"])


def _trust_denying_lambda_after(instant: str) -> dict[str, Any]:
    """LAMBDA_TRUST plus a Deny of the same assumption once aws:CurrentTime is past `instant`."""
    deny = {
        "Effect": "Deny",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": instant}},
    }
    return {"Version": "2012-10-17", "Statement": [*LAMBDA_TRUST["Statement"], deny]}


def _function(server: Endpoint, name: str) -> Any:
    iam = server.client("iam", key=A)
    lam = server.client("lambda", key=A, region=REGION)
    role = make_role(iam, name)
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    assert lam.invoke(FunctionName=name)["StatusCode"] == 200  # warm, under a trust Lambda may assume
    return iam, lam


def test_a_trust_denying_lambda_after_a_past_date_fails_the_invocation(server: Endpoint) -> None:
    """Attack: A's execution role trusts lambda.amazonaws.com, with a Deny of the same assumption once
    aws:CurrentTime is past 2020-01-01 (a role retired at a date). Lambda decided whether it may assume the role
    (`roles.lambda_can_assume`, for invocations and for the event source poller) with a request context holding
    no aws:CurrentTime, so the Deny's condition never matched and the function ran under the retired role.

    AWS: aws:CurrentTime is a global key present in every request context
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-currenttime),
    including a service's AssumeRole; an explicit Deny in the trust policy fails the assumption, and Lambda fails an
    invocation whose role it cannot assume ("The role defined for the function cannot be assumed by Lambda.",
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html)."""
    iam, lam = _function(server, "race12-retired")
    iam.update_assume_role_policy(
        RoleName="race12-retired", PolicyDocument=json.dumps(_trust_denying_lambda_after("2020-01-01T00:00:00Z"))
    )
    assert _outcome(lambda: lam.invoke(FunctionName="race12-retired")) == ("error", CANNOT_ASSUME)


def test_a_trust_decision_that_depends_on_the_clock_is_not_served_from_the_memo_after_the_date(
    server: Endpoint,
) -> None:
    """Attack: the role's trust denies Lambda once aws:CurrentTime is past T, a few seconds ahead. An invocation
    before T runs (correct); `invoke._assumable` memoized that "assumable" keyed by the records' version only, so
    once T had passed — no record written since — every invocation was still served the memoized answer and ran.

    AWS: the trust policy is evaluated on every AssumeRole Lambda makes for an invocation, with that request's
    aws:CurrentTime (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-currenttime,
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html): after T the invocation fails."""
    iam, lam = _function(server, "race12-deadline")
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=4)
    iam.update_assume_role_policy(
        RoleName="race12-deadline",
        PolicyDocument=json.dumps(_trust_denying_lambda_after(f"{deadline:%Y-%m-%dT%H:%M:%SZ}")),
    )
    before = _outcome(lambda: lam.invoke(FunctionName="race12-deadline"))
    assert datetime.now(UTC) < deadline, "the first invocation ended after the deadline: the premise did not hold"
    assert before[0] == "ok" and before[1]["StatusCode"] == 200, before
    while datetime.now(UTC) < deadline + timedelta(seconds=1.5):  # the server shares this host's clock
        time.sleep(0.1)
    assert _outcome(lambda: lam.invoke(FunctionName="race12-deadline")) == ("error", CANNOT_ASSUME)


# Every function that builds an authorization request by hand (not through `authz.keys.request_context`, which
# holds aws:CurrentTime and aws:EpochTime), reviewed: (module, function) → where its time keys come from.
_HAND_BUILT_REQUESTS = {
    ("lambdaperm/authz/enforce.py", "_decide"): "the request's context: authz.keys.request_context",
    ("lambdaperm/services/lambda_/roles.py", "lambda_can_assume"): "its `now` (round 12)",
    ("lambdaperm/services/iam/simulate.py", "_evaluate"): "the caller's ContextEntries, as IAM's simulator",
}


def _request_builders() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "lambdaperm").rglob("*.py")):
        if path.is_relative_to(ROOT / "lambdaperm" / "policy"):
            continue  # the engine itself
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "AuthzRequest":
                    found.add((str(path.relative_to(ROOT)), fn.name))
    return found


def test_every_hand_built_authorization_request_is_a_reviewed_one() -> None:
    """Structural: round 12 found Lambda's AssumeRole of the execution role decided with no aws:CurrentTime (a trust's
    date condition never applied) and memoized across the date. Every function outside the engine that builds an
    `AuthzRequest` is listed here with where its time keys come from — a new one fails this test until reviewed."""
    assert _request_builders() == set(_HAND_BUILT_REQUESTS)
