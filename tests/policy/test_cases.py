"""The data-driven case corpus: tests/policy/cases/*.json, one runner.

Each case names the AWS documentation page that states its rule. A `request` case is decided with
Scenario and compared with `expect`; a `validate` case parses a document and expects an error or not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdaperm.policy import PolicyError, Scenario, parse_policy

CASES_DIR = Path(__file__).parent / "cases"
MIN_CASES = 300


def _load() -> list[tuple[str, dict[str, object]]]:
    out = []
    for path in sorted(CASES_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            out.append((f"{path.stem}::{case['name']}", case))
    return out


CASES = _load()


def test_corpus_is_large_and_sourced() -> None:
    assert len(CASES) >= MIN_CASES
    names = [name for name, _ in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for name, case in CASES:
        assert str(case.get("source", "")).startswith("https://"), f"{name} has no AWS source"
        assert case.get("rule"), f"{name} does not state its rule"
        assert ("request" in case) != ("validate" in case), f"{name} must be a request or a validate case"


@pytest.mark.parametrize(("name", "case"), CASES, ids=[n for n, _ in CASES])
def test_case(name: str, case: dict[str, object]) -> None:
    expect = case["expect"]
    assert isinstance(expect, dict)
    if "validate" in case:
        spec = case["validate"]
        assert isinstance(spec, dict)
        doc = spec["policy"]
        if expect.get("error"):
            with pytest.raises(PolicyError) as info:
                parse_policy(doc, spec["type"])
            if "messageContains" in expect:
                assert expect["messageContains"] in str(info.value)
        else:
            policy = parse_policy(doc, spec["type"])
            assert policy.statements
        return
    decision = Scenario.from_json(case["request"]).decide()
    assert decision.outcome.value == expect["decision"], decision.message
    if "decidedBy" in expect:
        assert decision.decided_by == expect["decidedBy"], decision.message
    if "missingContextValues" in expect:
        got = {k.lower() for k in decision.missing_context_values}
        assert got == {k.lower() for k in expect["missingContextValues"]}
    if "messageContains" in expect:
        assert expect["messageContains"] in decision.message
    if "messageNotContains" in expect:
        assert expect["messageNotContains"] not in decision.message
    if "unsuppliedKeys" in expect:
        assert list(decision.unsupplied_keys) == expect["unsuppliedKeys"], decision.message
