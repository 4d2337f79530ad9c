"""Attack class: execution-role checks skipped by an update (review finding).

CreateFunction refuses a dead-letter queue or topic the execution role cannot write to
(InvalidParameterValueException "The provided execution role does not have permissions to call SendMessage on
SQS" / "... Publish on SNS"; https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq,
spec §3.7). UpdateFunctionConfiguration takes the same `DeadLetterConfig`
(https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html) and lambdaperm ignored it
silently: the call succeeded and nothing was checked or stored. It is now checked as CreateFunction checks it;
a target that passes is then refused 501 NotImplemented (lambdaperm delivers no failed event: review round 9), and
an empty `TargetArn` (no target) is accepted. Each test runs against a real `lambdaperm serve` with real boto3.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of

ACCOUNT = "000000000000"
REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})


def refused(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = err.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def function(server: Endpoint, name: str) -> tuple[Any, str]:
    """A function whose role may write to nothing: (the Lambda client, the role's name)."""
    role = make_role(server.client("iam"), f"{name}-role")
    lam = server.client("lambda", region=REGION)
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    return lam, f"{name}-role"


def allow(server: Endpoint, role: str, action: str, resource: str) -> None:
    server.client("iam").put_role_policy(
        RoleName=role,
        PolicyName=action.replace(":", "-"),
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}
        ),
    )


def test_an_update_cannot_set_a_dead_letter_queue_the_role_cannot_write(server: Endpoint) -> None:
    server.client("sqs", region=REGION).create_queue(QueueName="update-dlq")
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:update-dlq"
    lam, role = function(server, "dlq-update")
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="dlq-update", DeadLetterConfig={"TargetArn": dlq})
    assert refused(err) == (
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call SendMessage on SQS",
        400,
    )
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName="dlq-update")
    # with the permission the target passes the role's check, as CreateFunction's; lambdaperm delivers no failed
    # event, so the target is then refused 501 naming DeadLetterConfig (review round 9), and nothing is stored
    allow(server, role, "sqs:SendMessage", dlq)
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="dlq-update", DeadLetterConfig={"TargetArn": dlq})
    assert refused(err)[0::2] == ("NotImplemented", 501) and "DeadLetterConfig" in refused(err)[1]
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName="dlq-update")
    # an empty TargetArn (no target) is accepted
    lam.update_function_configuration(FunctionName="dlq-update", DeadLetterConfig={"TargetArn": ""})
    assert "DeadLetterConfig" not in lam.get_function_configuration(FunctionName="dlq-update")


def test_an_update_cannot_set_a_dead_letter_topic_the_role_cannot_publish_to(server: Endpoint) -> None:
    topic = server.client("sns", region=REGION).create_topic(Name="update-dlt")["TopicArn"]
    lam, _ = function(server, "dlt-update")
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="dlt-update", DeadLetterConfig={"TargetArn": topic})
    assert refused(err) == (
        "InvalidParameterValueException",
        "The provided execution role does not have permissions to call Publish on SNS",
        400,
    )
    # a new role named in the same update is the one checked: it may publish, so the check passes and the target
    # is then refused 501 (lambdaperm delivers no failed event, review round 9); the whole update is refused
    before = lam.get_function_configuration(FunctionName="dlt-update")["Role"]
    other = make_role(server.client("iam"), "dlt-publisher")
    allow(server, "dlt-publisher", "sns:Publish", topic)
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(FunctionName="dlt-update", Role=other, DeadLetterConfig={"TargetArn": topic})
    assert refused(err)[0::2] == ("NotImplemented", 501) and "DeadLetterConfig" in refused(err)[1]
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(
            FunctionName="dlt-update", DeadLetterConfig={"TargetArn": f"arn:aws:s3:::{ACCOUNT}-bucket"}
        )
    assert refused(err)[0] == "InvalidParameterValueException"
    config = lam.get_function_configuration(FunctionName="dlt-update")
    assert config["Role"] == before and "DeadLetterConfig" not in config
