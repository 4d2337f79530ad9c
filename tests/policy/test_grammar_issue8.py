"""Issue 8 §5 "Policy grammar": what IAM rejects and accepts at CreatePolicy / PutUserPolicy / CreateRole and
friends, unit by unit (docs/fidelity.md, "Issue 8 §5: policy grammar", names the source of each rule).

Accepting what IAM accepts must never become a wrong allow: an empty value list and a date the engine cannot
read exactly as AWS does are undecidable conditions (an Allow with one does not apply, a Deny with one does).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdaperm.policy import (
    EvalDecision,
    MalformedPolicyDocument,
    PolicyError,
    PolicySet,
    PolicyType,
    check_policy,
    decide,
    parse_caller,
    parse_policy,
)
from lambdaperm.policy.request import AuthzRequest

ACCOUNT = "111122223333"


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        out = {"Version": version, **out}
    return out


def stmt(resource: Any = "arn:aws:s3:::b", action: Any = "s3:ListBucket", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def message(document: dict[str, Any] | str, ptype: str = "identity", **kw: Any) -> str:
    with pytest.raises(MalformedPolicyDocument) as info:
        parse_policy(document, ptype, **kw)
    return info.value.message


# --- Version ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_a_managed_policy_must_be_version_2012(version: str | None) -> None:
    assert message(doc(stmt(), version=version), managed=True) == (
        "Policy document must be version 2012-10-17 or greater."
    )


@pytest.mark.parametrize("version", [None, "2008-10-17"])
def test_inline_and_trust_policies_keep_the_documented_default_version(version: str | None) -> None:
    parse_policy(doc(stmt(), version=version), "identity")
    trust = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    parse_policy(doc(trust, version=version), "trust")


def test_an_unknown_version_is_still_refused() -> None:
    assert "version" in message(doc(stmt(), version="2013-10-17"), managed=True).lower()


# --- not JSON -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["This is not a json document", '{"Version": "2012-10-17",', "[1,", "NaN"])
def test_text_that_is_not_json_gets_iams_message(text: str) -> None:
    assert message(text) == "This policy contains invalid Json"


# --- Resource ARNs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            "arn:error:s3:::example_bucket",
            'Partition "error" is not valid for resource "arn:error:s3:::example_bucket".',
        ),
        (
            "arn:aws:iam:us-east-1::user/x",
            "IAM resource arn:aws:iam:us-east-1::user/x cannot contain region information.",
        ),
        (
            "arn:aws:s3:us-east-1::example_bucket",
            "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.",
        ),
        ("arn:aws", "Resource vendor must be fully qualified and cannot contain regexes."),
        ("arn:aws:s3::example_bucket", "The policy failed legacy parsing"),
        ("arn:aws::::example_bucket", "The policy failed legacy parsing"),
        (
            "arn:aws:iam:::example_bucket",
            'IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, '
            "instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, "
            "report/, access-report/.",
        ),
    ],
)
def test_resource_arns_iam_refuses(resource: str, expected: str) -> None:
    assert message(doc(stmt(resource))) == expected
    # NotResource is held to the same grammar
    notres = {"Effect": "Deny", "Action": "s3:*", "NotResource": resource}
    assert message(doc(notres)) == expected


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:s3:::example_bucket",
        "arn:aws-cn:s3:::example_bucket",
        "arn:aws-us-gov:s3:::example_bucket/*",
        "arn:aws:iam::*:user/${aws:username}",
        "arn:aws:iam::*:root",  # AWS's own managed policies hold it (NotResource); see docs/fidelity.md
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::111122223333:role/a/b",
        "arn:aws:iam::111122223333:*",
        "arn:aws:iam::111122223333:assumed-role/r/s",
        "arn:aws:ec2:us-east-1::image/ami-1",
        "arn:aws:invalid-service:us-east-1::thing",
        "*",
    ],
)
def test_resource_arns_iam_accepts(resource: str) -> None:
    parse_policy(doc(stmt(resource)), "identity")


# --- Action vendors -----------------------------------------------------------------------------------------------


def test_a_vendor_prefix_with_a_dot_is_accepted_and_grants_nothing_real() -> None:
    policy = parse_policy(doc(stmt("*", "s3.s:ListBucket")), "identity")
    assert policy.statements[0].action.patterns == ("s3.s:ListBucket",)


def test_a_vendor_with_a_space_is_not_valid() -> None:
    assert message(doc(stmt(action="a a:ListBucket"))) == "Vendor a a is not valid"


# --- Conditions: empty blocks, empty value lists, lenient dates ---------------------------------------------------


@pytest.mark.parametrize("condition", [{}, {"DateGreaterThan": {}}, {"StringEquals": {}, "Bool": {}}])
def test_empty_condition_blocks_are_accepted_and_impose_nothing(condition: dict[str, Any]) -> None:
    policy = parse_policy(doc(stmt(Condition=condition)), "identity")
    assert policy.statements[0].conditions == ()


def test_an_unknown_operator_is_refused_even_with_an_empty_block() -> None:
    with pytest.raises(PolicyError):
        parse_policy(doc(stmt(Condition={"x": {}})), "identity")


@pytest.mark.parametrize("value", ["2019-01-01T", "2016-12-13t2:00:00.593194+23", "01T", "-292275054"])
def test_lenient_dates_iam_accepts_are_accepted(value: str) -> None:
    parse_policy(doc(stmt(Condition={"DateGreaterThan": {"aws:CurrentTime": value}})), "identity")


@pytest.mark.parametrize(
    "value", ["sdfdsf", "234-13", "2016-12-13t2:00:00.593194+1", "9223372036854775808", "2019-13-01"]
)
def test_dates_iam_refuses_are_refused(value: str) -> None:
    assert message(doc(stmt(Condition={"DateLessThan": {"aws:CurrentTime": value}}))) == (
        "The policy failed legacy parsing"
    )


def test_an_empty_value_list_is_accepted() -> None:
    parse_policy(doc(stmt(Condition={"StringEquals": {"aws:PrincipalTag/team": []}})), "identity")


def _decide(*statements: dict[str, Any], context: dict[str, Any]) -> EvalDecision:
    policy = parse_policy(doc(*statements), "identity")
    caller = parse_caller(f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert caller is not None
    request = AuthzRequest.build(caller, "s3:GetObject", "arn:aws:s3:::b/k", context)
    return decide(PolicySet(identity=(policy,)), request).outcome


ALLOW_ALL = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


@pytest.mark.parametrize("operator", ["StringEquals", "StringNotEquals", "ForAllValues:StringEquals", "Null"])
def test_an_empty_value_list_never_makes_an_allow_apply(operator: str) -> None:
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {operator: {"aws:username": []}}}
    for context in ({"aws:username": "alice"}, {}):
        assert _decide(allow, context=context) is not EvalDecision.ALLOWED


@pytest.mark.parametrize("operator", ["StringEquals", "StringNotEquals", "ForAnyValue:StringEquals"])
def test_an_empty_value_list_never_lets_a_deny_lapse(operator: str) -> None:
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {operator: {"aws:username": []}}}
    for context in ({"aws:username": "alice"}, {}):
        assert _decide(ALLOW_ALL, deny, context=context) is EvalDecision.EXPLICIT_DENY


def test_a_lenient_date_the_engine_cannot_read_exactly_fails_closed() -> None:
    now = {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
    allow = {
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2016-12-13t2:00:00.593194+23"}},
    }
    assert _decide(allow, context=now) is not EvalDecision.ALLOWED
    deny = {
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"DateLessThan": {"aws:CurrentTime": "2019-01-01T"}},
    }
    assert _decide(ALLOW_ALL, deny, context=now) is EvalDecision.EXPLICIT_DENY


def test_a_lenient_date_next_to_a_readable_one_that_matches_decides() -> None:
    now = {"aws:CurrentTime": "2030-01-01T00:00:00Z"}
    allow = {
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"DateGreaterThan": {"aws:CurrentTime": ["2019-01-01T", "2020-01-01T00:00:00Z"]}},
    }
    assert _decide(allow, context=now) is EvalDecision.ALLOWED


# --- every error, not only the first ------------------------------------------------------------------------------


def test_check_policy_reports_every_error() -> None:
    document = doc(
        stmt("arn:error:s3:::a", action="s3GetObject"),
        {"Effect": "Permit", "Action": "s3:GetObject", "Resource": "arn:aws:s3:us-east-1::b"},
        stmt(Condition={"DateGreaterThan": {"aws:CurrentTime": "nope"}}),
    )
    errors = check_policy(json.dumps(document, indent=2), "identity")
    messages = [e.message for e in errors]
    assert 'Partition "error" is not valid for resource "arn:error:s3:::a".' in messages
    assert "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc." in messages
    assert "Invalid effect: Permit" in messages
    assert "Resource arn:aws:s3:us-east-1::b can not contain region information." in messages
    assert "The policy failed legacy parsing" in messages
    assert all(e.line is not None for e in errors), [str(e) for e in errors]
    # parse_policy raises the first of them
    with pytest.raises(PolicyError) as info:
        parse_policy(json.dumps(document), "identity")
    assert info.value.message == messages[0]


def test_check_policy_of_a_valid_document_is_empty() -> None:
    assert check_policy(doc(stmt()), PolicyType.IDENTITY) == []


def test_check_policy_applies_the_quota_it_is_given() -> None:
    big = doc(stmt([f"arn:aws:s3:::bucket-{i:04d}" for i in range(120)]))
    assert check_policy(big, "identity") == []
    errors = check_policy(big, "identity", max_size=2048)
    assert [e.code for e in errors] == ["LimitExceeded"]
