"""Attack class: region and account confusion (review round 5).

A call authorized for one region, account (or partition) must act there and nowhere else, and be decided on the
resource the handler acts on. Each test plays the attack against a real `lambdaperm serve` with real boto3 and
asserts AWS's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from lambdaperm.services.lambda_.operations import OPERATIONS
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
OTHER = "eu-west-1"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ran'\n"})
# a refusal before anything is read or written: denied, or the name refused as AWS validates it
REFUSED = {"AccessDeniedException", "ValidationException", "InvalidParameterValueException"}


def user(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> Callable[..., Any]:
    """A user of `account` with an inline policy; returns a client factory signed with its key."""
    return clients_of(server, user_keys(server, account, name, *statements), REGION)


def function(server: Endpoint, account: str, name: str, policy: dict[str, Any] | None = None) -> str:
    """A function of `account` with version 1, alias `live` and a function URL; returns its ARN."""
    role = make_role(server.client("iam", key=account), f"{name}-role", policy)
    lam = server.client("lambda", key=account)
    arn = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )["FunctionArn"]
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    lam.add_permission(FunctionName=name, StatementId="s", Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    return str(arn)


# ---- every served Lambda operation that names a function, every spelling -----------------------------------------

_MODEL = botocore.session.get_session().get_service_model("lambda")
FUNCTION_OPERATIONS = sorted(
    name
    for name in OPERATIONS
    # CreateFunction names a new function (test_create_function_in_another_account_or_region); AWS authorizes
    # ListEventSourceMappings on `*` with no condition key (Service Authorization Reference): no Deny can name it
    if name not in ("CreateFunction", "ListEventSourceMappings")
    and "FunctionName"
    in (_MODEL.operation_model(name).input_shape.members if _MODEL.operation_model(name).input_shape else {})
)


def arguments(operation: str, account: str) -> dict[str, Any]:
    """The other parameters each operation needs (FunctionName is the attack's)."""
    queue = f"arn:aws:sqs:{REGION}:{account}:q"
    return {
        "UpdateFunctionConfiguration": {"Description": "pwned"},
        "UpdateFunctionCode": {"ZipFile": CODE},
        "CreateAlias": {"Name": "evil", "FunctionVersion": "1"},
        "GetAlias": {"Name": "live"},
        "UpdateAlias": {"Name": "live", "FunctionVersion": "$LATEST"},
        "DeleteAlias": {"Name": "live"},
        "AddPermission": {"StatementId": "evil", "Action": "lambda:InvokeFunction", "Principal": "*"},
        "RemovePermission": {"StatementId": "s"},
        "CreateFunctionUrlConfig": {"AuthType": "NONE"},
        "UpdateFunctionUrlConfig": {"AuthType": "NONE"},
        "CreateEventSourceMapping": {"EventSourceArn": queue},
        "UpdateEventSourceMapping": {"UUID": "00000000-0000-0000-0000-000000000000"},
    }.get(operation, {})


def spellings(account: str) -> list[str]:
    arn = f"arn:aws:lambda:{REGION}:{account}:function:secret"
    return [
        "secret",
        f"{account}:function:secret",
        "function:secret",
        f"{REGION}:{account}:function:secret",
        f"arn:aws:lambda:{account}:function:secret",
        arn,
        "secret:1",
        "secret:live",
        "secret:$LATEST",
        f"{account}:function:secret:live",
        f"{arn}:1",
        f"{arn}:live",
        f"{arn}:$LATEST",
        f"arn:aws:lambda:{OTHER}:{account}:function:secret",
        f"arn:aws-cn:lambda:{REGION}:{account}:function:secret",
    ]


def call(client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    return dict(client._make_api_call(operation, params))


def state_of(owner: Any) -> dict[str, Any]:
    """What the attack could change or read: configuration, code, aliases, policy, URL, mappings."""
    fn = owner.get_function(FunctionName="secret")
    return {
        "config": (fn["Configuration"]["Description"], fn["Configuration"]["CodeSha256"]),
        "aliases": sorted(
            (a["Name"], a["FunctionVersion"]) for a in owner.list_aliases(FunctionName="secret")["Aliases"]
        ),
        "versions": len(owner.list_versions_by_function(FunctionName="secret")["Versions"]),
        "policy": owner.get_policy(FunctionName="secret")["Policy"],
        "url": owner.get_function_url_config(FunctionName="secret")["AuthType"],
        "mappings": len(owner.list_event_source_mappings()["EventSourceMappings"]),
    }


def test_the_table_covers_every_served_operation_that_names_a_function() -> None:
    """The table below is the botocore model's: every served Lambda operation with a FunctionName member."""
    assert len(FUNCTION_OPERATIONS) >= 20
    assert {"Invoke", "GetPolicy", "CreateFunctionUrlConfig", "UpdateEventSourceMapping"} <= set(FUNCTION_OPERATIONS)


@pytest.fixture(scope="module")
def guarded(server: Endpoint) -> tuple[str, Any, Any]:
    """Account A's function `secret`, its owner, and a user allowed lambda:* but denied everything on the function
    (unqualified and qualified ARNs, and the event source mapping actions by lambda:FunctionArn)."""
    account = "555500000001"
    arn = function(server, account, "secret")
    lam = user(
        server,
        account,
        "guarded",
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:*", "Resource": [arn, f"{arn}:*"]},
        {
            "Effect": "Deny",
            "Action": "lambda:*EventSourceMapping*",
            "Resource": "*",
            "Condition": {"ArnLike": {"lambda:FunctionArn": [arn, f"{arn}:*"]}},
        },
    )("lambda")
    return account, lam, server.client("lambda", key=account)


@pytest.mark.parametrize("operation", FUNCTION_OPERATIONS)
def test_a_deny_on_the_function_holds_for_every_operation_and_spelling(
    guarded: tuple[str, Any, Any], operation: str
) -> None:
    """Attack: a user allowed lambda:* and denied everything on `arn:aws:lambda:us-east-1:A:function:secret` (and
    `…:secret:*`; the mapping actions by `lambda:FunctionArn`) names the function in every spelling the FunctionName
    pattern takes — bare name, partial ARN, `function:` prefix, region-only prefix, ARN without a region, qualified
    by version / alias / $LATEST, an ARN of another region or partition — in every served Lambda operation that
    takes a FunctionName. If any spelling is decided on another resource than the one the handler acts on, the Deny
    does not apply and the call reads or changes the function.

    AWS: Lambda authorizes "the function" the request names, whatever the spelling
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html); an ARN of another region than
    the request's is refused (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html: "If you specify
    only the function name, it is limited to 64 characters"; the ARN names the function's region). Every spelling
    is refused, and the function is unchanged.
    """
    account, lam, owner = guarded
    before = state_of(owner)
    outcomes = {}
    for name in spellings(account):
        try:
            call(lam, operation, {"FunctionName": name, **arguments(operation, account)})
            outcomes[name] = "ALLOWED"
        except ClientError as err:
            outcomes[name] = err.response["Error"]["Code"]
    wrong = {name: code for name, code in outcomes.items() if code not in REFUSED}
    assert wrong == {}, outcomes
    assert state_of(owner) == before


@pytest.fixture(scope="module")
def outsider(server: Endpoint) -> tuple[str, Any, Any]:
    """Account A's function `secret` (its function policy grants only s3.amazonaws.com), and a user of account B
    whose own policy allows everything."""
    a, b = "555500000011", "555500000012"
    function(server, a, "secret")
    lam = user(server, b, "outsider", {"Effect": "Allow", "Action": "*", "Resource": "*"})("lambda")
    return a, lam, server.client("lambda", key=a)


@pytest.mark.parametrize("operation", FUNCTION_OPERATIONS)
def test_another_account_reaches_no_function_whatever_the_operation_and_spelling(
    outsider: tuple[str, Any, Any], operation: str
) -> None:
    """Attack: account B (allowed `*` by its own policy) names A's function, whose policy grants B nothing, by every
    spelling that carries A's account, in every served Lambda operation that takes a FunctionName.

    AWS: a call on another account's resource needs the resource's policy to allow it
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html); an
    event source mapping is created in the function's account only. Every call is refused and A's function is
    unchanged.
    """
    a, lam, owner = outsider
    before = state_of(owner)
    outcomes = {}
    for name in [s for s in spellings(a) if a in s]:
        try:
            call(lam, operation, {"FunctionName": name, **arguments(operation, a)})
            outcomes[name] = "ALLOWED"
        except ClientError as err:
            outcomes[name] = err.response["Error"]["Code"]
    wrong = {name: code for name, code in outcomes.items() if code not in REFUSED | {"ResourceNotFoundException"}}
    assert wrong == {}, outcomes
    assert state_of(owner) == before


def test_create_function_in_another_account_or_region(server: Endpoint) -> None:
    """Attack: account B, allowed everything by its own policy, creates a function named by a partial or full ARN of
    account A (`A:function:planted`), or of another region than the request's, to plant code in A's account (a
    function A's principals trust by name) or in a region its guardrail does not cover.

    AWS: a function is created in the caller's account and the request's region; an ARN naming another account is
    refused (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html: FunctionName "The name or ARN of
    the Lambda function"; cross-account creation is not a Lambda feature). Nothing exists in A afterwards.
    """
    a, b = "555500000021", "555500000022"
    role = make_role(server.client("iam", key=b), "b-role")
    lam = user(server, b, "creator", {"Effect": "Allow", "Action": "*", "Resource": "*"})("lambda")
    for name in (
        f"{a}:function:planted",
        f"arn:aws:lambda:{REGION}:{a}:function:planted",
        f"arn:aws:lambda:{OTHER}:{b}:function:planted",
        f"{OTHER}:{b}:function:planted",
    ):
        with pytest.raises(ClientError) as err:
            lam.create_function(
                FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
            )
        assert err.value.response["Error"]["Code"] in REFUSED, name
    assert server.client("lambda", key=a).list_functions()["Functions"] == []
    assert server.client("lambda", key=b, region=OTHER).list_functions()["Functions"] == []


# ---- event source mappings are per account AND region ------------------------------------------------------------


def mapping(server: Endpoint, account: str) -> tuple[str, str]:
    """A function `consumer` of `account` in us-east-1 reading a queue; returns (its ARN, the mapping's UUID)."""
    sqs = server.client("sqs", key=account)
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": queue}],
    }
    role = make_role(server.client("iam", key=account), "consumer-role", policy)
    lam = server.client("lambda", key=account)
    arn = lam.create_function(
        FunctionName="consumer", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )["FunctionArn"]
    made = lam.create_event_source_mapping(EventSourceArn=queue, FunctionName="consumer", Enabled=False)
    return str(arn), str(made["UUID"])


def test_an_event_source_mapping_is_not_reached_from_another_region(server: Endpoint) -> None:
    """Attack: a mapping lives in us-east-1. A user whose guardrail denies every mapping action in us-east-1
    (a Deny on `arn:aws:lambda:us-east-1:*:event-source-mapping:*`, and on the function by lambda:FunctionArn) signs
    Get / Update / DeleteEventSourceMapping for eu-west-1 with the mapping's UUID. The call was decided on
    `arn:aws:lambda:eu-west-1:A:event-source-mapping:<uuid>` with lambda:FunctionArn unsupplied (no such mapping
    there), so neither Deny applied, while the handler found the mapping by UUID in any region and read, re-enabled
    or deleted the us-east-1 mapping.

    AWS: Lambda is a regional service; an event source mapping exists in one account and region, and its ARN is
    `arn:${Partition}:lambda:${Region}:${Account}:event-source-mapping:${UUID}`
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html); a request to another
    region's endpoint does not see it: ResourceNotFoundException
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html). The mapping is unchanged.
    """
    account = "555500000031"
    arn, uuid = mapping(server, account)
    guarded = user(
        server,
        account,
        "regional",
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:*", "Resource": f"arn:aws:lambda:{REGION}:*:event-source-mapping:*"},
        {
            "Effect": "Deny",
            "Action": "lambda:*",
            "Resource": "*",
            "Condition": {"ArnLike": {"lambda:FunctionArn": arn}},
        },
    )
    here, there = guarded("lambda"), guarded("lambda", region=OTHER)
    # positive control: in us-east-1 the guardrail applies
    with pytest.raises(ClientError) as err:
        here.get_event_source_mapping(UUID=uuid)
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    for operation, params in (
        ("GetEventSourceMapping", {"UUID": uuid}),
        ("UpdateEventSourceMapping", {"UUID": uuid, "Enabled": True, "BatchSize": 1}),
        ("DeleteEventSourceMapping", {"UUID": uuid}),
    ):
        with pytest.raises(ClientError) as err:
            call(there, operation, params)
        assert err.value.response["Error"]["Code"] in ("ResourceNotFoundException", "AccessDeniedException"), operation
    owner = server.client("lambda", key=account)
    found = owner.get_event_source_mapping(UUID=uuid)
    assert (found["State"], found["BatchSize"]) == ("Disabled", 10)
    assert owner.list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"] != []
    # the owner's own call from the other region does not see it either
    with pytest.raises(ClientError) as err:
        server.client("lambda", key=account, region=OTHER).get_event_source_mapping(UUID=uuid)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_event_source_mapping_of_another_account_is_not_reached_by_uuid(server: Endpoint) -> None:
    """Attack: account B, allowed everything by its own policy, passes the UUID of A's mapping to Get / Update /
    DeleteEventSourceMapping (the UUID leaks in logs, CloudFormation outputs, the trail). The request is decided
    on B's `…:B:event-source-mapping:<uuid>`: it must not act on A's mapping.

    AWS: the mapping is A's resource, named `arn:aws:lambda:us-east-1:A:event-source-mapping:<uuid>`; B's request
    names B's own mapping of that UUID, which does not exist: ResourceNotFoundException
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetEventSourceMapping.html).
    """
    a, b = "555500000041", "555500000042"
    _arn, uuid = mapping(server, a)
    lam = user(server, b, "thief", {"Effect": "Allow", "Action": "*", "Resource": "*"})("lambda")
    for operation, params in (
        ("GetEventSourceMapping", {"UUID": uuid}),
        ("UpdateEventSourceMapping", {"UUID": uuid, "Enabled": True}),
        ("DeleteEventSourceMapping", {"UUID": uuid}),
    ):
        with pytest.raises(ClientError) as err:
            call(lam, operation, params)
        assert err.value.response["Error"]["Code"] in ("ResourceNotFoundException", "AccessDeniedException"), operation
    found = server.client("lambda", key=a).get_event_source_mapping(UUID=uuid)
    assert found["State"] == "Disabled"


# ---- function URL configs by qualifier ---------------------------------------------------------------------------


def test_the_unqualified_function_url_is_not_reached_through_the_latest_qualifier(server: Endpoint) -> None:
    """Attack: a user is denied everything on the unqualified function ARN `…:function:secret` (the ARN the
    function's URL config is decided on) and turns the URL's AuthType to NONE — a public, unauthenticated URL —
    by naming the function `$LATEST`: Qualifier=$LATEST, or FunctionName `secret:$LATEST`. The call is decided
    on `…:function:secret:$LATEST`, which the Deny does not match, while the handler read `$LATEST` as the
    unqualified URL config.

    AWS: a function URL's qualifier is an alias name — FunctionUrlQualifier pattern `((?!^\\d+$)^[0-9a-zA-Z-_]+$)`,
    no `$`, in the pinned botocore model (older API pages showed `(^\\$LATEST$)|…`) — so `$LATEST` is refused
    (ValidationException; https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionUrlConfig.html). Either
    way a `$LATEST` URL is not the unqualified one. The URL keeps AWS_IAM.
    """
    account = "555500000051"
    arn = function(server, account, "secret")
    lam = user(
        server,
        account,
        "url-guarded",
        {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "lambda:*", "Resource": arn},
    )("lambda")
    owner = server.client("lambda", key=account)
    for params in (
        {"FunctionName": "secret", "Qualifier": "$LATEST"},
        {"FunctionName": "secret:$LATEST"},
        {"FunctionName": f"{arn}:$LATEST"},
    ):
        for operation, extra in (
            ("UpdateFunctionUrlConfig", {"AuthType": "NONE"}),
            ("GetFunctionUrlConfig", {}),
            ("DeleteFunctionUrlConfig", {}),
            ("CreateFunctionUrlConfig", {"AuthType": "NONE"}),
        ):
            with pytest.raises(ClientError) as err:
                call(lam, operation, {**params, **extra})
            assert err.value.response["Error"]["Code"] in REFUSED, (operation, params)
    assert owner.get_function_url_config(FunctionName="secret")["AuthType"] == "AWS_IAM"
    # positive control: the Deny applies to the unqualified name
    with pytest.raises(ClientError) as err:
        lam.update_function_url_config(FunctionName="secret", AuthType="NONE")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
