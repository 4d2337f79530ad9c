"""Attack class: races (time of check vs time of use), review round 7.

Round 6 held every DynamoDB table, log group and SNS topic a call names, in every form, from its authorization to
its execution. This round does the same for the rest of the served surface, table-driven: for every served operation
of every service, each member naming a resource whose name can be reused after a deletion must be held from the
decision to the execution (`bucket_names`, `object_holds`, `table_holds`, `log_group_holds`, `iam_holds`), pinned
(Lambda incarnations), or made impossible by the name-reuse rule (SQS's 60 s; ids drawn at random). Each gap found
is played here deterministically in a real server (`race_gate_round5`: the gates of rounds 1–5 — a call stops
between its authorization and its execution while the owner deletes the resource and creates it again under the
same name), never with timing.

Found: IAM users, groups, roles and managed policies were held only from AssumeRole's decision to the session's
issue; every other IAM call decided on an entity (its path, tags, permissions boundary) acted on the entity created
since under its name. Lambda's tagging calls name their function by `Resource`, which the incarnation pin did not
read; and an alias deleted and created again (its policy gone with it) was invoked under the old alias's policy.

AWS: a deleted resource's policies and tags go with it, and a resource created again under the name is another
resource (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids): a
call decided on the old one acts on it, finds nothing, or is denied on the new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import policy as _policy
from tests.security.iam_users import user_keys
from tests.security.race_support import Held, release_after, through_gate
from tests.security.test_races_round5 import gated as _gated_server

REGION = "us-east-1"
gated = _gated_server  # the gated server of round 5 (its gates include every earlier round's)

_DEV = {"StringEquals": {"aws:ResourceTag/env": "dev"}}


def _keys(server: Endpoint, account: str, user: str, *statements: dict[str, Any]) -> dict[str, str]:
    return user_keys(server, account, user, *statements)


def _until_deleted(delete: Callable[[], Any], empty: Callable[[], None]) -> None:
    """`empty` the entity, then `delete` it; when a held call added to it in between (DeleteConflict: IAM deletes
    only an empty entity), empty it again (bounded)."""
    for _ in range(5):
        empty()
        try:
            delete()
            return
        except ClientError as err:
            if err.response["Error"]["Code"] != "DeleteConflict":
                raise
    raise AssertionError("the entity could not be emptied")


# --- IAM: an entity deleted and created again under its name ---------------------------------------------------


@pytest.mark.parametrize("spelled", ["race7-role", "RACE7-ROLE"])
def test_put_role_policy_does_not_write_into_a_role_recreated_without_its_boundary(
    gated: tuple[Endpoint, Path], spelled: str
) -> None:
    """Attack: user `delegate` may iam:PutRolePolicy only on roles bounded by the boundary policy `bound` (the
    delegation pattern, condition iam:PermissionsBoundary). Her PutRolePolicy of an administrator policy into
    `race7-role` (bounded) is decided on its boundary; before it executes, the owner deletes the role and creates it
    again without a boundary — spelled `race7-role` or `RACE7-ROLE` (IAM names are case-insensitive: her call names
    the one as well as the other). Without a hold
    on the role's name, the administrator policy landed in the unbounded role.

    AWS: iam:PermissionsBoundary on an action on an existing role is the boundary set on it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PermissionsBoundary);
    a deleted role's policies and boundary go with it (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html);
    names are unique whatever their case (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
    server, gate = gated
    account = "555500000701" if spelled == "race7-role" else "555500000702"
    owner = server.client("iam", key=account)
    boundary = owner.create_policy(
        PolicyName="bound", PolicyDocument=_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    )["Policy"]["Arn"]
    condition = {"StringEquals": {"iam:PermissionsBoundary": boundary}}
    statement = {"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": "*", "Condition": condition}
    keys = _keys(server, account, "delegate", statement)
    trust = _policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    owner.create_role(RoleName="race7-role", AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary)
    admin = _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    held_iam = through_gate(server.client("iam", **keys), f"put-role-policy-{account}")
    held = Held(
        gate,
        f"put-role-policy-{account}",
        lambda: held_iam.put_role_policy(RoleName="race7-role", PolicyName="planted", PolicyDocument=admin),
    ).start()

    def recreate() -> None:
        def empty() -> None:
            for name in owner.list_role_policies(RoleName=spelled)["PolicyNames"]:
                owner.delete_role_policy(RoleName=spelled, PolicyName=name)

        _until_deleted(lambda: owner.delete_role(RoleName=spelled), empty)
        owner.create_role(RoleName=spelled, AssumeRolePolicyDocument=trust)

    outcome = release_after(held, recreate)
    assert "PermissionsBoundary" not in owner.get_role(RoleName="race7-role")["Role"]  # re-created, unbounded
    planted = owner.list_role_policies(RoleName="race7-role")["PolicyNames"]
    assert planted == [], f"the administrator policy landed in the unbounded role re-created since ({outcome})"
    assert outcome in (("ok", outcome[1]), ("error", "NoSuchEntity"), ("error", "AccessDenied")), outcome


def test_create_policy_version_does_not_write_into_a_policy_recreated_after_it_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: user `editor` may iam:CreatePolicyVersion on the managed policies tagged env=dev. Her
    CreatePolicyVersion (SetAsDefault, an administrator document) of `race7-policy` is decided on its dev tags;
    before it executes, the owner deletes the policy and creates `race7-policy` again tagged env=prod — the same
    ARN. Without a hold on the policy, the prod policy's default version became her document.

    AWS: aws:ResourceTag of a customer managed policy is its tags
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html#access_iam-tags_control-resources); a
    deleted policy's versions and tags go with it (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeletePolicy.html)."""
    server, gate = gated
    account = "555500000703"
    owner = server.client("iam", key=account)
    statement = {"Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "*", "Condition": _DEV}
    keys = _keys(server, account, "editor", statement)
    benign = _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    arn = owner.create_policy(PolicyName="race7-policy", PolicyDocument=benign, Tags=[{"Key": "env", "Value": "dev"}])[
        "Policy"
    ]["Arn"]
    admin = _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    held_iam = through_gate(server.client("iam", **keys), "policy-version")
    held = Held(
        gate,
        "policy-version",
        lambda: held_iam.create_policy_version(PolicyArn=arn, PolicyDocument=admin, SetAsDefault=True),
    ).start()

    def recreate() -> None:
        def empty() -> None:
            for version in owner.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    owner.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])

        _until_deleted(lambda: owner.delete_policy(PolicyArn=arn), empty)
        tags = [{"Key": "env", "Value": "prod"}]
        assert owner.create_policy(PolicyName="race7-policy", PolicyDocument=benign, Tags=tags)["Policy"]["Arn"] == arn

    outcome = release_after(held, recreate)
    policy = owner.get_policy(PolicyArn=arn)["Policy"]
    assert {"Key": "env", "Value": "prod"} in policy.get("Tags", []), policy  # re-created
    document = owner.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert policy["DefaultVersionId"] == "v1" and "s3:GetObject" in json.dumps(document["Document"]), (
        f"the prod policy re-created since got her administrator version ({outcome})"
    )


def test_create_access_key_of_the_caller_is_not_issued_for_a_user_recreated_since(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: user `alice` may create access keys for herself only (`user/${aws:username}`); CreateAccessKey
    without UserName acts on the caller. Her CreateAccessKey is decided on her own user; before it executes, the
    administrator deletes alice (her keys, her policy) and creates another `alice` (a new person's identity).
    Without a hold on the calling user's name, the held call created a key of the NEW alice and answered it to the
    old alice's request — credentials of an identity nobody allowed her.

    AWS: "If you do not specify a user name, IAM determines the user name implicitly based on the AWS access key
    ID signing the request" (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html); a user
    created again is another user (another UserId,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids)."""
    server, gate = gated
    account = "555500000704"
    admin = server.client("iam", key=account)
    mine = f"arn:aws:iam::{account}:user/${{aws:username}}"
    keys = _keys(server, account, "alice", {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": mine})
    first = admin.get_user(UserName="alice")["User"]["UserId"]
    held_iam = through_gate(server.client("iam", **keys), "own-key")
    held = Held(gate, "own-key", lambda: held_iam.create_access_key()["AccessKey"]).start()

    def recreate() -> None:
        def empty() -> None:
            for key in admin.list_access_keys(UserName="alice")["AccessKeyMetadata"]:
                admin.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
            for name in admin.list_user_policies(UserName="alice")["PolicyNames"]:
                admin.delete_user_policy(UserName="alice", PolicyName=name)

        _until_deleted(lambda: admin.delete_user(UserName="alice"), empty)
        admin.create_user(UserName="alice")

    outcome = release_after(held, recreate)
    assert admin.get_user(UserName="alice")["User"]["UserId"] != first  # another alice
    issued = admin.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    assert issued == [], f"the old alice's request got a key of the new alice ({outcome})"


# --- Lambda: tagging by `Resource`; an alias deleted and created again ------------------------------------------


def _function(lam: Any, role: str, name: str, text: str, **extra: Any) -> None:
    code = zip_of({"app.py": f"def handler(event, context):\n    return {text!r}\n"})
    lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": code}, **extra
    )


def test_lambda_tag_resource_does_not_tag_a_function_recreated_after_it_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: user `tagger` may lambda:TagResource the functions tagged env=dev; TagResource names its function
    by `Resource` (not `FunctionName`, the member round 4's incarnation pin reads). Her TagResource of `race7-fn`
    is decided on its dev tags; before it executes, the owner deletes the function and creates `race7-fn` again
    tagged env=prod. Without a pin, the prod function got her tag (which other policies read as aws:ResourceTag).

    AWS: aws:ResourceTag is the tag of the function the request acts on
    (https://docs.aws.amazon.com/lambda/latest/dg/attribute-based-access-control.html); a deleted function's tags go
    with it (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html)."""
    server, gate = gated
    account = "555500000705"
    lam = server.client("lambda", key=account)
    role = make_role(server.client("iam", key=account), "race7-fn-role")
    keys = _keys(
        server,
        account,
        "tagger",
        {"Effect": "Allow", "Action": "lambda:TagResource", "Resource": "*", "Condition": _DEV},
    )
    _function(lam, role, "race7-fn", "dev", Tags={"env": "dev"})
    arn = f"arn:aws:lambda:{REGION}:{account}:function:race7-fn"
    held_lam = through_gate(server.client("lambda", **keys), "lambda-tag")
    held = Held(gate, "lambda-tag", lambda: held_lam.tag_resource(Resource=arn, Tags={"planted": "yes"})).start()

    def recreate() -> None:
        lam.delete_function(FunctionName="race7-fn")
        _function(lam, role, "race7-fn", "prod", Tags={"env": "prod"})

    outcome = release_after(held, recreate)
    tags = lam.list_tags(Resource=arn)["Tags"]
    assert tags.get("env") == "prod"  # re-created
    assert "planted" not in tags, f"the prod function re-created since got her tag ({outcome})"
    assert outcome in (("ok", outcome[1]), ("error", "ResourceNotFoundException")), outcome


def test_invoke_of_an_alias_does_not_run_the_alias_recreated_after_its_policy_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: B's function `race7-aliased` has version 1 (public code) and version 2 (secret code); alias `live`
    points at version 1 and its own resource policy lets account A invoke it (AddPermission, Qualifier=live). A's
    Invoke of `race7-aliased:live` is decided on that alias policy; before it runs, B deletes the alias (its policy
    goes with it) and creates `live` again pointing at version 2, allowing nobody. The function's incarnation is
    unchanged, so round 4's pin did not see it: the held invoke ran version 2 for A.

    AWS: each alias has its own resource-based policy
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html#versioning-permissions-alias), deleted
    with it (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteAlias.html): the invoke runs the version the
    decided alias designated, or finds no such alias (ResourceNotFoundException)."""
    server, gate = gated
    a, b = "555500000706", "555500000707"
    lam_b = server.client("lambda", key=b)
    role = make_role(server.client("iam", key=b), "race7-alias-role")
    _function(lam_b, role, "race7-aliased", "public v1")
    assert lam_b.publish_version(FunctionName="race7-aliased")["Version"] == "1"
    code = zip_of({"app.py": "def handler(event, context):\n    return 'secret v2'\n"})
    lam_b.update_function_code(FunctionName="race7-aliased", ZipFile=code)
    assert lam_b.get_function_configuration(FunctionName="race7-aliased").get("LastUpdateStatus", "Successful") == (
        "Successful"
    )  # lambdaperm updates at once: publishing now publishes the new code
    assert lam_b.publish_version(FunctionName="race7-aliased")["Version"] == "2"
    lam_b.create_alias(FunctionName="race7-aliased", Name="live", FunctionVersion="1")
    lam_b.add_permission(
        FunctionName="race7-aliased",
        Qualifier="live",
        StatementId="a",
        Action="lambda:InvokeFunction",
        Principal=f"arn:aws:iam::{a}:root",
    )
    arn = f"arn:aws:lambda:{REGION}:{b}:function:race7-aliased"
    invoker = through_gate(server.client("lambda", key=a), "alias-invoke")
    held = Held(
        gate,
        "alias-invoke",
        lambda: json.loads(invoker.invoke(FunctionName=arn, Qualifier="live")["Payload"].read()),
    ).start()

    def recreate() -> None:
        lam_b.delete_alias(FunctionName="race7-aliased", Name="live")
        lam_b.create_alias(FunctionName="race7-aliased", Name="live", FunctionVersion="2")

    outcome = release_after(held, recreate)
    assert lam_b.get_alias(FunctionName="race7-aliased", Name="live")["FunctionVersion"] == "2"  # re-created
    assert outcome != ("ok", "secret v2"), "A ran the version of the alias re-created since, which allows nobody"
    assert outcome in (("ok", "public v1"), ("error", "ResourceNotFoundException")), outcome


# --- table-driven: every served operation naming a reusable name is held, pinned or ruled -------------------------


def _resources(service: str, operation: str, params: dict[str, Any], account: str) -> list[str]:
    """The resources `operation` is decided on (raises UnresolvedResource when it is refused, unmapped)."""
    from lambdaperm.catalog import UnresolvedResource, required_actions

    try:
        needed = required_actions(service, operation, params, account=account, region=REGION)
    except UnresolvedResource as err:  # IAM acts on the caller when UserName is left out
        if not err.implicit:
            raise
        assert set(err.implicit.values()) <= {"caller", "access-key-owner"}, (operation, err.implicit)
        needed = required_actions(
            service, operation, {**params, **dict.fromkeys(err.implicit, "me")}, account=account, region=REGION
        )
    return [r for n in needed for r in n.resources if r != "*"]


def test_every_iam_and_sts_operation_holds_every_entity_it_is_decided_on() -> None:
    """Every served IAM and STS operation, with every member that names a user, group, role or policy filled in:
    each IAM entity its decision reads is held (`iam_holds`), in any case (names are case-insensitive)."""
    from lambdaperm.catalog import UnresolvedResource, services
    from lambdaperm.gateway import iam_holds
    from lambdaperm.services import iam, sts

    account = "111122223333"
    values = {
        "UserName": "Ann",
        "NewUserName": "Bob",
        "GroupName": "Grp",
        "RoleName": "Rol",
        "PolicyName": "Pol",
        "PolicyArn": f"arn:aws:iam::{account}:policy/p/Pol",
        "PolicySourceArn": f"arn:aws:iam::{account}:user/Ann",
        "CallerArn": f"arn:aws:iam::{account}:user/Cal",
        "RoleArn": f"arn:aws:iam::{account}:role/x/Rol",
    }
    checked = 0
    for service, operations in (("iam", iam.OPERATIONS), ("sts", sts.OPERATIONS)):
        for operation in sorted(operations):
            members = services.input_members(service, operation)
            for left_out in [None, "UserName"] if "UserName" in members else [None]:
                params = {m: v for m, v in values.items() if m in members and m != left_out}
                held = iam_holds.entities(operation, params, caller="me")
                try:
                    resources = _resources(service, operation, params, account)
                except UnresolvedResource:
                    continue  # refused before any decision (the call names no resource the action takes)
                iam_holds.HeldEntities(frozenset(held)).check(resources)  # 501 if one is not held
                named = {e for r in resources if (e := iam_holds.entity_of_arn(r))}
                assert named <= held, (operation, params, named - held)
                checked += 1
    assert checked > 70
    assert iam_holds.entities("DeleteRole", {"RoleName": "ADMIN"}) == {"role:admin"}  # names are case-insensitive


def test_every_sns_s3_lambda_ec2_and_sqs_naming_form_is_held_pinned_or_ruled() -> None:
    """SNS: every operation decided on a topic holds it, by `TopicArn`, `ResourceArn`, `SubscriptionArn` (the
    topic's ARN and an id) or CreateTopic's `Name`. S3: every operation naming a bucket holds its name. Lambda:
    every served operation that takes `FunctionName` or `Resource` pins the member that names its function. EC2:
    no served operation acts on a security group by `GroupName` (ids are drawn at random): a name-only call is not
    authorized on a name (refused, UnresolvedResource). SQS: a name deleted is not created again for 60 s."""
    from lambdaperm.catalog import UnresolvedResource, services
    from lambdaperm.catalog.coverage import mapped_operations
    from lambdaperm.dataplane import sqs_deletions
    from lambdaperm.gateway import bucket_names
    from lambdaperm.protocol.errors import ServiceError
    from lambdaperm.services.lambda_ import OPERATIONS as LAMBDA
    from lambdaperm.services.lambda_.incarnation import function_member

    account = "111122223333"
    topic = f"arn:aws:sns:{REGION}:{account}:race7-topic"
    sns = {"TopicArn": topic, "ResourceArn": topic, "SubscriptionArn": f"{topic}:0b6c3f9e-1d2a-4c5b-9e8f-7a6b5c4d3e2f"}
    mapped = [(s, o) for s, o, _ in mapped_operations()]
    for service, operation in mapped:
        members = services.input_members(service, operation)
        if service == "sns":
            for member in set(sns) & members:
                params = {member: sns[member]}
                try:
                    resources = _resources("sns", operation, params, account)
                except UnresolvedResource:
                    continue
                if topic in resources:
                    assert bucket_names._held_name("sns", operation, params) == "sns:race7-topic", (operation, member)
        if service == "s3" and "Bucket" in members:
            assert bucket_names._held_name("s3", operation, {"Bucket": "b7"}) == "b7", operation
        if service == "ec2" and "GroupName" in members and operation != "CreateSecurityGroup":
            try:
                resources = _resources("ec2", operation, {"GroupName": "web"}, account)
            except UnresolvedResource:
                continue
            assert not any("security-group/" in r for r in resources), (operation, resources)
    assert bucket_names._held_name("sns", "CreateTopic", {"Name": "race7-topic"}) == "sns:race7-topic"
    for operation in LAMBDA:
        members = services.input_members("lambda", operation)
        if operation != "CreateFunction" and members & {"FunctionName", "Resource"}:
            assert function_member(operation) in members, operation
    url = f"https://sqs.{REGION}.amazonaws.com/{account}/race7-queue"
    with sqs_deletions.lifecycle("sqs", "DeleteQueue", {"QueueUrl": url}, account, REGION):
        pass
    with (
        pytest.raises(ServiceError) as refused,
        sqs_deletions.lifecycle("sqs", "CreateQueue", {"QueueName": "race7-queue"}, account, REGION),
    ):
        pass
    assert refused.value.code == "QueueDeletedRecently"
