"""Attack class: implicit accesses, review round 6 — accesses a service makes itself, on a caller's behalf or as
its own service principal, each authorized as AWS authorizes it.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome. The
structural oracle (tests/structural) also checks *acted-on ⊆ authorized* when each test's server stops.
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
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
LAMBDA = {"Service": "lambda.amazonaws.com"}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def function(server: Endpoint, account: str, name: str, role: str, **extra: Any) -> dict[str, Any]:
    return dict(
        server.client("lambda", key=account).create_function(
            FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}, **extra
        )
    )


def invoke(server: Endpoint, account: str, name: str) -> Any:
    resp = server.client("lambda", key=account).invoke(FunctionName=name, Payload=b"{}")
    return json.loads(resp["Payload"].read())


def url_get(server: Endpoint, url_id: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"{server.url}/_lambdaperm/url/{url_id}/", timeout=30) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())


# ---- the execution role's trust policy, as Lambda assumes the role ------------------------------------------------


def test_trust_policy_deny_on_source_arn_stops_that_function(server: Endpoint) -> None:
    """Attack: an execution role's trust policy lets lambda.amazonaws.com assume it, except for one function
    (a Deny conditioned on `aws:SourceArn` naming it — the confused-deputy guard AWS recommends for service
    roles). A user who may create functions and pass the role creates that very function and runs code with the
    role's credentials.
    AWS rule: when a service assumes a role, `aws:SourceArn` and `aws:SourceAccount` are in the request context so
    the trust policy can limit the role to the expected resources
    (https://docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html, "When a service assumes a role
    in your account, you can include the aws:SourceAccount and aws:SourceArn global condition context keys in your
    role trust policy"; https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html). For Lambda the
    source is the function. The Deny applies: the role cannot be assumed for that function."""
    account = "660600000001"
    iam = server.client("iam", key=account)
    fenced = f"arn:aws:lambda:{REGION}:{account}:function:fenced"
    trust = policy(
        {"Effect": "Allow", "Principal": LAMBDA, "Action": "sts:AssumeRole"},
        {
            "Effect": "Deny",
            "Principal": LAMBDA,
            "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:SourceArn": fenced}},
        },
    )
    role = make_role(iam, "fenced-role", trust=trust)
    function(server, account, "other", role)  # positive control: any other function may use the role
    assert invoke(server, account, "other") == "ran"
    with pytest.raises(ClientError) as exc:
        function(server, account, "fenced", role)
    assert exc.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "cannot be assumed by Lambda" in exc.value.response["Error"]["Message"]


def test_trust_policy_conditioned_on_source_account_is_assumable(server: Endpoint) -> None:
    """Attack (a wrong deny): the trust policy AWS's confused-deputy guidance gives for a service role,
    `StringEquals aws:SourceAccount = <own account>`, made every function refuse the role.
    AWS rule: Lambda supplies `aws:SourceAccount` (the function's account) when it assumes the execution role
    (https://docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html). The role is assumable for a
    function of that account, and not for one whose account the condition does not name."""
    account = "660600000002"
    iam = server.client("iam", key=account)
    own = make_role(
        iam,
        "own-account",
        trust=policy(
            {
                "Effect": "Allow",
                "Principal": LAMBDA,
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ),
    )
    other = make_role(
        iam,
        "other-account",
        trust=policy(
            {
                "Effect": "Allow",
                "Principal": LAMBDA,
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}},
            }
        ),
    )
    function(server, account, "guarded", own)
    assert invoke(server, account, "guarded") == "ran"
    with pytest.raises(ClientError) as exc:
        function(server, account, "mismatched", other)
    assert "cannot be assumed by Lambda" in exc.value.response["Error"]["Message"]


# ---- function URLs -------------------------------------------------------------------------------------------------


def test_public_url_needs_a_grant_for_auth_type_none(server: Endpoint) -> None:
    """Attack: a function URL with AuthType NONE, whose function policy grants lambda:InvokeFunctionUrl to "*"
    only when `lambda:FunctionUrlAuthType` is AWS_IAM, reached without credentials.
    AWS rule: an unauthenticated URL request carries `lambda:FunctionUrlAuthType` = NONE; the statement does not
    match, so the request is 403 (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)."""
    account = "660600000003"
    role = make_role(server.client("iam", key=account), "url-role")
    function(server, account, "public", role)
    lam = server.client("lambda", key=account)
    url_id = lam.create_function_url_config(FunctionName="public", AuthType="NONE")["FunctionUrl"]
    url_id = url_id.split("//", 1)[1].split(".", 1)[0]
    lam.add_permission(
        FunctionName="public",
        StatementId="iam-only",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="AWS_IAM",
    )
    lam.add_permission(
        FunctionName="public",
        StatementId="invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
    )
    assert url_get(server, url_id)[0] == 403
    lam.add_permission(
        FunctionName="public",
        StatementId="none",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    assert url_get(server, url_id) == (200, b'"ran"')  # positive control


# ---- qualified invoke: the alias's policy, not the function's ------------------------------------------------------


def test_qualified_invoke_is_decided_by_the_alias_policy(server: Endpoint) -> None:
    """Attack: account B, granted lambda:InvokeFunction by A's function-level (unqualified) policy, invokes the
    alias `f:live`; and, granted on the alias only, invokes the unqualified function.
    AWS rule: a resource-policy grant lives on one qualifier; an unqualified grant does not cover aliases or
    versions, and an alias grant covers only invocations through that alias
    (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html)."""
    a, b = "660600000004", "660600000005"
    role = make_role(server.client("iam", key=a), "alias-role")
    function(server, a, "f", role, Publish=True)
    lam = server.client("lambda", key=a)
    lam.create_alias(FunctionName="f", Name="live", FunctionVersion="1")
    arn = f"arn:aws:lambda:{REGION}:{a}:function:f"
    lam.add_permission(FunctionName="f", StatementId="fn", Action="lambda:InvokeFunction", Principal=b)
    other = server.client("lambda", key=b)
    assert json.loads(other.invoke(FunctionName=arn, Payload=b"{}")["Payload"].read()) == "ran"
    for qualified in (f"{arn}:live", f"{arn}:1"):
        with pytest.raises(ClientError) as exc:
            other.invoke(FunctionName=qualified, Payload=b"{}")
        assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    lam.remove_permission(FunctionName="f", StatementId="fn")
    lam.add_permission(
        FunctionName="f", Qualifier="live", StatementId="alias", Action="lambda:InvokeFunction", Principal=b
    )
    assert json.loads(other.invoke(FunctionName=f"{arn}:live", Payload=b"{}")["Payload"].read()) == "ran"
    for name in (arn, f"{arn}:1"):
        with pytest.raises(ClientError) as exc:
            other.invoke(FunctionName=name, Payload=b"{}")
        assert exc.value.response["Error"]["Code"] == "AccessDeniedException"


# ---- S3 operations that would make the service act on its own ------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        "select",
        "analytics",
        "metrics",
        "tiering",
    ],
)
def test_s3_deliveries_not_served_are_refused(server: Endpoint, call: str) -> None:
    """Attack: S3 features whose service writes elsewhere or reads for the caller (S3 Select, analytics export,
    metrics, Intelligent-Tiering archive) reached through the data plane.
    House rule: what the embedded backend does not serve faithfully is 501 NotImplemented naming the operation."""
    account = "660600000006"
    s3 = server.client("s3", key=account)
    bucket = f"round6-{call}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k.csv", Body=b"a,b\n1,2\n")
    with pytest.raises(ClientError) as exc:
        if call == "select":
            s3.select_object_content(
                Bucket=bucket,
                Key="k.csv",
                Expression="select * from s3object",
                ExpressionType="SQL",
                InputSerialization={"CSV": {}},
                OutputSerialization={"CSV": {}},
            )
        elif call == "analytics":
            s3.put_bucket_analytics_configuration(
                Bucket=bucket,
                Id="a",
                AnalyticsConfiguration={
                    "Id": "a",
                    "StorageClassAnalysis": {
                        "DataExport": {
                            "OutputSchemaVersion": "V_1",
                            "Destination": {
                                "S3BucketDestination": {"Format": "CSV", "Bucket": "arn:aws:s3:::elsewhere"}
                            },
                        }
                    },
                },
            )
        elif call == "metrics":
            s3.put_bucket_metrics_configuration(Bucket=bucket, Id="m", MetricsConfiguration={"Id": "m"})
        else:
            s3.put_bucket_intelligent_tiering_configuration(
                Bucket=bucket,
                Id="t",
                IntelligentTieringConfiguration={
                    "Id": "t",
                    "Status": "Enabled",
                    "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}],
                },
            )
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert exc.value.response["Error"]["Code"] == "NotImplemented"
