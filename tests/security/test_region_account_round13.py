"""Attack class: region and account confusion (review round 13).

Round 12 found an S3 notification destination ARN of another partition decided as written while moto delivered by
the ARN's account, region and name. This round generalizes it: every stored delivery / target ARN (SNS subscription
endpoints, Lambda event-source ARNs, SQS dead-letter targets, Logs subscription destinations, S3 notification
destinations), written with another partition, another region, another account, the wrong service, a trailing
newline or space, an upper-case service, or an extra segment, against a real `lambdaperm serve` with real boto3.
Each test asserts AWS's outcome: what a destination's policy denies is never delivered to it, whatever the ARN's
spelling.

AWS: "For the sqs protocol, the endpoint is the ARN of an Amazon SQS queue"
(https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html); an ARN is `arn:partition:service:region:account:
resource` and names a resource of its partition (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html);
the queue's policy decides whether SNS may send to it
(https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

A = "791300000001"
B = "791300000002"
EAST, WEST = "us-east-1", "eu-west-1"

# every spelling of "queue q of A in us-east-1" that is not its ARN, and the ARNs of q's twins elsewhere
SPELLINGS: dict[str, str] = {
    "aws-cn": "arn:aws-cn:sqs:{r}:{a}:{q}",
    "aws-us-gov": "arn:aws-us-gov:sqs:{r}:{a}:{q}",
    "wrong-service": "arn:aws:sns:{r}:{a}:{q}",
    "upper-service": "arn:aws:SQS:{r}:{a}:{q}",
    "newline": "arn:aws:sqs:{r}:{a}:{q}\n",
    "space": "arn:aws:sqs:{r}:{a}:{q} ",
    "extra-colon-segment": "arn:aws:sqs:{r}:{a}:x:{q}",
    "extra-path-segment": "arn:aws:sqs:{r}:{a}:x/{q}",
    "other-region": "arn:aws:sqs:eu-west-1:{a}:{q}",
    "other-account": "arn:aws:sqs:{r}:{b}:{q}",
}


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as failed:
        call()
    return str(failed.value.response["Error"]["Code"])


def _denying_queue(
    server: Endpoint, name: str, account: str, region: str, service: str, source: str
) -> tuple[Any, str]:
    """Queue `name` of `account` in `region` whose policy lets `service` send from anywhere (`Resource: *`) and
    denies it, on the queue's own `aws` ARN, for `source`: (its SQS client, its URL)."""
    sqs = server.client("sqs", key=account, region=region)
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
                "Resource": f"arn:aws:sqs:{region}:{account}:{name}",
                "Condition": {"ArnLike": {"aws:SourceArn": source}},
            },
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return sqs, url


def _empty(sqs: Any, url: str) -> bool:
    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", []) == []


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_an_sns_queue_endpoint_spelled_otherwise_does_not_escape_the_queue_policy(
    server: Endpoint, spelling: str
) -> None:
    """Attack: queue `q` of A (us-east-1) lets `sns.amazonaws.com` send from any topic on `*` but denies it, on `q`'s
    ARN, for A's topic `t`; so do A's same-name queue in eu-west-1 and B's in us-east-1, each on its own ARN. A
    subscribes `q` to `t` (Protocol `sqs`) by an Endpoint that is not `q`'s ARN — another partition, the wrong or an
    upper-case service, a trailing newline or space, an extra segment, another region or account — and publishes.
    AWS: the endpoint is an SQS queue's ARN and the queue's policy decides SNS's delivery
    (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html,
    https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html): either Subscribe is refused
    (400 InvalidParameter) or nothing is delivered — no message reaches any queue of that name."""
    q = f"r13-sns-{spelling}"
    sns = server.client("sns", key=A)
    topic = sns.create_topic(Name=f"r13-topic-{spelling}")["TopicArn"]
    queues = [
        _denying_queue(server, q, A, EAST, "sns.amazonaws.com", topic),
        _denying_queue(server, q, A, WEST, "sns.amazonaws.com", topic),
        _denying_queue(server, q, B, EAST, "sns.amazonaws.com", topic),
    ]
    endpoint = SPELLINGS[spelling].format(r=EAST, a=A, b=B, q=q)
    try:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint)
    except ClientError as refused:
        assert refused.response["Error"]["Code"] == "InvalidParameter"
    else:
        sns.publish(TopicArn=topic, Message="secret")
    for sqs, url in queues:
        assert _empty(sqs, url), f"{spelling}: delivered to {url}"


def test_an_sns_queue_endpoint_by_its_arn_is_delivered_when_allowed(server: Endpoint) -> None:
    """Control (the attack's shape can deliver): the same queue policy without the Deny; Subscribe by `q`'s own ARN
    and Publish: the message is delivered."""
    sns, sqs = server.client("sns", key=A), server.client("sqs", key=A)
    topic = sns.create_topic(Name="r13-topic-control")["TopicArn"]
    url = sqs.create_queue(QueueName="r13-sns-control")["QueueUrl"]
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": "*",
    }
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{EAST}:{A}:r13-sns-control")
    sns.publish(TopicArn=topic, Message="hello")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["Message"] for m in got] == ["hello"]


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_an_s3_notification_queue_spelled_otherwise_does_not_escape_the_queue_policy(
    server: Endpoint, spelling: str
) -> None:
    """Attack (round 12's finding, every spelling): queue `q` of A lets `s3.amazonaws.com` send on `*` and denies it,
    on `q`'s ARN, for bucket X (so do A's same-name queue in eu-west-1 and B's); X's notification configuration
    names `q` otherwise than by its ARN. AWS: the destination is a queue of the bucket's partition and region,
    validated before the configuration is stored
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html): 400
    InvalidArgument, and nothing reaches any queue of that name after a PutObject."""
    bucket, q = f"r13-notify-{spelling}", f"r13-s3q-{spelling}"
    s3 = server.client("s3", key=A)
    s3.create_bucket(Bucket=bucket)
    source = f"arn:aws:s3:::{bucket}"
    queues = [
        _denying_queue(server, q, A, EAST, "s3.amazonaws.com", source),
        _denying_queue(server, q, A, WEST, "s3.amazonaws.com", source),
        _denying_queue(server, q, B, EAST, "s3.amazonaws.com", source),
    ]
    arn = SPELLINGS[spelling].format(r=EAST, a=A, b=B, q=q)
    config = {"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]}
    # whitespace around an XML value: 501 before anything reads it (s3_xml_whitespace, review round 6)
    assert _code(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)) in (
        "InvalidArgument",
        "NotImplemented",
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for sqs, url in queues:
        assert _empty(sqs, url), f"{spelling}: delivered to {url}"


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_dead_letter_target_spelled_otherwise_does_not_escape_its_redrive_allow_policy(
    server: Endpoint, spelling: str
) -> None:
    """Attack: dead-letter queue `q` of A allows no source queue (RedriveAllowPolicy `denyAll`; so do A's same-name
    queue in eu-west-1 and B's). A's queue `src` names `q` as its `deadLetterTargetArn` otherwise than by its ARN,
    then receives a message past maxReceiveCount 1. AWS: the dead-letter queue is a queue of the source's account
    and region named by its ARN, and its RedriveAllowPolicy decides which source queues may name it
    (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html): refused, no
    RedrivePolicy stored, nothing moved into any queue of that name."""
    q = f"r13-dlq-{spelling}"
    queues = []
    for account, region in ((A, EAST), (A, WEST), (B, EAST)):
        sqs = server.client("sqs", key=account, region=region)
        url = sqs.create_queue(
            QueueName=q, Attributes={"RedriveAllowPolicy": json.dumps({"redrivePermission": "denyAll"})}
        )["QueueUrl"]
        queues.append((sqs, url))
    sqs = server.client("sqs", key=A)
    src = sqs.create_queue(QueueName=f"r13-src-{spelling}", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    target = SPELLINGS[spelling].format(r=EAST, a=A, b=B, q=q)
    redrive = json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": "1"})
    assert _code(lambda: sqs.set_queue_attributes(QueueUrl=src, Attributes={"RedrivePolicy": redrive})) in (
        "InvalidParameterValue",
        "AWS.SimpleQueueService.NonExistentQueue",
    )
    assert "RedrivePolicy" not in sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["All"])["Attributes"]
    sqs.send_message(QueueUrl=src, MessageBody="secret")
    for _ in range(3):
        sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    for client, url in queues:
        assert _empty(client, url), f"{spelling}: moved into {url}"


# another region / account: rounds 12 and 5. A trailing space and an extra `:` segment are accepted (a mapping on
# a queue name SQS cannot hold, `q ` / `x:q`): the poller resolves the same `split(":", 5)` name, which names no
# queue, so nothing is received — fidelity, recorded in docs/security.md, not asserted here.
ESM_SPELLINGS = {
    k: v for k, v in SPELLINGS.items() if k not in ("other-account", "other-region", "space", "extra-colon-segment")
}


@pytest.mark.parametrize("spelling", sorted(ESM_SPELLINGS))
def test_an_event_source_arn_spelled_otherwise_does_not_escape_the_queue_policy(
    server: Endpoint, spelling: str
) -> None:
    """Attack: queue `q` of A allows function role R everything on `*` but denies it sqs:ReceiveMessage on `q`'s ARN;
    A creates an event-source mapping of its function (role R) on `q` named otherwise than by its ARN. (Another
    region and another account are round 12's and round 5's tests.) AWS: EventSourceArn is the queue's ARN and the
    execution role needs ReceiveMessage on the queue
    (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html): refused, no mapping."""
    from tests.e2e.lambda_helpers import make_role, zip_of

    q = f"r13-esm-{spelling}"
    sqs = server.client("sqs", key=A)
    url = sqs.create_queue(QueueName=q)["QueueUrl"]
    role = make_role(
        server.client("iam", key=A),
        f"r13-esm-role-{spelling}",
        policy={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": role},
                "Action": "sqs:ReceiveMessage",
                "Resource": f"arn:aws:sqs:{EAST}:{A}:{q}",
            },
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    lam = server.client("lambda", key=A)
    code = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
    name = f"r13-esm-{spelling}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
    )
    arn = ESM_SPELLINGS[spelling].format(r=EAST, a=A, b=B, q=q)
    assert _code(lambda: lam.create_event_source_mapping(FunctionName=name, EventSourceArn=arn)) in (
        "InvalidParameterValueException",
        "AccessDeniedException",
        "ValidationException",
    )
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []


def _b_user(server: Endpoint, name: str) -> Callable[..., Any]:
    from tests.security.iam_users import clients_of, user_keys

    return clients_of(server, user_keys(server, B, name, {"Effect": "Allow", "Action": "*", "Resource": "*"}))


def _grant(principal: str, action: str, resource: str) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
@pytest.mark.parametrize("named", ["principal", "resource"])
@pytest.mark.parametrize("service", ["sqs", "sns", "dynamodb", "lambda"])
def test_a_resource_policy_of_another_partition_grants_nothing_here(
    server: Endpoint, service: str, named: str, partition: str
) -> None:
    """Attack: A's queue / topic / table / function policy grants B, but names B (`arn:<partition>:iam::B:root`) or
    the resource (`arn:<partition>:…`) in another partition; B's user, allowed `*` by its own policy, calls on A's
    resource. AWS: the partition is part of an ARN, and an ARN of another partition names no principal or resource
    of the `aws` partition (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html); across accounts the
    resource's policy must allow (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):
    either the policy is refused or B's call is AccessDenied (issue 8 §5 fixed this for IAM documents and bucket
    policies)."""
    tag = f"r13-{service}-{named}-{partition}"
    principal = f"arn:{partition if named == 'principal' else 'aws'}:iam::{B}:root"
    part = partition if named == "resource" else "aws"
    b = _b_user(server, tag)
    denied = ("AccessDenied", "AccessDeniedException", "AuthorizationError", "InvalidParameterValue")
    if service == "sqs":
        sqs = server.client("sqs", key=A)
        url = sqs.create_queue(QueueName=tag)["QueueUrl"]
        policy = _grant(principal, "sqs:SendMessage", f"arn:{part}:sqs:{EAST}:{A}:{tag}")
        try:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        except ClientError:
            return  # refused: nothing granted
        assert _code(lambda: b("sqs").send_message(QueueUrl=url, MessageBody="x")) in denied
        assert _empty(sqs, url)
    elif service == "sns":
        sns = server.client("sns", key=A)
        topic = sns.create_topic(Name=tag)["TopicArn"]
        policy = _grant(principal, "sns:Publish", topic.replace("arn:aws:", f"arn:{part}:", 1))
        try:
            sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
        except ClientError:
            return
        assert _code(lambda: b("sns").publish(TopicArn=topic, Message="x")) in denied
    elif service == "dynamodb":
        ddb = server.client("dynamodb", key=A)
        ddb.create_table(
            TableName=tag,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName=tag, Item={"k": {"S": "secret"}})
        arn = f"arn:aws:dynamodb:{EAST}:{A}:table/{tag}"
        policy = _grant(principal, "dynamodb:GetItem", arn.replace("arn:aws:", f"arn:{part}:", 1))
        try:
            ddb.put_resource_policy(ResourceArn=arn, Policy=policy)
        except ClientError:
            return
        got = b("dynamodb")
        assert _code(lambda: got.get_item(TableName=arn, Key={"k": {"S": "secret"}})) in denied
    else:
        from tests.e2e.lambda_helpers import make_role, zip_of

        lam = server.client("lambda", key=A)
        code = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
        role = make_role(server.client("iam", key=A), tag)
        fn = lam.create_function(
            FunctionName=tag, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": code}
        )["FunctionArn"]
        try:
            if named == "principal":
                lam.add_permission(
                    FunctionName=tag, StatementId="b", Action="lambda:InvokeFunction", Principal=principal
                )
            else:  # a function policy's Resource is the function it is attached to: the SourceArn condition instead
                lam.add_permission(
                    FunctionName=tag,
                    StatementId="b",
                    Action="lambda:InvokeFunction",
                    Principal="s3.amazonaws.com",
                    SourceArn=f"arn:{partition}:s3:::{tag}",
                    SourceAccount=A,
                )
        except ClientError:
            return
        assert _code(lambda: b("lambda").invoke(FunctionName=fn)) in denied


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_a_source_arn_condition_of_another_partition_matches_no_bucket_here(server: Endpoint, partition: str) -> None:
    """Attack: queue `q` of A lets `s3.amazonaws.com` send only when `aws:SourceArn` is `arn:<partition>:s3:::X`;
    bucket X (of the `aws` partition) names `q` as its destination. AWS: the condition compares the whole ARN, whose
    partition is part of it (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn):
    S3's delivery is not allowed, so the configuration is refused (InvalidArgument) and nothing is delivered; with
    `arn:aws:s3:::X` it is accepted (control)."""
    bucket, q = f"r13-srcarn-{partition}", f"r13-srcarn-{partition}"
    s3, sqs = server.client("s3", key=A), server.client("sqs", key=A)
    s3.create_bucket(Bucket=bucket)
    url = sqs.create_queue(QueueName=q)["QueueUrl"]

    def allow_from(source: str) -> None:
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": f"arn:aws:sqs:{EAST}:{A}:{q}",
            "Condition": {"ArnLike": {"aws:SourceArn": source}},
        }
        policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})

    config = {"QueueConfigurations": [{"QueueArn": f"arn:aws:sqs:{EAST}:{A}:{q}", "Events": ["s3:ObjectCreated:*"]}]}
    allow_from(f"arn:{partition}:s3:::{bucket}")
    assert (
        _code(lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config))
        == "InvalidArgument"
    )
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _empty(sqs, url)
    allow_from(f"arn:aws:s3:::{bucket}")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
