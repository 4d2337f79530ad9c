"""Attack class: region and account confusion (review round 11).

IAM's policy simulator chose the simulated caller by looking for the substring `:group/` anywhere in `CallerArn`
(or in PolicySourceArn when no CallerArn is given) and then simulated the account's root user, which is allowed
everything in its account that no explicit Deny refuses: a resource-type confusion of the kind round 10 closed for
PolicySourceArn (`arn:aws:iam::A:role/x:user/alice`). AWS: "CallerArn: The ARN of the IAM user that you want to
specify as the simulated caller of the API operations. If you do not specify a CallerArn, it defaults to the ARN
of the user that you specify in PolicySourceArn, if you specified a user. [...] You can specify only the ARN of an
IAM user. You cannot specify the ARN of an assumed role, federated user, or a service principal."
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html). Each test plays the call
against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

A = "111111110111"
_DOC = "https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html"


def _decisions(iam: object, source: str, actions: list[str], **extra: str) -> list[str]:
    answer = iam.simulate_principal_policy(  # type: ignore[attr-defined]
        PolicySourceArn=source, ActionNames=actions, ResourceArns=["arn:aws:s3:::r11-bucket/key"], **extra
    )
    return [r["EvalDecision"] for r in answer["EvaluationResults"]]


def test_a_user_under_a_group_like_path_is_simulated_as_that_user(server: Endpoint) -> None:
    """Attack: CallerArn `arn:aws:iam::A:user/x:group/y` — user `y` under the path `/x:group/` (a path may hold
    any printable ASCII character but `/` delimits it, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns)
    — made the simulator simulate the account root, so a user with no policy was answered "allowed" for
    s3:GetObject. The same user as PolicySourceArn, without CallerArn, likewise.
    AWS rule: the simulated caller is the IAM user the ARN names (_DOC); nothing allows alice's or y's
    s3:GetObject: implicitDeny."""
    iam = server.client("iam", key=A)
    iam.create_user(UserName="r11-alice")
    iam.create_user(UserName="r11-y", Path="/x:group/")
    alice, y = f"arn:aws:iam::{A}:user/r11-alice", f"arn:aws:iam::{A}:user/x:group/r11-y"
    assert _decisions(iam, alice, ["s3:GetObject"], CallerArn=y) == ["implicitDeny"]
    assert _decisions(iam, y, ["s3:GetObject"]) == ["implicitDeny"]


@pytest.mark.parametrize("caller", ["root", "group/r11-g", "role/r11-r"])
def test_caller_arn_that_is_not_an_iam_user_is_refused(server: Endpoint, caller: str) -> None:
    """Attack: CallerArn naming the account root (or a group, a role) — the root is allowed everything in its own
    account, so every action was simulated "allowed" for a user whose policies allow nothing.
    AWS rule: "You can specify only the ARN of an IAM user" (_DOC): InvalidInput, nothing simulated."""
    iam = server.client("iam", key=A)
    name = "r11-src-" + caller.replace("/", "-").replace(":", "-")
    iam.create_user(UserName=name)
    source = f"arn:aws:iam::{A}:user/{name}"
    with pytest.raises(ClientError) as err:
        _decisions(iam, source, ["s3:GetObject"], CallerArn=f"arn:aws:iam::{A}:{caller}")
    assert err.value.response["Error"]["Code"] == "InvalidInput"


def test_a_group_is_simulated_with_its_own_policies(server: Endpoint) -> None:
    """Attack: PolicySourceArn of a group, no CallerArn: the simulator's caller defaulted to the account root
    (the group's ARN holds `:group/`), so a group whose policy allows only s3:GetObject was answered "allowed"
    for s3:PutObject and every other action too.
    AWS rule: the simulation evaluates the policies of the group named (_DOC, "The Amazon Resource Name (ARN) of
    a user, group, or role whose policies you want to include in the simulation"): s3:GetObject allowed,
    s3:PutObject implicitDeny; an empty group allows nothing."""
    iam = server.client("iam", key=A)
    iam.create_group(GroupName="r11-readers")
    iam.put_group_policy(
        GroupName="r11-readers",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )
    iam.create_group(GroupName="r11-empty")
    readers, empty = f"arn:aws:iam::{A}:group/r11-readers", f"arn:aws:iam::{A}:group/r11-empty"
    assert _decisions(iam, readers, ["s3:GetObject", "s3:PutObject"]) == ["allowed", "implicitDeny"]
    assert _decisions(iam, empty, ["s3:GetObject"]) == ["implicitDeny"]
