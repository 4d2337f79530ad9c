"""Attack class: parameter confusion — a `DryRun` member that the service reads as "change nothing" and lambdaperm
executed as a real change.

AWS: UpdateFunctionCode's `DryRun`: "Set to true to validate the request parameters and access permissions
without modifying the function code" (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html).
It is the only Lambda operation with a DryRun member (botocore's lambda model). lambdaperm replaced the code.

The test plays against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome: the call is authorized
and validated as usual, answers the configuration the update would give, and the function is unchanged.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import clients_of, user_keys

ACCOUNT = "791000000021"
V1 = zip_of({"app.py": "def handler(event, context):\n    return 'v1'\n"})
V2 = zip_of({"app.py": "def handler(event, context):\n    return 'v2'\n"})
BASIC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _sha(data: bytes) -> str:
    return b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def function(server: Endpoint) -> dict[str, Any]:
    lam = server.client("lambda", key=ACCOUNT)
    role = make_role(server.client("iam", key=ACCOUNT), "dryrun-exec", managed=[BASIC_ROLE])
    lam.create_function(
        FunctionName="dryrun", Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": V1}
    )
    return {"lambda": lam, "name": "dryrun"}


def test_update_function_code_dry_run_changes_nothing(server: Endpoint, function: dict[str, Any]) -> None:
    """Attack: UpdateFunctionCode with DryRun true (a caller testing whether the update would pass). lambdaperm
    replaced the code: the function ran the new package. AWS: nothing is modified — the code, its CodeSha256 and the
    RevisionId stay, no version is published, and the package is not stored."""
    lam, name = function["lambda"], function["name"]
    before = lam.get_function_configuration(FunctionName=name)
    assert before["CodeSha256"] == _sha(V1)
    stored = set((server.state / "code").glob("*.zip")) if server.state is not None else set()
    answer = lam.update_function_code(FunctionName=name, ZipFile=V2, DryRun=True, Publish=True)
    assert answer["CodeSha256"] == _sha(V2)  # the configuration the update would give
    after = lam.get_function_configuration(FunctionName=name)
    assert after["CodeSha256"] == _sha(V1)
    assert after["RevisionId"] == before["RevisionId"]
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST"]
    if server.state is not None:
        assert set((server.state / "code").glob("*.zip")) == stored
    assert lam.invoke(FunctionName=name)["Payload"].read() == b'"v1"'


def test_dry_run_is_authorized_and_validated(server: Endpoint, function: dict[str, Any]) -> None:
    """A dry run still decides lambda:UpdateFunctionCode (a caller denied it gets AccessDeniedException) and still
    validates the request (a package that is not a zip: InvalidParameterValueException)."""
    keys = user_keys(
        server,
        ACCOUNT,
        "dryrun-reader",
        {"Effect": "Allow", "Action": "lambda:Get*", "Resource": "*"},
    )
    denied = clients_of(server, keys)("lambda")
    with pytest.raises(ClientError) as refused:
        denied.update_function_code(FunctionName=function["name"], ZipFile=V2, DryRun=True)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as invalid:
        function["lambda"].update_function_code(FunctionName=function["name"], ZipFile=b"not a zip", DryRun=True)
    assert invalid.value.response["Error"]["Code"] == "InvalidParameterValueException"
