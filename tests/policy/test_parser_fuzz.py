"""Fuzz of `parse_policy` and of the evaluation of whatever it accepts.

Contract (docs/engine-contract.md): for ANY input, `parse_policy(doc, policy_type)` returns a `Policy` or
raises `MalformedPolicyDocument` / `PolicySizeExceeded`; never another exception, never a hang. Every
accepted policy must also evaluate: a `Scenario` with the document in its slot decides to one of
allowed / explicitDeny / implicitDeny, raising nothing but `PolicyError`.

Categories (each a test; together at least FUZZ_INPUTS parse_policy inputs, all eight policy types):
- random text: character soup, JSON-token soup, and random JSON values rendered with random layout;
- random bytes: invalid UTF-8 (pure noise, and valid policies with one bad byte), plus valid UTF-8;
- mutations of valid policies: character flips, insertions, deletions, truncations, slice copies,
  and structural edits of the decoded object (wrong types, dropped/added keys, wrapping in lists);
- structurally random JSON (hypothesis recursive strategies over policy-like keys and values of wrong
  types, huge numbers, huge strings), each parsed as an object and as text under every policy type;
- deep nesting (10,000+ levels) and very long documents (> 200 KB).

Properties checked beyond "no other exception":
- errors carry a message; `.line`/`.column` are None for object input and inside the text otherwise;
- anything that is not a JSON object (a truncation, invalid UTF-8, invalid JSON) is rejected;
- object and text forms of one document are accepted or rejected alike (outside size limits);
- an accepted document also loads through `Scenario.from_json`, and its decision is well formed;
- a document with no "Allow" anywhere never lets a non-root principal be allowed, and one with no
  "Deny" never yields explicitDeny.

Failures are collected per category and reported together with the smallest reproducer of each kind.
Environment: LAMBDAPERM_FUZZ_SCALE (default 1) multiplies the input counts; LAMBDAPERM_FUZZ_SEED sets
the seed of the random loops.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import re
import signal
import string
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdaperm.policy import (
    Decision,
    EvalDecision,
    MalformedPolicyDocument,
    Policy,
    PolicyError,
    PolicySizeExceeded,
    PolicyType,
    Scenario,
    parse_policy,
)

pytestmark = pytest.mark.slow

FUZZ_INPUTS = 100_000  # minimum number of parse_policy inputs over all categories and policy types
SCALE = float(os.environ.get("LAMBDAPERM_FUZZ_SCALE", "1"))
BASE_SEED = int(os.environ.get("LAMBDAPERM_FUZZ_SEED", "1729"))
SHARES = {"text": 0.17, "bytes": 0.08, "mutation": 0.40, "structural": 0.35}
BUDGET = {name: math.ceil(FUZZ_INPUTS * SCALE * share) for name, share in SHARES.items()}
assert sum(BUDGET.values()) >= FUZZ_INPUTS * SCALE

HANG_SECONDS = 10.0  # one input taking this long is reported as a hang
SLOW_SECONDS = 2.0  # the slowest input of a category must stay under this

TYPES = tuple(PolicyType)
OUTCOMES = {e.value for e in EvalDecision}
DECIDERS = {"identity", "resource", "trust", "permissionsBoundary", "session", "scp", "rcp", "vpcEndpoint",
            "root", "none"}
_IAM_CHARSET = re.compile(r"^[\t\n\r\u0020-\u00ff]*$")
_IAM_CHARSET_TYPES = {PolicyType.IDENTITY, PolicyType.BOUNDARY, PolicyType.SESSION, PolicyType.TRUST}
_SCENARIO_ACTION = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9]+$")

_COUNTS: Counter[str] = Counter()  # parse_policy inputs per category, over this session

# --------------------------------------------------------------------------------------------------
# Seed corpus: valid documents of every type (checked to parse in test_seed_corpus_is_valid)
# --------------------------------------------------------------------------------------------------

SEEDS: dict[PolicyType, list[dict[str, Any]]] = {
    PolicyType.IDENTITY: [
        {"Version": "2012-10-17", "Statement": [
            {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:List*"],
             "Resource": ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]},
            {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:iam::*:role/admin-*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]},
        {"Version": "2012-10-17", "Statement": [
            {"Sid": "Invoke", "Effect": "Allow", "Action": "lambda:Invoke*",
             "Resource": "arn:aws:lambda:us-east-1:111122223333:function:${aws:username}-*",
             "Condition": {
                 "StringEquals": {"aws:PrincipalTag/team": ["${aws:username}", "core"]},
                 "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]},
                 "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                 "NumericLessThanEquals": {"s3:max-keys": "10"},
                 "ForAnyValue:StringLike": {"aws:TagKeys": ["env*", "team"]},
                 "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:topic-?"},
                 "Null": {"aws:TokenIssueTime": "false"},
                 "BinaryEquals": {"lambda:Blob": "QmluYXJ5"},
                 "StringEqualsIgnoreCaseIfExists": {"aws:RequestedRegion": "US-EAST-1"},
                 "ForAllValues:StringEquals": {"lambda:SubnetIds": ["subnet-1", "subnet-2"]}}}]},
        {"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}},
    ],
    PolicyType.BOUNDARY: [
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["lambda:*", "s3:Get*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]},
    ],
    PolicyType.SESSION: [
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::bucket/${aws:userid}/*"}]},
    ],
    PolicyType.SCP: [
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": ["lambda:DeleteFunction"], "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]},
    ],
    PolicyType.RCP: [
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
             "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}}]},
    ],
    PolicyType.RESOURCE: [
        {"Version": "2012-10-17", "Id": "default", "Statement": [
            {"Sid": "sns-invoke", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
             "Action": "lambda:InvokeFunction",
             "Resource": "arn:aws:lambda:us-east-1:111122223333:function:f",
             "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:111122223333:topic-*"}}},
            {"Sid": "xacct", "Effect": "Allow",
             "Principal": {"AWS": ["444455556666", "arn:aws:iam::444455556666:role/caller"]},
             "Action": "lambda:*", "Resource": "*"},
            {"Sid": "deny-others", "Effect": "Deny",
             "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:root",
                                      "arn:aws:sts::111122223333:assumed-role/R/s"]},
             "Action": "lambda:DeleteFunction", "Resource": "*"}]},
        {"Version": "2012-10-17", "Statement": {
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}}},
    ],
    PolicyType.TRUST: [
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
             "Action": ["sts:AssumeRole", "sts:TagSession"],
             "Condition": {"StringEquals": {"sts:ExternalId": "x"}}},
            {"Effect": "Allow",
             "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/example.com"},
             "Action": "sts:AssumeRoleWithWebIdentity"}]},
    ],
    PolicyType.ENDPOINT: [
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
                        "Resource": "arn:aws:lambda:*:111122223333:function:*"}]},
    ],
}
SEED_LIST: list[tuple[PolicyType, dict[str, Any]]] = [(t, d) for t, docs in SEEDS.items() for d in docs]


def render(obj: object, rng: random.Random) -> str:
    """JSON text with a random layout."""
    style = rng.randrange(5)
    if style == 0:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    if style == 1:
        return json.dumps(obj, indent=2, ensure_ascii=False)
    if style == 2:
        return json.dumps(obj, indent="\t", sort_keys=True)
    if style == 3:
        return "\n  " + json.dumps(obj) + " \r\n"
    return json.dumps(obj, indent=4, ensure_ascii=rng.random() < 0.5)


# --------------------------------------------------------------------------------------------------
# Harness: parse, check the outcome, evaluate what was accepted, collect failures
# --------------------------------------------------------------------------------------------------


class _Hang(BaseException):
    """Raised by the alarm when one input runs longer than HANG_SECONDS."""


_CAN_ALARM = hasattr(signal, "setitimer")


@contextmanager
def _alarm_handler() -> Iterator[None]:
    if not _CAN_ALARM or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(_signum: int, _frame: object) -> None:
        raise _Hang()

    old = signal.signal(signal.SIGALRM, on_alarm)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _arm(seconds: float) -> None:
    if _CAN_ALARM and threading.current_thread() is threading.main_thread():
        signal.setitimer(signal.ITIMER_REAL, seconds)


def _short(doc: object, limit: int = 400) -> str:
    try:
        text = repr(doc)
    except RecursionError:
        return f"<{type(doc).__name__} nested too deep to print>"
    except ValueError:  # an int beyond CPython's 4,300-digit str() limit
        return f"<{type(doc).__name__} holding a number too large to print>"
    return text if len(text) <= limit else f"{text[: limit // 2]} …[{len(text)} chars]… {text[-limit // 4 :]}"


def _call(doc: object, ptype: PolicyType, limit: int = 400) -> str:
    return f"parse_policy({_short(doc, limit)}, PolicyType.{ptype.name})"


def _where(err: BaseException) -> str:
    """The innermost frame of the engine (or of the test, if none) in the traceback."""
    frames = traceback.extract_tb(err.__traceback__)
    engine = [f for f in frames if "lambdaperm" in f.filename and "tests" not in f.filename]
    f = (engine or frames or [None])[-1]
    return f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}" if f else "?"


def walk(obj: object) -> Iterator[object]:
    stack = [obj]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def strings_in(obj: object) -> Iterator[str]:
    return (n for n in walk(obj) if isinstance(n, str))


PRINCIPALS = {
    "user": "arn:aws:iam::111122223333:user/alice",
    "session": "arn:aws:sts::111122223333:assumed-role/R/s",
    "role": "arn:aws:iam::111122223333:role/R",
    "xuser": "arn:aws:iam::444455556666:user/bob",
    "xsession": "arn:aws:sts::444455556666:assumed-role/caller/x",
    "federated": "arn:aws:sts::111122223333:federated-user/fed",
    "service": "sns.amazonaws.com",
    "lambda": "lambda.amazonaws.com",
    "anonymous": "*",
    "oidc": "arn:aws:iam::111122223333:oidc-provider/example.com",
    "root": "arn:aws:iam::111122223333:root",
}
_IAM_SIDE = ["user", "session", "role", "xuser", "federated", "root"]
PRINCIPALS_FOR = {
    PolicyType.IDENTITY: _IAM_SIDE,
    PolicyType.BOUNDARY: _IAM_SIDE,
    PolicyType.SCP: _IAM_SIDE,
    PolicyType.SESSION: ["session", "federated", "xsession"],
    PolicyType.TRUST: ["user", "xuser", "session", "service", "lambda", "oidc", "root"],
    PolicyType.RESOURCE: list(PRINCIPALS),
    PolicyType.RCP: list(PRINCIPALS),
    PolicyType.ENDPOINT: list(PRINCIPALS),
}
DEFAULT_ACTIONS = ["lambda:InvokeFunction", "s3:GetObject", "iam:PassRole", "lambda:DeleteFunction"]
DEFAULT_RESOURCES = [
    "arn:aws:lambda:us-east-1:111122223333:function:f",
    "arn:aws:lambda:us-east-1:111122223333:function:alice-x:prod",
    "arn:aws:s3:::bucket/key",
    "arn:aws:iam::111122223333:role/R",
    "arn:aws:sqs:eu-west-1:444455556666:q",
    "not-an-arn",
]
CONTEXT_POOL = ["true", "false", "TRUE", "10.1.2.3", "2001:db8::1", "300.1.1.1", "2020-01-01T00:00:00Z",
                "1700000000", "5", "-1", "1e3", "core", "alice", "", "QmluYXJ5", "o-abcdefghij",
                "arn:aws:sns:us-east-1:111122223333:topic-a", "us-east-1", "*", "${aws:username}"]
SLOT = {
    PolicyType.IDENTITY: "identity", PolicyType.RESOURCE: "resource", PolicyType.TRUST: "trust",
    PolicyType.BOUNDARY: "permissionsBoundary", PolicyType.SESSION: "session", PolicyType.SCP: "scps",
    PolicyType.RCP: "rcps", PolicyType.ENDPOINT: "vpcEndpoint",
}
ALLOW_ALL_IDENTITY = {"Version": "2012-10-17",
                      "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}


def instantiate_wildcards(text: str, rng: random.Random) -> str:
    out = []
    for ch in text:
        if ch == "*":
            out.append(rng.choice(["", "a", "Get", "x/y", "f:prod", "111122223333"]))
        elif ch == "?":
            out.append(rng.choice("aZ0-"))
        else:
            out.append(ch)
    return "".join(out)


def _element_strings(obj: object, names: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for node in walk(obj):
        if isinstance(node, dict):
            for name in names:
                value = node.get(name)
                if isinstance(value, str):
                    found.append(value)
                elif isinstance(value, list):
                    found.extend(v for v in value if isinstance(v, str))
    return found


def _condition_keys(obj: object) -> list[tuple[str, list[str]]]:
    keys: list[tuple[str, list[str]]] = []
    for node in walk(obj):
        if isinstance(node, dict) and isinstance(node.get("Condition"), dict):
            for block in node["Condition"].values():
                if isinstance(block, dict):
                    for key, values in block.items():
                        vals = values if isinstance(values, list) else [values]
                        keys.append((key, [v if isinstance(v, str) else json.dumps(v) for v in vals
                                           if isinstance(v, str | int | float | bool)]))
    return keys


class Harness:
    """Runs inputs of one category and collects every contract violation."""

    def __init__(self, category: str, seed: int) -> None:
        self.category = category
        self.rng = random.Random(seed)
        self.failures: dict[tuple[str, str], tuple[int, str]] = {}
        self.failure_count = 0
        self.outcomes: Counter[str] = Counter()  # accepted / MalformedPolicyDocument / PolicySizeExceeded
        self.decisions: Counter[str] = Counter()
        self.slowest = (0.0, "")
        self.safety_checks = 0  # decisions on a document without "Allow" for a non-root principal

    # ---- failures ----

    def fail(self, kind: str, detail: str, reproducer: str) -> None:
        self.failure_count += 1
        key = (kind, detail)
        size = len(reproducer)
        if key not in self.failures or size < self.failures[key][0]:
            self.failures[key] = (size, reproducer)

    def report(self) -> None:
        if not self.failures:
            return
        lines = [f"{self.failure_count} contract violations in category {self.category!r}, "
                 f"{len(self.failures)} distinct (smallest reproducer of each):"]
        for (kind, detail), (_, repro) in sorted(self.failures.items()):
            lines.append(f"- {kind}: {detail}\n    {repro}")
        pytest.fail("\n".join(lines), pytrace=False)

    # ---- parsing ----

    def parse(self, doc: object, ptype: PolicyType) -> Policy | PolicyError | None:
        """parse_policy under the contract: returns the Policy, the (allowed) error, or None on a
        violation (already recorded)."""
        _COUNTS[self.category] += 1
        start = time.perf_counter()
        try:
            _arm(HANG_SECONDS)
            try:
                policy = parse_policy(doc, ptype)  # type: ignore[arg-type]
            finally:
                _arm(0)
        except _Hang:
            self.fail("hang", f"parse_policy ran longer than {HANG_SECONDS} s", _call(doc, ptype))
            return None
        except (MalformedPolicyDocument, PolicySizeExceeded) as err:
            self._timed(start, doc, ptype)
            self.outcomes[type(err).__name__] += 1
            self._check_error(err, doc, ptype)
            return err
        except Exception as err:
            self._timed(start, doc, ptype)
            self.fail(f"parse_policy raised {type(err).__name__}", _where(err),
                      f"{_call(doc, ptype)}\n    -> {type(err).__name__}: {str(err)[:160]}")
            return None
        self._timed(start, doc, ptype)
        if not isinstance(policy, Policy) or policy.policy_type is not ptype:
            self.fail("parse_policy returned a wrong value", f"{type(policy).__name__}", _call(doc, ptype))
            return None
        self.outcomes["accepted"] += 1
        return policy

    def _timed(self, start: float, doc: object, ptype: PolicyType) -> None:
        elapsed = time.perf_counter() - start
        if elapsed > self.slowest[0]:
            self.slowest = (elapsed, _call(doc, ptype, 200))

    def _check_error(self, err: PolicyError, doc: object, ptype: PolicyType) -> None:
        problem = ""
        try:
            str(err)
        except Exception as exc:
            problem = f"str(error) raised {type(exc).__name__}"
        if not isinstance(err.message, str) or not err.message:
            problem = "error without message"
        elif not isinstance(err.path, str):
            problem = f"error path is {type(err.path).__name__}"
        elif (err.line is None) != (err.column is None):
            problem = "line without column (or the reverse)"
        elif isinstance(doc, Mapping):
            if err.line is not None:
                problem = "line/column given for object input"
        elif err.line is not None:
            text = doc if isinstance(doc, str) else bytes(doc).decode("utf-8", "replace")  # type: ignore[arg-type]
            if not (isinstance(err.line, int) and isinstance(err.column, int)):
                problem = "line/column are not integers"
            elif not (1 <= err.line <= text.count("\n") + 1 and err.column >= 1):
                problem = f"line/column {err.line}:{err.column} outside the text"
        if problem:
            self.fail("malformed error object", problem, _call(doc, ptype))

    def expect_rejected(self, result: object, doc: object, ptype: PolicyType, why: str,
                        kind: type[PolicyError] | None = None) -> None:
        if isinstance(result, Policy):
            self.fail("accepted a document that must be rejected", why, _call(doc, ptype))
        elif kind is not None and result is not None and not isinstance(result, kind):
            self.fail(f"expected {kind.__name__}", f"{why}; got {type(result).__name__}", _call(doc, ptype))

    def check(self, doc: object, ptype: PolicyType) -> Policy | PolicyError | None:
        """Parse, and evaluate when accepted."""
        result = self.parse(doc, ptype)
        if isinstance(result, Policy):
            self.evaluate(doc, ptype)
        return result

    # ---- evaluation ----

    def evaluate(self, doc: object, ptype: PolicyType) -> None:
        rng = self.rng
        if isinstance(doc, bytes | bytearray):
            doc = bytes(doc).decode("utf-8")
        if isinstance(doc, str):
            text = doc
            try:
                decoded = json.loads(doc)
            except (ValueError, RecursionError) as err:
                self.fail("accepted a text that is not JSON", type(err).__name__, _call(doc, ptype))
                return
        else:
            text = ""
            decoded = doc
        all_strings = list(strings_in(decoded))
        has_allow = "Allow" in text or any("Allow" in s for s in all_strings)
        has_deny = "Deny" in text or any("Deny" in s for s in all_strings)
        for companions in (False, True):
            if companions and ptype is PolicyType.IDENTITY:
                continue
            principal_name = rng.choice(PRINCIPALS_FOR[ptype])
            request = self._request(decoded, ptype, principal_name, rng)
            policies: dict[str, object] = {}
            slot = SLOT[ptype]
            if ptype in (PolicyType.SCP, PolicyType.RCP):
                policies[slot] = [[doc]]
            elif ptype is PolicyType.IDENTITY:
                policies[slot] = [doc]
            else:
                policies[slot] = doc
            if companions:
                policies["identity"] = [ALLOW_ALL_IDENTITY]
            request["policies"] = policies
            self._decide(request, ptype, principal_name, has_allow, has_deny, companions)

    def _request(self, decoded: object, ptype: PolicyType, principal_name: str,
                 rng: random.Random) -> dict[str, object]:
        if ptype is PolicyType.TRUST:
            action = rng.choice(["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:TagSession"])
            resource = "arn:aws:iam::111122223333:role/R"
        else:
            actions = [a for a in (instantiate_wildcards(x, rng) for x in
                                   _element_strings(decoded, ("Action", "NotAction")))
                       if _SCENARIO_ACTION.match(a)]
            action = rng.choice(actions) if actions and rng.random() < 0.8 else rng.choice(DEFAULT_ACTIONS)
            if ptype is PolicyType.RCP and rng.random() < 0.5:
                action = "s3:GetObject"
            resources = [r for r in (instantiate_wildcards(x, rng) for x in
                                     _element_strings(decoded, ("Resource", "NotResource"))) if r]
            use_doc = resources and rng.random() < 0.8
            resource = rng.choice(resources) if use_doc else rng.choice(DEFAULT_RESOURCES)
        context: dict[str, object] = {}
        for key, values in _condition_keys(decoded):
            if not key or rng.random() < 0.3:
                continue
            pool = [instantiate_wildcards(v, rng) for v in values] + CONTEXT_POOL
            if rng.random() < 0.2:
                context[key] = [rng.choice(pool) for _ in range(rng.randrange(4))]
            else:
                context[key] = rng.choice(pool)
        request: dict[str, object] = {
            "principal": PRINCIPALS[principal_name], "action": action, "resource": resource,
            "context": context,
        }
        if rng.random() < 0.2:
            request["resourceOwnerAccount"] = rng.choice(["111122223333", "444455556666"])
        if rng.random() < 0.2:
            request["principalOrgId"] = "o-abcdefghij"
        return request

    def _decide(self, request: dict[str, object], ptype: PolicyType, principal_name: str,
                has_allow: bool, has_deny: bool, companions: bool) -> None:
        def call() -> str:
            return f"Scenario.from_json({_short(request, 700)}).decide()"

        try:
            _arm(HANG_SECONDS)
            try:
                scenario = Scenario.from_json(request)
            finally:
                _arm(0)
        except _Hang:
            self.fail("hang", "Scenario.from_json", call())
            return
        except PolicyError as err:
            # parse_policy accepted the document, and the request itself is well formed
            self.fail("Scenario.from_json rejected an accepted document", type(err).__name__,
                      f"{call()}\n    -> {err}")
            return
        except Exception as err:
            self.fail(f"Scenario.from_json raised {type(err).__name__}", _where(err),
                      f"{call()}\n    -> {str(err)[:160]}")
            return
        try:
            _arm(HANG_SECONDS)
            try:
                decision = scenario.decide()
            finally:
                _arm(0)
        except _Hang:
            self.fail("hang", "Scenario.decide", call())
            return
        except PolicyError as err:
            self.decisions[f"PolicyError:{type(err).__name__}"] += 1
            return
        except Exception as err:
            self.fail(f"decide raised {type(err).__name__}", _where(err),
                      f"{call()}\n    -> {str(err)[:160]}")
            return
        problem = self._decision_problem(decision)
        if problem:
            self.fail("malformed decision", problem, call())
            return
        outcome = decision.outcome.value
        self.decisions[outcome] += 1
        if not has_allow and not companions and principal_name != "root":
            self.safety_checks += 1
        if outcome == "allowed" and not has_allow and not companions and principal_name != "root":
            self.fail("allowed without any Allow in the document", f"{ptype.value}, decidedBy "
                      f"{decision.decided_by}", call())
        if outcome == "explicitDeny" and not has_deny:
            self.fail("explicitDeny without any Deny in the document", ptype.value, call())

    @staticmethod
    def _decision_problem(decision: object) -> str:
        if not isinstance(decision, Decision):
            return f"decide() returned {type(decision).__name__}"
        if not isinstance(decision.outcome, EvalDecision) or decision.outcome.value not in OUTCOMES:
            return f"outcome {decision.outcome!r}"
        if decision.allowed != (decision.outcome is EvalDecision.ALLOWED):
            return "allowed disagrees with outcome"
        if decision.decided_by not in DECIDERS:
            return f"decidedBy {decision.decided_by!r}"
        if not isinstance(decision.message, str) or not decision.message:
            return "no message"
        try:
            as_json = json.loads(json.dumps(decision.to_json()))
        except Exception as exc:
            return f"to_json() not serializable: {type(exc).__name__}: {exc}"
        if as_json.get("decision") != decision.outcome.value:
            return "to_json()['decision'] disagrees with outcome"
        effects = {m.get("effect") for m in as_json.get("matchedStatements", [])}
        if decision.outcome is EvalDecision.EXPLICIT_DENY and "Deny" not in effects:
            return "explicitDeny without a matched Deny statement"
        return ""

    # ---- object vs text agreement ----

    def agree(self, obj: dict[str, Any], ptype: PolicyType, as_object: object, text: str,
              as_text: object) -> None:
        """The object and text forms of one document are accepted or rejected alike, except where the
        rules legitimately differ: size (whitespace counts for some types) and IAM's character set
        (checked on text; see test_iam_charset_applies_to_object_input)."""
        if as_object is None or as_text is None:
            return  # already a violation
        if isinstance(as_object, PolicySizeExceeded) or isinstance(as_text, PolicySizeExceeded):
            return
        if ptype in _IAM_CHARSET_TYPES and not _IAM_CHARSET.match(text):
            return
        if isinstance(as_object, Policy) != isinstance(as_text, Policy):
            verdict = "object accepted, text rejected" if isinstance(as_object, Policy) else \
                "text accepted, object rejected"
            err = as_text if isinstance(as_object, Policy) else as_object
            self.fail("object and text forms disagree", f"{verdict} ({ptype.value}): "
                      f"{getattr(err, 'message', '')[:80]}", f"{ptype.name}: {_short(obj)}")


# --------------------------------------------------------------------------------------------------
# Random generators (plain random.Random: fast enough for the volume)
# --------------------------------------------------------------------------------------------------

JSON_SOUP = '{}[]:,"\\ \n\t\r' + string.ascii_letters + string.digits + "eE.-+*?$/"
UNICODE_SOUP = "é€𝄞\u0000\u001f\u007f\u00a0\u2028\ufeff\ud800\udfff\uffff"
TOKENS = [
    "{", "}", "[", "]", ":", ",", " ", "\n", '"Version"', '"2012-10-17"', '"2008-10-17"', '"Statement"',
    '"Effect"', '"Allow"', '"Deny"', '"Action"', '"NotAction"', '"s3:GetObject"', '"lambda:*"', '"*"',
    '"Resource"', '"NotResource"', '"arn:aws:s3:::b/*"', '"Principal"', '{"AWS":"*"}', '"Condition"',
    '"StringLike"', '"aws:SourceIp"', '"10.0.0.0/8"', '"Sid"', "null", "true", "false", "0", "-0.5e3",
    "1e999", '"\\ud800"', '"\\u0041llow"', '"${aws:username}"', "NaN", "Infinity", '"', "\\", "'",
]
INSERTS = [
    *TOKENS, "9" * 5000, "[" * 100, "{" * 70, '"' + "a" * 3000 + '"', ',"Effect":"Allow"', ',"Effect":"Deny"',
    ',"Condition":{"NumericEquals":{"k":' + "1" * 4400 + "}}", ',"Sid":"\\udfff"', "\\u0000", "\u2028",
]


def random_json_value(rng: random.Random, depth: int = 0) -> object:
    """A random JSON value over policy-like keys and values (the cheap twin of the hypothesis strategy)."""
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        return rng.choice(SCALARS)
    if roll < 0.7:
        return [random_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): random_json_value(rng, depth + 1) for _ in range(rng.randrange(5))}


_WITH_PRINCIPAL = {PolicyType.RESOURCE, PolicyType.TRUST, PolicyType.RCP, PolicyType.ENDPOINT}


def random_policy_like(rng: random.Random, ptype: PolicyType | None = None) -> dict[str, object]:
    """A document of roughly the right shape for `ptype` with some fields wrong (many are accepted)."""
    wild = 0.2 if ptype is None else 0.04

    def field(right: list[object]) -> object:
        return rng.choice(right) if rng.random() > wild else random_json_value(rng, 2)

    def statement() -> dict[str, object]:
        stmt: dict[str, object] = {}
        for name, choices, p in STATEMENT_FIELDS:
            if ptype is not None:
                if name == "Principal":
                    p = 0.97 if ptype in _WITH_PRINCIPAL else 0.03
                elif name in ("Resource", "NotResource") and ptype is PolicyType.TRUST:
                    p = 0.03
                elif name == "Effect":
                    p = 0.99
            if rng.random() < p:
                stmt[name] = field(choices)
        if ptype is PolicyType.TRUST and isinstance(stmt.get("Action"), str) and rng.random() < 0.7:
            stmt["Action"] = "sts:AssumeRole"
        if rng.random() < 0.03:
            stmt[rng.choice(KEYS)] = random_json_value(rng, 2)
        return stmt

    doc: dict[str, object] = {}
    if rng.random() < 0.85:
        versions: list[object] = ["2012-10-17"] if ptype is PolicyType.RCP else ["2012-10-17", "2008-10-17"]
        doc["Version"] = field(versions)
    if rng.random() < 0.1:
        doc["Id"] = field(["default", "x"])
    n = rng.randrange(4)
    doc["Statement"] = statement() if n == 0 else [statement() for _ in range(n)]
    if rng.random() < 0.03:
        doc[rng.choice(KEYS)] = random_json_value(rng, 1)
    return doc


POLICY_STRINGS = [
    "Allow", "Deny", "allow", "*", "s3:GetObject", "lambda:Invoke*", "iam:*", "sts:AssumeRole", "s3",
    "arn:aws:s3:::bucket/*", "arn:aws:lambda:us-east-1:111122223333:function:f", "arn:aws:*:*:*:*",
    "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:root", "111122223333",
    "sns.amazonaws.com", "2012-10-17", "2008-10-17", "${aws:username}", "${*}", "${aws:x, 'd'}", "${",
    "10.0.0.0/8", "::/0", "2020-01-01T00:00:00Z", "1", "true", "QmluYXJ5", "o-abcdefghij", "", " ", "Sid1",
    "arn:", "arn:aws", "a:b:c", "\u0000", "é", "€", "*?*?*",
]
OPERATORS = [
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringLike", "StringNotLike",
    "ArnLike", "ArnEquals", "ArnNotLike", "IpAddress", "NotIpAddress", "NumericLessThan", "NumericEquals",
    "DateGreaterThan", "DateEquals", "Bool", "Null", "BinaryEquals", "ForAnyValue:StringLike",
    "ForAllValues:StringEquals", "StringNotEqualsIfExists", "BoolIfExists", "ForAnyValue:Null",
    "NullIfExists", "Foo", "IfExists", "ForSomeValues:StringLike", "stringequals",
]
CONDITION_KEYS = [
    "aws:SourceIp", "aws:username", "aws:PrincipalTag/team", "aws:TagKeys", "lambda:FunctionArn",
    "s3:prefix", "aws:CurrentTime", "aws:SecureTransport", "aws:SourceArn", "aws:PrincipalOrgID",
    "AWS:SourceAccount", "x", "",
]
STRUCTURE_KEYS = [
    "Version", "Id", "Statement", "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
    "Resource", "NotResource", "Condition", "AWS", "Service", "Federated", "CanonicalUser", "effect",
]
KEYS = STRUCTURE_KEYS + OPERATORS + CONDITION_KEYS
SCALARS: list[object] = [None, True, False, 0, -1, 1.5, 10 ** 20, -10 ** 30, 1e+300, 2 ** 63, *POLICY_STRINGS]

_ACTIONS: list[object] = ["*", "s3:GetObject", "lambda:*", "lambda:Invoke?unction",
                          ["s3:Get*", "iam:PassRole"], "sts:AssumeRole", "s3", "S3:getobject", []]
_RESOURCES: list[object] = ["*", "arn:aws:s3:::bucket/*", ["arn:aws:lambda:*:111122223333:function:f*", "*"],
                            "arn:aws:iam::111122223333:role/R", "arn:aws:s3:::${aws:username}/*", "bucket",
                            []]
_PRINCIPALS: list[object] = ["*", {"AWS": "*"}, {"AWS": "111122223333"}, {"Service": "sns.amazonaws.com"},
                             {"AWS": ["arn:aws:iam::111122223333:user/alice", "444455556666"]},
                             {"Federated": "cognito-identity.amazonaws.com"},
                             {"AWS": "arn:aws:iam::1:user/*"}]
_CONDITIONS: list[object] = [
    {"StringLike": {"aws:PrincipalTag/team": ["a*", "${aws:username}"]}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "Bool": {"aws:SecureTransport": True}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}, "Null": {"aws:TokenIssueTime": "true"}},
    {"NumericLessThan": {"s3:max-keys": 10}}, {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}},
    {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"}}, {}, {"StringEqualsIfExists": {"x": []}},
]
STATEMENT_FIELDS: list[tuple[str, list[object], float]] = [
    ("Sid", ["", "A1", "a-b", "Sid 1", "S"], 0.3),
    ("Effect", ["Allow", "Deny", "Allow", "Deny", "allow"], 0.95),
    ("Principal", _PRINCIPALS, 0.4),
    ("NotPrincipal", _PRINCIPALS, 0.03),
    ("Action", _ACTIONS, 0.93),
    ("NotAction", _ACTIONS, 0.07),
    ("Resource", _RESOURCES, 0.9),
    ("NotResource", _RESOURCES, 0.07),
    ("Condition", _CONDITIONS, 0.4),
]


def random_text(rng: random.Random, ptype: PolicyType) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return "".join(rng.choice(JSON_SOUP) for _ in range(rng.randrange(80)))
    if kind == 1:
        soup = JSON_SOUP + UNICODE_SOUP
        return "".join(rng.choice(soup) for _ in range(rng.randrange(80)))
    if kind == 2:
        return "".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 60)))
    return render(random_json_value(rng) if rng.random() < 0.2 else random_policy_like(rng, ptype), rng)


def mutate_text(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        n = len(text)
        op = rng.randrange(7)
        i = rng.randrange(n + 1)
        if op == 0 and n:  # flip one character
            i = min(i, n - 1)
            text = text[:i] + rng.choice(JSON_SOUP + UNICODE_SOUP) + text[i + 1 :]
        elif op == 1:  # insert a character
            text = text[:i] + rng.choice(JSON_SOUP + UNICODE_SOUP) + text[i:]
        elif op == 2:  # insert a token
            text = text[:i] + rng.choice(INSERTS) + text[i:]
        elif op == 3:  # delete a range
            j = min(n, i + rng.randint(1, 12))
            text = text[:i] + text[j:]
        elif op == 4:  # truncate
            text = text[:i]
        elif op == 5 and n:  # copy a slice elsewhere
            j = min(n, i + rng.randint(1, 40))
            k = rng.randrange(n + 1)
            text = text[:k] + text[i:j] + text[k:]
        else:  # swap the case of a range
            j = min(n, i + rng.randint(1, 10))
            text = text[:i] + text[i:j].swapcase() + text[j:]
    return text


WEIRD_VALUES: list[object] = [
    None, 0, -1, 1.5, 10**30, True, [], {}, "", "x" * 1000, ["*"], {"AWS": "*"}, "Allow", "Deny", "*",
    "arn:aws:s3:::*", "${aws:username}", [[["a"]]], "\u0000", "é€", {"StringLike": {"k": "v"}},
    ["Allow"], {"Effect": "Allow"}, 1e308,
]


def _nodes(obj: object) -> list[tuple[object, object]]:
    """(container, key) of every value in the tree (dict keys or list indexes)."""
    out: list[tuple[object, object]] = []
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                out.append((node, k))
                stack.append(v)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out.append((node, i))
                stack.append(v)
    return out


def mutate_object(obj: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    for _ in range(rng.randint(1, 3)):
        nodes = _nodes(obj)
        if not nodes:
            break
        container, key = rng.choice(nodes)
        value = container[key]  # type: ignore[index]
        op = rng.randrange(8)
        if op == 0:
            container[key] = copy.deepcopy(rng.choice(WEIRD_VALUES))  # type: ignore[index]
        elif op == 1 and isinstance(container, dict):
            del container[key]
        elif op == 2 and isinstance(container, dict):
            container[rng.choice(KEYS)] = random_json_value(rng, 2)
        elif op == 3:
            container[key] = [value]  # type: ignore[index]
        elif op == 4 and isinstance(value, list) and value:
            container[key] = value[0]  # type: ignore[index]
        elif op == 5 and isinstance(container, dict) and isinstance(key, str):
            container[key.swapcase() if rng.random() < 0.5 else key.lower()] = container.pop(key)
        elif op == 6 and isinstance(value, str):
            container[key] = mutate_text(value, rng)  # type: ignore[index]
        elif op == 7 and isinstance(container, list):
            container.append(copy.deepcopy(value))
        else:
            container[key] = random_json_value(rng, 2)  # type: ignore[index]
    return obj


def strip_allow(obj: object, rng: random.Random) -> Any:
    """A copy of `obj` with every "Allow" string replaced (mostly by "Deny"): documents on which the
    no-Allow safety property applies, yet close to valid."""
    if isinstance(obj, dict):
        return {strip_allow(k, rng): strip_allow(v, rng) for k, v in obj.items()}
    if isinstance(obj, list):
        return [strip_allow(v, rng) for v in obj]
    if isinstance(obj, str) and "Allow" in obj:
        return obj.replace("Allow", rng.choice(["Deny", "Deny", "Deny", "allow", "ALLOW", "Alow"]))
    return obj


def invalid_utf8(rng: random.Random, base: bytes) -> bytes:
    bad = rng.choice([b"\xff", b"\xfe", b"\xc0\xaf", b"\x80", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                      b"\xe2\x82", b"\xf4\x90\x80\x80"])
    i = rng.randrange(len(base) + 1)
    return base[:i] + bad + base[i:]


def _json_object_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _has_duplicate_keys(text: str) -> bool:
    """Whether some JSON object in `text` repeats a key (the engine rejects that; json.loads keeps the
    last value, so the object form of such a text is a different document)."""
    seen_dup = False

    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        nonlocal seen_dup
        keys = [k for k, _ in pairs]
        seen_dup = seen_dup or len(keys) != len(set(keys))
        return dict(pairs)

    try:
        json.loads(text, object_pairs_hook=hook)
    except (ValueError, RecursionError):
        return False
    return seen_dup


def finish(h: Harness, category: str, budget: int, *, min_accepted: int = 0, min_decisions: int = 0,
           min_safety_checks: int = 0) -> None:
    slowest_time, slowest_call = h.slowest
    print(f"\n[{category}] inputs={_COUNTS[category]} outcomes={dict(h.outcomes)} "
          f"decisions={dict(h.decisions)} no-Allow checks={h.safety_checks} "
          f"slowest={slowest_time * 1000:.1f} ms")
    h.report()
    assert _COUNTS[category] >= budget, (_COUNTS[category], budget)
    assert slowest_time < SLOW_SECONDS, f"slowest input took {slowest_time:.2f} s: {slowest_call}"
    assert h.outcomes["accepted"] >= min_accepted, dict(h.outcomes)
    assert sum(h.decisions.values()) >= min_decisions, dict(h.decisions)
    assert h.safety_checks >= min_safety_checks, h.safety_checks


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------


def test_seed_corpus_is_valid() -> None:
    """The mutation seeds parse as text, bytes and object, and evaluate (sanity of the corpus)."""
    h = Harness("seeds", BASE_SEED)
    rng = random.Random(BASE_SEED)
    with _alarm_handler():
        for ptype, doc in SEED_LIST:
            text = render(doc, rng)
            for form in (doc, text, text.encode()):
                result = h.check(form, ptype)
                assert isinstance(result, Policy), (ptype, result)
    h.report()
    assert h.decisions["allowed"] and h.decisions["implicitDeny"], dict(h.decisions)


def test_fuzz_random_text() -> None:
    budget = BUDGET["text"]
    h = Harness("text", BASE_SEED + 1)
    rng = h.rng
    with _alarm_handler():
        while _COUNTS["text"] < budget:
            ptype = rng.choice(TYPES)
            text = random_text(rng, ptype)
            result = h.check(text, ptype)
            obj = _json_object_or_none(text)
            if not isinstance(obj, dict):
                h.expect_rejected(result, text, ptype, "not a JSON object", MalformedPolicyDocument)
            elif result is not None and len(text) < 5000 and not _has_duplicate_keys(text):
                h.agree(obj, ptype, h.parse(obj, ptype), text, result)
    finish(h, "text", budget, min_accepted=200, min_decisions=200, min_safety_checks=50)


def test_fuzz_random_bytes() -> None:
    budget = BUDGET["bytes"]
    h = Harness("bytes", BASE_SEED + 2)
    rng = h.rng
    with _alarm_handler():
        while _COUNTS["bytes"] < budget:
            ptype = rng.choice(TYPES)
            roll = rng.random()
            if roll < 0.4:
                noise = rng.randbytes(rng.randrange(200))
                data = invalid_utf8(rng, noise)
            elif roll < 0.8:
                seed_type, seed = rng.choice(SEED_LIST)
                data = invalid_utf8(rng, render(seed, rng).encode())
            else:
                # valid UTF-8: the bytes form must be judged exactly as the text form
                seed_type, seed = rng.choice(SEED_LIST)
                text = render(seed, rng) if rng.random() < 0.5 else mutate_text(render(seed, rng), rng)
                data = text.encode("utf-8", "surrogatepass")
                as_bytes = h.check(data, seed_type)
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    h.expect_rejected(as_bytes, data, seed_type, "invalid UTF-8 (encoded surrogate)",
                                      MalformedPolicyDocument)
                    continue
                as_text = h.parse(text, seed_type)
                if as_bytes is not None and as_text is not None and \
                        isinstance(as_bytes, Policy) != isinstance(as_text, Policy):
                    h.fail("bytes and text forms disagree", seed_type.value, _short(data))
                continue
            result = h.check(data, ptype)
            h.expect_rejected(result, data, ptype, "invalid UTF-8", MalformedPolicyDocument)
    finish(h, "bytes", budget, min_accepted=500, min_decisions=500)


def test_fuzz_mutations_of_valid_policies() -> None:
    budget = BUDGET["mutation"]
    h = Harness("mutation", BASE_SEED + 3)
    rng = h.rng
    with _alarm_handler():
        while _COUNTS["mutation"] < budget:
            ptype, seed = rng.choice(SEED_LIST)
            if rng.random() < 0.2:
                seed = strip_allow(seed, rng)
            roll = rng.random()
            if roll < 0.45:
                text = render(seed, rng)
                mutated = mutate_text(text, rng)
                result = h.check(mutated, ptype)
                obj = _json_object_or_none(mutated)
                if not isinstance(obj, dict):
                    h.expect_rejected(result, mutated, ptype, "mutated text is not a JSON object",
                                      MalformedPolicyDocument)
            elif roll < 0.55:
                # a strict truncation of a JSON object is never a JSON object
                text = render(seed, rng)
                cut = rng.randrange(len(text))
                truncated = text[:cut]
                result = h.check(truncated, ptype)
                if text[cut:].strip():
                    h.expect_rejected(result, truncated, ptype, "truncated document", MalformedPolicyDocument)
            else:
                obj = mutate_object(seed, rng)
                as_object = h.check(obj, ptype)
                if rng.random() < 0.5:
                    try:
                        text = render(obj, rng)
                    except (ValueError, RecursionError):
                        continue
                    h.agree(obj, ptype, as_object, text, h.check(text, ptype))
            if rng.random() < 0.15:  # the same kind of input, judged as another type of policy
                h.check(render(mutate_object(seed, rng), rng), rng.choice(TYPES))
    finish(h, "mutation", budget, min_accepted=1500, min_decisions=1500, min_safety_checks=100)


# ---- structurally random JSON (hypothesis) ----

_HUGE_STRING = "A" * 300_000
st_keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=6))
st_strings = st.one_of(st.sampled_from(POLICY_STRINGS), st.text(max_size=12),
                       st.sampled_from(["\ud800", "x\udfffy", "Allow\u0000"]))
st_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st_strings,
    st.integers(0, 199).map(lambda n: 10**5000 if n == 0 else _HUGE_STRING if n == 1 else n),
)
st_json = st.recursive(
    st_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st_keys, children, max_size=4)),
    max_leaves=24,
)


def _field(choices: list[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.sampled_from(choices), st.sampled_from(choices), st_json)


st_conditions = st.one_of(
    st.sampled_from(_CONDITIONS),
    st.dictionaries(st.sampled_from(OPERATORS),
                    st.dictionaries(st.sampled_from(CONDITION_KEYS),
                                    st.one_of(st_strings, st.lists(st_strings, max_size=3), st_json),
                                    max_size=3),
                    max_size=3),
)
# Wild statements: every field optional, any field any JSON.
st_wild_statement = st.fixed_dictionaries(
    {},
    optional={
        "Sid": _field(STATEMENT_FIELDS[0][1]), "Effect": _field(STATEMENT_FIELDS[1][1]),
        "Principal": _field(_PRINCIPALS), "NotPrincipal": _field(_PRINCIPALS),
        "Action": _field(_ACTIONS), "NotAction": _field(_ACTIONS),
        "Resource": _field(_RESOURCES), "NotResource": _field(_RESOURCES),
        "Condition": st.one_of(st_conditions, st_json),
        "Junk": st_json,
    },
)
# Near-valid statements, one flavour per grammar (identity-side, resource-side, trust): the required
# fields are there and mostly of the right type, so these reach the per-type rules, the condition
# compiler and the evaluator.
_good_optional = {"Sid": st.sampled_from(["A1", "S", "Sid1"]), "Condition": st_conditions}
st_good_statement = st.one_of(
    st.fixed_dictionaries(
        {"Effect": st.sampled_from(["Allow", "Deny"]), "Action": st.sampled_from(_ACTIONS),
         "Resource": st.sampled_from(_RESOURCES)}, optional=_good_optional),
    st.fixed_dictionaries(
        {"Effect": st.sampled_from(["Allow", "Deny"]), "Action": st.sampled_from(_ACTIONS),
         "Resource": st.sampled_from(_RESOURCES), "Principal": st.sampled_from(_PRINCIPALS)},
        optional=_good_optional),
    st.fixed_dictionaries(
        {"Effect": st.sampled_from(["Allow", "Deny"]),
         "Action": st.sampled_from(["sts:AssumeRole", "sts:*", ["sts:AssumeRole", "sts:TagSession"]]),
         "Principal": st.sampled_from(_PRINCIPALS)}, optional=_good_optional),
)
st_policy = st.one_of(
    st.fixed_dictionaries(
        {"Statement": st.one_of(st_good_statement, st.lists(st_good_statement, min_size=1, max_size=2))},
        optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"])},
    ),
    st.fixed_dictionaries(
        {"Statement": st.one_of(st_wild_statement, st.lists(st_wild_statement, max_size=3), st_json)},
        optional={"Version": _field(["2012-10-17", "2008-10-17"]), "Id": _field(["default"]),
                  "Extra": st_json},
    ),
    st.dictionaries(st_keys, st_json, max_size=5),
)
STRUCTURAL_EXAMPLES = math.ceil(BUDGET["structural"] / 14)  # each example: 8 types x (object [+ text])
_STRUCTURAL = Harness("structural", BASE_SEED + 4)


@settings(max_examples=STRUCTURAL_EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st_policy)
def _fuzz_structural(doc: dict[str, Any]) -> None:
    h = _STRUCTURAL
    try:
        text: str | None = json.dumps(doc, ensure_ascii=h.rng.random() < 0.5)
    except (ValueError, RecursionError):
        text = None  # a number too large to print: only the object form exists
    for ptype in TYPES:
        as_object = h.check(doc, ptype)
        if text is not None:
            h.agree(doc, ptype, as_object, text, h.check(text, ptype))


def test_fuzz_structural_json() -> None:
    budget = BUDGET["structural"]
    with _alarm_handler():
        _fuzz_structural()
    finish(_STRUCTURAL, "structural", budget, min_accepted=500, min_decisions=500, min_safety_checks=200)


# ---- deep nesting and long documents ----


def _nested_list(depth: int) -> object:
    node: object = "x"
    for _ in range(depth):
        node = [node]
    return node


def _nested_dict(depth: int) -> object:
    node: object = "x"
    for _ in range(depth):
        node = {"Statement": node}
    return node


def test_fuzz_deep_nesting() -> None:
    h = Harness("deep", BASE_SEED + 5)
    deep = 10_000
    valid = json.dumps(SEEDS[PolicyType.IDENTITY][0])
    condition_at = valid.index('"false"')
    texts = [
        "[" * deep,
        "[" * deep + "]" * deep,
        '{"a":' * deep + "1" + "}" * deep,
        '{"Statement":' + "[" * deep + "]" * deep + "}",
        '{"Statement":' + '{"Effect":' * deep + '"Allow"' + "}" * deep + "}",
        valid[:condition_at] + "[" * deep + '"false"' + "]" * deep + valid[condition_at + 7 :],
        "[" * 100_000 + "]" * 20_000,  # 120,000 characters: under the document length limit
        '{"Statement":[' + '{"x":[' * 5_000 + "]}" * 5_000 + "]}",
    ]
    texts += [valid[:condition_at] + "[" * d + '"false"' + "]" * d + valid[condition_at + 7 :]
              for d in (60, 63, 64, 65)]
    objects = [
        _nested_list(deep),
        _nested_dict(deep),
        {"Version": "2012-10-17", "Statement": _nested_list(deep)},
        {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
                                                "Condition": {"StringEquals": {"k": _nested_list(deep)}}}},
        {"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": _nested_dict(deep)}},
    ] + [{"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*",
                        "Condition": {"StringEquals": {"k": _nested_list(d)}}}} for d in (60, 63, 64, 65)]
    with _alarm_handler():
        for ptype in TYPES:
            for text in texts:
                for form in (text, text.encode()):
                    result = h.check(form, ptype)
                    h.expect_rejected(result, form, ptype, "deeply nested document")
            for obj in objects:
                result = h.check(obj, ptype)
                h.expect_rejected(result, obj, ptype, "deeply nested document", MalformedPolicyDocument)
    finish(h, "deep", len(TYPES) * (2 * len(texts) + len(objects)))


def test_fuzz_long_documents() -> None:
    h = Harness("long", BASE_SEED + 6)
    rng = h.rng
    seed = SEEDS[PolicyType.IDENTITY][0]
    big_statements = {"Version": "2012-10-17", "Statement": [
        {"Sid": f"S{i}", "Effect": "Deny", "Action": f"s3:Get{i}", "Resource": f"arn:aws:s3:::b/{i}/*"}
        for i in range(5_000)]}
    over_limit = [  # longer than any quota and than the 131,072-character document limit
        json.dumps(seed) + " " * 200_000,
        " " * 200_000 + json.dumps(seed),
        json.dumps(big_statements),
        json.dumps(big_statements, indent=2),
        json.dumps({"Version": "2012-10-17", "Statement": {"Sid": "A" * 250_000, "Effect": "Deny",
                                                           "Action": "*", "Resource": "*"}}),
        '{"Statement":"' + "a" * 250_000,  # unterminated
        "[" * 250_000,
    ]
    under_limit_over_quota = [
        json.dumps({"Version": "2012-10-17", "Statement": big_statements["Statement"][:1000]}),  # ~90 KB
    ]
    padded = json.dumps(seed) + " " * 100_000  # whitespace counts toward some quotas only: no expectation
    objects = [
        big_statements,
        {"Version": "2012-10-17", "Statement": {"Sid": "A" * 250_000, "Effect": "Deny", "Action": "*",
                                                "Resource": "*"}},
        {"Version": "2012-10-17",
         "Statement": {"Effect": "Deny", "Action": ["s3:x"] * 50_000, "Resource": "*"}},
    ]
    with _alarm_handler():
        for ptype in TYPES:
            for text in over_limit:
                for form in (text, text.encode()):
                    h.expect_rejected(h.check(form, ptype), form, ptype, "document > 200 KB")
            for text in under_limit_over_quota:
                h.expect_rejected(h.check(text, ptype), text, ptype, "document over the size quota")
            h.check(padded, ptype)
            for obj in objects:
                h.expect_rejected(h.check(obj, ptype), obj, ptype, "document over the size quota",
                                  PolicySizeExceeded)
            noise = rng.randbytes(300_000)
            h.expect_rejected(h.check(noise, ptype), noise, ptype, "300 KB of noise")
    finish(h, "long", len(TYPES) * (2 * len(over_limit) + len(under_limit_over_quota) + len(objects) + 2))


def test_fuzz_total_inputs() -> None:
    """All categories together reached FUZZ_INPUTS parse_policy inputs (when they all ran here)."""
    ran = [name for name in BUDGET if _COUNTS[name]]
    if len(ran) < len(BUDGET):
        pytest.skip(f"only {ran} ran in this session")
    total = sum(_COUNTS.values())
    print(f"\nparse_policy inputs: {total} {dict(_COUNTS)}")
    assert total >= FUZZ_INPUTS * SCALE, dict(_COUNTS)


# --------------------------------------------------------------------------------------------------
# Regressions for defects found by this fuzzer (minimal reproducers)
# --------------------------------------------------------------------------------------------------


def test_huge_integer_in_text_is_malformed() -> None:
    """json.loads raises ValueError (not JSONDecodeError) past 4,300 digits (CPython int limit)."""
    with pytest.raises(MalformedPolicyDocument):
        parse_policy('{"Version": ' + "1" * 5000 + "}", PolicyType.RESOURCE)
    doc = ('{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:x","Resource":"*",'
           '"Condition":{"NumericEquals":{"k":' + "1" * 4400 + "}}}}")
    with pytest.raises(MalformedPolicyDocument):
        parse_policy(doc, PolicyType.RESOURCE)


@pytest.mark.parametrize("ptype", [PolicyType.RESOURCE, PolicyType.SCP, PolicyType.ENDPOINT, PolicyType.RCP])
def test_lone_surrogate_never_crashes(ptype: PolicyType) -> None:
    """A lone surrogate (JSON escape "\\ud800", or in an object) cannot be UTF-8 encoded; the size check
    of resource policies encodes the document. Accepting or rejecting it are both fine; crashing is not."""
    principal = ',"Principal":"*"' if ptype is not PolicyType.SCP else ""
    text = '{"Version":"2012-10-17","Statement":{"Sid":"\\ud800","Effect":"Deny"' + principal + \
        ',"Action":"s3:x","Resource":"*"}}'
    for doc in (text, json.loads(text)):
        with suppress(PolicyError):
            parse_policy(doc, ptype)


def test_iam_charset_applies_to_object_input() -> None:
    """IAM's character set (tab, newline, U+0020-U+00FF) is enforced on text; the same document given
    as an object must not be accepted either."""
    doc = {"Version": "2012-10-17",
           "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/€"}}
    with pytest.raises(MalformedPolicyDocument):
        parse_policy(json.dumps(doc, ensure_ascii=False), PolicyType.IDENTITY)
    with pytest.raises(MalformedPolicyDocument):
        parse_policy(doc, PolicyType.IDENTITY)
