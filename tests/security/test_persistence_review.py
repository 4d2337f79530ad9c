"""Persistence review, round 1: what outlives what it belongs to, across deletes, re-creations and restarts.

lambdaperm keeps identities, policies and Lambda functions in SQLite while the data plane lives in memory; a name
that still refers to something after it is gone — an access key to a renamed user, a resource policy to a deleted
role, a function URL to a deleted function — must not reach whatever later takes the name. AWS's rule: an IAM
principal is its unique id, not its name ("If you delete a role and create a new one with the same name, the new
role has a different unique ID"; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids),
and a resource-based policy naming a user or role stores that unique id
(https://aws.amazon.com/premiumsupport/knowledge-center/iam-resource-policy-format/).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of

REGION = "us-east-1"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def user_with_key(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> dict[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    if statements:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(*statements))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def role_session(server: Endpoint, account: str, role: str, assumer: str = "assumer") -> dict[str, str]:
    """Credentials of a session of `role`, assumed by a new user `assumer` of the same account."""
    caller = user_with_key(server, account, assumer, allow("sts:AssumeRole"))
    creds = server.client("sts", **caller).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="session"
    )["Credentials"]
    return {"key": creds["AccessKeyId"], "secret": creds["SecretAccessKey"], "token": creds["SessionToken"]}


def account_trust(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}
        ],
    }


# ---- IAM: an access key belongs to its user, not to the user's name ----------------------------------------


def test_an_access_key_follows_its_user_through_a_rename(server: Endpoint) -> None:
    """Attack: user `alice` has an access key; an administrator renames her to `alice-old` and creates a new user
    `alice` with broader permissions. The old key still names `alice` in the store, so it authenticates as the new
    `alice` (with the new user's unique id, so session pinning does not catch it) and gets her permissions.

    AWS: an access key belongs to the user (its unique id); UpdateUser renames the user and keeps its keys
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateUser.html, "Renaming an IAM user":
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_users_manage.html#id_users_renaming — the user keeps
    its keys, groups and policies). The key keeps authenticating as the renamed user, never as a new namesake.
    """
    account = "777700000001"
    iam = server.client("iam", key=account)
    old = user_with_key(server, account, "alice")
    iam.update_user(UserName="alice", NewUserName="alice-old")
    listed = iam.list_access_keys(UserName="alice-old")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [old["key"]]  # the renamed user keeps her key
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="admin", PolicyDocument=policy(allow("iam:*")))
    assert iam.list_access_keys(UserName="alice")["AccessKeyMetadata"] == []  # the namesake has none
    me = server.client("sts", **old).get_caller_identity()
    assert me["Arn"] == f"arn:aws:iam::{account}:user/alice-old"
    with pytest.raises(ClientError) as denied:
        server.client("iam", **old).list_users()
    assert code(denied) == "AccessDenied"


def test_a_deleted_users_session_gets_nothing_from_a_namesake(server: Endpoint) -> None:
    """Attack (held): a GetSessionToken session of `bob` outlives bob; bob is deleted and re-created with an
    admin policy. The session is bound to the old unique id and gets none of the new user's permissions.
    AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
    """
    account = "777700000002"
    iam = server.client("iam", key=account)
    old = user_with_key(server, account, "bob", allow("iam:ListUsers"))
    creds = server.client("sts", **old).get_session_token()["Credentials"]
    session = {"key": creds["AccessKeyId"], "secret": creds["SecretAccessKey"], "token": creds["SessionToken"]}
    server.client("iam", **session).list_users()  # positive control: the session works while bob exists
    iam.delete_access_key(UserName="bob", AccessKeyId=old["key"])
    iam.delete_user_policy(UserName="bob", PolicyName="p")
    iam.delete_user(UserName="bob")
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="admin", PolicyDocument=policy(allow("iam:*")))
    with pytest.raises(ClientError) as denied:
        server.client("iam", **session).list_users()
    assert code(denied) == "AccessDenied"


def test_a_role_session_gets_nothing_from_a_recreated_role(server: Endpoint) -> None:
    """Attack (held): a session of role `worker` outlives it; the role is deleted and re-created with an admin
    policy. The session is bound to the old role's unique id.
    AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
    """
    account = "777700000003"
    iam = server.client("iam", key=account)
    make_role(
        iam,
        "worker",
        policy={"Version": "2012-10-17", "Statement": [allow("iam:ListRoles")]},
        trust=account_trust(account),
    )
    session = role_session(server, account, "worker")
    server.client("iam", **session).list_roles()  # positive control
    iam.delete_role_policy(RoleName="worker", PolicyName="inline")
    iam.delete_role(RoleName="worker")
    make_role(
        iam, "worker", policy={"Version": "2012-10-17", "Statement": [allow("iam:*")]}, trust=account_trust(account)
    )
    with pytest.raises(ClientError) as denied:
        server.client("iam", **session).list_roles()
    assert code(denied) == "AccessDenied"


# ---- resource-based policies name a user or role by its unique id ------------------------------------------


def test_a_bucket_policy_does_not_grant_a_recreated_role(server: Endpoint) -> None:
    """Attack: account B's bucket policy grants account A's role `reader` s3:GetObject. Someone in A who may
    create roles (but was never granted the bucket) deletes `reader` and re-creates it with a trust policy of their
    own: the new role reads B's private object.

    AWS: the bucket policy stored `reader`'s unique id (AROA…) when it was saved; once the role is deleted the
    policy shows that id and no longer names any role, even one re-created with the same name
    (https://aws.amazon.com/premiumsupport/knowledge-center/iam-resource-policy-format/,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
    """
    a, b = "777700000004", "777700000005"
    iam = server.client("iam", key=a)
    role_policy = {"Version": "2012-10-17", "Statement": [allow("s3:GetObject")]}
    make_role(iam, "reader", policy=role_policy, trust=account_trust(a))
    s3 = server.client("s3", key=b)
    s3.create_bucket(Bucket="persistence-private")
    s3.put_object(Bucket="persistence-private", Key="secret.txt", Body=b"secret")
    s3.put_bucket_policy(
        Bucket="persistence-private",
        Policy=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{a}:role/reader"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::persistence-private/*",
            }
        ),
    )
    first = role_session(server, a, "reader")
    body = server.client("s3", **first).get_object(Bucket="persistence-private", Key="secret.txt")["Body"].read()
    assert body == b"secret"  # positive control: the role the policy was saved with reads it
    iam.delete_role_policy(RoleName="reader", PolicyName="inline")
    iam.delete_role(RoleName="reader")
    make_role(iam, "reader", policy=role_policy, trust=account_trust(a))
    second = role_session(server, a, "reader", "assumer-2")
    with pytest.raises(ClientError) as denied:
        server.client("s3", **second).get_object(Bucket="persistence-private", Key="secret.txt")
    assert code(denied) == "AccessDenied"


def test_a_queue_policy_does_not_grant_a_recreated_user(server: Endpoint) -> None:
    """Attack: account B's queue policy lets account A's user `sender` send messages. A's administrator deletes
    `sender` and someone re-creates a user of that name: the new user sends to B's queue.

    AWS: the queue policy stored the user's unique id (AIDA…); a user re-created under the same name is another
    principal (https://aws.amazon.com/premiumsupport/knowledge-center/iam-resource-policy-format/).
    """
    a, b = "777700000006", "777700000007"
    iam = server.client("iam", key=a)
    sqs = server.client("sqs", key=b)
    url = sqs.create_queue(QueueName="persistence-inbox")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{b}:persistence-inbox"
    sender = user_with_key(server, a, "sender", allow("sqs:SendMessage"))
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": policy(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{a}:user/sender"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                }
            )
        },
    )
    server.client("sqs", **sender).send_message(QueueUrl=url, MessageBody="from the real sender")  # control
    iam.delete_access_key(UserName="sender", AccessKeyId=sender["key"])
    iam.delete_user_policy(UserName="sender", PolicyName="p")
    iam.delete_user(UserName="sender")
    namesake = user_with_key(server, a, "sender", allow("sqs:SendMessage"))
    with pytest.raises(ClientError) as denied:
        server.client("sqs", **namesake).send_message(QueueUrl=url, MessageBody="from the namesake")
    assert code(denied) == "AccessDenied"


def test_a_function_policy_does_not_grant_a_recreated_role(server: Endpoint) -> None:
    """Attack: account B's function policy lets account A's role `caller` invoke it. The role is deleted and
    re-created under the same name (by anyone in A who may create roles): the new role invokes B's function.

    AWS: AddPermission refuses a principal that does not exist ("The provided principal was invalid") — it resolves
    the ARN to the principal's unique id, like every resource-based policy
    (https://aws.amazon.com/premiumsupport/knowledge-center/iam-resource-policy-format/).
    """
    a, b = "777700000008", "777700000009"
    iam = server.client("iam", key=a)
    make_role(
        iam,
        "caller",
        policy={"Version": "2012-10-17", "Statement": [allow("lambda:InvokeFunction")]},
        trust=account_trust(a),
    )
    exec_role = make_role(server.client("iam", key=b), "fn-role")
    lam = server.client("lambda", key=b)
    lam.create_function(
        FunctionName="guarded",
        Runtime="python3.11",
        Role=exec_role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 'ran'\n"})},
    )
    lam.add_permission(
        FunctionName="guarded",
        StatementId="a-caller",
        Action="lambda:InvokeFunction",
        Principal=f"arn:aws:iam::{a}:role/caller",
    )
    fn_arn = f"arn:aws:lambda:{REGION}:{b}:function:guarded"
    first = role_session(server, a, "caller")
    out = server.client("lambda", **first).invoke(FunctionName=fn_arn)
    assert json.loads(out["Payload"].read()) == "ran"  # positive control
    iam.delete_role_policy(RoleName="caller", PolicyName="inline")
    iam.delete_role(RoleName="caller")
    make_role(
        iam,
        "caller",
        policy={"Version": "2012-10-17", "Statement": [allow("lambda:InvokeFunction")]},
        trust=account_trust(a),
    )
    second = role_session(server, a, "caller", "assumer-2")
    with pytest.raises(ClientError) as denied:
        server.client("lambda", **second).invoke(FunctionName=fn_arn)
    assert code(denied) == "AccessDeniedException"


def test_a_topic_policy_does_not_grant_a_recreated_role(server: Endpoint) -> None:
    """Attack: account B's topic policy lets account A's role `publisher` publish. The role is deleted and
    re-created under the same name by someone in A who may create roles: the new role publishes to B's topic.

    AWS: the topic policy stored the role's unique id (AROA…) when it was saved
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
    """
    a, b = "777700000010", "777700000011"
    iam = server.client("iam", key=a)
    role_policy = {"Version": "2012-10-17", "Statement": [allow("sns:Publish")]}
    make_role(iam, "publisher", policy=role_policy, trust=account_trust(a))
    sns = server.client("sns", key=b)
    topic = sns.create_topic(Name="persistence-topic")["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{a}:role/publisher"},
                "Action": "sns:Publish",
                "Resource": topic,
            }
        ),
    )
    first = role_session(server, a, "publisher")
    assert server.client("sns", **first).publish(TopicArn=topic, Message="real")["MessageId"]  # control
    iam.delete_role_policy(RoleName="publisher", PolicyName="inline")
    iam.delete_role(RoleName="publisher")
    make_role(iam, "publisher", policy=role_policy, trust=account_trust(a))
    second = role_session(server, a, "publisher", "assumer-2")
    with pytest.raises(ClientError) as denied:
        server.client("sns", **second).publish(TopicArn=topic, Message="from the namesake")
    assert code(denied) in ("AccessDenied", "AuthorizationError")


def test_a_rewritten_policy_names_the_recreated_role(server: Endpoint) -> None:
    """Positive control of the pinning: once the bucket's owner writes the policy again, it names the role that
    exists then (AWS resolves the ARN at every write)."""
    a, b = "777700000012", "777700000013"
    iam = server.client("iam", key=a)
    role_policy = {"Version": "2012-10-17", "Statement": [allow("s3:GetObject")]}
    make_role(iam, "reader", policy=role_policy, trust=account_trust(a))
    s3 = server.client("s3", key=b)
    s3.create_bucket(Bucket="persistence-rewritten")
    s3.put_object(Bucket="persistence-rewritten", Key="k", Body=b"v")
    doc = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{a}:role/reader"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::persistence-rewritten/*",
        }
    )
    s3.put_bucket_policy(Bucket="persistence-rewritten", Policy=doc)
    iam.delete_role_policy(RoleName="reader", PolicyName="inline")
    iam.delete_role(RoleName="reader")
    make_role(iam, "reader", policy=role_policy, trust=account_trust(a))
    second = role_session(server, a, "reader")
    with pytest.raises(ClientError) as denied:
        server.client("s3", **second).get_object(Bucket="persistence-rewritten", Key="k")
    assert code(denied) == "AccessDenied"
    s3.put_bucket_policy(Bucket="persistence-rewritten", Policy=doc)
    assert server.client("s3", **second).get_object(Bucket="persistence-rewritten", Key="k")["Body"].read() == b"v"


def test_a_policy_read_back_and_written_again_does_not_grant_a_recreated_user(server: Endpoint) -> None:
    """Attack: B's queue policy lets A's user `sender` send. `sender` is deleted and someone in A re-creates the
    name. B's owner later edits the policy the usual way — GetQueueAttributes, add a statement, SetQueueAttributes:
    if the read showed the ARN, the write would name the new `sender`.

    AWS: the read shows the deleted user's unique id (AIDA…), so the policy written back still names nobody
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
    """
    a, b = "777700000016", "777700000017"
    iam = server.client("iam", key=a)
    sqs = server.client("sqs", key=b)
    url = sqs.create_queue(QueueName="persistence-edited")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{b}:persistence-edited"
    sender = user_with_key(server, a, "sender", allow("sqs:SendMessage"))
    user_id = iam.get_user(UserName="sender")["User"]["UserId"]
    sender_arn = f"arn:aws:iam::{a}:user/sender"
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": sender_arn},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy(statement)})
    shown = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    assert json.loads(shown)["Statement"][0]["Principal"] == {"AWS": sender_arn}  # control: the ARN while it exists
    iam.delete_access_key(UserName="sender", AccessKeyId=sender["key"])
    iam.delete_user_policy(UserName="sender", PolicyName="p")
    iam.delete_user(UserName="sender")
    namesake = user_with_key(server, a, "sender", allow("sqs:SendMessage"))
    doc = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert doc["Statement"][0]["Principal"] == {"AWS": user_id}
    doc["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": b}, "Action": "sqs:SendMessage", "Resource": queue_arn}
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(doc)})
    with pytest.raises(ClientError) as denied:
        server.client("sqs", **namesake).send_message(QueueUrl=url, MessageBody="from the namesake")
    assert code(denied) == "AccessDenied"
    s3 = server.client("s3", key=b)
    s3.create_bucket(Bucket="persistence-edited")
    s3.put_bucket_policy(
        Bucket="persistence-edited",
        Policy=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{a}:user/sender"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::persistence-edited/*",
            }
        ),
    )
    namesake_id = iam.get_user(UserName="sender")["User"]["UserId"]
    iam.delete_access_key(UserName="sender", AccessKeyId=namesake["key"])
    iam.delete_user_policy(UserName="sender", PolicyName="p")
    iam.delete_user(UserName="sender")
    shown = json.loads(s3.get_bucket_policy(Bucket="persistence-edited")["Policy"])
    assert shown["Statement"][0]["Principal"] == {"AWS": namesake_id}


def test_get_policy_shows_the_unique_id_of_a_deleted_role(server: Endpoint) -> None:
    """AWS: once the role a function policy names is deleted, GetPolicy shows the unique id it had in place of
    its ARN (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles)."""
    a = "777700000014"
    iam = server.client("iam", key=a)
    role_id = iam.create_role(RoleName="named", AssumeRolePolicyDocument=json.dumps(account_trust(a)))["Role"]["RoleId"]
    lam = server.client("lambda", key=a)
    lam.create_function(
        FunctionName="shows-ids",
        Runtime="python3.11",
        Role=make_role(iam, "fn-role"),
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 1\n"})},
    )
    role_arn = f"arn:aws:iam::{a}:role/named"
    lam.add_permission(FunctionName="shows-ids", StatementId="s", Action="lambda:InvokeFunction", Principal=role_arn)
    shown = json.loads(lam.get_policy(FunctionName="shows-ids")["Policy"])["Statement"][0]["Principal"]
    assert shown == {"AWS": role_arn}  # control: the ARN while the role exists
    iam.delete_role(RoleName="named")
    shown = json.loads(lam.get_policy(FunctionName="shows-ids")["Policy"])["Statement"][0]["Principal"]
    assert shown == {"AWS": role_id}


def test_a_policy_naming_a_user_or_role_that_does_not_exist_is_refused(server: Endpoint) -> None:
    """AWS resolves every user and role ARN to its unique id when a resource-based policy is saved; one that names
    nobody is refused: S3 MalformedPolicy "Invalid principal in policy", SNS InvalidParameter "PrincipalNotFound",
    Lambda "The provided principal was invalid"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles)."""
    a = "777700000015"
    ghost = f"arn:aws:iam::{a}:role/ghost"

    def doc(action: str, resource: str) -> str:
        return policy({"Effect": "Allow", "Principal": {"AWS": ghost}, "Action": action, "Resource": resource})

    s3 = server.client("s3", key=a)
    s3.create_bucket(Bucket="persistence-ghost")
    with pytest.raises(ClientError) as refused:
        s3.put_bucket_policy(Bucket="persistence-ghost", Policy=doc("s3:GetObject", "arn:aws:s3:::persistence-ghost/*"))
    assert code(refused) == "MalformedPolicy"
    sqs = server.client("sqs", key=a)
    url = sqs.create_queue(QueueName="persistence-ghost")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{a}:persistence-ghost"
    with pytest.raises(ClientError) as refused:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": doc("sqs:SendMessage", queue_arn)})
    assert code(refused) == "InvalidAttributeValue"
    sns = server.client("sns", key=a)
    topic = sns.create_topic(Name="persistence-ghost")["TopicArn"]
    with pytest.raises(ClientError) as refused:
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=doc("sns:Publish", topic))
    assert code(refused) == "InvalidParameter"
    iam = server.client("iam", key=a)
    lam = server.client("lambda", key=a)
    lam.create_function(
        FunctionName="ghost-target",
        Runtime="python3.11",
        Role=make_role(iam, "fn-role"),
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 1\n"})},
    )
    with pytest.raises(ClientError) as refused:
        lam.add_permission(
            FunctionName="ghost-target", StatementId="s", Action="lambda:InvokeFunction", Principal=ghost
        )
    assert code(refused) == "InvalidParameterValueException"
    make_role(iam, "ghost", trust=account_trust(a))  # control: the same writes succeed once the role exists
    s3.put_bucket_policy(Bucket="persistence-ghost", Policy=doc("s3:GetObject", "arn:aws:s3:::persistence-ghost/*"))
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": doc("sqs:SendMessage", queue_arn)})
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=doc("sns:Publish", topic))
    lam.add_permission(FunctionName="ghost-target", StatementId="s", Action="lambda:InvokeFunction", Principal=ghost)


# ---- Lambda: what belongs to a function dies with it -------------------------------------------------------


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def public_url(lam: Any, name: str) -> str:
    """A public (AuthType NONE, Principal *) URL of `name`: the path form of the endpoint's URL for it."""
    config = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    lam.add_permission(
        FunctionName=name,
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="url-invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
    return str(config["FunctionUrl"].split("//", 1)[1].split(".", 1)[0])


def test_a_function_url_dies_with_its_function(server: Endpoint) -> None:
    """Attack: a function had a public URL; it is deleted and a function of the same name is created later with
    a URL of its own. The old URL — known to whoever was given it — reaches the new function.

    AWS: a function URL is a random id bound to the function (and qualifier) it was created for; DeleteFunction
    deletes its URL, and a URL created again gets a new id
    (https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html,
    https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html).
    """
    account = "777700000010"
    role = make_role(server.client("iam", key=account), "url-role")
    lam = server.client("lambda", key=account)
    archive = zip_of({"app.py": "def handler(e, c):\n    return {'statusCode': 200, 'body': 'ok'}\n"})
    lam.create_function(
        FunctionName="site", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": archive}
    )
    old = public_url(lam, "site")
    assert _get(f"{server.url}/_lambdaperm/url/{old}/") == 200  # positive control
    lam.delete_function(FunctionName="site")
    lam.create_function(
        FunctionName="site", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": archive}
    )
    new = public_url(lam, "site")
    assert new != old
    assert _get(f"{server.url}/_lambdaperm/url/{new}/") == 200
    assert _get(f"{server.url}/_lambdaperm/url/{old}/") == 404


def test_publishing_after_the_newest_version_was_deleted(server: Endpoint) -> None:
    """Attack (robustness): versions 1 and 2 are published, 2 is deleted, and PublishVersion runs again. Version
    numbers are never reused: the new version is 3, and a permission granted on `:2` does not reach it.

    AWS: "Lambda doesn't reuse version numbers" — a version number is assigned once per function
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html).
    """
    account = "777700000011"
    role = make_role(server.client("iam", key=account), "ver-role")
    lam = server.client("lambda", key=account)
    lam.create_function(
        FunctionName="versioned",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 1\n"})},
    )
    assert lam.publish_version(FunctionName="versioned", Description="one")["Version"] == "1"
    assert lam.publish_version(FunctionName="versioned", Description="two")["Version"] == "2"
    lam.delete_function(FunctionName="versioned", Qualifier="2")
    assert lam.publish_version(FunctionName="versioned", Description="three")["Version"] == "3"
    assert lam.publish_version(FunctionName="versioned")["Version"] == "3"  # unchanged since 3: no new version
