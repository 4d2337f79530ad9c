"""Coverage-guided fuzzing of parse_policy + Scenario.decide with atheris (standalone; not collected by
pytest, whose default file pattern is test_*.py).

    python tests/policy/fuzz_atheris.py -atheris_runs=200000            # a bounded run
    python tests/policy/fuzz_atheris.py --seed-corpus corpus_dir/        # write the valid seeds
    python tests/policy/fuzz_atheris.py corpus_dir/ -max_total_time=600  # keep a corpus

The first input byte picks the policy type and the input form (bytes, text, or the decoded object);
the rest is the document. Any exception other than MalformedPolicyDocument / PolicySizeExceeded from
parse_policy, any non-PolicyError from Scenario.from_json/decide, or a malformed Decision is a crash.
libFuzzer's -timeout flag (default 1200 s; use e.g. -timeout=5) reports hangs.
"""

from __future__ import annotations

import json
import sys

import atheris

with atheris.instrument_imports(include=["lambdaperm"]):
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

TYPES = list(PolicyType)
SLOT = {
    PolicyType.IDENTITY: "identity", PolicyType.RESOURCE: "resource", PolicyType.TRUST: "trust",
    PolicyType.BOUNDARY: "permissionsBoundary", PolicyType.SESSION: "session", PolicyType.SCP: "scps",
    PolicyType.RCP: "rcps", PolicyType.ENDPOINT: "vpcEndpoint",
}
PRINCIPALS = ["arn:aws:iam::111122223333:user/alice", "arn:aws:sts::111122223333:assumed-role/R/s",
              "arn:aws:iam::444455556666:user/bob", "sns.amazonaws.com", "*"]
ALLOW_ALL = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}


def _decide(doc: object, ptype: PolicyType, selector: int, has_allow: bool) -> None:
    slot = SLOT[ptype]
    value: object = [[doc]] if ptype in (PolicyType.SCP, PolicyType.RCP) else [doc] \
        if ptype is PolicyType.IDENTITY else doc
    policies: dict[str, object] = {slot: value}
    companions = bool(selector & 0x40) and ptype is not PolicyType.IDENTITY
    if companions:
        policies["identity"] = [ALLOW_ALL]
    trust = ptype is PolicyType.TRUST
    request = {
        "principal": PRINCIPALS[selector % len(PRINCIPALS)],
        "action": "sts:AssumeRole" if trust else "lambda:InvokeFunction",
        "resource": "arn:aws:iam::111122223333:role/R" if trust else
        "arn:aws:lambda:us-east-1:111122223333:function:f",
        "context": {"aws:SourceIp": "10.1.2.3", "aws:CurrentTime": "2024-01-01T00:00:00Z"},
        "policies": policies,
    }
    try:
        scenario = Scenario.from_json(request)
    except PolicyError as err:
        raise AssertionError(f"Scenario.from_json rejected a document parse_policy accepted: {err}") from err
    try:
        decision = scenario.decide()
    except PolicyError:
        return
    if not isinstance(decision, Decision) or decision.outcome.value not in {e.value for e in EvalDecision}:
        raise AssertionError(f"malformed decision {decision!r}")
    json.dumps(decision.to_json())
    if decision.allowed and not has_allow and not companions:
        raise AssertionError("allowed by a document without any Allow")


def test_one_input(data: bytes) -> None:
    if not data:
        return
    selector, body = data[0], data[1:]
    ptype = TYPES[selector % len(TYPES)]
    form = (selector >> 3) % 3
    doc: object = body
    if form >= 1:
        try:
            doc = body.decode("utf-8")
        except UnicodeDecodeError:
            return
        if form == 2:
            try:
                doc = json.loads(doc)  # the object form
            except (ValueError, RecursionError):
                return
            if not isinstance(doc, dict):
                return
    try:
        policy = parse_policy(doc, ptype)  # type: ignore[arg-type]
    except (MalformedPolicyDocument, PolicySizeExceeded):
        return
    if not isinstance(policy, Policy):
        raise AssertionError(f"parse_policy returned {type(policy).__name__}")
    if isinstance(doc, bytes):
        text = body.decode("utf-8")
    else:
        text = doc if isinstance(doc, str) else json.dumps(doc)
    has_allow = "Allow" in text or "Allow" in json.dumps(json.loads(text), ensure_ascii=False)
    _decide(doc if not isinstance(doc, bytes) else text, ptype, selector, has_allow)


def write_seed_corpus(directory: str) -> None:
    """Seed a corpus directory with the valid documents of test_parser_fuzz, in every form."""
    import os

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from test_parser_fuzz import SEED_LIST  # the same corpus as the pytest fuzz

    os.makedirs(directory, exist_ok=True)
    n = 0
    for ptype, doc in SEED_LIST:
        for form in range(3):
            selector = TYPES.index(ptype) + 8 * form
            with open(os.path.join(directory, f"seed-{n:03d}"), "wb") as out:
                out.write(bytes([selector]) + json.dumps(doc, indent=1).encode())
            n += 1


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--seed-corpus":
        write_seed_corpus(sys.argv[2])
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
