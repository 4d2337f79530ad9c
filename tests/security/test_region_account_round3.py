"""Attack class: region and account confusion (review round 3).

A call authorized for one region, account (or partition) must act there and nowhere else. Each test plays the
attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'the guarded function ran'\n"})


def user(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> Any:
    """A user of `account` with an inline policy; returns a client factory signed with its key."""
    return clients_of(server, user_keys(server, account, name, *statements), REGION)


def refused(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


# ---- Lambda function ARNs of another partition -----------------------------------------------------------------


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov", "awsx"])
def test_a_function_arn_of_another_partition_does_not_escape_a_deny(server: Endpoint, partition: str) -> None:
    """Attack: a guardrail allows lambda:* and denies the `secret*` functions by ARN
    (`arn:aws:lambda:us-east-1:A:function:secret*`). The caller names the function as
    `arn:aws-cn:lambda:us-east-1:A:function:secret`: the catalog authorized that ARN as written (the Deny, on
    `arn:aws:…`, does not match it) while the Lambda service ignored the partition and ran, read and tagged A's
    `arn:aws:…:function:secret`.

    AWS: an ARN names its partition, and every resource a us-east-1 endpoint serves is in the `aws` partition
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html); a policy is evaluated on the
    resource acted on, so a Deny on the function applies however the request spells its name
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html). lambdaperm refuses a
    function ARN of another partition (InvalidParameterValueException; AWS's exact answer is not documented),
    and the function never runs.
    """
    account = {"aws-cn": "777700000001", "aws-us-gov": "777700000002"}.get(partition, "777700000003")
    role = make_role(server.client("iam", key=account), "fn-role")
    server.client("lambda", key=account).create_function(
        FunctionName="secret", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    client = user(
        server,
        account,
        "guarded",
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:*", "Resource": f"arn:aws:lambda:{REGION}:{account}:function:secret*"},
    )
    lam = client("lambda")
    foreign = f"arn:{partition}:lambda:{REGION}:{account}:function:secret"
    with pytest.raises(ClientError) as err:
        lam.invoke(FunctionName=foreign)
    assert err.value.response["Error"]["Code"] in ("AccessDeniedException", "InvalidParameterValueException")
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=foreign)
    assert err.value.response["Error"]["Code"] in ("AccessDeniedException", "InvalidParameterValueException")
    with pytest.raises(ClientError) as err:
        lam.tag_resource(Resource=foreign, Tags={"owner": "attacker"})
    assert err.value.response["Error"]["Code"] in ("AccessDeniedException", "InvalidParameterValueException")
    with pytest.raises(ClientError) as err:
        lam.delete_function(FunctionName=foreign)
    assert err.value.response["Error"]["Code"] in ("AccessDeniedException", "InvalidParameterValueException")
    # nothing was acted on: the function is there, untagged
    owner = server.client("lambda", key=account)
    arn = owner.get_function(FunctionName="secret")["Configuration"]["FunctionArn"]
    assert owner.list_tags(Resource=arn)["Tags"] == {}
    # positive control: the Deny applies to the function's own ARN, and the Allow to another function
    with pytest.raises(ClientError) as err:
        lam.get_function(FunctionName=arn)
    assert refused(err)[0] == "AccessDeniedException"
    owner.create_function(
        FunctionName="open", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    assert lam.get_function(FunctionName="open")["Configuration"]["FunctionName"] == "open"


# ---- a function's execution role in another account ------------------------------------------------------------


def test_a_function_of_one_account_never_runs_as_a_role_of_another(server: Endpoint) -> None:
    """Attack: account B lets account A manage its function (a function policy granting `lambda:*` to A). A calls
    UpdateFunctionConfiguration on B's function with `Role` = a role of A's own (A may pass it: same account as
    the caller): B's function then ran with A's credentials — B's code acting in A's account, and A deciding
    what B's function may reach.

    AWS: a function's execution role is in the function's account; Lambda refuses another account's role with
    403 AccessDeniedException "Cross-account pass role is not allowed." before it evaluates iam:PassRole
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html; spec §3.1). The role's
    account is compared with the function's (the account its ARN names), not only with the caller's.
    """
    a, b = "777700000011", "777700000012"
    role_b = make_role(server.client("iam", key=b), "own-role")
    role_a = make_role(server.client("iam", key=a), "foreign-role")
    owner = server.client("lambda", key=b)
    arn = owner.create_function(
        FunctionName="shared", Runtime="python3.11", Role=role_b, Handler="app.handler", Code={"ZipFile": CODE}
    )["FunctionArn"]
    owner.add_permission(FunctionName="shared", StatementId="manage", Action="lambda:*", Principal=a)
    with pytest.raises(ClientError) as err:
        server.client("lambda", key=a).update_function_configuration(FunctionName=arn, Role=role_a)
    assert refused(err) == ("AccessDeniedException", "Cross-account pass role is not allowed.")
    assert owner.get_function_configuration(FunctionName="shared")["Role"] == role_b
    # positive control: a role of the function's own account is taken
    second = make_role(server.client("iam", key=b), "second-role")
    assert owner.update_function_configuration(FunctionName=arn, Role=second)["Role"] == second
