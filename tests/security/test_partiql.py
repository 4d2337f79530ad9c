"""Attack class 5: PartiQL. The table is what the statement names by PartiQL's rules — a `FROM` inside a
quoted identifier or a string is no keyword — and the backend executes only what it reads the same way;
every statement of a batch or a transaction is authorized. Real `lambdaperm serve`, real boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

TABLE = "arn:aws:dynamodb:us-east-1:{account}:table"


def _tables(server: Endpoint, account: str) -> Any:
    ddb = server.client("dynamodb", key=account)
    for name in ("allowed", "victim"):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName=name, Item={"pk": {"S": f"{name}-item"}, "secret": {"S": f"{name} data"}})
    return ddb


def _user(server: Endpoint, account: str, actions: list[str]) -> Any:
    iam = server.client("iam", key=account)
    iam.create_user(UserName="reader")
    iam.put_user_policy(
        UserName="reader",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": actions, "Resource": TABLE.format(account=account) + "/allowed"}
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    return server.client("dynamodb", key=key["AccessKeyId"], secret=key["SecretAccessKey"])


def _code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


@pytest.mark.parametrize(
    "statement",
    [
        'SELECT "FROM allowed" FROM victim',
        "SELECT * FROM victim WHERE pk = ' FROM allowed'",
        'SELECT * FROM "victim" WHERE "x FROM allowed" = \'a\'',
    ],
)
def test_a_from_in_a_quoted_identifier_or_string_is_not_the_table(server: Endpoint, statement: str) -> None:
    account = f"88880000{abs(sum(map(ord, statement))) % 10000:04d}"
    _tables(server, account)
    reader = _user(server, account, ["dynamodb:PartiQLSelect"])
    with pytest.raises(ClientError) as err:
        reader.execute_statement(Statement=statement)
    assert _code(err) in ("AccessDeniedException", "ValidationException")
    assert "victim data" not in json.dumps(err.value.response)


def test_the_named_table_is_served(server: Endpoint) -> None:
    account = "888800010001"
    _tables(server, account)
    reader = _user(server, account, ["dynamodb:PartiQLSelect"])
    items = reader.execute_statement(Statement="SELECT * FROM \"allowed\" WHERE pk = 'allowed-item'")["Items"]
    assert items == [{"pk": {"S": "allowed-item"}, "secret": {"S": "allowed data"}}]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM allowed; SELECT * FROM victim",
        "SELECT * FROM allowed, victim",
        "SELECT * FROM allowed WHERE pk IN (SELECT pk FROM victim)",
        "SELECT * FROM allowed -- FROM victim",
    ],
)
def test_what_cannot_be_read_unambiguously_is_a_validation_exception(server: Endpoint, statement: str) -> None:
    account = f"88880002{abs(sum(map(ord, statement))) % 10000:04d}"
    _tables(server, account)
    reader = _user(server, account, ["dynamodb:PartiQLSelect"])
    with pytest.raises(ClientError) as err:
        reader.execute_statement(Statement=statement)
    assert _code(err) == "ValidationException"
    assert err.value.response["Error"]["Message"].startswith("Statement wasn't well formed, can't be processed")


def test_every_statement_of_a_batch_is_authorized(server: Endpoint) -> None:
    account = "888800030001"
    ddb = _tables(server, account)
    reader = _user(server, account, ["dynamodb:PartiQLSelect", "dynamodb:PartiQLDelete"])
    with pytest.raises(ClientError) as err:
        reader.batch_execute_statement(
            Statements=[
                {"Statement": "SELECT * FROM allowed WHERE pk = 'allowed-item'"},
                {"Statement": "DELETE FROM victim WHERE pk = 'victim-item'"},
            ]
        )
    assert _code(err) == "AccessDeniedException"
    assert "Item" in ddb.get_item(TableName="victim", Key={"pk": {"S": "victim-item"}})


def test_every_statement_of_a_transaction_is_authorized(server: Endpoint) -> None:
    account = "888800040001"
    ddb = _tables(server, account)
    reader = _user(server, account, ["dynamodb:PartiQLUpdate"])
    with pytest.raises(ClientError) as err:
        reader.execute_transaction(
            TransactStatements=[
                {"Statement": "UPDATE allowed SET secret = 'x' WHERE pk = 'allowed-item'"},
                {"Statement": "UPDATE \"victim\" SET secret = 'pwned' WHERE pk = 'victim-item'"},
            ]
        )
    assert _code(err) == "AccessDeniedException"
    item = ddb.get_item(TableName="victim", Key={"pk": {"S": "victim-item"}})["Item"]
    assert item["secret"] == {"S": "victim data"}


def test_a_dotted_name_the_executor_cannot_tell_apart_is_refused(server: Endpoint) -> None:
    account = "888800050001"
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName="t.x",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    with pytest.raises(ClientError) as err:
        ddb.execute_statement(Statement='SELECT * FROM "t.x"')
    assert _code(err) == "ValidationException"
