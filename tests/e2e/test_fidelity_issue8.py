"""Issue 8 §5: the fidelity differences an independent, AWS-verified test suite found, each checked through a real
`lambdaperm serve` with real boto3 (docs/fidelity.md, "Issue 8 §5")."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint
from .lambda_helpers import LAMBDA_TRUST, make_role, zip_of

ACCOUNT = "000000000000"
REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'one'\n"})
CODE_2 = zip_of({"app.py": "def handler(event, context):\n    return 'two'\n"})


@pytest.fixture(scope="module")
def lambda_role(server: Endpoint) -> str:
    return make_role(server.client("iam"), "fidelity8-role")


def _function(server: Endpoint, role: str, name: str, **extra: Any) -> dict[str, Any]:
    return dict(
        server.client("lambda").create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}, **extra
        )
    )


# --- Lambda: FunctionArn of $LATEST and of a publishing CreateFunction -------------------------------------------


def test_create_function_with_publish_returns_the_unqualified_arn(server: Endpoint, lambda_role: str) -> None:
    """AWS answers CreateFunction(Publish=True) with the function's unqualified ARN and the published version's
    number (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html)."""
    out = _function(server, lambda_role, "f8-publish", Publish=True)
    assert out["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f8-publish"
    assert out["Version"] == "1"


def test_latest_is_qualified_where_aws_qualifies_it(server: Endpoint, lambda_role: str) -> None:
    """`$LATEST` named explicitly (GetFunction Qualifier=$LATEST) and `$LATEST` listed among versions
    (ListVersionsByFunction, ListFunctions FunctionVersion=ALL) carry the `:$LATEST` suffix; the unqualified
    GetFunction and the default ListFunctions do not
    (https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html)."""
    _function(server, lambda_role, "f8-latest", Publish=True)
    lam = server.client("lambda")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f8-latest"
    assert lam.get_function(FunctionName="f8-latest")["Configuration"]["FunctionArn"] == arn
    assert (
        lam.get_function(FunctionName="f8-latest", Qualifier="$LATEST")["Configuration"]["FunctionArn"]
        == f"{arn}:$LATEST"
    )
    assert (
        lam.get_function_configuration(FunctionName="f8-latest", Qualifier="$LATEST")["FunctionArn"] == f"{arn}:$LATEST"
    )
    assert lam.get_function(FunctionName="f8-latest", Qualifier="1")["Configuration"]["FunctionArn"] == f"{arn}:1"
    versions = {
        v["Version"]: v["FunctionArn"] for v in lam.list_versions_by_function(FunctionName="f8-latest")["Versions"]
    }
    assert versions == {"$LATEST": f"{arn}:$LATEST", "1": f"{arn}:1"}
    everything = [f for f in lam.list_functions(FunctionVersion="ALL")["Functions"] if f["FunctionName"] == "f8-latest"]
    assert {f["Version"]: f["FunctionArn"] for f in everything} == {"$LATEST": f"{arn}:$LATEST", "1": f"{arn}:1"}
    plain = [f for f in lam.list_functions()["Functions"] if f["FunctionName"] == "f8-latest"]
    assert [f["FunctionArn"] for f in plain] == [arn]


def test_publish_version_only_after_a_change(server: Endpoint, lambda_role: str) -> None:
    """PublishVersion makes a new version only when the code or configuration changed since the last published
    one; otherwise it answers with that version
    (https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html)."""
    _function(server, lambda_role, "f8-versions")
    lam = server.client("lambda")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f8-versions"
    first = lam.publish_version(FunctionName="f8-versions")
    assert (first["Version"], first["FunctionArn"]) == ("1", f"{arn}:1")
    assert lam.publish_version(FunctionName="f8-versions")["Version"] == "1"  # nothing changed
    lam.update_function_code(FunctionName="f8-versions", ZipFile=CODE_2)
    second = lam.publish_version(FunctionName="f8-versions")
    assert (second["Version"], second["FunctionArn"]) == ("2", f"{arn}:2")
    assert lam.publish_version(FunctionName="f8-versions")["Version"] == "2"
    lam.update_function_configuration(FunctionName="f8-versions", Timeout=9)
    assert lam.publish_version(FunctionName="f8-versions")["Version"] == "3"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="f8-versions")["Versions"]] == [
        "$LATEST",
        "1",
        "2",
        "3",
    ]


# --- IAM: the Policy shape of CreatePolicy, GetPolicy and ListPolicies -----------------------------------------

DOC = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'


def test_policy_shapes(server: Endpoint) -> None:
    """CreatePolicy echoes `Description` (and the tags given); GetPolicy gives `Description` and omits an empty
    `Tags`; ListPolicies gives neither: "This element is included in the response to the GetPolicy operation. It
    is not included in the response to the ListPolicies operation"
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Policy.html)."""
    iam = server.client("iam")
    created = iam.create_policy(PolicyName="f8-described", PolicyDocument=DOC, Description="what it is for")["Policy"]
    assert created["Description"] == "what it is for" and "Tags" not in created
    plain = iam.create_policy(PolicyName="f8-plain", PolicyDocument=DOC)["Policy"]
    assert "Description" not in plain and "Tags" not in plain
    tagged = iam.create_policy(PolicyName="f8-tagged", PolicyDocument=DOC, Tags=[{"Key": "k", "Value": "v"}])
    assert tagged["Policy"]["Tags"] == [{"Key": "k", "Value": "v"}]
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert got["Description"] == "what it is for" and "Tags" not in got
    assert iam.get_policy(PolicyArn=tagged["Policy"]["Arn"])["Policy"]["Tags"] == [{"Key": "k", "Value": "v"}]
    listed = {p["PolicyName"]: p for p in iam.list_policies(Scope="Local")["Policies"]}
    for name in ("f8-described", "f8-plain", "f8-tagged"):
        assert "Description" not in listed[name] and "Tags" not in listed[name], listed[name]


# --- Authentication: EC2's AuthFailure, and the clock-skew check for root keys ---------------------------------


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"].get("Message", ""), err["ResponseMetadata"]["HTTPStatusCode"]


def test_ec2_wrong_secret_is_auth_failure(server: Endpoint) -> None:
    """EC2 answers a known key signed with the wrong secret as it answers an unknown key: `AuthFailure`, 401,
    "AWS was not able to validate the provided access credentials" in EC2's XML error format
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)."""
    iam = server.client("iam")
    iam.create_user(UserName="f8-ec2-user")
    key = iam.create_access_key(UserName="f8-ec2-user")["AccessKey"]
    bad = server.client("ec2", key=key["AccessKeyId"], secret=key["SecretAccessKey"] + "x")
    with pytest.raises(ClientError) as exc:
        bad.describe_vpcs()
    assert _error(exc) == ("AuthFailure", "AWS was not able to validate the provided access credentials", 401)
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"] + "x")
    with pytest.raises(ClientError) as other:
        sts.get_caller_identity()  # the query services keep SignatureDoesNotMatch/403
    assert _error(other)[0::2] == ("SignatureDoesNotMatch", 403)


@pytest.mark.parametrize(
    ("service", "call", "expected"),
    [
        ("sts", lambda c: c.get_caller_identity(), ("SignatureDoesNotMatch", 403)),
        ("dynamodb", lambda c: c.list_tables(), ("InvalidSignatureException", 400)),
        ("s3", lambda c: c.list_buckets(), ("RequestTimeTooSkewed", 403)),
        ("lambda", lambda c: c.list_functions(), ("InvalidSignatureException", 403)),
    ],
)
def test_root_key_gets_the_clock_skew_check(
    server: Endpoint, service: str, call: Callable[[Any], Any], expected: tuple[str, int], monkeypatch: Any
) -> None:
    """A request signed 20 minutes ago with a 12-digit root key is refused as AWS refuses a skewed request
    signed with any key (SigV4: "the request must reach AWS within 15 minutes of the time stamp",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/signing-elements.html), in the service's protocol;
    signed now, the same key is served."""
    client = server.client(service, key="123456789012")
    call(client)  # positive control: the root key accepts any secret
    late = datetime.now(UTC) - timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: late.replace(tzinfo=None))
    with pytest.raises(ClientError) as exc:
        call(client)
    assert _error(exc)[0::2] == expected


# --- Policy ARNs in the aws-cn and aws-us-gov partitions ---------------------------------------------------------


def _doc(effect: str, action: str, resource: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]}
    )


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_other_partitions_are_valid_arns_that_match_nothing_here(server: Endpoint, partition: str) -> None:
    """`arn:aws-cn:…` and `arn:aws-us-gov:…` are ARNs of AWS's other partitions: IAM accepts them in a policy
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html, "partition"), and they never match a
    resource of the `aws` partition, where every resource here lives: no allow, and no deny either."""
    iam = server.client("iam")
    user = f"f8-{partition}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    managed = iam.create_policy(
        PolicyName=f"f8-{partition}-allow",
        PolicyDocument=_doc("Allow", "s3:*", f"arn:{partition}:s3:::f8-{partition}-b*"),
    )
    iam.attach_user_policy(UserName=user, PolicyArn=managed["Policy"]["Arn"])
    iam.put_user_policy(
        UserName=user,
        PolicyName="iam",
        PolicyDocument=_doc("Allow", "iam:GetUser", f"arn:{partition}:iam::{ACCOUNT}:user/{user}"),
    )
    root_s3 = server.client("s3")
    root_s3.create_bucket(Bucket=f"f8-{partition}-b")
    s3 = server.client("s3", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=f"f8-{partition}-b", Key="k", Body=b"x")
    assert _error(denied)[0::2] == ("AccessDenied", 403)
    with pytest.raises(ClientError) as iam_denied:
        server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_user(UserName=user)
    assert _error(iam_denied)[0::2] == ("AccessDenied", 403)
    # a Deny in the other partition does not reach the aws resource either
    iam.put_user_policy(
        UserName=user,
        PolicyName="aws",
        PolicyDocument=_doc("Allow", "s3:PutObject", f"arn:aws:s3:::f8-{partition}-b/*"),
    )
    iam.put_user_policy(
        UserName=user,
        PolicyName="deny",
        PolicyDocument=_doc("Deny", "s3:PutObject", f"arn:{partition}:s3:::f8-{partition}-b/*"),
    )
    s3.put_object(Bucket=f"f8-{partition}-b", Key="k", Body=b"x")


# --- EC2: DescribeInstances, CreateKeyPair (served) and RunInstances (authorized, then refused) -----------------


def _ec2_user(server: Endpoint, name: str, policy: dict[str, Any] | None) -> Any:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client("ec2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def test_ec2_instances_and_key_pairs_are_authorized(server: Endpoint) -> None:
    """DescribeInstances (resource `*`), CreateKeyPair (on `key-pair/<KeyName>`) and RunInstances are decided
    like every call (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
    denied without a grant, with EC2's UnauthorizedOperation; DescribeInstances and CreateKeyPair are served
    when allowed; RunInstances is authorized, then refused 501 NotImplemented (lambdaperm runs no instances)."""
    nobody = _ec2_user(server, "f8-ec2-nobody", None)
    for call in (
        lambda c: c.describe_instances(),
        lambda c: c.create_key_pair(KeyName="f8-key"),
        lambda c: c.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1),
    ):
        with pytest.raises(ClientError) as denied:
            call(nobody)
        assert _error(denied)[0::2] == ("UnauthorizedOperation", 403)
    key_arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:key-pair/f8-key"
    allowed = _ec2_user(
        server,
        "f8-ec2-allowed",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["ec2:DescribeInstances", "ec2:RunInstances"], "Resource": "*"},
                {"Effect": "Allow", "Action": "ec2:CreateKeyPair", "Resource": key_arn},
            ],
        },
    )
    assert allowed.describe_instances()["Reservations"] == []
    created = allowed.create_key_pair(KeyName="f8-key")
    assert created["KeyName"] == "f8-key" and "BEGIN" in created["KeyMaterial"]
    with pytest.raises(ClientError) as other_name:
        allowed.create_key_pair(KeyName="f8-other-key")  # the grant names one key pair
    assert _error(other_name)[0::2] == ("UnauthorizedOperation", 403)
    with pytest.raises(ClientError) as refused:
        allowed.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)
    assert _error(refused)[0::2] == ("NotImplemented", 501)
    assert allowed.describe_instances()["Reservations"] == []  # nothing ran


# --- IAM: service-linked roles and UpdateGroup --------------------------------------------------------------


def test_service_linked_role_lifecycle(server: Endpoint) -> None:
    """CreateServiceLinkedRole makes `/aws-service-role/<service>/AWSServiceRoleFor<Suffix>[_<custom>]` trusted by
    the service; the name is taken once; DeleteServiceLinkedRole answers a deletion task whose status
    GetServiceLinkedRoleDeletionStatus reports
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateServiceLinkedRole.html)."""
    iam = server.client("iam")
    role = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", Description="asg")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForAutoScaling"
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    assert role["Arn"] == (
        f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    assert role["Description"] == "asg"
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "autoscaling.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert iam.get_role(RoleName="AWSServiceRoleForAutoScaling")["Role"]["Arn"] == role["Arn"]
    with pytest.raises(ClientError) as taken:
        iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    assert _error(taken) == (
        "InvalidInput",
        "Service role name AWSServiceRoleForAutoScaling has been taken in this account, please try a different suffix.",
        400,
    )
    custom = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="blue")["Role"]
    assert custom["RoleName"] == "AWSServiceRoleForAutoScaling_blue"
    with pytest.raises(ClientError) as bad_service:
        iam.create_service_linked_role(AWSServiceName="notaservice")  # not a service principal
    assert _error(bad_service)[0::2] == ("InvalidInput", 400)
    with pytest.raises(ClientError) as bad_pattern:
        iam.create_service_linked_role(AWSServiceName="not a service")  # outside the member's pattern
    assert _error(bad_pattern)[0::2] == ("ValidationError", 400)
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForAutoScaling_blue")["DeletionTaskId"]
    assert task.startswith("task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling_blue/")
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    with pytest.raises(ClientError) as gone:
        iam.get_role(RoleName="AWSServiceRoleForAutoScaling_blue")
    assert _error(gone)[0] == "NoSuchEntity"
    iam.create_role(RoleName="f8-plain-role", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    with pytest.raises(ClientError) as not_linked:
        iam.delete_service_linked_role(RoleName="f8-plain-role")
    assert _error(not_linked)[0::2] == ("InvalidInput", 400)
    with pytest.raises(ClientError) as unknown_task:
        iam.get_service_linked_role_deletion_status(
            DeletionTaskId="task/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling/00000000-0000-0000-0000-000000000000"
        )
    assert _error(unknown_task)[0::2] == ("NoSuchEntity", 404)


def test_service_linked_roles_are_protected(server: Endpoint) -> None:
    """A service-linked role is modifiable by its service only: DeleteRole, UpdateAssumeRolePolicy, PutRolePolicy,
    AttachRolePolicy... are refused with `UnmodifiableEntity`
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html)."""
    iam = server.client("iam")
    name = iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")["Role"]["RoleName"]
    assert name == "AWSServiceRoleForECS"
    message = f"Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS"
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    for call in (
        lambda: iam.delete_role(RoleName=name),
        lambda: iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(LAMBDA_TRUST)),
        lambda: iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=doc),
        lambda: iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert _error(refused) == ("UnmodifiableEntity", message, 400)
    role = iam.get_role(RoleName=name)["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []


def test_service_linked_role_calls_are_authorized(server: Endpoint) -> None:
    """CreateServiceLinkedRole is decided on the role it creates, with `iam:AWSServiceName`; a user without the
    grant is denied, with it allowed for that service only."""
    iam = server.client("iam")
    iam.create_user(UserName="f8-slr-user")
    key = iam.create_access_key(UserName="f8-slr-user")["AccessKey"]
    iam.put_user_policy(
        UserName="f8-slr-user",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:CreateServiceLinkedRole",
                        "Resource": "*",
                        "Condition": {"StringEquals": {"iam:AWSServiceName": "rds.amazonaws.com"}},
                    }
                ],
            }
        ),
    )
    user = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    with pytest.raises(ClientError) as denied:
        user.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")
    assert _error(denied)[0::2] == ("AccessDenied", 403)
    assert user.create_service_linked_role(AWSServiceName="rds.amazonaws.com")["Role"]["RoleName"] == (
        "AWSServiceRoleForRDS"
    )
    with pytest.raises(ClientError) as delete_denied:
        user.delete_service_linked_role(RoleName="AWSServiceRoleForRDS")
    assert _error(delete_denied)[0::2] == ("AccessDenied", 403)
    ct = server.client("cloudtrail")
    events = [
        json.loads(e["CloudTrailEvent"])
        for e in ct.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateServiceLinkedRole"}]
        )["Events"]
    ]
    outcomes = {(e["userIdentity"].get("userName"), e.get("errorCode")) for e in events}
    assert {("f8-slr-user", "AccessDenied"), ("f8-slr-user", None)} <= outcomes  # both calls are in the trail


def test_update_group(server: Endpoint) -> None:
    """UpdateGroup renames a group and/or moves it to a new path; members and policies stay with it; a taken name
    is EntityAlreadyExists, a missing group NoSuchEntity
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateGroup.html)."""
    iam = server.client("iam")
    iam.create_group(GroupName="f8-group")
    iam.create_group(GroupName="f8-taken")
    iam.create_user(UserName="f8-member")
    iam.add_user_to_group(GroupName="f8-group", UserName="f8-member")
    iam.put_group_policy(GroupName="f8-group", PolicyName="p", PolicyDocument=DOC)
    with pytest.raises(ClientError) as taken:
        iam.update_group(GroupName="f8-group", NewGroupName="f8-taken")
    assert _error(taken) == ("EntityAlreadyExists", "Group with name f8-taken already exists.", 409)
    with pytest.raises(ClientError) as missing:
        iam.update_group(GroupName="f8-nope", NewGroupName="f8-x")
    assert _error(missing) == ("NoSuchEntity", "The group with name f8-nope cannot be found.", 404)
    iam.update_group(GroupName="f8-group", NewGroupName="f8-renamed", NewPath="/team/")
    group = iam.get_group(GroupName="f8-renamed")
    assert group["Group"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:group/team/f8-renamed"
    assert group["Group"]["Path"] == "/team/"
    assert [u["UserName"] for u in group["Users"]] == ["f8-member"]
    assert iam.list_group_policies(GroupName="f8-renamed")["PolicyNames"] == ["p"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="f8-member")["Groups"]] == ["f8-renamed"]
    with pytest.raises(ClientError) as old:
        iam.get_group(GroupName="f8-group")
    assert _error(old)[0] == "NoSuchEntity"
    iam.update_group(GroupName="f8-renamed", NewPath="/")  # the path alone
    assert iam.get_group(GroupName="f8-renamed")["Group"]["Path"] == "/"


def test_update_group_keeps_the_members_policies(server: Endpoint) -> None:
    """After the rename the member is still granted by the group's policy (membership follows the group)."""
    iam = server.client("iam")
    iam.create_group(GroupName="f8-g2")
    iam.create_user(UserName="f8-m2")
    key = iam.create_access_key(UserName="f8-m2")["AccessKey"]
    iam.add_user_to_group(GroupName="f8-g2", UserName="f8-m2")
    iam.put_group_policy(
        GroupName="f8-g2",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListGroups", "Resource": "*"}]}
        ),
    )
    user = server.client("iam", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    user.list_groups()
    iam.update_group(GroupName="f8-g2", NewGroupName="f8-g2-renamed")
    user.list_groups()
    iam.delete_group_policy(GroupName="f8-g2-renamed", PolicyName="p")
    with pytest.raises(ClientError) as denied:
        user.list_groups()
    assert _error(denied)[0::2] == ("AccessDenied", 403)


# --- SNS: a denial is 403 AuthorizationError naming SNS:<Action> ---------------------------------------------------


def test_an_sns_denial_is_authorization_error_naming_the_action_as_sns_writes_it(server: Endpoint) -> None:
    """SNS answers a request IAM denies with 403 `AuthorizationError`, and writes the action with its prefix in
    capitals: "User: … is not authorized to perform: SNS:Publish on resource: …"
    (https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html, spec §12.5)."""
    from tests.security.iam_users import user_keys

    topic = server.client("sns").create_topic(Name="f8-denied-topic")["TopicArn"]
    keys = user_keys(server, ACCOUNT, "f8-sns-nobody")
    with pytest.raises(ClientError) as exc:
        server.client("sns", **keys).publish(TopicArn=topic, Message="hi")
    error = exc.value.response["Error"]
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "AuthorizationError", error
    assert "is not authorized to perform: SNS:Publish on resource: " + topic in error["Message"], error
