"""Parameter confusion, review round 24 (issue 7): members AWS documents as alternatives, given together.

Each test states the attack, AWS's rule and its documentation page, and runs against a real `lambdaperm serve`
(tests/e2e/conftest.py) with real boto3; the structural oracle (acted-on ⊆ authorized) checks every test server
when it stops.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError

from lambdaperm.dataplane.exclusive_members import EXCLUSIVE
from lambdaperm.dataplane.partiql_parameters import MISMATCH
from lambdaperm.protocol.models import operation_model
from tests.e2e.conftest import Endpoint

_GROUP = "rd24-g"
# a value for every member of the table, and the other members each operation needs
_VALUES: dict[str, Any] = {
    "logGroupNamePrefix": "rd24",
    "logGroupNamePattern": "rd24",
    "logStreamNames": ["s"],
    "logStreamNamePrefix": "s",
    "logGroupName": _GROUP,
    "logGroupIdentifier": _GROUP,
}
_BASE: dict[str, dict[str, Any]] = {
    "DescribeLogGroups": {},
    "FilterLogEvents": {"logGroupName": _GROUP},
    "GetLogEvents": {"logStreamName": "s"},
    "DescribeLogStreams": {},
}


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def _request(operation: str, members: tuple[str, ...]) -> dict[str, Any]:
    params = dict(_BASE[operation])
    if "logGroupIdentifier" in members:
        params.pop("logGroupName", None)
    for member in members:
        params[member] = _VALUES[member]
    return params


def test_members_aws_documents_as_alternatives_are_never_executed_together(server: Endpoint) -> None:
    """Attack: two members a service documents as mutually exclusive, in one call, so the executor runs reading one
    and ignoring the other. CloudWatch Logs: DescribeLogGroups "logGroupNamePrefix and logGroupNamePattern are
    mutually exclusive. Only one of these parameters can be passed."
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html); FilterLogEvents
    "If you specify a value for both logStreamNamePrefix and logStreamNames, the action returns an
    InvalidParameterException error."
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html); logGroupName and
    logGroupIdentifier "but not both". The backend listed the groups by the prefix and the events of the named
    streams. Table over every rule of `exclusive_members.EXCLUSIVE`: both given are refused with the documented
    code; each alone is served (control). Structural: every rule names two members of the operation's input."""
    logs = server.client("logs", key="202400000001")
    logs.create_log_group(logGroupName=_GROUP)
    logs.create_log_stream(logGroupName=_GROUP, logStreamName="s")
    assert EXCLUSIVE
    for rule in EXCLUSIVE:
        shape = operation_model(rule.service, rule.operation).input_shape
        assert shape is not None and all(m in shape.members for m in rule.members), rule
        method = getattr(logs, xform_name(rule.operation))
        code, message = _error(lambda r=rule, m=method: m(**_request(r.operation, r.members)))
        assert (code, message) == (rule.code, rule.message), (rule, code, message)
        for member in rule.members:
            if (rule.operation, member) == ("FilterLogEvents", "logStreamNamePrefix"):  # not served (below)
                code, _ = _error(lambda r=rule, m=method, n=member: m(**_request(r.operation, (n,))))
                assert code == "NotImplemented"
                continue
            method(**_request(rule.operation, (member,)))


def test_a_json_message_structure_is_a_json_object_with_a_string_default(server: Endpoint) -> None:
    """Attack: SNS Publish / PublishBatch with `MessageStructure=json` and a Message that is no JSON object with a
    string `default` — acknowledged with a MessageId by the backend, which parses it only at delivery. AWS: "If you
    set MessageStructure to json, the value of the Message parameter must: be a syntactically valid JSON object; and
    contain at least a top-level JSON key of "default" with a value that is a string."
    (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html): 400 InvalidParameter. Control: a valid structure
    and a plain message are published."""
    sns = server.client("sns", key="202400000002")
    topic = sns.create_topic(Name="rd24-t")["TopicArn"]
    bad = ["not json", json.dumps(["default"]), json.dumps({"sqs": "x"}), json.dumps({"default": 1}), "{}"]
    for message in bad:
        code, _ = _error(lambda m=message: sns.publish(TopicArn=topic, Message=m, MessageStructure="json"))
        assert code == "InvalidParameter", message
        entry = {"Id": "1", "Message": message, "MessageStructure": "json"}
        code, _ = _error(lambda e=entry: sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[e]))
        assert code == "InvalidParameter", message
    good = json.dumps({"default": "d", "sqs": "q"})
    assert sns.publish(TopicArn=topic, Message=good, MessageStructure="json")["MessageId"]
    assert sns.publish(TopicArn=topic, Message="not json")["MessageId"]
    batch = sns.publish_batch(
        TopicArn=topic, PublishBatchRequestEntries=[{"Id": "1", "Message": good, "MessageStructure": "json"}]
    )
    assert [s["Id"] for s in batch["Successful"]] == ["1"]


def _table(ddb: Any) -> None:
    ddb.create_table(
        TableName="rd24-t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="rd24-t", Item={"pk": {"S": "alice"}, "sk": {"S": "1"}, "v": {"S": "old"}})


def test_a_partiql_placeholder_without_a_value_is_refused(server: Endpoint) -> None:
    """Attack: a PartiQL statement with more `?` than `Parameters` values. The backend read the missing value as
    nothing and ran the statement (a SELECT on `sk = ?` answered an empty result; an UPDATE's `SET v = ?` with no
    value). AWS: each `?` takes the next value of Parameters
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ExecuteStatement.html); DynamoDB answers 400
    ValidationException "Number of parameters in request and statement don't match." The item is unchanged; a `?`
    inside a string literal is no placeholder (control)."""
    ddb = server.client("dynamodb", key="202400000003")
    _table(ddb)
    alice = [{"S": "alice"}]
    cases: list[Any] = [
        lambda: ddb.execute_statement(Statement='SELECT * FROM "rd24-t" WHERE pk = ? AND sk = ?', Parameters=alice),
        lambda: ddb.execute_statement(Statement='SELECT * FROM "rd24-t" WHERE pk = ?'),
        lambda: ddb.execute_statement(
            Statement="UPDATE \"rd24-t\" SET v = ? WHERE pk = ? AND sk = '1'", Parameters=alice
        ),
        lambda: ddb.execute_transaction(
            TransactStatements=[
                {"Statement": "UPDATE \"rd24-t\" SET v = ? WHERE pk = ? AND sk = '1'", "Parameters": alice}
            ]
        ),
        lambda: ddb.batch_execute_statement(
            Statements=[
                {"Statement": "UPDATE \"rd24-t\" SET v = 'batch' WHERE pk = 'alice' AND sk = '1'"},
                {"Statement": 'SELECT * FROM "rd24-t" WHERE pk = ? AND sk = ?', "Parameters": alice},
            ]
        ),
    ]
    for case in cases:
        assert _error(case) == ("ValidationException", MISMATCH)
    assert ddb.scan(TableName="rd24-t")["Items"] == [{"pk": {"S": "alice"}, "sk": {"S": "1"}, "v": {"S": "old"}}]
    items = ddb.execute_statement(Statement="SELECT * FROM \"rd24-t\" WHERE pk = ? AND sk = '?'", Parameters=alice)
    assert items["Items"] == []


def test_partiql_values_beyond_the_placeholders_are_not_read(server: Endpoint) -> None:
    """Attack (fidelity: a 500): a PartiQL UPDATE, or a transaction statement, given more `Parameters` values than
    `?` placeholders — 500 InternalFailure from the backend. DynamoDB reads the values the placeholders take, in
    order (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ExecuteStatement.html) and runs the
    statement (DynamoDB Local alike: it refuses only a placeholder without a value)."""
    ddb = server.client("dynamodb", key="202400000004")
    _table(ddb)
    extra = [{"S": "new"}, {"S": "unread"}]
    ddb.execute_statement(Statement="UPDATE \"rd24-t\" SET v = ? WHERE pk = 'alice' AND sk = '1'", Parameters=extra)
    item = ddb.get_item(TableName="rd24-t", Key={"pk": {"S": "alice"}, "sk": {"S": "1"}})["Item"]
    assert item["v"] == {"S": "new"}
    ddb.execute_transaction(
        TransactStatements=[
            {"Statement": "UPDATE \"rd24-t\" SET v = ? WHERE pk = 'alice' AND sk = '1'", "Parameters": extra[::-1]}
        ]
    )
    item = ddb.get_item(TableName="rd24-t", Key={"pk": {"S": "alice"}, "sk": {"S": "1"}})["Item"]
    assert item["v"] == {"S": "unread"}
    found = ddb.execute_statement(
        Statement='SELECT * FROM "rd24-t" WHERE pk = ?', Parameters=[{"S": "alice"}, {"S": "bob"}]
    )["Items"]
    assert [i["pk"] for i in found] == [{"S": "alice"}]


def test_a_stream_name_prefix_the_backend_ignores_is_not_served(server: Endpoint) -> None:
    """Attack (a filter asked for and not applied): FilterLogEvents with `logStreamNamePrefix` — the backend reads
    `logStreamNames` only and answered the events of every stream of the group. AWS: "Filters the results to
    include only events from log streams that have names starting with this prefix."
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html). No wrong allow
    (FilterLogEvents is authorized on the group); until the prefix is performed it is 501 NotImplemented naming it.
    Control: the same call without the prefix answers both streams' events."""
    logs = server.client("logs", key="202400000005")
    logs.create_log_group(logGroupName=_GROUP)
    for stream in ("s1", "t1"):
        logs.create_log_stream(logGroupName=_GROUP, logStreamName=stream)
        logs.put_log_events(
            logGroupName=_GROUP, logStreamName=stream, logEvents=[{"timestamp": 1_796_000_000_000, "message": stream}]
        )
    code, message = _error(lambda: logs.filter_log_events(logGroupName=_GROUP, logStreamNamePrefix="s"))
    assert code == "NotImplemented" and "logStreamNamePrefix" in message, (code, message)
    events = logs.filter_log_events(logGroupName=_GROUP)["events"]
    assert sorted(e["message"] for e in events) == ["s1", "t1"]


def test_a_partiql_insert_ends_with_its_item(server: Endpoint) -> None:
    """Attack: a PartiQL INSERT with a clause after its item (`RETURNING ALL OLD *`, `WHERE ...`) — the backend's
    executor ignored the tail and wrote the item. AWS: the grammar is `INSERT INTO table VALUE item` and "This
    statement does not return any values"
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html); RETURNING belongs to
    UPDATE and DELETE. ValidationException; nothing written (ExecuteStatement, BatchExecuteStatement,
    ExecuteTransaction). Control: the INSERT without the tail writes the item."""
    ddb = server.client("dynamodb", key="202400000006")
    _table(ddb)
    inserts = [
        "INSERT INTO \"rd24-t\" VALUE {'pk': 'carol', 'sk': '1'} RETURNING ALL OLD *",
        "INSERT INTO \"rd24-t\" VALUE {'pk': 'carol', 'sk': '1'} RETURNING ALL NEW *",
        "INSERT INTO \"rd24-t\" VALUE {'pk': 'carol', 'sk': '1'} WHERE pk = 'carol'",
    ]
    for statement in inserts:
        code, _ = _error(lambda s=statement: ddb.execute_statement(Statement=s))
        assert code == "ValidationException", statement
        code, _ = _error(lambda s=statement: ddb.execute_transaction(TransactStatements=[{"Statement": s}]))
        assert code == "ValidationException", statement
        code, _ = _error(lambda s=statement: ddb.batch_execute_statement(Statements=[{"Statement": s}]))
        assert code == "ValidationException", statement
    assert [i["pk"]["S"] for i in ddb.scan(TableName="rd24-t")["Items"]] == ["alice"]
    ddb.execute_statement(Statement="INSERT INTO \"rd24-t\" VALUE {'pk': 'carol', 'sk': '1'}")
    assert sorted(i["pk"]["S"] for i in ddb.scan(TableName="rd24-t")["Items"]) == ["alice", "carol"]
