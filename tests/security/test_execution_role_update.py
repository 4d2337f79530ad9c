"""Attack class: execution-role checks skipped by an update (review finding).

CreateFunction refuses a dead-letter queue or topic the execution role cannot write to
(InvalidParameterValueException "The provided execution role does not have permissions to call SendMessage on
SQS" / "... Publish on SNS"; https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq,
spec §3.7). UpdateFunctionConfiguration takes the same `DeadLetterConfig`
(https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html) and lambdaperm ignored it
silently: the call succeeded and nothing was checked or stored. It is now honoured with CreateFunction's checks,
and an empty `TargetArn` removes the target. Each test runs against a real `lambdaperm serve` with real boto3.
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
    # with the permission the target is taken and shown, as CreateFunction takes it
    allow(server, role, "sqs:SendMessage", dlq)
    out = lam.update_function_configuration(FunctionName="dlq-update", DeadLetterConfig={"TargetArn": dlq})
    assert out["DeadLetterConfig"] == {"TargetArn": dlq}
    assert lam.get_function_configuration(FunctionName="dlq-update")["DeadLetterConfig"] == {"TargetArn": dlq}
    # an update that does not name it keeps it; an empty TargetArn removes it
    assert lam.update_function_configuration(FunctionName="dlq-update", Timeout=9)["DeadLetterConfig"] == {
        "TargetArn": dlq
    }
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
    # a new role named in the same update is the one checked
    other = make_role(server.client("iam"), "dlt-publisher")
    allow(server, "dlt-publisher", "sns:Publish", topic)
    out = lam.update_function_configuration(
        FunctionName="dlt-update", Role=other, DeadLetterConfig={"TargetArn": topic}
    )
    assert (out["Role"], out["DeadLetterConfig"]) == (other, {"TargetArn": topic})
    with pytest.raises(ClientError) as err:
        lam.update_function_configuration(
            FunctionName="dlt-update", DeadLetterConfig={"TargetArn": f"arn:aws:s3:::{ACCOUNT}-bucket"}
        )
    assert refused(err)[0] == "InvalidParameterValueException"
    assert lam.get_function_configuration(FunctionName="dlt-update")["DeadLetterConfig"] == {"TargetArn": topic}
