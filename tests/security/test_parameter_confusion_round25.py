"""Parameter confusion, review round 25 (issue 7): round 24's open notes, settled against AWS's documentation.

Each test states the attack, AWS's rule and its documentation page, and runs against a real `lambdaperm serve`
(tests/e2e/conftest.py) with real boto3; the structural oracle (acted-on ⊆ authorized) checks every test server
when it stops.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

_TABLE = "rd25-t"
_ALICE = {"pk": {"S": "alice"}, "sk": {"S": "1"}, "v": {"S": "old"}}


def _error(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def _table(ddb: Any) -> None:
    ddb.create_table(
        TableName=_TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=_TABLE, Item=_ALICE)


def test_a_partiql_update_never_sets_or_removes_a_key_attribute(server: Endpoint) -> None:
    """Attack: a PartiQL UPDATE whose SET (or REMOVE) names a key attribute — `UPDATE t SET pk = 'bob' WHERE pk =
    'alice' AND sk = '1'`. The embedded backend wrote an item that reads `pk = bob` (rounds 22-24's note). A PartiQL
    UPDATE modifies "one or more attributes within an item"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.update.html) and is DynamoDB's
    UpdateItem, where "You cannot use UpdateItem to update any primary key attributes"
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValueUpdate.html): DynamoDB answers
    ValidationException "... Cannot update attribute pk. This attribute is part of the key". In ExecuteStatement,
    ExecuteTransaction and BatchExecuteStatement; quoted and placeholder spellings; the table is unchanged. Control:
    a non-key attribute is updated."""
    ddb = server.client("dynamodb", key="202500000001")
    _table(ddb)
    bob = [{"S": "bob"}]
    statements = [
        (f"UPDATE \"{_TABLE}\" SET pk = 'bob' WHERE pk = 'alice' AND sk = '1'", None),
        (f"UPDATE \"{_TABLE}\" SET \"pk\" = ? WHERE pk = 'alice' AND sk = '1'", bob),
        (f"UPDATE \"{_TABLE}\" SET v = 'x' SET sk = '2' WHERE pk = 'alice' AND sk = '1'", None),
        (f"UPDATE \"{_TABLE}\" SET v = 'x', sk = '2' WHERE pk = 'alice' AND sk = '1'", None),
        (f"UPDATE \"{_TABLE}\" REMOVE sk WHERE pk = 'alice' AND sk = '1'", None),
    ]
    for statement, parameters in statements:
        extra: dict[str, Any] = {} if parameters is None else {"Parameters": parameters}
        calls = [
            lambda s=statement, e=extra: ddb.execute_statement(Statement=s, **e),
            lambda s=statement, e=extra: ddb.execute_transaction(TransactStatements=[{"Statement": s, **e}]),
            lambda s=statement, e=extra: ddb.batch_execute_statement(Statements=[{"Statement": s, **e}]),
        ]
        for call in calls:
            code, message, status = _error(call)
            assert (code, status) == ("ValidationException", 400), (statement, code, message)
            assert "This attribute is part of the key" in message, (statement, message)
    assert ddb.scan(TableName=_TABLE)["Items"] == [_ALICE]
    ddb.execute_statement(Statement=f"UPDATE \"{_TABLE}\" SET v = 'new' WHERE pk = 'alice' AND sk = '1'")
    assert ddb.scan(TableName=_TABLE)["Items"] == [{**_ALICE, "v": {"S": "new"}}]


def test_a_documented_returning_clause_is_not_refused_as_malformed(server: Endpoint) -> None:
    """Attack (a wrong deny): a PartiQL UPDATE or DELETE with its documented RETURNING clause — `UPDATE table SET ...
    WHERE condition [RETURNING returnvalues]`, `ALL OLD | MODIFIED OLD | ALL NEW | MODIFIED NEW` `*`
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.update.html; DELETE: `ALL OLD *`,
    ql-reference.delete.html) — was refused as a statement that "wasn't well formed" (ValidationException, a 400
    that tells the caller its statement is wrong). lambdaperm does not serve the clause: 501 NotImplemented naming
    it, and nothing written. Control: the same UPDATE without the clause is served."""
    ddb = server.client("dynamodb", key="202500000002")
    _table(ddb)
    statements = [
        f"UPDATE \"{_TABLE}\" SET v = 'x' WHERE pk = 'alice' AND sk = '1' RETURNING ALL NEW *",
        f"UPDATE \"{_TABLE}\" SET v = 'x' WHERE pk = 'alice' AND sk = '1' RETURNING MODIFIED OLD *",
        f"DELETE FROM \"{_TABLE}\" WHERE pk = 'alice' AND sk = '1' RETURNING ALL OLD *",
    ]
    for statement in statements:
        for call in (
            lambda s=statement: ddb.execute_statement(Statement=s),
            lambda s=statement: ddb.execute_transaction(TransactStatements=[{"Statement": s}]),
            lambda s=statement: ddb.batch_execute_statement(Statements=[{"Statement": s}]),
        ):
            code, message, status = _error(call)
            assert (code, status) == ("NotImplemented", 501), (statement, code, message)
            assert "RETURNING" in message, message
    assert ddb.scan(TableName=_TABLE)["Items"] == [_ALICE]
    ddb.execute_statement(Statement=f"UPDATE \"{_TABLE}\" SET v = 'x' WHERE pk = 'alice' AND sk = '1'")
    assert ddb.scan(TableName=_TABLE)["Items"] == [{**_ALICE, "v": {"S": "x"}}]


_BAD_NAMES = ["AWS.x", "aws.x", "Amazon.x", "amazon.x", "AMAZON.x", ".x", "x.", "a..b", "a" * 257]


def test_sqs_message_attribute_names_follow_the_documented_rules(server: Endpoint) -> None:
    """Attack: SQS message attribute names the developer guide forbids — "Can't start with AWS. or Amazon. (or any
    casing variations)", "Can't start or end with a period", "Can't have periods in a sequence", "Can be up to 256
    characters long" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html)
    — were queued by the embedded backend, which checks the characters only (a name `AWS.x` reads, to a consumer,
    as AWS's own metadata). SQS answers InvalidParameterValue (the backend's code for its own name check). SendMessage
    and SendMessageBatch; nothing is queued. Control: `AWSx`, `my.AWS.x` and a 256-character name are queued."""
    sqs = server.client("sqs", key="202500000003")
    url = sqs.create_queue(QueueName="rd25-q")["QueueUrl"]
    value = {"DataType": "String", "StringValue": "v"}
    for name in _BAD_NAMES:
        code, message, status = _error(
            lambda n=name: sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes={n: value})
        )
        assert (code, status) == ("InvalidParameterValue", 400), (name, code, message)
        code, message, status = _error(
            lambda n=name: sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "b", "MessageAttributes": {n: value}}]
            )
        )
        assert (code, status) == ("InvalidParameterValue", 400), (name, code, message)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []
    good = {"AWSx": value, "my.AWS.x": value, "a" * 256: value}
    sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes=good)
    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=0)["Messages"]
    assert set(got[0]["MessageAttributes"]) == set(good)


def test_a_receipt_handle_acts_only_on_the_queue_named(server: Endpoint) -> None:
    """Attack: ChangeMessageVisibility / ChangeMessageVisibilityBatch / DeleteMessage naming queue `a` (the one the
    decision covered) with a receipt handle received from queue `b` of the same account, so the backend acts on `b`'s
    message. SQS reads the handle within the queue named: "The receipt handle isn't valid"
    (ReceiptHandleIsInvalid, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html).
    Held: the message of `b` is neither deleted nor made visible again."""
    sqs = server.client("sqs", key="202500000004")
    a = sqs.create_queue(QueueName="rd25-a")["QueueUrl"]
    b = sqs.create_queue(QueueName="rd25-b", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    sqs.send_message(QueueUrl=b, MessageBody="secret")
    handle = sqs.receive_message(QueueUrl=b, WaitTimeSeconds=0)["Messages"][0]["ReceiptHandle"]
    for call in (
        lambda: sqs.change_message_visibility(QueueUrl=a, ReceiptHandle=handle, VisibilityTimeout=0),
        lambda: sqs.delete_message(QueueUrl=a, ReceiptHandle=handle),
    ):
        try:
            call()
        except ClientError as err:
            assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    batch = sqs.change_message_visibility_batch(
        QueueUrl=a, Entries=[{"Id": "1", "ReceiptHandle": handle, "VisibilityTimeout": 0}]
    )
    assert batch.get("Successful", []) == [] or batch.get("Failed"), batch
    assert sqs.receive_message(QueueUrl=b, WaitTimeSeconds=0).get("Messages", []) == []  # still invisible in b
    attributes = sqs.get_queue_attributes(QueueUrl=b, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"  # not deleted
