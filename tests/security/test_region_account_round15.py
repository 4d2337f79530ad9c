"""Attack class: region and account confusion (review round 15).

Round 14 tabled every stored ARN member of every served operation and probed the "own resource" rows of DynamoDB,
SNS and Logs tagging only. This round probes the other own-resource rows — IAM (PolicyArn, PermissionsBoundary,
PolicySourceArn), Logs by `logGroupIdentifier` ARN and resource policies, Lambda by FunctionName ARN and layer ARNs,
SQS by QueueUrl — with round 13's ten spellings (partitions, wrong or upper-case service, trailing newline or space,
extra `:` or `/` segment, another region or account), as a user allowed everything and denied on the `aws` ARNs,
against a real `lambdaperm serve` with real boto3.

AWS: an ARN is `arn:partition:service:region:account-id:resource` and names a resource of its partition
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html); a policy's Deny on a resource's ARN applies to
every request that acts on that resource
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.e2e.conftest import Endpoint
from tests.security.arn_spellings import spellings
from tests.security.iam_users import clients_of, user_keys

A = "791500000001"
B = "791500000002"
EAST = "us-east-1"

# round 13's ten spellings of "resource <res> of service <s> in A's us-east-1" that are not its ARN
SPELLINGS: dict[str, str] = spellings(wrong_service="sts")


def _spelled(spelling: str, service: str, res: str, region: str = EAST) -> str:
    """`res` of `service` in A's `region` (IAM: region ''), spelled as `spelling`."""
    other_region = "eu-west-1" if region else EAST  # IAM ARNs hold no region: any region is "another"
    text = SPELLINGS[spelling].replace("eu-west-1", other_region)
    return text.format(s=service, S=service.upper(), r=region, a=A, b=B, res=res)


def _attempt(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call, keeping the answers of those that were answered (a refusal is an acceptable outcome)."""
    answers = []
    for call in calls:
        with contextlib.suppress(ClientError, ParamValidationError):
            answers.append(call())
    return answers


def _allow_all_but(server: Endpoint, name: str, actions: list[str], resources: list[str], **cond: Any) -> Any:
    deny: dict[str, Any] = {"Effect": "Deny", "Action": actions, "Resource": resources}
    if cond:
        deny["Condition"] = cond
    keys = user_keys(server, A, name, {"Effect": "Allow", "Action": "*", "Resource": "*"}, deny)
    return clients_of(server, keys)


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_iam_arns_spelled_otherwise_do_not_escape_a_deny_on_them(server: Endpoint, spelling: str) -> None:
    """Attack: A's user is allowed everything but denied, on the `aws` ARNs, tagging / versioning / deleting managed
    policy `p`, attaching `p` or setting it as a boundary (iam:PolicyARN / iam:PermissionsBoundary conditions), and
    simulating user `u`; it names `p` and `u` otherwise. AWS: IAM acts on the policy or user the ARN names and refuses
    an ARN it cannot resolve (NoSuchEntity / InvalidInput,
    https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html): nothing of `p`, the
    role or `u` changes or is disclosed."""
    iam = server.client("iam", key=A)
    name = f"r15-iam-{spelling}"
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    parn = iam.create_policy(PolicyName=name, PolicyDocument=doc)["Policy"]["Arn"]
    assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(assume))
    iam.create_user(UserName=f"{name}-u")
    iam.put_user_policy(UserName=f"{name}-u", PolicyName="secret", PolicyDocument=doc)
    uarn = f"arn:aws:iam::{A}:user/{name}-u"
    user = _allow_all_but(
        server,
        name,
        [
            "iam:TagPolicy",
            "iam:CreatePolicyVersion",
            "iam:DeletePolicy",
            "iam:GetPolicy",
            "iam:SimulatePrincipalPolicy",
        ],
        [parn, uarn],
    )
    iam_user = user("iam")
    conditioned = user_keys(
        server,
        A,
        f"{name}-c",
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": ["iam:AttachRolePolicy", "iam:AttachUserPolicy"],
            "Resource": "*",
            "Condition": {"ArnEquals": {"iam:PolicyARN": parn}},
        },
        {
            "Effect": "Deny",
            "Action": [
                "iam:PutRolePermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
                "iam:CreateRole",
                "iam:CreateUser",
            ],
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": parn}},
        },
    )
    iam_c = clients_of(server, conditioned)("iam")
    spelled_p = _spelled(spelling, "iam", f"policy/{name}", region="")
    spelled_u = _spelled(spelling, "iam", f"user/{name}-u", region="")
    answers = _attempt(
        [
            lambda: iam_user.tag_policy(PolicyArn=spelled_p, Tags=[{"Key": "x", "Value": "y"}]),
            lambda: iam_user.create_policy_version(PolicyArn=spelled_p, PolicyDocument=doc, SetAsDefault=True),
            lambda: iam_user.get_policy(PolicyArn=spelled_p),
            lambda: iam_user.simulate_principal_policy(PolicySourceArn=spelled_u, ActionNames=["s3:GetObject"]),
            lambda: iam_c.attach_role_policy(RoleName=name, PolicyArn=spelled_p),
            lambda: iam_c.attach_user_policy(UserName=f"{name}-u", PolicyArn=spelled_p),
            lambda: iam_c.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=spelled_p),
            lambda: iam_c.put_user_permissions_boundary(UserName=f"{name}-u", PermissionsBoundary=spelled_p),
            lambda: iam_c.create_role(
                RoleName=f"{name}-2", AssumeRolePolicyDocument=json.dumps(assume), PermissionsBoundary=spelled_p
            ),
            lambda: iam_c.create_user(UserName=f"{name}-3", PermissionsBoundary=spelled_p),
            lambda: iam_user.delete_policy(PolicyArn=spelled_p),
        ]
    )
    # nothing disclosed: no answer names the policy's or the user's content
    for answer in answers:
        text = json.dumps(answer, default=str)
        assert "EvaluationResults" not in answer or all(
            r["EvalDecision"] != "allowed" for r in answer["EvaluationResults"]
        ), text
        assert parn not in text or "Policy" not in answer, text
    # nothing changed on p, the role, u
    assert iam.get_policy(PolicyArn=parn)["Policy"].get("Tags", []) == []
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=parn)["Versions"]] == ["v1"]
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    assert iam.list_attached_user_policies(UserName=f"{name}-u")["AttachedPolicies"] == []
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
    assert "PermissionsBoundary" not in iam.get_user(UserName=f"{name}-u")["User"]
    with contextlib.suppress(ClientError):
        assert (
            iam.get_role(RoleName=f"{name}-2")["Role"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
            != parn
        )
    with contextlib.suppress(ClientError):
        assert (
            iam.get_user(UserName=f"{name}-3")["User"].get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
            != parn
        )
    # control: the aws ARN is denied
    with pytest.raises(ClientError) as refused:
        iam_user.tag_policy(PolicyArn=parn, Tags=[{"Key": "x", "Value": "y"}])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_log_group_arn_spelled_otherwise_does_not_escape_a_deny_on_it(server: Endpoint, spelling: str) -> None:
    """Attack: A's user is allowed everything but denied every logs action on log group `g` (its `aws` ARN, with and
    without `:*`); it names `g` by `logGroupIdentifier` spelled otherwise, and by a resource policy's `resourceArn`.
    AWS: logGroupIdentifier is the group's name or ARN
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html): no event of `g` is
    answered, nothing of `g` changes."""
    logs = server.client("logs", key=A)
    name = f"r15-logs-{spelling}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    logs.put_log_events(
        logGroupName=name, logStreamName="s", logEvents=[{"timestamp": 1_700_000_000_000, "message": "secret-r15"}]
    )
    group = f"arn:aws:logs:{EAST}:{A}:log-group:{name}"
    user = _allow_all_but(server, name, ["logs:*"], [group, f"{group}:*", f"{group}:log-stream:*"])("logs")
    ident = _spelled(spelling, "logs", f"log-group:{name}")
    doc = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": B}, "Action": "logs:*", "Resource": "*"}],
        }
    )
    answers = _attempt(
        [
            lambda: user.get_log_events(logGroupIdentifier=ident, logStreamName="s", startFromHead=True),
            lambda: user.filter_log_events(logGroupIdentifier=ident),
            lambda: user.describe_log_streams(logGroupIdentifier=ident),
            lambda: user.put_resource_policy(policyName=name, policyDocument=doc, resourceArn=ident),
            lambda: user.describe_resource_policies(resourceArn=ident),
            lambda: user.tag_resource(resourceArn=ident, tags={"x": "y"}),
        ]
    )
    for answer in answers:
        assert "secret-r15" not in json.dumps(answer, default=str)
        assert '"s"' not in json.dumps(answer.get("logStreams", []))
    assert logs.list_tags_for_resource(resourceArn=group).get("tags", {}) == {}
    policies = logs.describe_resource_policies().get("resourcePolicies", [])
    assert [p for p in policies if p["policyName"] == name] == []
    # control: the aws ARN is denied
    with pytest.raises(ClientError):
        user.get_log_events(logGroupIdentifier=group, logStreamName="s")


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_function_arn_spelled_otherwise_does_not_escape_a_deny_on_it(server: Endpoint, spelling: str) -> None:
    """Attack: A's user is allowed everything but denied every lambda action on function `f` (its `aws` ARN,
    qualified or not); it names `f` otherwise as FunctionName on the control plane, and a layer version of that
    spelling in another function's Layers (layers are not served: PublishLayerVersion is InvalidAction). AWS:
    FunctionName is the name or ARN of a function of the caller's region
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetPolicy.html): nothing of `f` is changed,
    run or disclosed; no layer is attached."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    name = f"r15-fn-{spelling}"
    lam = server.client("lambda", key=A)
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    role = make_role(server.client("iam", key=A), name, policy=allow_all)
    code = zip_of({"app.py": "def handler(event, context):\n    return 'ran-r15'\n"})
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
    )
    lam.add_permission(FunctionName=name, StatementId="s", Action="lambda:InvokeFunction", Principal=A)
    lam.create_function(
        FunctionName=f"{name}-g", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
    )
    fn = f"arn:aws:lambda:{EAST}:{A}:function:{name}"
    user = _allow_all_but(server, name, ["lambda:*"], [fn, f"{fn}:*"])("lambda")
    f = _spelled(spelling, "lambda", f"function:{name}")
    lv = _spelled(spelling, "lambda", f"layer:{name}:1")
    answers = _attempt(
        [
            lambda: user.get_policy(FunctionName=f),
            lambda: user.get_function(FunctionName=f),
            lambda: user.get_function_configuration(FunctionName=f),
            lambda: user.add_permission(FunctionName=f, StatementId="x", Action="lambda:*", Principal=B),
            lambda: user.remove_permission(FunctionName=f, StatementId="s"),
            lambda: user.update_function_configuration(FunctionName=f, Description="pwned"),
            lambda: user.publish_version(FunctionName=f),
            lambda: user.create_alias(FunctionName=f, Name="live", FunctionVersion="$LATEST"),
            lambda: user.tag_resource(Resource=f, Tags={"x": "y"}),
            lambda: user.invoke(FunctionName=f),
            lambda: user.update_function_configuration(FunctionName=f"{name}-g", Layers=[lv]),
            lambda: user.delete_function(FunctionName=f),
        ]
    )
    for answer in answers:
        text = json.dumps(answer, default=str)
        assert "ran-r15" not in (answer["Payload"].read().decode() if "Payload" in answer else ""), text
        assert name not in text or answer.get("FunctionName") == f"{name}-g", text
    conf = lam.get_function_configuration(FunctionName=name)
    assert conf.get("Description", "") == ""
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]
    assert lam.list_aliases(FunctionName=name)["Aliases"] == []
    assert lam.list_tags(Resource=fn).get("Tags", {}) == {}
    statement = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    assert [s["Sid"] for s in statement] == ["s"]
    assert lam.get_function_configuration(FunctionName=f"{name}-g").get("Layers", []) == []
    # control: the aws ARN is denied
    with pytest.raises(ClientError) as refused:
        user.get_policy(FunctionName=fn)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


QUEUE_URLS: dict[str, str] = {
    "other-region-host": "https://sqs.eu-west-1.amazonaws.com/{a}/{q}",
    "cn-host": "https://sqs.us-east-1.amazonaws.com.cn/{a}/{q}",
    "legacy-host": "https://queue.amazonaws.com/{a}/{q}",
    "other-account": "https://sqs.us-east-1.amazonaws.com/{b}/{q}",
    "newline": "https://sqs.us-east-1.amazonaws.com/{a}/{q}\n",
    "space": "https://sqs.us-east-1.amazonaws.com/{a}/{q} ",
    "extra-path-segment": "https://sqs.us-east-1.amazonaws.com/{a}/x/{q}",
    "trailing-slash": "https://sqs.us-east-1.amazonaws.com/{a}/{q}/",
    "upper-host": "https://SQS.EU-WEST-1.AMAZONAWS.COM/{a}/{q}",
    "region-in-path": "https://sqs.us-east-1.amazonaws.com/eu-west-1/{a}/{q}",
}


@pytest.mark.parametrize("spelling", sorted(QUEUE_URLS))
def test_a_queue_url_spelled_otherwise_does_not_escape_a_deny_on_the_queue(server: Endpoint, spelling: str) -> None:
    """Attack: A's user is allowed everything but denied every sqs action on queue `q` (its `aws` ARN); it names `q`
    by a QueueUrl of another region's or partition's host, another account, or a malformed path, on every SQS
    operation taking one. AWS: the QueueUrl names one queue, of the account and region it holds
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html):
    nothing of `q` is changed or received."""
    sqs = server.client("sqs", key=A)
    q = f"r15-q-{spelling}"
    url = sqs.create_queue(QueueName=q)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="secret-r15")
    user = _allow_all_but(server, q, ["sqs:*"], [f"arn:aws:sqs:{EAST}:{A}:{q}"])("sqs")
    u = QUEUE_URLS[spelling].format(a=A, b=B, q=q)
    answers = _attempt(
        [
            lambda: user.receive_message(QueueUrl=u, WaitTimeSeconds=0),
            lambda: user.get_queue_attributes(QueueUrl=u, AttributeNames=["All"]),
            lambda: user.list_queue_tags(QueueUrl=u),
            lambda: user.send_message(QueueUrl=u, MessageBody="x"),
            lambda: user.send_message_batch(QueueUrl=u, Entries=[{"Id": "1", "MessageBody": "x"}]),
            lambda: user.set_queue_attributes(QueueUrl=u, Attributes={"DelaySeconds": "7"}),
            lambda: user.tag_queue(QueueUrl=u, Tags={"x": "y"}),
            lambda: user.add_permission(QueueUrl=u, Label="x", AWSAccountIds=[B], Actions=["SendMessage"]),
            lambda: user.list_dead_letter_source_queues(QueueUrl=u),
            lambda: user.purge_queue(QueueUrl=u),
            lambda: user.delete_queue(QueueUrl=u),
        ]
    )
    for answer in answers:
        assert "secret-r15" not in json.dumps(answer, default=str)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["DelaySeconds"] == "0"
    assert "Policy" not in attrs
    assert attrs["ApproximateNumberOfMessages"] == "1"
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in got] == ["secret-r15"]
    # control: the queue's own URL is denied
    with pytest.raises(ClientError):
        user.get_queue_attributes(QueueUrl=url)


@pytest.mark.parametrize("suffix", ["\n", " "])
def test_dynamodb_tag_resource_with_a_table_arn_of_no_table_is_not_found(server: Endpoint, suffix: str) -> None:
    """Fidelity (round 14's note): TagResource with A's table ARN ending in whitespace answered 200 and tagged
    nothing. AWS: TagResource on a resource that does not exist is ResourceNotFoundException
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TagResource.html)."""
    ddb = server.client("dynamodb", key=A)
    name = f"r15-tag-{len(suffix)}-{ord(suffix[0])}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = f"arn:aws:dynamodb:{EAST}:{A}:table/{name}"
    with pytest.raises(ClientError) as refused:
        ddb.tag_resource(ResourceArn=arn + suffix, Tags=[{"Key": "x", "Value": "y"}])
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []) == []
    # control: the table's own ARN is tagged, and untagged
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "x", "Value": "y"}])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "x", "Value": "y"}]
    ddb.untag_resource(ResourceArn=arn, TagKeys=["x"])
    assert ddb.list_tags_of_resource(ResourceArn=arn).get("Tags", []) == []


@pytest.mark.parametrize("scoped_to", ["group", "group:*", "another-group", "another-account"])
def test_a_resource_scoped_logs_policy_is_not_stored_as_the_accounts(server: Endpoint, scoped_to: str) -> None:
    """Attack: PutResourcePolicy with `resourceArn` naming one log group (a resource-scoped policy, the member moto
    drops) by A's user allowed everything but denied every logs action on that group, and by A's root. The call was
    decided on `*` alone — the Deny on the group did not apply — and the policy was stored as A's account-level
    policy, applying to every group of A, whatever `resourceArn` named (another group, another account). AWS: "The
    ARN of the CloudWatch Logs resource to which the resource policy needs to be added or attached"
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html): a
    resource-scoped policy is the group's, never the account's. Resource-scoped policies are not served: 501, nothing
    stored; an account-level policy (no resourceArn) is still served."""
    logs = server.client("logs", key=A)
    name = f"r15-scoped-{scoped_to.replace(':*', '-star')}"
    logs.create_log_group(logGroupName=name)
    group = f"arn:aws:logs:{EAST}:{A}:log-group:{name}"
    target = {
        "group": group,
        "group:*": f"{group}:*",
        "another-group": f"arn:aws:logs:{EAST}:{A}:log-group:{name}-other",
        "another-account": f"arn:aws:logs:{EAST}:{B}:log-group:{name}",
    }[scoped_to]
    user = _allow_all_but(server, name, ["logs:*"], [group, f"{group}:*"])("logs")
    statement = {"Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"}, "Action": "logs:*"}
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{**statement, "Resource": "*"}]})
    for caller in (user, logs):
        with pytest.raises(ClientError) as refused:
            caller.put_resource_policy(policyName=name, policyDocument=doc, resourceArn=target)
        assert refused.value.response["Error"]["Code"] in ("AccessDeniedException", "NotImplemented")
    assert refused.value.response["Error"]["Code"] == "NotImplemented"  # the root: not served, named
    assert "resourceArn" in refused.value.response["Error"]["Message"]
    names = [p["policyName"] for p in logs.describe_resource_policies().get("resourcePolicies", [])]
    assert name not in names
    # (an account-level policy, without resourceArn, is served as before; not called here: the structural oracle
    # cannot map Logs PutResourcePolicy, implicit-accesses round 12)
