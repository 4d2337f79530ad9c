"""Review round 1: the checks Lambda makes with the execution role (event source mapping creation, dead-letter
target, VPC network interfaces, CloudWatch Logs writes) decide as the call made by a session of the role would be
decided: the role's policies and boundary, its tags as principal tags, the target's resource policy (and its
account), and the request context AWS sets. Real `lambdaperm serve`, real boto3.

AWS: Lambda makes these calls with credentials of the execution role
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html); a role session's principal tags
are the role's tags (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
#condition-keys-principaltag); an explicit Deny in a resource policy wins, and across accounts the resource policy
must allow too (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of

REGION = "us-east-1"
SQS_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
BASIC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VPC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
CODE = zip_of({"app.py": "def handler(event, context):\n    print('log line from the handler')\n    return 'ok'\n"})


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny_when_tagged(actions: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": actions,
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/quarantine": "true"}},
            }
        ],
    }


def function(server: Endpoint, account: str, name: str, role: str, **extra: Any) -> dict[str, Any]:
    return dict(
        server.client("lambda", key=account).create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}, **extra
        )
    )


def queue(server: Endpoint, account: str, name: str, queue_policy: str | None = None) -> str:
    sqs = server.client("sqs", key=account)
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    if queue_policy is not None:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": queue_policy})
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


def refused(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


# ---- event source mapping creation -------------------------------------------------------------------------------


def test_mapping_refused_when_the_queue_policy_denies_the_role(server: Endpoint) -> None:
    """Attack: the role allows the SQS actions; the queue's policy explicitly denies the role. The mapping is made.
    AWS: the explicit Deny of the queue policy applies to the role's session: Lambda cannot read the queue and
    CreateEventSourceMapping is refused (InvalidParameterValueException)."""
    account = "552200000001"
    role = make_role(server.client("iam", key=account), "denied-by-queue", managed=[SQS_ROLE])
    function(server, account, "fn", role)
    arn = queue(
        server,
        account,
        "guarded",
        policy({"Effect": "Deny", "Principal": {"AWS": role}, "Action": "sqs:ReceiveMessage", "Resource": "*"}),
    )
    lam = server.client("lambda", key=account)
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="fn", BatchSize=1)
    assert refused(exc) == (
        "InvalidParameterValueException",
        "The function execution role does not have permissions to call ReceiveMessage on SQS",
    )
    assert lam.list_event_source_mappings(FunctionName="fn")["EventSourceMappings"] == []


def test_mapping_refused_when_the_roles_tag_denies(server: Endpoint) -> None:
    """Attack: the role is tagged quarantine=true and a policy denies SQS to sessions carrying that principal tag.
    AWS: the role's tags are its session's aws:PrincipalTag: the Deny applies, the mapping is refused."""
    account = "552200000002"
    iam = server.client("iam", key=account)
    role = make_role(iam, "quarantined", deny_when_tagged("sqs:*"), managed=[SQS_ROLE])
    iam.tag_role(RoleName="quarantined", Tags=[{"Key": "quarantine", "Value": "true"}])
    function(server, account, "fn", role)
    arn = queue(server, account, "jobs")
    with pytest.raises(ClientError) as exc:
        server.client("lambda", key=account).create_event_source_mapping(EventSourceArn=arn, FunctionName="fn")
    assert refused(exc)[0] == "InvalidParameterValueException"


def test_mapping_to_a_queue_of_another_account_needs_the_queue_policy(server: Endpoint) -> None:
    """Attack: a role allowed sqs:* on every resource maps another account's queue whose policy says nothing of it.
    AWS: across accounts the queue policy must allow the role too; it does not: refused. With a queue policy
    allowing the role, the mapping is created (positive control)."""
    account, victim = "552200000003", "552200000004"
    role = make_role(server.client("iam", key=account), "reacher", managed=[SQS_ROLE])
    function(server, account, "fn", role)
    arn = queue(server, victim, "private")
    lam = server.client("lambda", key=account)
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="fn")
    assert refused(exc) == (
        "InvalidParameterValueException",
        "The function execution role does not have permissions to call ReceiveMessage on SQS",
    )
    shared = queue(
        server,
        victim,
        "shared",
        policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": role},
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": "*",
            }
        ),
    )
    made = lam.create_event_source_mapping(EventSourceArn=shared, FunctionName="fn")
    assert made["EventSourceArn"] == shared


# ---- dead-letter target ------------------------------------------------------------------------------------------


def test_dead_letter_queue_refused_when_its_policy_denies_the_role(server: Endpoint) -> None:
    """Attack: the role may sqs:SendMessage anywhere; the dead-letter queue's policy denies it. The function is made.
    AWS: the queue policy's Deny applies to the role's session: CreateFunction is refused."""
    account = "552200000005"
    role = make_role(
        server.client("iam", key=account),
        "dlq-role",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]},
    )
    arn = queue(
        server,
        account,
        "dlq",
        policy({"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}),
    )
    with pytest.raises(ClientError) as exc:
        function(server, account, "fn", role, DeadLetterConfig={"TargetArn": arn})
    assert refused(exc) == (
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call SendMessage on SQS",
    )
    other = queue(server, account, "dlq-ok")  # positive control: no queue policy, the role's Allow suffices, and
    # the target passes the role's check; lambdaperm delivers no failed event, so it is then 501 (review round 9)
    with pytest.raises(ClientError) as exc:
        function(server, account, "fn", role, DeadLetterConfig={"TargetArn": other})
    assert refused(exc)[0] == "NotImplemented" and "DeadLetterConfig" in refused(exc)[1]


def test_dead_letter_queue_of_another_account_needs_its_policy(server: Endpoint) -> None:
    """Attack: the dead-letter target is another account's queue, without a policy naming the role.
    AWS: across accounts the queue policy must allow sqs:SendMessage: refused."""
    account, victim = "552200000006", "552200000007"
    role = make_role(
        server.client("iam", key=account),
        "dlq-role",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]},
    )
    arn = queue(server, victim, "their-dlq")
    with pytest.raises(ClientError) as exc:
        function(server, account, "fn", role, DeadLetterConfig={"TargetArn": arn})
    assert refused(exc) == (
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call SendMessage on SQS",
    )


# ---- VPC network interfaces -----------------------------------------------------------------------------------


def test_vpc_function_refused_when_the_roles_tag_denies_eni_actions(server: Endpoint) -> None:
    """Attack: the role has AWSLambdaVPCAccessExecutionRole but a Deny on ec2:* for sessions tagged quarantine=true,
    and the role carries that tag. AWS: the Deny applies to the role's session: CreateFunction is refused."""
    account = "552200000008"
    iam = server.client("iam", key=account)
    role = make_role(iam, "vpc-role", deny_when_tagged("ec2:*"), managed=[VPC_ROLE])
    iam.tag_role(RoleName="vpc-role", Tags=[{"Key": "quarantine", "Value": "true"}])
    ec2 = server.client("ec2", key=account)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="fn", Description="fn", VpcId=vpc)["GroupId"]
    vpc_config = {"SubnetIds": [subnet], "SecurityGroupIds": [group]}
    with pytest.raises(ClientError) as exc:
        function(server, account, "fn", role, VpcConfig=vpc_config)
    assert refused(exc) == (
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call CreateNetworkInterface on EC2",
    )
    iam.untag_role(RoleName="vpc-role", TagKeys=["quarantine"])  # positive control
    assert function(server, account, "fn", role, VpcConfig=vpc_config)["VpcConfig"]["VpcId"] == vpc


# ---- CloudWatch Logs -----------------------------------------------------------------------------------------


def log_events(server: Endpoint, account: str, group: str) -> list[str]:
    logs = server.client("logs", key=account)
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []
    return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]


def test_logs_not_written_when_the_roles_tag_denies(server: Endpoint) -> None:
    """Attack: the role has AWSLambdaBasicExecutionRole and a Deny on logs:* under aws:PrincipalTag/quarantine, and
    carries the tag; the invocation's logs are written anyway. AWS: Lambda writes logs with the role's session,
    the Deny applies, nothing is written. Positive control: a function of an untagged role has its log line."""
    account = "552200000009"
    iam = server.client("iam", key=account)
    quiet = make_role(iam, "quiet", deny_when_tagged("logs:*"), managed=[BASIC_ROLE])
    iam.tag_role(RoleName="quiet", Tags=[{"Key": "quarantine", "Value": "true"}])
    loud = make_role(iam, "loud", deny_when_tagged("logs:*"), managed=[BASIC_ROLE])
    function(server, account, "quiet-fn", quiet)
    function(server, account, "loud-fn", loud)
    lam = server.client("lambda", key=account)
    lam.invoke(FunctionName="loud-fn", Payload=b"{}")  # logs are shipped before Invoke answers
    lam.invoke(FunctionName="quiet-fn", Payload=b"{}")
    assert any("log line from the handler" in m for m in log_events(server, account, "/aws/lambda/loud-fn"))
    assert log_events(server, account, "/aws/lambda/quiet-fn") == []


def test_logs_decision_carries_the_source_function_arn(server: Endpoint) -> None:
    """Lambda writes logs with lambda:SourceFunctionArn set to the function's ARN
    (https://docs.aws.amazon.com/lambda/latest/dg/permissions-source-function-arn.html): a role allowing logs only
    for another function's ARN writes nothing for this one; allowing its own ARN writes the line."""
    account = "552200000010"
    iam = server.client("iam", key=account)

    def scoped(fn: str) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "logs:*",
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": {"lambda:SourceFunctionArn": f"arn:aws:lambda:{REGION}:{account}:function:{fn}"}
                    },
                }
            ],
        }

    mine = make_role(iam, "scoped-mine", scoped("mine"))
    theirs = make_role(iam, "scoped-theirs", scoped("someone-else"))
    function(server, account, "mine", mine)
    function(server, account, "other", theirs)
    lam = server.client("lambda", key=account)
    lam.invoke(FunctionName="mine", Payload=b"{}")
    lam.invoke(FunctionName="other", Payload=b"{}")
    assert any("log line from the handler" in m for m in log_events(server, account, "/aws/lambda/mine"))
    assert log_events(server, account, "/aws/lambda/other") == []


# ---- regions: a mapping's source is in its function's region ------------------------------------------------


def test_stream_mapping_of_another_region_is_refused(server: Endpoint) -> None:
    """Attack: a function of us-east-1 maps a DynamoDB stream and a Kinesis stream of us-west-2 (the role allows
    every stream action). AWS: the source must be in the function's region: InvalidParameterValueException
    "Event source region must match Lambda region us-east-1." (observed, pmuens/serverless-kinesis-streams#1)."""
    account = "552200000011"
    role = make_role(
        server.client("iam", key=account),
        "streams",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["dynamodb:*", "kinesis:*"], "Resource": "*"}],
        },
    )
    function(server, account, "fn", role)
    lam = server.client("lambda", key=account)
    for source in (
        f"arn:aws:dynamodb:us-west-2:{account}:table/T/stream/2026-01-01T00:00:00.000",
        f"arn:aws:kinesis:us-west-2:{account}:stream/S",
    ):
        with pytest.raises(ClientError) as exc:
            lam.create_event_source_mapping(EventSourceArn=source, FunctionName="fn", StartingPosition="LATEST")
        assert refused(exc) == (
            "InvalidParameterValueException",
            "Event source region must match Lambda region us-east-1.",
        )
    same = f"arn:aws:kinesis:{REGION}:{account}:stream/S"  # positive control: past the region and role checks,
    # a stream is not polled by lambdaperm: 501 naming it (review round 9), not the region's 400
    with pytest.raises(ClientError) as exc:
        lam.create_event_source_mapping(EventSourceArn=same, FunctionName="fn", StartingPosition="LATEST")
    assert refused(exc)[0] == "NotImplemented" and same in refused(exc)[1]
    queue_arn = queue(server, account, "same-region")  # and an SQS source of the function's region is mapped
    server.client("iam", key=account).attach_role_policy(RoleName="streams", PolicyArn=SQS_ROLE)
    assert lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="fn")["EventSourceArn"] == queue_arn


def test_update_moving_a_mapping_to_a_function_of_another_region_is_refused(server: Endpoint) -> None:
    """Attack: a mapping of a us-east-1 queue is moved by UpdateEventSourceMapping to a function of us-west-2 (named
    by its ARN). AWS: the queue and the function must share a region: refused; the mapping keeps its function."""
    account = "552200000012"
    role = make_role(server.client("iam", key=account), "mover", managed=[SQS_ROLE])
    function(server, account, "east", role)
    west_arn = server.client("lambda", key=account, region="us-west-2").create_function(
        FunctionName="west", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )["FunctionArn"]
    lam = server.client("lambda", key=account)
    mapping = lam.create_event_source_mapping(EventSourceArn=queue(server, account, "jobs"), FunctionName="east")
    with pytest.raises(ClientError) as exc:
        lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionName=west_arn)
    assert refused(exc)[0] == "InvalidParameterValueException"
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["FunctionArn"] == mapping["FunctionArn"]


def test_update_moving_a_mapping_checks_the_new_functions_role(server: Endpoint) -> None:
    """Attack: a mapping is moved by UpdateEventSourceMapping to a function whose execution role may not read the
    queue (FunctionName used to be ignored by Update; now it moves the mapping under creation's rules). AWS: the
    new function's role must allow the SQS actions: refused; to a function whose role may, the mapping moves."""
    account = "552200000013"
    iam = server.client("iam", key=account)
    reader = make_role(iam, "reader", managed=[SQS_ROLE])
    plain = make_role(iam, "plain", managed=[BASIC_ROLE])
    function(server, account, "first", reader)
    function(server, account, "unprivileged", plain)
    second = function(server, account, "second", reader)["FunctionArn"]
    lam = server.client("lambda", key=account)
    mapping = lam.create_event_source_mapping(EventSourceArn=queue(server, account, "jobs"), FunctionName="first")
    with pytest.raises(ClientError) as exc:
        lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionName="unprivileged")
    assert refused(exc) == (
        "InvalidParameterValueException",
        "The function execution role does not have permissions to call ReceiveMessage on SQS",
    )
    assert lam.get_event_source_mapping(UUID=mapping["UUID"])["FunctionArn"] == mapping["FunctionArn"]
    assert lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionName="second")["FunctionArn"] == second
