"""Lambda through a real server: both permission sides, the runtime under the execution role."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint
from .lambda_helpers import HANDLER, make_role, payload, zip_of
from .test_iam_sts import error, make_user

ACCOUNT = "000000000000"
OTHER = "111122223333"
REGION = "us-west-2"
CODE = zip_of({"app.py": HANDLER})
WRITE_TEST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/test"}]}


@pytest.fixture(scope="module")
def fn(server: Endpoint) -> dict[str, Any]:
    iam = server.client("iam")
    role = make_role(iam, "fn-role", WRITE_TEST,
                     managed=["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"])
    ddb = server.client("dynamodb", region=REGION)
    for table in ("test", "other"):
        ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
    lam = server.client("lambda", region=REGION)
    config = lam.create_function(FunctionName="my-function", Runtime="python3.11", Role=role, Handler="app.handler",
                                 Code={"ZipFile": CODE}, Timeout=10)
    return {"role": role, "config": config, "arn": config["FunctionArn"]}


def test_create_function_shape(fn: dict[str, Any]) -> None:
    config = fn["config"]
    assert config["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:my-function"
    assert config["Version"] == "$LATEST" and config["State"] == "Active"
    assert config["Role"] == fn["role"] and config["Handler"] == "app.handler"
    assert len(base64.b64decode(config["CodeSha256"])) == 32 and config["CodeSize"] == len(CODE)


def test_trust_and_pass_role_are_checked(server: Endpoint, fn: dict[str, Any]) -> None:
    iam = server.client("iam")
    untrusted = make_role(iam, "not-for-lambda", trust={"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    lam = server.client("lambda", region=REGION)
    with pytest.raises(ClientError) as bad:
        lam.create_function(FunctionName="f2", Runtime="python3.11", Role=untrusted, Handler="app.handler",
                            Code={"ZipFile": CODE})
    assert error(bad) == ("InvalidParameterValueException",
                          "The role defined for the function cannot be assumed by Lambda.", 400)
    with pytest.raises(ClientError) as cross:
        lam.create_function(FunctionName="f3", Runtime="python3.11", Role=f"arn:aws:iam::{OTHER}:role/x",
                            Handler="app.handler", Code={"ZipFile": CODE})
    assert error(cross) == ("AccessDeniedException", "Cross-account pass role is not allowed.", 403)
    key, secret = make_user(server, "deployer", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:CreateFunction", "Resource": "*"}]})
    deployer = server.client("lambda", key=key, secret=secret, region=REGION)
    with pytest.raises(ClientError) as no_pass:
        deployer.create_function(FunctionName="f4", Runtime="python3.11", Role=fn["role"], Handler="app.handler",
                                 Code={"ZipFile": CODE})
    code, message, status = error(no_pass)
    assert (code, status) == ("AccessDeniedException", 403)
    assert message.startswith(f"User: arn:aws:iam::{ACCOUNT}:user/deployer is not authorized to perform: "
                              f"iam:PassRole on resource: {fn['role']}")
    with pytest.raises(ClientError) as bad_zip:
        lam.create_function(FunctionName="f5", Runtime="python3.11", Role=fn["role"], Handler="app.handler",
                            Code={"ZipFile": b"not a zip"})
    assert error(bad_zip)[:2] == ("InvalidParameterValueException",
                                  "Could not unzip uploaded file. Please check your file, then try to upload again.")


def test_invoke_runs_under_the_execution_role(server: Endpoint, fn: dict[str, Any]) -> None:
    lam = server.client("lambda", region=REGION)
    whoami = lam.invoke(FunctionName="my-function", Payload=json.dumps({"action": "whoami"}))
    assert whoami["StatusCode"] == 200 and whoami["ExecutedVersion"] == "$LATEST"
    assert payload(whoami) == f"arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/my-function"
    ok = payload(lam.invoke(FunctionName="my-function", Payload=json.dumps({"action": "put", "table": "test"})))
    assert ok == {"ok": True}
    denied = payload(lam.invoke(FunctionName="my-function",
                                Payload=json.dumps({"action": "put", "table": "other"})))
    assert denied["ok"] is False
    assert (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/fn-role/my-function is not authorized to perform: "
            f"dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other") in denied["error"]


def test_handler_environment_is_clean(server: Endpoint, fn: dict[str, Any]) -> None:
    lam = server.client("lambda", region=REGION)
    keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_ENDPOINT_URL", "HOME", "PYTEST_CURRENT_TEST"]
    env = payload(lam.invoke(FunctionName="my-function", Payload=json.dumps({"action": "env", "keys": keys})))
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "my-function" and env["AWS_REGION"] == REGION
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["PYTEST_CURRENT_TEST"] is None


def test_function_error_and_log_tail(server: Endpoint, fn: dict[str, Any]) -> None:
    lam = server.client("lambda", region=REGION)
    failed = lam.invoke(FunctionName="my-function", Payload=json.dumps({"action": "fail"}))
    assert failed["StatusCode"] == 200 and failed["FunctionError"] == "Unhandled"
    body = payload(failed)
    assert body["errorType"] == "KeyError" and body["errorMessage"] == "'action'"
    tail = lam.invoke(FunctionName="my-function", Payload=b"{}", LogType="Tail")
    logs = base64.b64decode(tail["LogResult"]).decode()
    assert "hello from the handler" in logs and "START RequestId:" in logs
    assert lam.invoke(FunctionName="my-function", InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName="my-function", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    with pytest.raises(ClientError) as bad_json:
        lam.invoke(FunctionName="my-function", Payload=b"{not json")
    assert error(bad_json)[0] == "InvalidRequestContentException"


def test_add_permission_statement_and_errors(server: Endpoint, fn: dict[str, Any]) -> None:
    lam = server.client("lambda", region=REGION)
    out = lam.add_permission(FunctionName="my-function", StatementId="s3invoke", Action="lambda:InvokeFunction",
                             Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::amzn-s3-demo-bucket",
                             SourceAccount=OTHER)
    assert json.loads(out["Statement"]) == {
        "Sid": "s3invoke", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": fn["arn"],
        "Condition": {"StringEquals": {"AWS:SourceAccount": OTHER},
                      "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::amzn-s3-demo-bucket"}}}
    policy = lam.get_policy(FunctionName="my-function")
    doc = json.loads(policy["Policy"])
    assert doc["Version"] == "2012-10-17" and doc["Id"] == "default" and len(doc["Statement"]) == 1
    with pytest.raises(ClientError) as dup:
        lam.add_permission(FunctionName="my-function", StatementId="s3invoke", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com")
    assert error(dup) == ("ResourceConflictException", "The statement id (s3invoke) provided already exists. "
                          "Please provide a new statement id, or remove the existing statement.", 409)
    with pytest.raises(ClientError) as latest:
        lam.add_permission(FunctionName="my-function", StatementId="x", Action="lambda:InvokeFunction",
                           Principal=OTHER, Qualifier="$LATEST")
    assert error(latest)[:2] == ("InvalidParameterValueException",
                                 "We currently do not support adding policies for $LATEST.")
    with pytest.raises(ClientError) as bad_sid:
        lam.add_permission(FunctionName="my-function", StatementId="a b", Action="lambda:InvokeFunction",
                           Principal=OTHER)
    assert error(bad_sid)[1] == ("1 validation error detected: Value 'a b' at 'statementId' failed to satisfy "
                                 "constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
    with pytest.raises(ClientError) as stale:
        lam.add_permission(FunctionName="my-function", StatementId="y", Action="lambda:InvokeFunction",
                           Principal=OTHER, RevisionId="00000000-0000-0000-0000-000000000000")
    assert error(stale)[0] == "PreconditionFailedException" and error(stale)[2] == 412
    with pytest.raises(ClientError) as bad_principal:
        lam.add_permission(FunctionName="my-function", StatementId="z", Action="lambda:InvokeFunction",
                           Principal="not-a-principal")
    assert error(bad_principal)[1] == "The provided principal was invalid. Please check the principal and try again."


def test_policy_size_limit(server: Endpoint, fn: dict[str, Any]) -> None:
    lam = server.client("lambda", region=REGION)
    arn = "arn:aws:s3:::" + "b" * 900
    with pytest.raises(ClientError) as too_big:
        for i in range(40):
            lam.add_permission(FunctionName="my-function", StatementId=f"big{i}", Action="lambda:InvokeFunction",
                               Principal="s3.amazonaws.com", SourceArn=arn)
    code, message, status = error(too_big)
    assert (code, status) == ("PolicyLengthExceededException", 400)
    assert message.startswith("The final policy size (") and message.endswith(") is bigger than the limit (20480).")
    doc = json.loads(lam.get_policy(FunctionName="my-function")["Policy"])
    assert len(json.dumps(doc, separators=(",", ":"))) <= 20480  # nothing half-written
    for statement in doc["Statement"]:
        if statement["Sid"].startswith("big"):
            lam.remove_permission(FunctionName="my-function", StatementId=statement["Sid"])
    with pytest.raises(ClientError) as gone:
        lam.remove_permission(FunctionName="my-function", StatementId="big0")
    assert error(gone)[:2] == ("ResourceNotFoundException", "Statement big0 is not found in resource policy.")


def test_invoke_authorization_same_and_cross_account(server: Endpoint, fn: dict[str, Any]) -> None:
    lam = server.client("lambda", region=REGION)
    lam.publish_version(FunctionName="my-function")
    lam.create_alias(FunctionName="my-function", Name="prod", FunctionVersion="1")
    other = server.client("lambda", key=OTHER, region=REGION)
    with pytest.raises(ClientError) as denied:
        other.invoke(FunctionName=fn["arn"], Payload=b"{}")
    assert error(denied)[0] == "AccessDeniedException"
    assert error(denied)[1] == (f"User: arn:aws:iam::{OTHER}:root is not authorized to perform: "
                                f"lambda:InvokeFunction on resource: {fn['arn']}")
    lam.add_permission(FunctionName="my-function", StatementId="other-prod", Action="lambda:InvokeFunction",
                       Principal=OTHER, Qualifier="prod")
    # a grant on the alias covers only the alias
    assert other.invoke(FunctionName=f"{fn['arn']}:prod", Payload=b"{}")["ExecutedVersion"] == "1"
    for addressed in (fn["arn"], f"{fn['arn']}:1"):
        with pytest.raises(ClientError) as not_covered:
            other.invoke(FunctionName=addressed, Payload=b"{}")
        assert error(not_covered)[0] == "AccessDeniedException"
    # same account: an identity policy alone is enough; the function policy alone is enough too
    key, secret = make_user(server, "invoker", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": fn["arn"]}]})
    invoker = server.client("lambda", key=key, secret=secret, region=REGION)
    assert invoker.invoke(FunctionName="my-function", Payload=b"{}")["StatusCode"] == 200
    with pytest.raises(ClientError) as qualified:
        invoker.invoke(FunctionName="my-function", Qualifier="1", Payload=b"{}")
    assert error(qualified)[0] == "AccessDeniedException"
