"""Attack class: implicit accesses, follow-up of review round 10 — DynamoDB table resource-based policies
(PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy) decided on as AWS decides them.

AWS: a table's resource-based policy governs the table and its indexes ("You can control index permissions using
the base table's policy", https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html);
an explicit Deny in it wins for every caller; within the account the identity policy or the resource policy allows
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-auth-iam-id-based-policies-DDB.html);
across accounts both must allow, and the resource-policy APIs themselves do not support cross-account access
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-iam-actions.html). lambdaperm cannot execute
a call on another account's table by ARN and refuses it (fail closed, docs/fidelity.md).

Each test plays against a real `lambdaperm serve` with real boto3.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

REGION = "us-east-1"
ACCOUNT = "791000000011"
OTHER = "791000000012"
TABLE_ARGS: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [
        {"AttributeName": "k", "AttributeType": "S"},
        {"AttributeName": "g", "AttributeType": "S"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by-g",
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def _arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{name}"


def _policy(effect: str, principal: str, action: str | list[str], resource: str | list[str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Principal": {"AWS": principal}, "Action": action, "Resource": resource}],
        }
    )


def _table(ddb: Any, name: str) -> None:
    ddb.create_table(TableName=name, **TABLE_ARGS)
    ddb.put_item(TableName=name, Item={"k": {"S": "secret"}, "g": {"S": "x"}})


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as failed:
        call()
    return str(failed.value.response["Error"]["Code"])


def _reader(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> tuple[Any, str]:
    keys = user_keys(server, account, name, *statements)
    return clients_of(server, keys)("dynamodb"), f"arn:aws:iam::{account}:user/{name}"


ALL_DYNAMODB = {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}


def test_an_index_is_governed_by_its_tables_policy(server: Endpoint) -> None:
    """Attack: the table's policy denies a reader dynamodb:Query on the table's indexes (`table/T/index/*`); the
    reader's identity policy allows dynamodb:*. AWS: the base table's policy controls index permissions — the Query
    on the index is AccessDenied, the Query on the table (not named by the Deny) is allowed."""
    ddb = server.client("dynamodb", key=ACCOUNT)
    reader, reader_arn = _reader(server, ACCOUNT, "tp-index-reader", ALL_DYNAMODB)
    _table(ddb, "tp-indexed")
    ddb.put_resource_policy(
        ResourceArn=_arn("tp-indexed"),
        Policy=_policy("Deny", reader_arn, "dynamodb:Query", f"{_arn('tp-indexed')}/index/*"),
    )
    query = {"KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "x"}}}
    assert _code(lambda: reader.query(TableName="tp-indexed", IndexName="by-g", **query)) == "AccessDeniedException"
    table_query = {"KeyConditionExpression": "k = :k", "ExpressionAttributeValues": {":k": {"S": "secret"}}}
    assert reader.query(TableName="tp-indexed", **table_query)["Count"] == 1


def test_same_account_resource_policy_alone_allows(server: Endpoint) -> None:
    """A user of the table's account with no identity policy at all, named by the table's policy: AWS — "If the IAM
    principal is from the same account as the resource owner, a resource-based policy is sufficient"
    (rbac-auth-iam-id-based-policies-DDB.html). Allowed GetItem, nothing else (PutItem is not in the policy)."""
    ddb = server.client("dynamodb", key=ACCOUNT)
    reader, reader_arn = _reader(server, ACCOUNT, "tp-bare-reader")
    _table(ddb, "tp-granted")
    assert _code(lambda: reader.get_item(TableName="tp-granted", Key={"k": {"S": "secret"}})) == (
        "AccessDeniedException"
    )
    ddb.put_resource_policy(
        ResourceArn=_arn("tp-granted"), Policy=_policy("Allow", reader_arn, "dynamodb:GetItem", _arn("tp-granted"))
    )
    assert reader.get_item(TableName="tp-granted", Key={"k": {"S": "secret"}})["Item"]["k"] == {"S": "secret"}
    assert _code(lambda: reader.put_item(TableName="tp-granted", Item={"k": {"S": "x"}})) == "AccessDeniedException"


def test_delete_resource_policy_lifts_the_deny(server: Endpoint) -> None:
    """DeleteResourcePolicy removes the policy: the Deny no longer applies, GetResourcePolicy answers
    PolicyNotFoundException (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetResourcePolicy.html);
    deleting again succeeds (idempotent), unless an ExpectedRevisionId is given (API_DeleteResourcePolicy.html)."""
    ddb = server.client("dynamodb", key=ACCOUNT)
    reader, reader_arn = _reader(server, ACCOUNT, "tp-delete-reader", ALL_DYNAMODB)
    _table(ddb, "tp-deleted")
    ddb.put_resource_policy(
        ResourceArn=_arn("tp-deleted"), Policy=_policy("Deny", reader_arn, "dynamodb:GetItem", _arn("tp-deleted"))
    )
    get = lambda: reader.get_item(TableName="tp-deleted", Key={"k": {"S": "secret"}})  # noqa: E731
    assert _code(get) == "AccessDeniedException"
    ddb.delete_resource_policy(ResourceArn=_arn("tp-deleted"))
    assert _code(lambda: ddb.get_resource_policy(ResourceArn=_arn("tp-deleted"))) == "PolicyNotFoundException"
    assert get()["Item"]["k"] == {"S": "secret"}
    # "DeleteResourcePolicy is an idempotent operation ... unless you specify an ExpectedRevisionId"
    ddb.delete_resource_policy(ResourceArn=_arn("tp-deleted"))
    again = lambda: ddb.delete_resource_policy(ResourceArn=_arn("tp-deleted"), ExpectedRevisionId="1")  # noqa: E731
    assert _code(again) == "PolicyNotFoundException"


def test_cross_account_access_is_what_dynamodb_supports(server: Endpoint) -> None:
    """Attack: the table's owner grants another account's user GetItem, TagResource, UpdateTimeToLive and the
    resource-policy APIs; that user's identity policy allows dynamodb:*, and the user's own account has a table of
    the same name. AWS: across accounts both the identity and the resource policy must allow, and only some
    operations support cross-account access (rbac-iam-actions.html): GetItem and TagResource do, UpdateTimeToLive and
    Get/PutResourcePolicy do not. The calls that are allowed act on the owner's table (the ARN's account), never on
    the caller's table of that name; the others are refused and write nothing."""
    ddb = server.client("dynamodb", key=ACCOUNT)
    _table(ddb, "tp-shared")
    outsider, outsider_arn = _reader(server, OTHER, "tp-outsider", ALL_DYNAMODB)
    granted = ["dynamodb:GetItem", "dynamodb:TagResource", "dynamodb:UpdateTimeToLive"]
    granted += ["dynamodb:PutResourcePolicy", "dynamodb:GetResourcePolicy"]
    grant = _policy("Allow", outsider_arn, granted, _arn("tp-shared"))
    ddb.put_resource_policy(ResourceArn=_arn("tp-shared"), Policy=grant)
    own = server.client("dynamodb", key=OTHER)
    own.create_table(TableName="tp-shared", **TABLE_ARGS)  # empty: a call acting in the wrong account finds nothing
    item = outsider.get_item(TableName=_arn("tp-shared"), Key={"k": {"S": "secret"}})
    assert item["Item"]["k"] == {"S": "secret"}  # the owner's table
    put = lambda: outsider.put_item(TableName=_arn("tp-shared"), Item={"k": {"S": "x"}})  # noqa: E731
    assert _code(put) == "AccessDeniedException"  # not in the owner's policy: the identity policy alone is not enough
    outsider.tag_resource(ResourceArn=_arn("tp-shared"), Tags=[{"Key": "a", "Value": "b"}])
    assert ddb.list_tags_of_resource(ResourceArn=_arn("tp-shared"))["Tags"] == [{"Key": "a", "Value": "b"}]
    assert own.list_tags_of_resource(ResourceArn=_arn("tp-shared", OTHER)).get("Tags", []) == []
    assert _code(lambda: outsider.get_resource_policy(ResourceArn=_arn("tp-shared"))) == "AccessDeniedException"
    takeover = _policy("Allow", outsider_arn, "dynamodb:*", _arn("tp-shared"))
    assert _code(lambda: outsider.put_resource_policy(ResourceArn=_arn("tp-shared"), Policy=takeover)) == (
        "AccessDeniedException"
    )
    ttl = {"Enabled": True, "AttributeName": "t"}
    assert _code(lambda: outsider.update_time_to_live(TableName=_arn("tp-shared"), TimeToLiveSpecification=ttl)) == (
        "AccessDeniedException"
    )
    assert json.loads(ddb.get_resource_policy(ResourceArn=_arn("tp-shared"))["Policy"]) == json.loads(grant)
    assert ddb.describe_time_to_live(TableName="tp-shared")["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    assert _code(lambda: own.get_resource_policy(ResourceArn=_arn("tp-shared", OTHER))) == "PolicyNotFoundException"


def test_policy_writes_are_validated(server: Endpoint) -> None:
    """PutResourcePolicy refuses what DynamoDB refuses: a document that is not a policy, a principal that does not
    exist, a resource that is not a table or a stream (an index takes its table's policy), and an ExpectedRevisionId
    when no policy is attached ("if there's no attached policy, your request will be rejected with a
    PolicyNotFoundException", API_PutResourcePolicy.html). Nothing is stored."""
    ddb = server.client("dynamodb", key=ACCOUNT)
    _table(ddb, "tp-validated")
    arn = _arn("tp-validated")
    good = _policy("Allow", f"arn:aws:iam::{ACCOUNT}:root", "dynamodb:GetItem", arn)
    assert _code(lambda: ddb.put_resource_policy(ResourceArn=arn, Policy="{not json")) == "ValidationException"
    missing = _policy("Allow", f"arn:aws:iam::{ACCOUNT}:user/tp-nobody", "dynamodb:GetItem", arn)
    assert _code(lambda: ddb.put_resource_policy(ResourceArn=arn, Policy=missing)) == "ValidationException"
    # an index ARN: no policy of its own (refused before the backend, which would read "by-g" as a table name)
    assert _code(lambda: ddb.put_resource_policy(ResourceArn=f"{arn}/index/by-g", Policy=good)) in (
        "ValidationException",
        "AccessDeniedException",
    )
    assert _code(lambda: ddb.put_resource_policy(ResourceArn=arn, Policy=good, ExpectedRevisionId="1234")) == (
        "PolicyNotFoundException"
    )
    assert _code(lambda: ddb.get_resource_policy(ResourceArn=arn)) == "PolicyNotFoundException"
    revision = ddb.put_resource_policy(ResourceArn=arn, Policy=good, ExpectedRevisionId="NO_POLICY")["RevisionId"]
    assert ddb.get_resource_policy(ResourceArn=arn)["RevisionId"] == revision


def test_a_recreated_user_is_not_the_principal_a_policy_named(server: Endpoint) -> None:
    """Attack: the table's policy allows user u; u is deleted and a new user of the same name is created. AWS: the
    policy names the deleted user's unique id — the new user is not granted
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles)."""
    ddb = server.client("dynamodb", key=ACCOUNT)
    iam = server.client("iam", key=ACCOUNT)
    first, _ = _reader(server, ACCOUNT, "tp-pinned")
    _table(ddb, "tp-pins")
    ddb.put_resource_policy(
        ResourceArn=_arn("tp-pins"),
        Policy=_policy("Allow", f"arn:aws:iam::{ACCOUNT}:user/tp-pinned", "dynamodb:GetItem", _arn("tp-pins")),
    )
    assert first.get_item(TableName="tp-pins", Key={"k": {"S": "secret"}})["Item"]  # the user named is granted
    for key in iam.list_access_keys(UserName="tp-pinned")["AccessKeyMetadata"]:
        iam.delete_access_key(UserName="tp-pinned", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="tp-pinned")
    again, _ = _reader(server, ACCOUNT, "tp-pinned")
    assert _code(lambda: again.get_item(TableName="tp-pins", Key={"k": {"S": "secret"}})) == "AccessDeniedException"
    # read back, the policy names the deleted user's unique id, not the name someone else now holds
    shown = json.loads(ddb.get_resource_policy(ResourceArn=_arn("tp-pins"))["Policy"])
    assert shown["Statement"][0]["Principal"]["AWS"].startswith("AIDA"), shown


def test_a_table_policy_survives_a_restart(make_server: Callable[..., Endpoint], tmp_path: Path) -> None:
    """A table's policy is durable: after a restart, GetResourcePolicy answers it and its Deny still applies."""
    state = tmp_path / "state"
    first = make_server(state)
    ddb = first.client("dynamodb", key=ACCOUNT)
    keys = user_keys(first, ACCOUNT, "tp-restart-reader", ALL_DYNAMODB)
    _table(ddb, "tp-durable")
    policy = _policy("Deny", f"arn:aws:iam::{ACCOUNT}:user/tp-restart-reader", "dynamodb:GetItem", _arn("tp-durable"))
    ddb.put_resource_policy(ResourceArn=_arn("tp-durable"), Policy=policy)
    first.proc.terminate()
    first.proc.wait(timeout=20)
    second = make_server(state)
    again = second.client("dynamodb", key=ACCOUNT)
    assert json.loads(again.get_resource_policy(ResourceArn=_arn("tp-durable"))["Policy"]) == json.loads(policy)
    reader = clients_of(second, keys)("dynamodb")
    get = lambda: reader.get_item(TableName="tp-durable", Key={"k": {"S": "secret"}})  # noqa: E731
    assert _code(get) == "AccessDeniedException"
