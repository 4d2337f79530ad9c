"""Persistence, review round 3: state that outlives what it belongs to, or that a restart restores differently,
attacked against a real `lambdaperm serve` (restarted on the same SQLite state where it matters) with real boto3.

Rounds 1 and 2 bound sessions and resource-based policies to unique ids (services/principal_pins.py) and function
invokes to the incarnation they were decided on (services/lambda_/incarnation.py). This round looks at what a
session carries besides its principal's policies (its principal's tags, its managed session policies) and at
what a restart leaves dangling when the embedded data plane comes back empty while lambdaperm's records remain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint, stop_server
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import policy, user_keys
from tests.security.restart_support import delivered, lambda_targets, s3_key_logger

REGION = "us-east-1"


def allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def session_of(creds: dict[str, Any]) -> dict[str, str]:
    return {"key": creds["AccessKeyId"], "secret": creds["SecretAccessKey"], "token": creds["SessionToken"]}


# ---- a session's principal tags are its own principal's --------------------------------------------------------


def test_a_deleted_users_session_does_not_carry_a_namesakes_tags(server: Endpoint) -> None:
    """Attack: `bob` (no tags) takes a GetSessionToken session; bob is deleted and a new `bob` is created with the
    tag team=ops. A queue policy grants sqs:SendMessage to any principal whose `aws:PrincipalTag/team` is ops. The
    old session — bound to the deleted bob's unique id, so it gets none of the new bob's *policies* — was given the
    new bob's *tags* (looked up by name) and sent to the queue.

    AWS: `aws:PrincipalTag/key` compares "the tag attached to the principal making the request"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag);
    the principal is the user the session was issued to, identified by its unique id — a user created later under
    the same name is another principal
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
    """
    account = "777800000001"
    iam = server.client("iam", key=account)
    sqs = server.client("sqs", key=account)
    url = sqs.create_queue(QueueName="ops-inbox")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{account}:ops-inbox"
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sqs:SendMessage",
        "Resource": arn,
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "ops"}},
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(grant)})
    old = user_keys(server, account, "bob")
    session = session_of(server.client("sts", **old).get_session_token()["Credentials"])
    with pytest.raises(ClientError) as before:  # control: bob has no tag, the queue policy does not apply
        server.client("sqs", **session).send_message(QueueUrl=url, MessageBody="before")
    assert code(before) in ("AccessDenied", "AccessDeniedException")
    iam.delete_access_key(UserName="bob", AccessKeyId=old["key"])
    iam.delete_user(UserName="bob")
    iam.create_user(UserName="bob", Tags=[{"Key": "team", "Value": "ops"}])
    new = iam.create_access_key(UserName="bob")["AccessKey"]
    server.client("sqs", key=new["AccessKeyId"], secret=new["SecretAccessKey"]).send_message(
        QueueUrl=url, MessageBody="namesake"
    )  # positive control: the tagged namesake is granted
    with pytest.raises(ClientError) as denied:
        server.client("sqs", **session).send_message(QueueUrl=url, MessageBody="old session")
    assert code(denied) in ("AccessDenied", "AccessDeniedException")


# ---- managed session policies are references, evaluated at each request ----------------------------------------


def _role_with_session_policy(server: Endpoint, account: str) -> tuple[Any, str, dict[str, str]]:
    iam = server.client("iam", key=account)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    make_role(
        iam,
        "operator",
        policy={"Version": "2012-10-17", "Statement": [allow(["iam:ListUsers", "iam:ListRoles"])]},
        trust=trust,
    )
    scope = iam.create_policy(
        PolicyName="session-scope", PolicyDocument=policy(allow(["iam:ListUsers", "iam:ListRoles"]))
    )["Policy"]["Arn"]
    assumer = user_keys(server, account, "assumer", allow("sts:AssumeRole"))
    creds = server.client("sts", **assumer).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/operator", RoleSessionName="scoped", PolicyArns=[{"arn": scope}]
    )["Credentials"]
    session = session_of(creds)
    server.client("iam", **session).list_users()  # positive control: both policies allow it now
    return iam, scope, session


def test_a_managed_session_policy_narrowed_after_assume_role_narrows_the_session(server: Endpoint) -> None:
    """Attack: a role session is issued with the managed policy `session-scope` as its session policy (allowing
    iam:ListUsers and iam:ListRoles). The administrator narrows `session-scope` (a new default version allowing
    only iam:ListRoles). The session kept the document it was issued with and still listed users.

    AWS: a managed session policy is passed by reference (`PolicyDescriptorType`: "A reference to the IAM managed
    policy that is passed as a session policy", https://docs.aws.amazon.com/STS/latest/APIReference/API_PolicyDescriptorType.html;
    the ARNs, not the documents, are packed into the session,
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), and "the permissions assigned to
    temporary security credentials are evaluated each time a request is made that uses the credentials"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access.html).
    """
    account = "777800000002"
    iam, scope, session = _role_with_session_policy(server, account)
    iam.create_policy_version(PolicyArn=scope, SetAsDefault=True, PolicyDocument=policy(allow("iam:ListRoles")))
    server.client("iam", **session).list_roles()  # still allowed by both
    with pytest.raises(ClientError) as denied:
        server.client("iam", **session).list_users()
    assert code(denied) == "AccessDenied"


def test_a_deleted_managed_session_policy_allows_nothing(server: Endpoint) -> None:
    """Attack: as above, but `session-scope` is deleted (a session policy is no attachment, so DeletePolicy
    succeeds). The session kept its copy of the document and went on acting.

    AWS: as above — the session's permissions are the intersection of the role's policies and its session policies,
    evaluated at each request; a session policy that no longer exists grants nothing (fail closed: lambdaperm
    cannot tell what AWS answers beyond a denial; https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
    """
    account = "777800000003"
    iam, scope, session = _role_with_session_policy(server, account)
    iam.delete_policy(PolicyArn=scope)
    with pytest.raises(ClientError) as denied:
        server.client("iam", **session).list_users()
    assert code(denied) == "AccessDenied"


# ---- a restart: the data plane comes back empty, the records do not --------------------------------------------


def test_a_restart_does_not_free_a_buckets_name_for_another_account(make_server: Any, tmp_path: Path) -> None:
    """Attack: account A owns bucket `a-uploads`, notifies its function `process` of uploads, and the function
    policy lets s3.amazonaws.com invoke it for `SourceArn` arn:aws:s3:::a-uploads (SQLite: it survives a restart).
    The server restarts: the embedded data plane comes back empty, so the bucket no longer exists — A never
    deleted it. Account B creates `a-uploads`, points its notifications at A's function (allowed: the function
    policy names the bucket's ARN) and invokes it with its own objects, as A's role.

    AWS: a bucket exists until its owner deletes it, and a bucket name is unique across all accounts: B's
    CreateBucket of a name A holds is 409 BucketAlreadyExists
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
    """
    state = tmp_path / "state"
    first = make_server(state)
    victim, attacker = "777800000004", "777800000005"
    role = make_role(first.client("iam", key=victim), "process-role")
    lam = first.client("lambda", key=victim)
    fn = lam.create_function(
        FunctionName="process",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 1\n"})},
    )["FunctionArn"]
    lam.add_permission(
        FunctionName="process",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::a-uploads",
    )
    s3 = first.client("s3", key=victim)
    s3.create_bucket(Bucket="a-uploads")
    s3.put_bucket_notification_configuration(
        Bucket="a-uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    with pytest.raises(ClientError) as taken:  # control: while A holds the name, B cannot create it
        first.client("s3", key=attacker).create_bucket(Bucket="a-uploads")
    assert code(taken) == "BucketAlreadyExists"
    assert stop_server(first) == 0
    second = make_server(state)
    with pytest.raises(ClientError) as denied:
        second.client("s3", key=attacker).create_bucket(Bucket="a-uploads")
    assert code(denied) == "BucketAlreadyExists"
    second.client("s3", key=victim).create_bucket(Bucket="a-uploads")  # its owner may create it again


def _bucket_gone(client: Any, bucket: str) -> str:
    """The error code of a PutObject into `bucket` (which must fail)."""
    with pytest.raises(ClientError) as missing:
        client.put_object(Bucket=bucket, Key="k", Body=b"x")
    return code(missing)


def test_after_a_restart_the_owner_creates_its_bucket_again_without_its_old_notifications(
    make_server: Any, tmp_path: Path
) -> None:
    """Positive control of the restart rule, with the durable data plane (persistence review round 7): a restart
    keeps the bucket — its objects and its S3 → Lambda notification, which still delivers (start-up drops only
    the targets of buckets that no longer exist) — and the name stays its owner's. A bucket the owner deletes and
    creates again is a new bucket: no objects, no notification of the old one.

    AWS: a bucket exists until its owner deletes it, and its notification configuration is part of it; the
    owner's CreateBucket of a name it holds is not refused as another account's (BucketAlreadyOwnedByYou, or 200
    in us-east-1) (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html).
    """
    state = tmp_path / "state"
    first = make_server(state)
    owner, other = "777800000006", "777800000007"
    fn = s3_key_logger(first, owner, "o-uploads")
    s3 = first.client("s3", key=owner)
    s3.create_bucket(Bucket="o-uploads")
    s3.put_bucket_notification_configuration(
        Bucket="o-uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": fn, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    s3.put_object(Bucket="o-uploads", Key="before", Body=b"x")
    assert delivered(first, owner, "before")
    assert stop_server(first) == 0
    second = make_server(state)
    s3 = second.client("s3", key=owner)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="o-uploads")["Contents"]] == ["before"]
    assert s3.get_bucket_notification_configuration(Bucket="o-uploads").get("LambdaFunctionConfigurations")
    s3.put_object(Bucket="o-uploads", Key="after-restart", Body=b"x")
    assert delivered(second, owner, "after-restart")  # the restored bucket kept its Lambda target
    with pytest.raises(ClientError) as taken:
        second.client("s3", key=other).create_bucket(Bucket="o-uploads")
    assert code(taken) == "BucketAlreadyExists"
    s3.delete_object(Bucket="o-uploads", Key="before")
    s3.delete_object(Bucket="o-uploads", Key="after-restart")
    s3.delete_bucket(Bucket="o-uploads")
    s3.create_bucket(Bucket="o-uploads")
    assert s3.list_objects_v2(Bucket="o-uploads")["KeyCount"] == 0
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket="o-uploads")
    assert lambda_targets(state, "o-uploads") is None  # no S3 → Lambda target is left for the new bucket
    with pytest.raises(ClientError) as taken:  # and it is still the owner's only
        second.client("s3", key=other).create_bucket(Bucket="o-uploads")
    assert code(taken) == "BucketAlreadyExists"


def test_deleting_a_bucket_frees_its_name_before_and_after_a_restart(make_server: Any, tmp_path: Path) -> None:
    """Positive control: DeleteBucket gives the name up — another account may create it at once, and the new
    owner holds it across a restart (its former owner may not take it back); a bucket its owner created again
    after a restart and then deleted is free too.

    AWS: after a bucket is deleted its name is available for reuse, by any account
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-bucket.html,
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
    """
    state = tmp_path / "state"
    first = make_server(state)
    owner, other = "777800000008", "777800000009"
    mine, theirs = first.client("s3", key=owner), first.client("s3", key=other)
    mine.create_bucket(Bucket="o-archive")
    mine.create_bucket(Bucket="o-scratch")
    with pytest.raises(ClientError) as taken:  # control: held while it exists
        theirs.create_bucket(Bucket="o-archive")
    assert code(taken) == "BucketAlreadyExists"
    mine.delete_bucket(Bucket="o-archive")
    theirs.create_bucket(Bucket="o-archive")  # the name changed hands
    assert stop_server(first) == 0
    second = make_server(state)
    mine, theirs = second.client("s3", key=owner), second.client("s3", key=other)
    with pytest.raises(ClientError) as held:
        mine.create_bucket(Bucket="o-archive")
    assert code(held) == "BucketAlreadyExists"
    assert held.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    mine.create_bucket(Bucket="o-scratch")  # created again after the restart…
    mine.delete_bucket(Bucket="o-scratch")  # …and deleted: free
    theirs.create_bucket(Bucket="o-scratch")
