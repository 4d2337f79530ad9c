"""Resource-policy grammar: resource-based and VPC endpoint policies take IAM's Resource ARN grammar
(policy/resource_arns.py) when written, and a stored policy from before that holds an ARN the grammar refuses is
read fail closed: whether the ARN names the resource is undecidable, so a Deny with it applies and an Allow with it
does not (docs/fidelity.md, "Resource-policy grammar")."""

from __future__ import annotations

from typing import Any

import pytest

from lambdaperm.policy import (
    EvalDecision,
    MalformedPolicyDocument,
    PolicySet,
    PolicyType,
    decide,
    parse_caller,
    parse_policy,
)
from lambdaperm.policy.request import AuthzRequest

ACCOUNT = "111122223333"
OBJECT = "arn:aws:s3:::b/k"
MALFORMED = [
    "arn:aws:s3::b/k",  # five segments
    "arn:aws:*:::b/k",  # wildcard vendor
    "arn:aws::::b/k",  # no vendor
    "arn:error:s3:::b/k",  # unknown partition
    "arn:aws:s3:us-east-1::b/k",  # region in a global service
    "arn:aws",
]


def _doc(effect: str, resource: Any, *, key: str = "Resource") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"},
                "Action": "s3:GetObject",
                key: resource,
            }
        ],
    }


def _decide(resource_policy: dict[str, Any], *, identity_allows: bool) -> EvalDecision:
    policy = parse_policy(resource_policy, PolicyType.RESOURCE, stored=True)
    identity = (
        (
            parse_policy(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
                PolicyType.IDENTITY,
            ),
        )
        if identity_allows
        else ()
    )
    caller = parse_caller(f"arn:aws:iam::{ACCOUNT}:user/alice")
    assert caller is not None
    request = AuthzRequest.build(caller, "s3:GetObject", OBJECT, {}, resource_account=ACCOUNT)
    return decide(PolicySet(identity=identity, resource=policy), request).outcome


@pytest.mark.parametrize("ptype", [PolicyType.RESOURCE, PolicyType.ENDPOINT])
@pytest.mark.parametrize("arn", MALFORMED)
@pytest.mark.parametrize("key", ["Resource", "NotResource"])
def test_a_malformed_resource_arn_is_refused_when_written(ptype: PolicyType, arn: str, key: str) -> None:
    with pytest.raises(MalformedPolicyDocument) as info:
        parse_policy(_doc("Deny", ["arn:aws:s3:::b", arn], key=key), ptype)
    assert info.value.path.endswith(f"{key}[1]")


@pytest.mark.parametrize("ptype", [PolicyType.RESOURCE, PolicyType.ENDPOINT])
def test_a_well_formed_resource_policy_is_accepted(ptype: PolicyType) -> None:
    parse_policy(_doc("Deny", ["*", "arn:aws:s3:::b/*", "arn:aws:sqs:us-east-1:111122223333:q"]), ptype)


def test_stored_does_not_relax_identity_policies() -> None:
    identity = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": MALFORMED[0]}]}
    with pytest.raises(MalformedPolicyDocument):
        parse_policy(identity, PolicyType.IDENTITY, stored=True)


def test_a_stored_policy_with_a_malformed_arn_still_loads() -> None:
    policy = parse_policy(_doc("Deny", ["arn:aws:s3:::other", *MALFORMED]), PolicyType.RESOURCE, stored=True)
    spec = policy.statements[0].resource
    assert spec is not None and spec.unreadable == tuple(MALFORMED)


@pytest.mark.parametrize("arn", MALFORMED)
@pytest.mark.parametrize("key", ["Resource", "NotResource"])
def test_a_stored_deny_with_an_unreadable_resource_applies(arn: str, key: str) -> None:
    assert _decide(_doc("Deny", arn, key=key), identity_allows=True) is EvalDecision.EXPLICIT_DENY


@pytest.mark.parametrize("arn", MALFORMED)
@pytest.mark.parametrize("key", ["Resource", "NotResource"])
def test_a_stored_allow_with_an_unreadable_resource_does_not_apply(arn: str, key: str) -> None:
    assert _decide(_doc("Allow", arn, key=key), identity_allows=False) is not EvalDecision.ALLOWED


def test_a_readable_pattern_of_the_same_statement_still_decides() -> None:
    # Resource: a readable pattern matching the resource makes the Allow apply and the Deny apply, whatever the
    # unreadable one would match; NotResource: a readable match means the statement does not apply.
    assert _decide(_doc("Allow", [MALFORMED[0], OBJECT]), identity_allows=False) is EvalDecision.ALLOWED
    assert _decide(_doc("Deny", [MALFORMED[0], OBJECT], key="NotResource"), identity_allows=True) is (
        EvalDecision.ALLOWED
    )
    assert _decide(_doc("Deny", [MALFORMED[0], OBJECT]), identity_allows=True) is EvalDecision.EXPLICIT_DENY
