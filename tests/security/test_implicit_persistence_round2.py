"""Implicit accesses and persistence, review round 2: what a stored name grants, and what services deliver on
their own, attacked against a real `lambdaperm serve` with real boto3.

Round 1 pinned the users and roles resource-based policies name to their unique ids (services/principal_pins.py).
A pin is looked up by the principal's *name* only, so an ARN naming the right name under another path was pinned
to — and granted — the entity with that name at its real path. AWS resolves the whole ARN, path included, when
the policy is saved (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html:
"arn:aws:iam::AWS-account-ID:role/role-name-with-path"; IAM Identity Center's roles must be named with their
`aws-reserved/sso.amazonaws.com/…` path, https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import user_keys

REGION = "us-east-1"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def user_with_key(
    server: Endpoint, account: str, name: str, *statements: dict[str, Any], path: str = "/"
) -> dict[str, str]:
    return user_keys(server, account, name, *statements, path=path)


# ---- principals named with another path --------------------------------------------------------------------


def test_a_bucket_policy_naming_a_user_under_another_path_grants_nobody(server: Endpoint) -> None:
    """Attack: account B's bucket policy names `arn:aws:iam::A:user/auditors/reader` (a user that does not exist:
    A's `reader` lives at path `/`). lambdaperm pinned the ARN to `reader` by name and granted A's `/reader` the
    private object.

    AWS: a principal ARN is resolved whole when the policy is saved; an ARN naming no existing user is refused
    (S3 MalformedPolicy "Invalid principal in policy",
    https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error), and a user at another path is
    another ARN (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns).
    """
    a, b = "777720000001", "777720000002"
    user = user_with_key(server, a, "reader", allow("s3:GetObject"))
    s3 = server.client("s3", key=b)
    s3.create_bucket(Bucket="round2-path-private")
    s3.put_object(Bucket="round2-path-private", Key="secret.txt", Body=b"secret")
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{a}:user/auditors/reader"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::round2-path-private/*",
    }
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_policy(Bucket="round2-path-private", Policy=policy(statement))
    assert code(refused) == "MalformedPolicy"
    with pytest.raises(ClientError) as denied:
        server.client("s3", **user).get_object(Bucket="round2-path-private", Key="secret.txt")
    assert code(denied) == "AccessDenied"


def test_a_trust_policy_naming_a_user_under_another_path_is_refused(server: Endpoint) -> None:
    """Attack: a trust policy names `arn:aws:iam::A:user/ops/alice`; A's `alice` lives at `/contractors/`.
    lambdaperm pinned it to `alice` by name, and `/contractors/alice` assumed the role.

    AWS: CreateRole refuses a trust policy naming a user that does not exist: MalformedPolicyDocument
    `Invalid principal in policy: "AWS":"arn:aws:iam::A:user/ops/alice"`
    (https://repost.aws/knowledge-center/iam-trust-policy-error).
    """
    a = "777720000003"
    alice = user_with_key(server, a, "alice", allow("sts:AssumeRole"), path="/contractors/")
    iam = server.client("iam", key=a)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{a}:user/ops/alice"}, "Action": "sts:AssumeRole"}
        ],
    }
    with pytest.raises(ClientError) as refused:
        iam.create_role(RoleName="ops-admin", AssumeRolePolicyDocument=json.dumps(trust))
    assert code(refused) == "MalformedPolicyDocument"
    with pytest.raises(ClientError) as denied:
        server.client("sts", **alice).assume_role(RoleArn=f"arn:aws:iam::{a}:role/ops-admin", RoleSessionName="session")
    assert code(denied) in ("AccessDenied", "NoSuchEntity")


def test_a_function_permission_naming_a_user_under_another_path_is_refused(server: Endpoint) -> None:
    """Attack: B's function policy (AddPermission) names `arn:aws:iam::A:user/batch/invoker`; A's `invoker` lives at
    `/`. lambdaperm pinned it by name and `/invoker` invoked B's function.

    AWS: AddPermission with a principal that does not exist is refused (InvalidParameterValueException "The
    provided principal was invalid. Please check the principal and try again.",
    https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html).
    """
    a, b = "777720000004", "777720000005"
    make_role(server.client("iam", key=b), "fn-role")
    lam = server.client("lambda", key=b)
    lam.create_function(
        FunctionName="round2-path-fn",
        Runtime="python3.11",
        Role=f"arn:aws:iam::{b}:role/fn-role",
        Handler="h.handler",
        Code={"ZipFile": zip_of({"h.py": "def handler(event, context):\n    return 'ran'\n"})},
    )
    user_with_key(server, a, "invoker", allow("lambda:InvokeFunction"))
    with pytest.raises(ClientError) as refused:
        lam.add_permission(
            FunctionName="round2-path-fn",
            StatementId="a",
            Action="lambda:InvokeFunction",
            Principal=f"arn:aws:iam::{a}:user/batch/invoker",
        )
    assert code(refused) == "InvalidParameterValueException"


def test_a_principal_named_with_its_own_path_is_still_pinned(server: Endpoint) -> None:
    """Positive control: the same policy naming the user at her real path is accepted and grants her."""
    a, b = "777720000006", "777720000007"
    user = user_with_key(server, a, "reader", allow("s3:GetObject"), path="/auditors/")
    s3 = server.client("s3", key=b)
    s3.create_bucket(Bucket="round2-path-ok")
    s3.put_object(Bucket="round2-path-ok", Key="k", Body=b"ok")
    s3.put_bucket_policy(
        Bucket="round2-path-ok",
        Policy=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{a}:user/auditors/reader"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::round2-path-ok/*",
            }
        ),
    )
    assert server.client("s3", **user).get_object(Bucket="round2-path-ok", Key="k")["Body"].read() == b"ok"


# ---- deliveries the data plane makes on its own ------------------------------------------------------------


def _queue(server: Endpoint, account: str, name: str, queue_policy: dict[str, Any] | None = None) -> str:
    sqs = server.client("sqs", key=account)
    url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    if queue_policy is not None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(queue_policy)})
    return url


def test_a_topic_owner_cannot_subscribe_another_accounts_queue_without_its_confirmation(server: Endpoint) -> None:
    """Attack: B's queue policy lets SNS send to it (a common policy: `Service: sns.amazonaws.com`, no source
    condition). A, who owns a topic, subscribes B's queue and publishes: the message lands in B's queue at once.

    AWS: when the subscriber is not the queue's owner, the subscription is "pending confirmation": SNS sends a
    SubscriptionConfirmation message to the queue, and nothing else is delivered until the queue's owner confirms
    it (https://docs.aws.amazon.com/sns/latest/dg/sns-send-message-to-sqs-cross-account.html). Subscribe answers
    "pending confirmation" instead of a subscription ARN.
    """
    a, b = "777720000010", "777720000011"
    queue_arn = f"arn:aws:sqs:{REGION}:{b}:round2-inbox"
    url = _queue(
        server,
        b,
        "round2-inbox",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                }
            ],
        },
    )
    sns = server.client("sns", key=a)
    topic = sns.create_topic(Name="round2-spam")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic, Message="unsolicited")
    sqs = server.client("sqs", key=b)
    bodies: list[str] = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        bodies += [m["Body"] for m in got]
        if bodies:
            break
        time.sleep(0.1)
    assert not any("unsolicited" in body for body in bodies)
    assert sub["SubscriptionArn"] == "pending confirmation"


# ---- DynamoDB export: the S3 object written is the one authorized ------------------------------------------


def test_an_export_under_a_slashed_prefix_needs_put_object_on_the_keys_written(server: Endpoint) -> None:
    """Attack: a user may export tables only into `shared/exports/*` of a bucket. She asks for S3Prefix `/exports`:
    lambdaperm authorized `exports/AWSDynamoDB/` (the prefix with its slashes stripped) while the export is written
    under `/exports/AWSDynamoDB/…` — another key, outside what she may write.

    AWS: DynamoDB writes the export with the caller's permissions (forward access session) to
    `<S3Prefix>/AWSDynamoDB/<export id>/…`, each object authorized by S3 on its own key
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html); a key the
    caller may not write is refused.
    """
    account = "777720000013"
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName="round2-export",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.update_continuous_backups(
        TableName="round2-export", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    ddb.put_item(TableName="round2-export", Item={"pk": {"S": "secret"}})
    server.client("s3", key=account).create_bucket(Bucket="round2-shared")
    table_arn = f"arn:aws:dynamodb:{REGION}:{account}:table/round2-export"
    user = user_with_key(
        server,
        account,
        "exporter",
        allow("dynamodb:ExportTableToPointInTime", table_arn),
        allow("s3:PutObject", "arn:aws:s3:::round2-shared/exports/*"),
    )
    exporter = server.client("dynamodb", **user)
    # positive control: the prefix she may write
    exporter.export_table_to_point_in_time(TableArn=table_arn, S3Bucket="round2-shared", S3Prefix="exports")
    with pytest.raises(ClientError) as denied:
        exporter.export_table_to_point_in_time(TableArn=table_arn, S3Bucket="round2-shared", S3Prefix="/exports")
    assert code(denied) == "AccessDeniedException"
    keys = [
        o["Key"] for o in server.client("s3", key=account).list_objects_v2(Bucket="round2-shared").get("Contents", [])
    ]
    assert not [k for k in keys if not k.startswith("exports/")]
