"""Condition keys, review round 1 (attack class 6: missing or wrong condition context keys).

Each test sends a request whose condition key lambdaperm could read differently from AWS (a value taken from
another reading of the request than the executor's, a key supplied where AWS does not supply it, a key
silently absent) and asserts AWS's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"


def _user(server: Endpoint, account: str, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _client(server: Endpoint, service: str, creds: tuple[str, str], region: str = REGION) -> Any:
    return server.client(service, key=creds[0], secret=creds[1], region=region)


def _denied(call: Callable[..., Any], code: str, **params: Any) -> str:
    with pytest.raises(ClientError) as denied:
        call(**params)
    got = denied.value.response["Error"]["Code"]
    message = denied.value.response["Error"]["Message"]
    assert got == code, (got, message)
    return message


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# --- dynamodb:Attributes ---------------------------------------------------------------------------------------

TABLE = "Scores"


def _table(server: Endpoint, account: str) -> str:
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "UserId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "UserId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(
        TableName=TABLE,
        Item={"UserId": {"S": "u1"}, "Nick": {"S": "p"}, "contains": {"S": "secret"}, "size": {"S": "s"}},
    )
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{TABLE}"


def test_attribute_named_like_a_function_is_an_attribute(server: Endpoint) -> None:
    """Attack: a ProjectionExpression names an attribute `contains` (a function name of the expression
    language, not a reserved word: it can be written unescaped). If the reader of dynamodb:Attributes takes it
    for the function and leaves it out, the guide's attribute-restricting policy
    (ForAllValues:StringEquals dynamodb:Attributes [UserId, Nick]) lets the caller read it.
    AWS rule: dynamodb:Attributes is every top-level attribute name the request accesses.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html"""
    account = "620000000001"
    table = _table(server, account)
    reader = _client(
        server,
        "dynamodb",
        _user(
            server,
            account,
            "reader",
            _policy(
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
                    "Resource": table,
                    "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["UserId", "Nick"]}},
                }
            ),
        ),
    )
    key = {"UserId": {"S": "u1"}}
    assert reader.get_item(TableName=TABLE, Key=key, ProjectionExpression="UserId, Nick")["Item"]["Nick"]
    for projection in ("UserId, contains", "contains", "UserId,contains"):
        try:
            got = reader.get_item(TableName=TABLE, Key=key, ProjectionExpression=projection)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] in ("AccessDeniedException", "ValidationException"), exc.response
        else:
            assert "contains" not in got.get("Item", {}), (projection, got)
