"""Malformed input is refused with the service's validation error (botocore's model: required members, lengths,
patterns) before any authorization, not as an authorization failure ("does not know which IAM action authorizes
…", issue 8 §4); what is well formed but unmapped stays a fail-closed denial."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint

ACCOUNT = "777740000008"


def _refusal(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"], error["Error"].get("Message", "")


def test_assume_role_with_a_role_arn_that_is_no_arn_is_a_validation_error(server: Endpoint) -> None:
    sts = server.client("sts", key=ACCOUNT)
    status, code, message = _refusal(
        lambda: sts.assume_role(RoleArn="not-an-arn-at-all-of-any-kind", RoleSessionName="s1")
    )
    assert (status, code) == (400, "ValidationError")
    assert "does not know which IAM action" not in message
    assert message == "Request ARN is invalid"


def test_create_role_without_parameters_is_a_validation_error(server: Endpoint) -> None:
    iam = server.client("iam", key=ACCOUNT)
    status, code, message = _refusal(lambda: iam.create_role())
    assert (status, code) == (400, "ValidationError")
    assert message.startswith("2 validation errors detected: ")
    assert "Value null at 'roleName' failed to satisfy constraint: Member must not be null" in message
    assert "Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null" in message


def test_create_role_with_too_long_a_name_is_a_validation_error(server: Endpoint) -> None:
    iam = server.client("iam", key=ACCOUNT)
    status, code, message = _refusal(lambda: iam.create_role(RoleName="r" * 65, AssumeRolePolicyDocument="{}"))
    assert (status, code) == (400, "ValidationError")
    assert "at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64" in message


def test_put_log_events_with_an_empty_object_is_invalid_parameter(server: Endpoint) -> None:
    logs = server.client("logs", key=ACCOUNT)
    status, code, message = _refusal(lambda: logs.put_log_events())
    assert (status, code) == (400, "InvalidParameterException")
    assert "Value null at 'logGroupName' failed to satisfy constraint: Member must not be null" in message
    assert "does not know which IAM action" not in message


def test_lambda_function_name_of_the_wrong_form_is_a_validation_exception(server: Endpoint) -> None:
    lam = server.client("lambda", key=ACCOUNT)
    status, code, message = _refusal(lambda: lam.get_function(FunctionName="no spaces allowed"))
    assert (status, code) == (400, "ValidationException")
    assert "at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern" in message


def test_a_truly_unmapped_well_formed_call_is_still_denied(server: Endpoint) -> None:
    """Fail closed stays: a well-formed ARN the catalog cannot read is refused (AccessDenied), never allowed."""
    sts = server.client("sts", key=ACCOUNT)
    status, code, _ = _refusal(lambda: sts.assume_role(RoleArn="arn:aws:s3:::some-bucket-name", RoleSessionName="s1"))
    assert status == 403 and code == "AccessDenied"


@pytest.fixture(autouse=True)
def _no_client_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore validates required members client-side; the server must validate them itself (other SDKs and
    raw HTTP do not), so the client's own check is turned off."""
    import botocore.validate

    monkeypatch.setattr(
        botocore.validate.ParamValidator, "validate", lambda self, params, shape: botocore.validate.ValidationErrors()
    )


def test_an_environment_variable_name_of_one_letter_is_refused_as_lambda_refuses_it(server: Endpoint) -> None:
    """AWS's own message, as reported for CloudFormation deployments (the key pattern needs two characters)."""
    lam = server.client("lambda", key=ACCOUNT)
    status, code, message = _refusal(
        lambda: lam.update_function_configuration(FunctionName="any-function", Environment={"Variables": {"X": "a"}})
    )
    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
    )
