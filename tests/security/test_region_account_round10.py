"""Attack class: region and account confusion (review round 10).

Role ARNs a data-plane call stores in a setting must be passed as the caller may pass them: a CloudWatch Logs
destination (PutDestination) carries `roleArn`, the role Logs assumes to write to the destination's stream, and
"To perform a PutDestination operation, you must also have the iam:PassRole permission"
(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html). Each test plays
the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome; the structural oracle
(acted-on ⊆ authorized) checks every request when the server stops.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

REGION = "us-east-1"
A = "111111110010"  # the role's owner
B = "222222220010"  # another account

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def _role(server: Endpoint, account: str, name: str) -> str:
    iam = server.client("iam", key=account)
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"])


def _put_destination(logs: Any, name: str, role: str) -> Any:
    return logs.put_destination(destinationName=name, targetArn=f"arn:aws:kinesis:{REGION}:{A}:stream/s", roleArn=role)


def _destinations(server: Endpoint, account: str) -> list[str]:
    logs = server.client("logs", key=account)
    return [d["destinationName"] for d in logs.describe_destinations()["destinations"]]


def test_put_destination_needs_pass_role_on_its_role(server: Endpoint) -> None:
    """Attack: a user allowed `logs:*` but denied iam:PassRole on the role creates a Logs destination that names
    the role (the role Logs would assume to write into the destination's stream).
    AWS rule: "To perform a PutDestination operation, you must also have the iam:PassRole permission"
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html): the Deny on
    the role applies (AccessDeniedException) and nothing is created; the same user allowed iam:PassRole on the
    role (with `iam:PassedToService` logs.amazonaws.com) creates it."""
    role = _role(server, A, "r10-destination")
    denied = user_keys(
        server,
        A,
        "r10-no-pass",
        {"Effect": "Allow", "Action": ["logs:*", "iam:PassRole"], "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:PassRole", "Resource": role},
    )
    with pytest.raises(ClientError) as err:
        _put_destination(server.client("logs", **denied), "r10-denied", role)
    assert code(err) == "AccessDeniedException"
    assert "r10-denied" not in _destinations(server, A)
    allowed = user_keys(
        server,
        A,
        "r10-pass",
        {"Effect": "Allow", "Action": "logs:PutDestination", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": role,
            "Condition": {"StringEquals": {"iam:PassedToService": "logs.amazonaws.com"}},
        },
    )
    _put_destination(server.client("logs", **allowed), "r10-allowed", role)
    assert "r10-allowed" in _destinations(server, A)


def test_put_destination_with_another_accounts_role_is_denied(server: Endpoint) -> None:
    """Attack: account B, whose own policy allows everything, creates a Logs destination naming a role of account
    A, so that Logs would write to the stream with A's credentials.
    AWS rule: the caller needs iam:PassRole on the role
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html), and a role of
    another account is a cross-account resource that its owner must grant: a role has no resource-based policy
    for iam:PassRole (its trust policy governs sts:AssumeRole only,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html), so B's call is denied and B
    has no destination."""
    role = _role(server, A, "r10-cross")
    keys = user_keys(server, B, "r10-all", {"Effect": "Allow", "Action": "*", "Resource": "*"})
    with pytest.raises(ClientError) as err:
        _put_destination(server.client("logs", **keys), "r10-cross", role)
    assert code(err) == "AccessDeniedException"
    assert "r10-cross" not in _destinations(server, B)


@pytest.mark.parametrize("resource", ["role/x:user/alice", "group/a:user/alice", "role/p/a:user/alice"])
def test_simulate_principal_policy_simulates_the_entity_its_arn_names(server: Endpoint, resource: str) -> None:
    """Attack: a user allowed iam:SimulatePrincipalPolicy on the account's roles only (`role/*`; or groups only) —
    not on its users — names `arn:aws:iam::A:role/x:user/alice` as PolicySourceArn. The decision reads a role
    (`role/x:user/alice`, matched by `role/*`); the handler looked for the substring `:user/` first and simulated
    user alice, answering which of alice's policies allow what (the matched policy's name and its statement's
    position).
    AWS rule: PolicySourceArn is "The Amazon Resource Name (ARN) of a user, group, or role whose policies you want
    to include in the simulation" (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html)
    and the entity is the one the ARN's resource names (`role/<path>/<name>`,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns): no role of that
    name exists, so the call is refused (NoSuchEntity, or InvalidInput: a role name cannot hold `:`) and nothing
    of alice's is simulated; alice's own ARN stays denied."""
    iam = server.client("iam", key=A)
    kind = resource.split("/")[0]  # the caller may simulate this kind of entity, never users
    tag = resource.replace("/", "-").replace(":", "-")
    alice = f"r10-{tag}"
    iam.create_user(UserName=alice)
    statement = {"Sid": "Secret", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::topsecret/*"}
    iam.put_user_policy(
        UserName=alice,
        PolicyName="secret",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )
    keys = user_keys(
        server,
        A,
        f"r10-caller-{tag}",
        {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": f"arn:aws:iam::{A}:{kind}/*"},
    )
    caller = server.client("iam", **keys)
    with pytest.raises(ClientError) as err:
        caller.simulate_principal_policy(
            PolicySourceArn=f"arn:aws:iam::{A}:{resource.replace('alice', alice)}",
            ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::topsecret/k"],
        )
    assert code(err) in ("NoSuchEntity", "InvalidInput")
    with pytest.raises(ClientError) as err:
        caller.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{A}:user/{alice}", ActionNames=["s3:GetObject"])
    assert code(err) == "AccessDenied"
