"""Attack class 7, IAM paths: an IAM entity's ARN carries its path (`arn:aws:iam::A:group/privileged/admins`),
and AWS authorizes that ARN whatever name the request uses, so a Deny on `group/privileged/*` applies to every
operation that names the group. An entity that does not exist yet (Create*) is authorized with the path the
request gives. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

PRIVILEGED = "/privileged/"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def guarded_user(server: Endpoint, account: str, name: str = "alice") -> Any:
    """A user allowed every IAM action except on anything under the /privileged/ path."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="guardrail",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "iam:*",
                        "Resource": [
                            f"arn:aws:iam::{account}:group/privileged/*",
                            f"arn:aws:iam::{account}:user/privileged/*",
                            f"arn:aws:iam::{account}:role/privileged/*",
                            f"arn:aws:iam::{account}:policy/privileged/*",
                        ],
                    },
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def assert_denied(call: Any, resource: str, **params: Any) -> None:
    with pytest.raises(ClientError) as denied:
        call(**params)
    code, message = error(denied)
    assert code == "AccessDenied", (code, message)
    assert f"on resource: {resource}" in message, message
    assert "with an explicit deny" in message, message


def test_a_group_is_authorized_with_its_path(server: Endpoint) -> None:
    account = "333300000001"
    admin = server.client("iam", key=account)
    admin.create_group(GroupName="admins", Path=PRIVILEGED)
    alice = guarded_user(server, account)
    group_arn = f"arn:aws:iam::{account}:group/privileged/admins"
    assert_denied(alice.add_user_to_group, group_arn, GroupName="admins", UserName="alice")
    assert_denied(
        alice.put_group_policy,
        group_arn,
        GroupName="admins",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    assert_denied(
        alice.attach_group_policy,
        group_arn,
        GroupName="admins",
        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )
    assert_denied(alice.get_group, group_arn, GroupName="admins")
    assert_denied(alice.delete_group, group_arn, GroupName="admins")
    # nothing happened to the group
    assert admin.get_group(GroupName="admins")["Users"] == []
    assert admin.list_group_policies(GroupName="admins")["PolicyNames"] == []
    assert admin.list_attached_group_policies(GroupName="admins")["AttachedPolicies"] == []
    # an unprivileged group is not caught by the Deny
    admin.create_group(GroupName="staff", Path="/public/")
    alice.add_user_to_group(GroupName="staff", UserName="alice")
    assert [g["GroupName"] for g in admin.list_groups_for_user(UserName="alice")["Groups"]] == ["staff"]


def test_users_and_roles_are_authorized_with_their_paths(server: Endpoint) -> None:
    account = "333300000002"
    admin = server.client("iam", key=account)
    admin.create_user(UserName="root-ops", Path=PRIVILEGED)
    admin.create_role(
        RoleName="breakglass",
        Path=PRIVILEGED,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sts:AssumeRole"}],
            }
        ),
    )
    alice = guarded_user(server, account)
    assert_denied(alice.create_access_key, f"arn:aws:iam::{account}:user/privileged/root-ops", UserName="root-ops")
    assert_denied(
        alice.attach_role_policy,
        f"arn:aws:iam::{account}:role/privileged/breakglass",
        RoleName="breakglass",
        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )
    assert admin.list_access_keys(UserName="root-ops")["AccessKeyMetadata"] == []


def test_an_entity_is_created_with_the_path_the_request_gives(server: Endpoint) -> None:
    account = "333300000003"
    alice = guarded_user(server, account)
    assert_denied(alice.create_group, f"arn:aws:iam::{account}:group/privileged/ops", GroupName="ops", Path=PRIVILEGED)
    assert_denied(
        alice.create_policy,
        f"arn:aws:iam::{account}:policy/privileged/p",
        PolicyName="p",
        Path=PRIVILEGED,
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    admin = server.client("iam", key=account)
    assert admin.list_groups()["Groups"] == []
    # a name taken under /privileged/: the new entity's ARN is the request's (path "/"), which is allowed,
    # so IAM answers that the name exists (authorizing the existing entity's ARN would deny instead)
    admin.create_user(UserName="dave", Path=PRIVILEGED)
    with pytest.raises(ClientError) as exists:
        alice.create_user(UserName="dave")
    assert error(exists)[0] == "EntityAlreadyExists"


def test_a_managed_policy_is_authorized_with_its_path(server: Endpoint) -> None:
    account = "333300000004"
    admin = server.client("iam", key=account)
    arn = admin.create_policy(
        PolicyName="ops",
        Path=PRIVILEGED,
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{account}:policy/privileged/ops"
    alice = guarded_user(server, account)
    assert_denied(
        alice.create_policy_version,
        arn,
        PolicyArn=arn,
        SetAsDefault=True,
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    # the policy named without its path is another (absent) policy, never this one
    with pytest.raises(ClientError) as absent:
        alice.create_policy_version(
            PolicyArn=f"arn:aws:iam::{account}:policy/ops",
            SetAsDefault=True,
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        )
    assert error(absent)[0] == "NoSuchEntity"
    assert [v["VersionId"] for v in admin.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v1"]


def test_moving_a_user_into_a_path_needs_permission_on_the_new_arn(server: Endpoint) -> None:
    """UpdateUser needs permission on the source and the target (API_UpdateUser); the target carries the new
    path (or the user's path when only the name changes)."""
    account = "333300000005"
    admin = server.client("iam", key=account)
    admin.create_user(UserName="bob", Path="/public/")
    admin.create_user(UserName="erin", Path=PRIVILEGED)
    alice = guarded_user(server, account)
    assert_denied(alice.update_user, f"arn:aws:iam::{account}:user/privileged/bob", UserName="bob", NewPath=PRIVILEGED)
    assert_denied(
        alice.update_user,
        f"arn:aws:iam::{account}:user/privileged/erin",
        UserName="erin",
        NewUserName="erin2",
        NewPath="/public/",
    )
    assert admin.get_user(UserName="bob")["User"]["Path"] == "/public/"
    assert admin.get_user(UserName="erin")["User"]["Path"] == PRIVILEGED
    alice.update_user(UserName="bob", NewUserName="bobby")
    assert admin.get_user(UserName="bobby")["User"]["Arn"] == f"arn:aws:iam::{account}:user/public/bobby"


def test_an_arn_with_another_path_does_not_reach_the_entity(server: Endpoint) -> None:
    """A user ARN with a made-up path names the same user for IAM's by-name lookups (SimulatePrincipalPolicy):
    the entity's own ARN is authorized too."""
    account = "333300000006"
    admin = server.client("iam", key=account)
    admin.create_user(UserName="carol", Path=PRIVILEGED)
    alice = guarded_user(server, account)
    assert_denied(
        alice.simulate_principal_policy,
        f"arn:aws:iam::{account}:user/privileged/carol",
        PolicySourceArn=f"arn:aws:iam::{account}:user/public/carol",
        ActionNames=["s3:GetObject"],
    )
    assert_denied(
        alice.simulate_principal_policy,
        f"arn:aws:iam::{account}:user/privileged/carol",
        PolicySourceArn=f"arn:aws:iam::{account}:user/carol",
        ActionNames=["s3:GetObject"],
    )


def test_every_iam_entity_type_we_serve_is_looked_up_with_its_path() -> None:
    """An IAM operation served on an entity type that the path lookup does not know (instance profiles, server
    certificates, …) would be authorized on a path-less ARN: serving one must come with its lookup."""
    from lambdaperm.catalog import reference
    from lambdaperm.gateway.iam_paths import AS_GIVEN_KINDS, LOOKUP_KINDS
    from lambdaperm.services.iam.operations import OPERATIONS

    served = {ref.name for op in OPERATIONS for ref in reference.action(f"iam:{op}").resource_types}  # type: ignore[union-attr]
    assert served <= set(LOOKUP_KINDS) | AS_GIVEN_KINDS, served - set(LOOKUP_KINDS) - AS_GIVEN_KINDS
