"""Attack class: implicit accesses, review round 10 — the permissions AWS documents as needed *in addition to* a served
operation's own action when a request member is given (the Service Authorization Reference's "Dependent actions", the
API references' "you need ... and ..." notes), audited member by member over the served create/update operations.

Round 9 audited the settings a service acts on later. This round read, for each served operation, the members that
make AWS check a second permission or act on a second resource, and compared them with what lambdaperm decides and
executes. Most hold (`docs/security.md`, round 10: tags, ACLs, PassRole, layers, VPC, object lock, code from S3,
session tags). These did not: each was accepted, its extra permission never decided, and the member dropped.

Each test plays against a real `lambdaperm serve` with real boto3 and asserts the outcome lambdaperm must give (fail
closed: nothing created, 501 NotImplemented naming the member, after authorization), and, where a second principal
is involved, that the access AWS would refuse is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
ACCOUNT = "791000000001"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PROVIDER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:capacity-provider:r10-provider"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'v1'\n"})
OTHER_CODE = zip_of({"app.py": "def handler(event, context):\n    return 'v2'\n"})
BASIC_ROLE = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TABLE_ARGS: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}


def _table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _deny_reader(table: str, reader: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": reader},
                    "Action": "dynamodb:GetItem",
                    "Resource": _table_arn(table),
                }
            ],
        }
    )


def _refused(call: Callable[[], Any], member: str) -> dict[str, Any]:
    with pytest.raises(ClientError) as refused:
        call()
    error: dict[str, Any] = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501, error
    assert error["Code"] == "NotImplemented", error
    assert member in error["Message"], error
    return error


@pytest.fixture(scope="module")
def account(server: Endpoint) -> Iterator[dict[str, Any]]:
    """The account's clients, an execution role, a reader user allowed every DynamoDB and Lambda read."""
    iam = server.client("iam", key=ACCOUNT)
    role = make_role(iam, "r10-exec", managed=[BASIC_ROLE])
    reader = user_keys(
        server, ACCOUNT, "r10-reader", {"Effect": "Allow", "Action": ["dynamodb:*", "lambda:Get*"], "Resource": "*"}
    )
    yield {
        "ddb": server.client("dynamodb", key=ACCOUNT),
        "lambda": server.client("lambda", key=ACCOUNT),
        "role": role,
        "reader": clients_of(server, reader),
        "reader_arn": f"arn:aws:iam::{ACCOUNT}:user/r10-reader",
    }


# --- DynamoDB: CreateTable with ResourcePolicy --------------------------------------------------------------------


def test_create_table_resource_policy_is_not_dropped(account: dict[str, Any]) -> None:
    """Attack: the table's owner creates it with a resource-based policy that denies a reader GetItem (the reader's
    own identity policy allows dynamodb:*). The embedded backend's CreateTable does not read `ResourcePolicy`: the
    table was created with no policy, and the reader read the item the Deny protects — a wrong allow.

    AWS: "ResourcePolicy: An Amazon Web Services resource-based policy document in JSON format that will be attached
    to the table ... When you attach a resource-based policy while creating a table, the policy application is
    strongly consistent" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html); an
    explicit Deny in a resource-based policy denies
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).

    lambdaperm: the policy is not dropped — CreateTable with ResourcePolicy is 501 NotImplemented naming it, after
    authorization, and no table exists (the reader reads nothing)."""
    ddb = account["ddb"]
    _refused(
        lambda: ddb.create_table(
            TableName="r10-guarded", ResourcePolicy=_deny_reader("r10-guarded", account["reader_arn"]), **TABLE_ARGS
        ),
        "ResourcePolicy",
    )
    with pytest.raises(ClientError) as absent:
        ddb.describe_table(TableName="r10-guarded")
    assert absent.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_table_resource_policy_deny_applies(account: dict[str, Any]) -> None:
    """Attack: the table's owner attaches, with PutResourcePolicy, a resource-based policy denying a reader GetItem;
    the reader's identity policy allows dynamodb:*. The policy is stored by the backend (GetResourcePolicy answers
    it) but the authorizer reads resource policies of S3 buckets, SQS queues and SNS topics only
    (`dataplane/moto_state.resource_policy`): the Deny never applied and the reader read the item (fixed:
    `dataplane/dynamodb_policies.py`).

    AWS: DynamoDB tables take resource-based policies
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html), and "an
    explicit deny in any of these policies overrides the allow"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): AccessDenied."""
    ddb, reader = account["ddb"], account["reader"]("dynamodb")
    ddb.create_table(TableName="r10-denied", **TABLE_ARGS)
    ddb.put_item(TableName="r10-denied", Item={"k": {"S": "secret"}})
    assert reader.get_item(TableName="r10-denied", Key={"k": {"S": "secret"}})["Item"]  # allowed before the policy
    policy = _deny_reader("r10-denied", account["reader_arn"])
    ddb.put_resource_policy(ResourceArn=_table_arn("r10-denied"), Policy=policy)
    assert json.loads(ddb.get_resource_policy(ResourceArn=_table_arn("r10-denied"))["Policy"]) == json.loads(policy)
    with pytest.raises(ClientError) as denied:
        reader.get_item(TableName="r10-denied", Key={"k": {"S": "secret"}})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def test_create_table_with_policy_needs_put_resource_policy(server: Endpoint) -> None:
    """Attack: a user allowed dynamodb:CreateTable but denied dynamodb:PutResourcePolicy creates a table with a
    resource-based policy granting another account (the policy she may not attach). lambdaperm decided CreateTable
    alone and created the table.

    AWS: "You need to specify the CreateTable and PutResourcePolicy IAM actions for authorizing a user to create a
    table with a resource-based policy" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html,
    ResourcePolicy). lambdaperm must not create it (here: 501 after authorization; no table)."""
    keys = user_keys(
        server,
        ACCOUNT,
        "r10-creator",
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:PutResourcePolicy", "Resource": "*"},
    )
    ddb = clients_of(server, keys)("dynamodb")
    grant = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::791000000002:root"},
                    "Action": "dynamodb:*",
                    "Resource": _table_arn("r10-granted"),
                }
            ],
        }
    )
    with pytest.raises(ClientError) as refused:
        ddb.create_table(TableName="r10-granted", ResourcePolicy=grant, **TABLE_ARGS)
    assert refused.value.response["Error"]["Code"] in ("AccessDeniedException", "NotImplemented")
    with pytest.raises(ClientError) as absent:
        server.client("dynamodb", key=ACCOUNT).describe_table(TableName="r10-granted")
    assert absent.value.response["Error"]["Code"] == "ResourceNotFoundException"


# --- Lambda: function members that make Lambda act on another resource ---------------------------------------------

# (id, CreateFunction members, member the 501 names, AWS's rule)
CREATE_REFUSED: list[tuple[str, dict[str, Any], str]] = [
    # "When you use a customer managed key, only users in your account with access to the KMS key can view or manage
    # the function's code or configuration" (https://docs.aws.amazon.com/lambda/latest/dg/encrypt-zip-package.html):
    # dropped, the package was readable (GetFunction's Code.Location) by anyone allowed lambda:GetFunction.
    ("source-kms-key", {"Code": {"ZipFile": CODE, "SourceKMSKeyArn": KEY}}, "SourceKMSKeyArn"),
    # "Users need the lambda:PassCapacityProvider permission to assign functions to capacity providers ... required
    # when: Creating functions that use Lambda Managed Instances"
    # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-security.html): never decided, the
    # provider (its instances, the security boundary) never used.
    (
        "capacity-provider",
        {
            "Code": {"ZipFile": CODE},
            "CapacityProviderConfig": {
                "LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": PROVIDER}
            },
        },
        "CapacityProviderConfig",
    ),
    # "Each tenant gets a dedicated execution environment. Execution environments are not shared between different
    # tenants" (TenancyConfig PER_TENANT, https://docs.aws.amazon.com/lambda/latest/api/API_TenancyConfig.html):
    # dropped, every tenant's invocation shared one environment (its /tmp and globals).
    ("tenancy", {"Code": {"ZipFile": CODE}, "TenancyConfig": {"TenantIsolationMode": "PER_TENANT"}}, "TenancyConfig"),
    # Durable functions: Lambda checkpoints the execution and invokes the function again to resume it, up to
    # ExecutionTimeout (https://docs.aws.amazon.com/lambda/latest/api/API_DurableConfig.html): dropped.
    ("durable", {"Code": {"ZipFile": CODE}, "DurableConfig": {"ExecutionTimeout": 900}}, "DurableConfig"),
]


@pytest.mark.parametrize(("name", "members", "member"), CREATE_REFUSED, ids=[c[0] for c in CREATE_REFUSED])
def test_create_function_members_lambda_acts_on_are_refused(
    account: dict[str, Any], name: str, members: dict[str, Any], member: str
) -> None:
    """Attack: CreateFunction with a member that makes Lambda use another resource or permission (a KMS key with the
    caller's permissions, a capacity provider the caller must be allowed to pass, per-tenant environments, durable
    executions). lambdaperm answered 201, answered none of it back, and acted on none of it.

    Fail closed: 501 NotImplemented naming the member, after authorization; no function is created."""
    lam = account["lambda"]
    function = f"r10-{name}"
    _refused(
        lambda: lam.create_function(
            FunctionName=function, Runtime="python3.12", Role=account["role"], Handler="app.handler", **members
        ),
        member,
    )
    with pytest.raises(ClientError) as absent:
        account["reader"]("lambda").get_function(FunctionName=function)
    assert absent.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.fixture(scope="module")
def plain_function(account: dict[str, Any]) -> str:
    lam = account["lambda"]
    lam.create_function(
        FunctionName="r10-plain",
        Runtime="python3.12",
        Role=account["role"],
        Handler="app.handler",
        Code={"ZipFile": CODE},
    )
    return "r10-plain"


def test_update_function_code_source_kms_key_is_refused(account: dict[str, Any], plain_function: str) -> None:
    """Attack: UpdateFunctionCode with SourceKMSKeyArn — the new package encrypted with a customer managed key, which
    AWS requires of every principal that later views the code
    (https://docs.aws.amazon.com/lambda/latest/dg/encrypt-zip-package.html). lambdaperm replaced the code and
    dropped the key. Fail closed: 501 naming SourceKMSKeyArn; the code is unchanged."""
    lam = account["lambda"]
    before = lam.get_function(FunctionName=plain_function)["Configuration"]["CodeSha256"]
    _refused(
        lambda: lam.update_function_code(FunctionName=plain_function, ZipFile=OTHER_CODE, SourceKMSKeyArn=KEY),
        "SourceKMSKeyArn",
    )
    assert lam.get_function(FunctionName=plain_function)["Configuration"]["CodeSha256"] == before


@pytest.mark.parametrize(
    ("members", "member"),
    [
        (
            {
                "CapacityProviderConfig": {
                    "LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": PROVIDER}
                }
            },
            "CapacityProviderConfig",
        ),
        ({"DurableConfig": {"ExecutionTimeout": 900}}, "DurableConfig"),
    ],
    ids=["capacity-provider", "durable"],
)
def test_update_function_configuration_members_lambda_acts_on_are_refused(
    account: dict[str, Any], plain_function: str, members: dict[str, Any], member: str
) -> None:
    """Attack: UpdateFunctionConfiguration moving a function onto a capacity provider ("required when ... Updating
    function configurations to use a capacity provider", lambda-managed-instances-security.html) or making it
    durable. Fail closed: 501 naming the member; the configuration is unchanged."""
    lam = account["lambda"]
    before = lam.get_function_configuration(FunctionName=plain_function)["RevisionId"]
    _refused(lambda: lam.update_function_configuration(FunctionName=plain_function, **members), member)
    assert lam.get_function_configuration(FunctionName=plain_function)["RevisionId"] == before


def test_empty_values_are_what_lambdaperm_does(account: dict[str, Any]) -> None:
    """Positive control: the members' empty values ask for nothing Lambda would do (no key, no provider, no tenancy,
    no durability) and are accepted."""
    lam = account["lambda"]
    made = lam.create_function(
        FunctionName="r10-empty",
        Runtime="python3.12",
        Role=account["role"],
        Handler="app.handler",
        Code={"ZipFile": CODE, "SourceKMSKeyArn": ""},
    )
    assert made["FunctionName"] == "r10-empty"
    assert lam.update_function_code(FunctionName="r10-empty", ZipFile=OTHER_CODE, SourceKMSKeyArn="")["CodeSha256"]
