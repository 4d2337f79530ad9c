"""Attack class: region and account confusion (review round 16).

Rounds 13-15 spelled the resource part, the partition, the service and the region of an ARN otherwise. This round
spells the **account id** otherwise: account A's id has a leading zero (`079160000001`), and every ARN-carrying
member names A's resource with A's id as 13 digits (`0` + A), as 11 digits (the leading zero dropped, what an
integer reading of the id gives), in Arabic-Indic digits or in fullwidth digits (what Python's Unicode `\\d` and
`int()` take for digits, Java's `\\d` does not) — against a real `lambdaperm serve` with real boto3, as a user of A
allowed everything and denied on the resource's `aws` ARN, or with a destination's policy denying the source.

AWS: an account id is 12 digits and an ARN names a resource of the account it holds
(https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html); a Deny on a resource's ARN applies to every
request that acts on that resource
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html). So a request naming A's
resource with another spelling of A's id either is refused or acts on no resource of A.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

A = "079160000001"
B = "791600000002"
EAST = "us-east-1"

_ARABIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")
_FULLWIDTH = str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19")

# A's id spelled otherwise: each is what a reader that normalizes digits (int(), Unicode \d, zero-padding) could
# take for A, and none is A
ACCOUNTS: dict[str, str] = {
    "thirteen-digits": "0" + A,
    "eleven-digits": A.lstrip("0"),
    "arabic-indic": A.translate(_ARABIC),
    "fullwidth": A.translate(_FULLWIDTH),
}


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as failed:
        call()
    return str(failed.value.response["Error"]["Code"])


def _attempt(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call, keeping the answers of those that were answered (a refusal is an acceptable outcome)."""
    answers = []
    for call in calls:
        with contextlib.suppress(ClientError, ParamValidationError):
            answers.append(call())
    return answers


def _allow_all_but(server: Endpoint, name: str, actions: list[str], resources: list[str]) -> Any:
    deny = {"Effect": "Deny", "Action": actions, "Resource": resources}
    keys = user_keys(server, A, name, {"Effect": "Allow", "Action": "*", "Resource": "*"}, deny)
    return clients_of(server, keys)


def _denying_queue(server: Endpoint, name: str, service: str, source: str) -> tuple[Any, str]:
    """Queue `name` of A whose policy lets `service` send on `*` and denies it, on the queue's `aws` ARN, for
    `source`: (its SQS client, its URL)."""
    sqs = server.client("sqs", key=A)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    principal = {"Service": service}
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sqs:SendMessage", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": principal,
                "Action": "sqs:SendMessage",
                "Resource": f"arn:aws:sqs:{EAST}:{A}:{name}",
                "Condition": {"ArnLike": {"aws:SourceArn": source}},
            },
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return sqs, url


def _empty(sqs: Any, url: str) -> bool:
    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", []) == []


@pytest.mark.parametrize("spelling", sorted(ACCOUNTS))
def test_an_sns_queue_endpoint_of_a_respelled_account_is_refused(server: Endpoint, spelling: str) -> None:
    """Attack: queue `q` of A lets SNS send on `*` but denies it, on `q`'s ARN, for A's topic `t`; A subscribes `q`
    to `t` by an Endpoint holding A's id spelled otherwise, and publishes. AWS: "For the sqs protocol, the endpoint
    is the ARN of an Amazon SQS queue" (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html), and no queue
    has an account of another spelling: 400 InvalidParameter, nothing delivered."""
    q = f"r16-sns-{spelling}"
    sns = server.client("sns", key=A)
    topic = sns.create_topic(Name=q)["TopicArn"]
    sqs, url = _denying_queue(server, q, "sns.amazonaws.com", topic)
    endpoint = f"arn:aws:sqs:{EAST}:{ACCOUNTS[spelling]}:{q}"
    code = "accepted"
    try:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint)
    except ClientError as refused:
        code = str(refused.response["Error"]["Code"])
    sns.publish(TopicArn=topic, Message="secret-r16")
    assert _empty(sqs, url)  # never delivered, before the fix too: no wrong allow
    assert code == "InvalidParameter"  # the fidelity gap this round fixed (stored before)


@pytest.mark.parametrize("spelling", sorted(ACCOUNTS))
def test_an_sns_lambda_endpoint_of_a_respelled_account_is_refused(server: Endpoint, spelling: str) -> None:
    """Attack: A subscribes its function `f` to its topic by an Endpoint holding A's id spelled otherwise. AWS: "For
    the lambda protocol, the endpoint is the ARN of an Lambda function"
    (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html): 400 InvalidParameter."""
    sns = server.client("sns", key=A)
    topic = sns.create_topic(Name=f"r16-snsl-{spelling}")["TopicArn"]
    endpoint = f"arn:aws:lambda:{EAST}:{ACCOUNTS[spelling]}:function:r16-f"
    assert _code(lambda: sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=endpoint)) == "InvalidParameter"
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


@pytest.mark.parametrize("spelling", sorted(ACCOUNTS))
def test_an_s3_notification_queue_of_a_respelled_account_is_refused(server: Endpoint, spelling: str) -> None:
    """Attack: queue `q` of A lets S3 send on `*` and denies it, on `q`'s ARN, for bucket X; X's notification
    configuration names `q` with A's id spelled otherwise. AWS: the destination is validated before the
    configuration is stored
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html): 400
    InvalidArgument, and nothing reaches `q` after a PutObject."""
    bucket = q = f"r16-notify-{spelling}"
    s3 = server.client("s3", key=A)
    s3.create_bucket(Bucket=bucket)
    sqs, url = _denying_queue(server, q, "s3.amazonaws.com", f"arn:aws:s3:::{bucket}")
    arn = f"arn:aws:sqs:{EAST}:{ACCOUNTS[spelling]}:{q}"
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    code = _code(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config))
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _empty(sqs, url)
    assert code == "InvalidArgument"


@pytest.mark.parametrize("spelling", sorted(ACCOUNTS))
def test_an_event_source_of_a_respelled_account_is_refused(server: Endpoint, spelling: str) -> None:
    """Attack: queue `q` of A denies the function role R sqs:ReceiveMessage on `q`'s ARN; A maps its function (role
    R) to `q` named with A's id spelled otherwise. AWS: EventSourceArn is the queue's ARN
    (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html): refused, no mapping."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    q = f"r16-esm-{spelling}"
    sqs = server.client("sqs", key=A)
    url = sqs.create_queue(QueueName=q)["QueueUrl"]
    role = make_role(
        server.client("iam", key=A),
        q,
        policy={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    )
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": role},
        "Action": "sqs:ReceiveMessage",
        "Resource": f"arn:aws:sqs:{EAST}:{A}:{q}",
    }
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [deny]})}
    )
    lam = server.client("lambda", key=A)
    code = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
    lam.create_function(FunctionName=q, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code})
    arn = f"arn:aws:sqs:{EAST}:{ACCOUNTS[spelling]}:{q}"
    answer = _code(lambda: lam.create_event_source_mapping(FunctionName=q, EventSourceArn=arn))
    assert lam.list_event_source_mappings(FunctionName=q)["EventSourceMappings"] == []
    assert answer in ("InvalidParameterValueException", "ValidationException")


@pytest.mark.parametrize("spelling", sorted(ACCOUNTS))
def test_own_resource_arns_of_a_respelled_account_do_not_escape_a_deny(server: Endpoint, spelling: str) -> None:
    """Attack: A's user is allowed everything but denied everything on A's table, topic, log group, function, queue
    and managed policy (their `aws` ARNs); it names each with A's id spelled otherwise, in every ARN-carrying member
    of a call acting on it. AWS: the member names a resource of the account the ARN holds, and no resource of A has
    another spelling of A's id (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html): each call is
    refused or acts on nothing of A's."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    acct = ACCOUNTS[spelling]
    name = f"r16-own-{spelling}"
    ddb = server.client("dynamodb", key=A)
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=name, Item={"k": {"S": "1"}, "v": {"S": "secret-r16"}})
    sns = server.client("sns", key=A)
    topic = sns.create_topic(Name=name)["TopicArn"]
    logs = server.client("logs", key=A)
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    logs.put_log_events(
        logGroupName=name, logStreamName="s", logEvents=[{"timestamp": 1_700_000_000_000, "message": "secret-r16"}]
    )
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam = server.client("iam", key=A)
    role = make_role(iam, name, policy=allow_all)
    lam = server.client("lambda", key=A)
    code = zip_of({"app.py": "def handler(event, context):\n    return 'ran-r16'\n"})
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
    )
    sqs = server.client("sqs", key=A)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="secret-r16")
    parn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(allow_all))["Policy"]["Arn"]
    iam.create_user(UserName=f"{name}-u")

    table = f"arn:aws:dynamodb:{EAST}:{A}:table/{name}"
    group = f"arn:aws:logs:{EAST}:{A}:log-group:{name}"
    fn = f"arn:aws:lambda:{EAST}:{A}:function:{name}"
    queue = f"arn:aws:sqs:{EAST}:{A}:{name}"
    resources = [table, topic, group, f"{group}:*", fn, f"{fn}:*", queue, parn]
    user = _allow_all_but(server, name, ["dynamodb:*", "sns:*", "logs:*", "lambda:*", "sqs:*", "iam:*"], resources)
    iam_c = clients_of(
        server,
        user_keys(
            server,
            A,
            f"{name}-c",
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "iam:AttachUserPolicy",
                "Resource": "*",
                "Condition": {"ArnEquals": {"iam:PolicyARN": parn}},
            },
        ),
    )("iam")
    t = f"arn:aws:dynamodb:{EAST}:{acct}:table/{name}"
    tp = f"arn:aws:sns:{EAST}:{acct}:{name}"
    g = f"arn:aws:logs:{EAST}:{acct}:log-group:{name}"
    f = f"arn:aws:lambda:{EAST}:{acct}:function:{name}"
    u = f"https://sqs.{EAST}.amazonaws.com/{acct}/{name}"
    p = f"arn:aws:iam::{acct}:policy/{name}"
    d, s, lg, lm, sq = (user(x) for x in ("dynamodb", "sns", "logs", "lambda", "sqs"))
    answers = _attempt(
        [
            lambda: d.get_item(TableName=t, Key={"k": {"S": "1"}}),
            lambda: d.put_item(TableName=t, Item={"k": {"S": "1"}, "v": {"S": "pwned"}}),
            lambda: d.scan(TableName=t),
            lambda: d.tag_resource(ResourceArn=t, Tags=[{"Key": "x", "Value": "y"}]),
            lambda: s.publish(TopicArn=tp, Message="pwned"),
            lambda: s.set_topic_attributes(TopicArn=tp, AttributeName="DisplayName", AttributeValue="pwned"),
            lambda: s.get_topic_attributes(TopicArn=tp),
            lambda: lg.get_log_events(logGroupIdentifier=g, logStreamName="s", startFromHead=True),
            lambda: lg.filter_log_events(logGroupIdentifier=g),
            lambda: lg.tag_resource(resourceArn=g, tags={"x": "y"}),
            lambda: lm.get_function(FunctionName=f),
            lambda: lm.invoke(FunctionName=f),
            lambda: lm.update_function_configuration(FunctionName=f, Description="pwned"),
            lambda: lm.add_permission(FunctionName=f, StatementId="x", Action="lambda:*", Principal=B),
            lambda: sq.receive_message(QueueUrl=u, WaitTimeSeconds=0),
            lambda: sq.set_queue_attributes(QueueUrl=u, Attributes={"DelaySeconds": "7"}),
            lambda: sq.get_queue_attributes(QueueUrl=u, AttributeNames=["All"]),
            lambda: iam_c.attach_user_policy(UserName=f"{name}-u", PolicyArn=p),
            lambda: user("iam").tag_policy(PolicyArn=p, Tags=[{"Key": "x", "Value": "y"}]),
            lambda: user("iam").get_policy(PolicyArn=p),
        ]
    )
    for answer in answers:
        text = json.dumps(answer, default=str)
        assert "secret-r16" not in text, text
        assert "ran-r16" not in (answer["Payload"].read().decode() if "Payload" in answer else ""), text
        assert name not in text or ("ResponseMetadata" in answer and len(answer) == 1), text
    assert ddb.get_item(TableName=name, Key={"k": {"S": "1"}})["Item"]["v"]["S"] == "secret-r16"
    assert ddb.list_tags_of_resource(ResourceArn=table).get("Tags", []) == []
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"].get("DisplayName", "") == ""
    assert logs.list_tags_for_resource(resourceArn=group).get("tags", {}) == {}
    assert lam.get_function_configuration(FunctionName=name).get("Description", "") == ""
    with contextlib.suppress(ClientError):
        assert "x" not in lam.get_policy(FunctionName=name)["Policy"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["DelaySeconds"] == "0"
    assert attrs["ApproximateNumberOfMessages"] == "1"
    assert iam.list_attached_user_policies(UserName=f"{name}-u")["AttachedPolicies"] == []
    assert iam.get_policy(PolicyArn=parn)["Policy"].get("Tags", []) == []
    # control: the aws ARNs are denied
    assert _code(lambda: d.get_item(TableName=table, Key={"k": {"S": "1"}})) == "AccessDeniedException"
    assert _code(lambda: iam_c.attach_user_policy(UserName=f"{name}-u", PolicyArn=parn)) == "AccessDenied"


@pytest.mark.parametrize("spelling", sorted(ACCOUNTS))
def test_add_permission_with_a_respelled_source_account_is_refused(server: Endpoint, spelling: str) -> None:
    """Attack: A's function permission for S3 with `SourceAccount`, or `Principal`, or a `SourceArn`'s account,
    holding A's id spelled otherwise. AWS: SourceAccount matches `\\d{12}` (Java, ASCII digits), Principal is an
    account id, an ARN or a service principal
    (https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html): refused, no statement stored."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    acct = ACCOUNTS[spelling]
    name = f"r16-perm-{spelling}"
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    role = make_role(server.client("iam", key=A), name, policy=allow_all)
    lam = server.client("lambda", key=A)
    code = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
    )
    codes = {
        "SourceAccount": _code(
            lambda: lam.add_permission(
                FunctionName=name,
                StatementId="a",
                Action="lambda:InvokeFunction",
                Principal="s3.amazonaws.com",
                SourceAccount=acct,
            )
        ),
        "Principal": _code(
            lambda: lam.add_permission(
                FunctionName=name, StatementId="b", Action="lambda:InvokeFunction", Principal=acct
            )
        ),
        "Principal-arn": _code(
            lambda: lam.add_permission(
                FunctionName=name,
                StatementId="c",
                Action="lambda:InvokeFunction",
                Principal=f"arn:aws:iam::{acct}:root",
            )
        ),
        "SourceArn": _code(
            lambda: lam.add_permission(
                FunctionName=name,
                StatementId="d",
                Action="lambda:InvokeFunction",
                Principal="sns.amazonaws.com",
                SourceArn=f"arn:aws:sns:{EAST}:{acct}:t",
            )
        ),
    }
    with contextlib.suppress(ClientError):
        assert lam.get_policy(FunctionName=name)["Policy"] == "", "a statement was stored"
    assert set(codes.values()) <= {"ValidationException", "InvalidParameterValueException"}, codes


def _patterns(value: object) -> list[re.Pattern[str]]:
    """The compiled patterns `value` holds (a pattern, or patterns nested in dicts, tuples and lists)."""
    if isinstance(value, re.Pattern):
        return [value]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _patterns(v)]
    if isinstance(value, tuple | list):
        return [p for v in value for p in _patterns(v)]
    return []


def _validator_modules() -> list[str]:
    """The modules round 14's table names as validating a stored ARN member before the decision."""
    from tests.security.test_region_account_round14 import VALIDATED, classify

    modules = {
        m
        for why in classify().values()
        if why.startswith(VALIDATED)
        for m in re.findall(r"(\w+/\w+(?:/\w+)?)\.py", why)
    }
    return sorted("lambdaperm." + m.replace("/", ".") for m in modules)


def test_every_stored_arn_validator_reads_digits_as_aws_does() -> None:
    """Structural (the shape of this round's finding): every pattern of every module that validates a stored ARN
    member (round 14's VALIDATED rows: S3 notification destinations, SNS sqs/lambda endpoints, Lambda SQS event
    sources) is compiled with re.ASCII, so its `\\d{12}` is the account id's twelve ASCII digits. Python's `\\d` also
    takes Arabic-Indic, fullwidth and every other Unicode digit, Java's (AWS's model patterns) does not
    (https://docs.oracle.com/javase/8/docs/api/java/util/regex/Pattern.html: "\\d A digit: [0-9]"). A module added to
    the table later is checked too."""
    modules = _validator_modules()
    assert len(modules) >= 4, modules
    loose = []
    for name in modules:
        module = importlib.import_module(name)
        found = [p for value in vars(module).values() for p in _patterns(value)]
        assert found, f"{name}: no compiled pattern found to check"
        loose += [f"{name}: {p.pattern}" for p in found if not p.flags & re.ASCII]
    assert loose == []


@pytest.mark.parametrize("spelling", ["arabic-indic", "fullwidth"])
def test_each_stored_arn_validator_refuses_an_account_in_other_digits(spelling: str) -> None:
    """Each validator, called as the data plane calls it, refuses A's queue / topic / function ARN whose account is
    written in other digits, and takes the same ARN in ASCII digits (control)."""
    from lambdaperm.dataplane import s3_notification_arns, sns_lambda_endpoints, sns_queue_endpoints
    from lambdaperm.protocol.errors import ServiceError
    from lambdaperm.services.lambda_ import sqs_source_arns

    def calls(acct: str) -> list[Callable[[], None]]:
        q, t = f"arn:aws:sqs:{EAST}:{acct}:q", f"arn:aws:sns:{EAST}:{acct}:t"
        f = f"arn:aws:lambda:{EAST}:{acct}:function:f"
        return [
            lambda: sns_queue_endpoints.check("Subscribe", {"Protocol": "sqs", "Endpoint": q}),
            lambda: sns_lambda_endpoints.check("Subscribe", {"Protocol": "lambda", "Endpoint": f}),
            lambda: s3_notification_arns.check({"QueueConfigurations": [{"QueueArn": q}]}),
            lambda: s3_notification_arns.check({"TopicConfigurations": [{"TopicArn": t}]}),
            lambda: s3_notification_arns.check({"LambdaFunctionConfigurations": [{"LambdaFunctionArn": f}]}),
            lambda: sqs_source_arns.check(q),
        ]

    for call in calls(A):
        call()  # control: A's ARNs in ASCII digits pass
    for i, call in enumerate(calls(ACCOUNTS[spelling])):
        with pytest.raises(ServiceError):
            call()
            pytest.fail(f"validator {i} took {ACCOUNTS[spelling]!r}")
