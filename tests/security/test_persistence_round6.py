"""Persistence, review round 6: lambdaperm's OWN records keyed by a name or an ARN, attacked against a real
`lambdaperm serve` with real boto3.

Rounds 4 and 5 swept the embedded backend's side tables. This round reads every namespace of lambdaperm's record
store (IAM users/groups/roles/policies/access keys, STS sessions, Lambda functions/mappings/URL ids, S3 notification
targets, bucket names, principal pins) and asks of each: does it go when its resource goes, and can a resource
created again under the name — in the same account or another — inherit it? Also the trail (LookupEvents by
resource name after the name changed hands) and the durable data plane's restart (a bucket name another account
took since).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.services.iam import store as iam_store
from lambdaperm.state import Records
from lambdaperm.state.db import Database
from tests.e2e.conftest import Endpoint


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def _document(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


def _trust(account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _role(server: Endpoint, account: str, name: str) -> Any:
    """A role of `account` that the account's admin user may assume; returns a factory of the role session's
    boto3 clients (a fresh session per call, so a session reads the policies as they are now)."""
    iam = server.client("iam", key=account)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(account))
    iam.create_user(UserName=f"{name}-admin")
    iam.put_user_policy(UserName=f"{name}-admin", PolicyName="assume", PolicyDocument=_document("sts:AssumeRole"))
    key = iam.create_access_key(UserName=f"{name}-admin")["AccessKey"]
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    role_arn = f"arn:aws:iam::{account}:role/{name}"

    def session(service: str) -> Any:
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="r6-session")["Credentials"]
        return server.client(
            service, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"]
        )

    return session


# ---- IAM: a managed policy is attachable in its own account only --------------------------------------------------


def test_another_accounts_managed_policy_cannot_be_attached(server: Endpoint) -> None:
    """Attack: account A attaches account B's customer managed policy `shared` to A's role (or makes it the role's
    permissions boundary). lambdaperm found the policy by the account its ARN names and stored the attachment, so
    B's document decided what A's role may do. B's DeletePolicy counted the attachments of B's own entities only,
    so B deleted `shared` without a DeleteConflict and created `shared` again with another document: A's role,
    still attached by ARN, was granted it (here sqs:CreateQueue), and a boundary widened the same way — an
    attachment outliving its policy, inherited by the namesake.

    AWS: customer managed policies are "standalone policies that you manage in your own AWS account. You can then
    attach the policies to identities (users, groups, and roles) in your AWS account"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_create.html); another account's policy
    ARN is not attachable: NoSuchEntity "Policy <arn> does not exist or is not attachable"
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html#API_AttachRolePolicy_Errors).
    """
    a, b = "777860000001", "777860000002"
    session = _role(server, a, "r6-worker")
    iam_a, iam_b = server.client("iam", key=a), server.client("iam", key=b)
    arn = iam_b.create_policy(PolicyName="r6-shared", PolicyDocument=_document("sqs:ListQueues"))["Policy"]["Arn"]

    with pytest.raises(ClientError) as attach:
        iam_a.attach_role_policy(RoleName="r6-worker", PolicyArn=arn)
    assert code(attach) == "NoSuchEntity"
    assert "does not exist or is not attachable" in attach.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as boundary:
        iam_a.put_role_permissions_boundary(RoleName="r6-worker", PermissionsBoundary=arn)
    with pytest.raises(ClientError) as missing:  # what a policy that does not exist answers: the same
        iam_a.put_role_permissions_boundary(
            RoleName="r6-worker", PermissionsBoundary=f"arn:aws:iam::{a}:policy/r6-nothing"
        )
    assert code(boundary) == code(missing)
    for create in (
        lambda: iam_a.create_user(UserName="r6-bounded", PermissionsBoundary=arn),
        lambda: iam_a.create_role(RoleName="r6-bounded", PermissionsBoundary=arn, AssumeRolePolicyDocument=_trust(a)),
    ):
        with pytest.raises(ClientError) as created:
            create()
        assert code(created) == "NoSuchEntity"
    assert iam_a.list_attached_role_policies(RoleName="r6-worker")["AttachedPolicies"] == []
    assert "PermissionsBoundary" not in iam_a.get_role(RoleName="r6-worker")["Role"]

    # B replaces its policy by a namesake granting more: A's role is granted nothing by it
    iam_b.delete_policy(PolicyArn=arn)
    iam_b.create_policy(PolicyName="r6-shared", PolicyDocument=_document("sqs:CreateQueue"))
    with pytest.raises(ClientError) as denied:
        session("sqs").create_queue(QueueName="r6-granted-by-b")
    assert code(denied) in ("AccessDenied", "AccessDeniedException")
    # control: the same attachment of A's own policy works
    own = iam_a.create_policy(PolicyName="r6-own", PolicyDocument=_document("sqs:CreateQueue"))["Policy"]["Arn"]
    iam_a.attach_role_policy(RoleName="r6-worker", PolicyArn=own)
    assert session("sqs").create_queue(QueueName="r6-own-grant")["QueueUrl"].endswith("/r6-own-grant")


def test_a_cross_account_attachment_written_before_grants_nothing(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Attack (state from before the fix): A's role holds an attachment of B's policy `legacy` and a user of A has
    B's policy as permissions boundary — both written when lambdaperm accepted another account's policy ARN. B's
    document must not decide A's permissions: the attachment grants nothing, the boundary allows nothing (fail
    closed, never "no boundary"). AWS rule and page as in the test above: such an attachment cannot exist.
    """
    a, b = "777860000003", "777860000004"
    state = tmp_path / "state"
    server = make_server(state)
    _role(server, a, "r6-legacy")
    iam_b = server.client("iam", key=b)
    arn = iam_b.create_policy(PolicyName="r6-legacy", PolicyDocument=_document("sqs:*"))["Policy"]["Arn"]
    iam_a = server.client("iam", key=a)
    iam_a.create_user(UserName="r6-bounded")
    iam_a.put_user_policy(UserName="r6-bounded", PolicyName="all", PolicyDocument=_document("sqs:*"))
    user_key = iam_a.create_access_key(UserName="r6-bounded")["AccessKey"]
    own = iam_a.create_policy(PolicyName="r6-own", PolicyDocument=_document("sqs:*"))["Policy"]["Arn"]
    iam_a.put_user_permissions_boundary(UserName="r6-bounded", PermissionsBoundary=own)
    user_sqs = server.client("sqs", key=user_key["AccessKeyId"], secret=user_key["SecretAccessKey"])
    user_sqs.list_queues()  # control: the boundary of A's own policy allows
    server.proc.terminate()
    server.proc.wait(timeout=20)

    records = Records(Database(state))  # the records as an earlier version wrote them
    role = records.get(iam_store.ROLE, a, "r6-legacy")
    user = records.get(iam_store.USER, a, "r6-bounded")
    assert role is not None and user is not None
    records.put(iam_store.ROLE, a, "r6-legacy", {**role, "AttachedPolicies": [arn]})
    records.put(iam_store.USER, a, "r6-bounded", {**user, "PermissionsBoundary": arn})
    records.db.close()

    server = make_server(state)
    iam_b = server.client("iam", key=b)
    iam_b.delete_policy(PolicyArn=arn)  # B may: it counts its own account's attachments
    iam_b.create_policy(PolicyName="r6-legacy", PolicyDocument=_document("sqs:*"))
    role_sqs = _session_of(server, a, "r6-legacy")
    with pytest.raises(ClientError) as role_denied:
        role_sqs.create_queue(QueueName="r6-legacy-role")
    assert code(role_denied) in ("AccessDenied", "AccessDeniedException")
    user_sqs = server.client("sqs", key=user_key["AccessKeyId"], secret=user_key["SecretAccessKey"])
    with pytest.raises(ClientError) as user_denied:
        user_sqs.list_queues()
    assert code(user_denied) in ("AccessDenied", "AccessDeniedException")


def _session_of(server: Endpoint, account: str, role: str) -> Any:
    """An SQS client of a session of `role` (assumed by the admin user `_role` created for it)."""
    iam = server.client("iam", key=account)
    key = iam.create_access_key(UserName=f"{role}-admin")["AccessKey"]
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="r6-session")["Credentials"]
    return server.client("sqs", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])


def test_a_session_policy_of_another_account_is_refused(server: Endpoint) -> None:
    """Attack: A's user assumes A's role passing B's managed policy as a session policy (`PolicyArns`). lambdaperm
    found it in B's account and issued the session (its answer also told A whether B has a policy of that name).

    AWS: "The policies must exist in the same account as the role"
    (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, PolicyArns); the answer is the one
    for a policy that does not exist.
    """
    a, b = "777860000005", "777860000006"
    _role(server, a, "r6-scoped")
    arn = server.client("iam", key=b).create_policy(PolicyName="r6-b-only", PolicyDocument=_document("sqs:*"))
    arn = arn["Policy"]["Arn"]
    iam = server.client("iam", key=a)
    key = iam.create_access_key(UserName="r6-scoped-admin")["AccessKey"]
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
    role_arn = f"arn:aws:iam::{a}:role/r6-scoped"
    with pytest.raises(ClientError) as refused:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="r6-session", PolicyArns=[{"arn": arn}])
    with pytest.raises(ClientError) as missing:
        sts.assume_role(
            RoleArn=role_arn, RoleSessionName="r6-session", PolicyArns=[{"arn": f"arn:aws:iam::{b}:policy/r6-none"}]
        )
    assert (code(refused), refused.value.response["Error"]["Message"].replace(arn, "X")) == (
        code(missing),
        missing.value.response["Error"]["Message"].replace(f"arn:aws:iam::{b}:policy/r6-none", "X"),
    )
    own = iam.create_policy(PolicyName="r6-own-scope", PolicyDocument=_document("sqs:*"))["Policy"]["Arn"]
    assert sts.assume_role(RoleArn=role_arn, RoleSessionName="r6-session", PolicyArns=[{"arn": own}])["Credentials"]


def _resource_events(server: Endpoint, account: str, name: str) -> list[tuple[str, str]]:
    trail = server.client("cloudtrail", key=account)
    found = trail.lookup_events(LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}])
    return [(e["EventName"], e["CloudTrailEvent"]) for e in found["Events"]]


def test_a_bucket_name_taken_by_another_account_stays_its_own_after_a_restart(
    make_server: Callable[..., Endpoint], tmp_path: Path
) -> None:
    """Held (durable data plane, bucket registry, trail): A creates, fills, empties and deletes `r6-taken`; B
    creates `r6-taken` and writes an object; the server restarts (the data plane is replayed from its journal,
    the bucket registry comes from the records). A's CreateBucket is 409 BucketAlreadyExists, A reads nothing of
    B's bucket, B's object is B's bytes; LookupEvents by ResourceName `r6-taken` shows B none of A's events
    (each account sees the records of its own calls), before and after the restart.

    AWS: "after a bucket is deleted, the name becomes available for reuse"
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html); LookupEvents returns the
    events of the caller's account (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
    """
    a, b = "777860000007", "777860000008"
    state = tmp_path / "state"
    server = make_server(state)
    s3_a, s3_b = server.client("s3", key=a), server.client("s3", key=b)
    s3_a.create_bucket(Bucket="r6-taken")
    s3_a.put_object(Bucket="r6-taken", Key="k", Body=b"from a")
    s3_a.delete_object(Bucket="r6-taken", Key="k")
    s3_a.delete_bucket(Bucket="r6-taken")
    s3_b.create_bucket(Bucket="r6-taken")
    s3_b.put_object(Bucket="r6-taken", Key="k", Body=b"from b")
    assert {n for n, _ in _resource_events(server, a, "r6-taken")} == {"CreateBucket", "DeleteBucket"}  # control
    assert all(f'"{a}"' not in event for _, event in _resource_events(server, b, "r6-taken"))
    server.proc.terminate()
    server.proc.wait(timeout=20)

    server = make_server(state)
    s3_a, s3_b = server.client("s3", key=a), server.client("s3", key=b)
    with pytest.raises(ClientError) as taken:
        s3_a.create_bucket(Bucket="r6-taken")
    assert code(taken) == "BucketAlreadyExists"
    with pytest.raises(ClientError) as read:
        s3_a.get_object(Bucket="r6-taken", Key="k")
    assert code(read) == "AccessDenied"
    assert s3_b.get_object(Bucket="r6-taken", Key="k")["Body"].read() == b"from b"
    b_events = _resource_events(server, b, "r6-taken")
    assert [n for n, _ in b_events] == ["CreateBucket"]
    assert all(f'"{a}"' not in event for _, event in b_events)
