"""Attack class: races (time of check vs time of use), review round 6.

Round 5 held the table a DynamoDB call names by `TableName` from its authorization to its execution, and left the
calls that name a table otherwise: several tables at once (BatchGetItem, BatchWriteItem, TransactGetItems,
TransactWriteItems, the PartiQL calls) or a table by ARN (`ResourceArn`: TagResource, UntagResource,
ListTagsOfResource, the resource-policy calls; `TableArn`: ExportTableToPointInTime). Each is played here: decided on
a table's tags, held at the gate between authorization and execution while the owner deletes the table and creates
another of the same name (other tags, a secret item), then released. The same gap class elsewhere: CloudWatch Logs
log groups (never held: by `logGroupName` or `logGroupIdentifier` ARN) and SNS's tagging calls (the topic by
`ResourceArn`, which the topic hold did not read). Every window is played deterministically in a
real server (`race_gate_round5`: the gates of rounds 1–5), never with timing.

AWS: aws:ResourceTag is the tag of the resource the request acts on
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/access-control-resource-based.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html#access_tags_control-resources); a deleted table's
items and tags go with it (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html). A
call acts on the table whose tags allowed it (before the deletion), finds no table, or is denied on the new one —
never the new table under the old table's tags.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys
from tests.security.race_support import Held, release_after, through_gate
from tests.security.test_races_round5 import gated as _gated_server

REGION = "us-east-1"
gated = _gated_server  # the gated server of round 5 (its gates include every earlier round's)

_DEV = {"StringEquals": {"aws:ResourceTag/env": "dev"}}
_KEY = {"pk": {"S": "k"}}


def _create(ddb: Any, name: str, env: str, value: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "env", "Value": env}],
    )
    ddb.put_item(TableName=name, Item={**_KEY, "v": {"S": value}})


def _user(server: Endpoint, account: str, user: str, *actions: str) -> dict[str, str]:
    """IAM user `user` of `account`, allowed `actions` on the tables tagged env=dev only: its keys."""
    statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*", "Condition": _DEV}
    return user_keys(server, account, user, statement)


def _race(
    server: Endpoint,
    gate: Path,
    account: str,
    tables: list[str],
    gate_name: str,
    keys: dict[str, str],
    call: Callable[[Any], Any],
) -> tuple[str, Any]:
    """`call` (with a client of `keys`) decided on `tables` (all tagged dev, each holding a dev item), held at the
    gate while the owner deletes the LAST of them and creates it again tagged prod with a secret item; the outcome."""
    owner = server.client("dynamodb", key=account)
    for name in tables:
        _create(owner, name, "dev", f"dev data of {name}")
    held_client = through_gate(server.client("dynamodb", **keys), gate_name)
    held = Held(gate, gate_name, lambda: call(held_client)).start()

    def recreate() -> None:
        owner.delete_table(TableName=tables[-1])
        _create(owner, tables[-1], "prod", "secret")

    outcome = release_after(held, recreate)  # with a hold on every table named, the deletion waits for the call
    assert owner.describe_table(TableName=tables[-1])["Table"]["TableName"] == tables[-1]  # re-created
    return outcome


def test_batch_get_item_does_not_read_a_table_recreated_after_it_was_decided(gated: tuple[Endpoint, Path]) -> None:
    """Attack: user `reader` may BatchGetItem the tables tagged env=dev. Her BatchGetItem of `race6-a` and
    `race6-b` (both dev) is decided on their tags; before it executes, the owner deletes `race6-b` and creates it
    again tagged env=prod with a secret item. Without a hold on every table of RequestItems, the held read answered
    the new table's secret item under the deleted table's tags (round 5 held `TableName` only)."""
    server, gate = gated
    account = "555500000601"
    keys = _user(server, account, "reader", "dynamodb:BatchGetItem")
    tables = ["race6-a", "race6-b"]

    def batch_get(ddb: Any) -> Any:
        return ddb.batch_get_item(RequestItems={name: {"Keys": [_KEY]} for name in tables})["Responses"]

    outcome = _race(server, gate, account, tables, "batch-get", keys, batch_get)
    assert outcome[0] == "error" or {"S": "secret"} not in [i["v"] for i in outcome[1].get("race6-b", [])], (
        "BatchGetItem read the new table's item under the deleted table's tags"
    )
    assert outcome[0] == "error" or outcome[1]["race6-b"] == [{**_KEY, "v": {"S": "dev data of race6-b"}}], outcome


def test_transact_write_items_does_not_write_a_table_recreated_after_it_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: user `writer` may PutItem into the tables tagged env=dev (a transaction's Put is authorized as
    dynamodb:PutItem, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
    Her TransactWriteItems putting into `race6-c` and `race6-d` is decided on their dev tags; before it executes,
    the owner re-creates `race6-d` tagged env=prod. Without a hold, her item landed in the prod table, which no
    policy lets her write."""
    server, gate = gated
    account = "555500000602"
    keys = _user(server, account, "writer", "dynamodb:PutItem")
    tables = ["race6-c", "race6-d"]

    def transact(ddb: Any) -> Any:
        items = [{"Put": {"TableName": name, "Item": {"pk": {"S": "planted"}}}} for name in tables]
        return ddb.transact_write_items(TransactItems=items)

    outcome = _race(server, gate, account, tables, "transact-write", keys, transact)
    owner = server.client("dynamodb", key=account)
    planted = owner.get_item(TableName="race6-d", Key={"pk": {"S": "planted"}}).get("Item")
    assert planted is None, f"the transaction wrote into the prod table re-created after its decision ({outcome})"


def test_execute_statement_does_not_read_a_table_recreated_after_it_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: user `reader` may run PartiQL SELECTs (dynamodb:PartiQLSelect) on the tables tagged env=dev. Her
    `SELECT * FROM "race6-e"` is decided on the dev tags; the owner re-creates `race6-e` tagged prod before it
    executes. Without a hold on the statement's table, the held SELECT answered the secret item."""
    server, gate = gated
    account = "555500000603"
    keys = _user(server, account, "reader", "dynamodb:PartiQLSelect")

    def select(ddb: Any) -> Any:
        return ddb.execute_statement(Statement='SELECT * FROM "race6-e"')["Items"]

    outcome = _race(server, gate, account, ["race6-e"], "partiql-select", keys, select)
    assert outcome[0] == "error" or {**_KEY, "v": {"S": "secret"}} not in outcome[1], (
        "the SELECT read the new table's item under the deleted table's tags"
    )
    assert outcome in (
        ("ok", [{**_KEY, "v": {"S": "dev data of race6-e"}}]),
        ("error", "ResourceNotFoundException"),
        ("error", "AccessDeniedException"),
    ), outcome


def test_tag_resource_by_arn_does_not_tag_a_table_recreated_after_it_was_decided(
    gated: tuple[Endpoint, Path],
) -> None:
    """Attack: user `tagger` may TagResource the tables tagged env=dev; the table is named by `ResourceArn`. Her
    TagResource of `race6-f` is decided on its dev tags; the owner re-creates `race6-f` tagged prod before it
    executes. Without a hold on the ARN's table, the new prod table got her tag — a write nobody authorized (a tag
    that other policies read: aws:ResourceTag)."""
    server, gate = gated
    account = "555500000604"
    keys = _user(server, account, "tagger", "dynamodb:TagResource")
    arn = f"arn:aws:dynamodb:{REGION}:{account}:table/race6-f"

    def tag(ddb: Any) -> Any:
        return ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "planted", "Value": "yes"}])

    outcome = _race(server, gate, account, ["race6-f"], "tag-arn", keys, tag)
    tags = server.client("dynamodb", key=account).list_tags_of_resource(ResourceArn=arn)["Tags"]
    assert {"Key": "planted", "Value": "yes"} not in tags, f"the re-created prod table got her tag ({outcome})"
    assert {"Key": "env", "Value": "prod"} in tags


# --- CloudWatch Logs: a log group deleted and created again under its name ----------------------------------


def _log_group(logs: Any, name: str, env: str, message: str) -> None:
    logs.create_log_group(logGroupName=name, tags={"env": env})
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    logs.put_log_events(
        logGroupName=name, logStreamName="s", logEvents=[{"timestamp": int(time.time() * 1000), "message": message}]
    )


@pytest.mark.parametrize("by_arn", [False, True])
def test_filter_log_events_does_not_read_a_log_group_recreated_after_it_was_decided(
    gated: tuple[Endpoint, Path], by_arn: bool
) -> None:
    """Attack: user `reader` may call logs:FilterLogEvents on the log groups tagged env=dev (aws:ResourceTag,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/iam-access-control-overview-cwl.html). Her
    FilterLogEvents of `race6-logs` (named by `logGroupName`, or by `logGroupIdentifier` ARN) is decided on its
    dev tags; before it executes, the owner deletes the group and creates `race6-logs` again tagged env=prod with
    a secret event. Without a hold on the group's name, the held read answered the new group's secret event under
    the deleted group's tags.

    AWS: a deleted log group's events and tags go with it
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DeleteLogGroup.html); the read acts on
    the group whose tags allowed it, finds none (ResourceNotFoundException), or is denied on the new one."""
    server, gate = gated
    account = "555500000611" if by_arn else "555500000612"
    name = "race6-logs"
    statement = {"Effect": "Allow", "Action": "logs:FilterLogEvents", "Resource": "*", "Condition": _DEV}
    keys = user_keys(server, account, "reader", statement)
    owner = server.client("logs", key=account)
    _log_group(owner, name, "dev", "dev event")
    group = (
        {"logGroupIdentifier": f"arn:aws:logs:{REGION}:{account}:log-group:{name}"}
        if by_arn
        else {"logGroupName": name}
    )
    reader = server.client("logs", **keys)
    assert [e["message"] for e in reader.filter_log_events(**group)["events"]] == ["dev event"]  # control

    held_reader = through_gate(server.client("logs", **keys), f"logs-{by_arn}")
    held = Held(
        gate, f"logs-{by_arn}", lambda: [e["message"] for e in held_reader.filter_log_events(**group)["events"]]
    )
    held.start()

    def recreate() -> None:
        owner.delete_log_group(logGroupName=name)
        _log_group(owner, name, "prod", "secret event")

    outcome = release_after(held, recreate)
    assert outcome[0] == "error" or "secret event" not in outcome[1], (
        "the new log group's event was read under the deleted group's tags"
    )
    assert outcome in (
        ("ok", ["dev event"]),
        ("error", "ResourceNotFoundException"),
        ("error", "AccessDeniedException"),
    )
    assert owner.list_tags_for_resource(resourceArn=f"arn:aws:logs:{REGION}:{account}:log-group:{name}")["tags"] == {
        "env": "prod"
    }


# --- every form a DynamoDB table or a log group is named in is held ------------------------------------------


def test_every_form_a_table_is_named_in_is_held() -> None:
    """The tables a call holds are those its decision reads, in every form DynamoDB's API names one (a call
    authorized on a table it does not hold is refused before it executes: `HeldTables.check`)."""
    from lambdaperm.gateway import table_holds

    arn = f"arn:aws:dynamodb:{REGION}:111122223333:table"
    cases: list[tuple[str, dict[str, Any], set[str]]] = [
        ("GetItem", {"TableName": "t"}, {"t"}),
        ("GetItem", {"TableName": f"{arn}/t"}, {"t"}),
        ("BatchGetItem", {"RequestItems": {"a": {}, f"{arn}/b": {}}}, {"a", "b"}),
        ("BatchWriteItem", {"RequestItems": {"a": [], "b": []}}, {"a", "b"}),
        ("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "a"}}, {"Get": {"TableName": "b"}}]}, {"a", "b"}),
        (
            "TransactWriteItems",
            {"TransactItems": [{k: {"TableName": k.lower()}} for k in ("Put", "Update", "Delete", "ConditionCheck")]},
            {"put", "update", "delete", "conditioncheck"},
        ),
        ("ExecuteStatement", {"Statement": 'SELECT * FROM "a"."i"'}, {"a"}),
        ("BatchExecuteStatement", {"Statements": [{"Statement": 'DELETE FROM "a" WHERE pk = 1'}]}, {"a"}),
        ("ExecuteTransaction", {"TransactStatements": [{"Statement": 'UPDATE "b" SET v = 1 WHERE pk = 1'}]}, {"b"}),
        ("TagResource", {"ResourceArn": f"{arn}/t"}, {"t"}),
        ("ListTagsOfResource", {"ResourceArn": f"{arn}/t/index/i"}, {"t"}),
        ("ExportTableToPointInTime", {"TableArn": f"{arn}/t"}, {"t"}),
        ("DescribeBackup", {"BackupArn": f"{arn}/t/backup/01"}, {"t"}),
        ("RestoreTableToPointInTime", {"SourceTableArn": f"{arn}/s", "TargetTableName": "t"}, {"s", "t"}),
        ("ImportTable", {"TableCreationParameters": {"TableName": "t"}}, {"t"}),
        ("EnableKinesisStreamingDestination", {"TableName": "t", "StreamArn": "arn:aws:kinesis:x:1:stream/t2"}, {"t"}),
    ]
    for operation, params, expected in cases:
        assert table_holds.tables(operation, params) == expected, (operation, params)
    held = table_holds.HeldTables(frozenset({"a"}))
    held.check([f"{arn}/a", f"{arn}/a/index/i", "arn:aws:s3:::b/k"])
    with pytest.raises(Exception) as refused:
        held.check([f"{arn}/a", f"{arn}/b"])
    assert getattr(refused.value, "code", None) == "NotImplemented"


def test_every_form_a_log_group_is_named_in_is_held() -> None:
    """As above, for CloudWatch Logs log groups (`log_group_holds`)."""
    from lambdaperm.gateway import log_group_holds

    arn = f"arn:aws:logs:{REGION}:111122223333:log-group"
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"logGroupName": "g"}, {"g"}),
        ({"logGroupIdentifier": f"{arn}:g"}, {"g"}),
        ({"logGroupIdentifier": f"{arn}:g:*"}, {"g"}),
        ({"logGroupIdentifiers": ["a", f"{arn}:b"], "logGroupNames": ["c"]}, {"a", "b", "c"}),
        ({"logGroupArnList": [f"{arn}:a"], "filterLogGroupArn": f"{arn}:b"}, {"a", "b"}),
        ({"resourceArn": f"{arn}:g"}, {"g"}),
        ({"logGroupName": "g", "destinationArn": "arn:aws:lambda:x:1:function:f"}, {"g"}),
    ]
    for params, expected in cases:
        assert log_group_holds.groups(params) == expected, params
    held = log_group_holds.HeldLogGroups(frozenset({"a"}))
    held.check([f"{arn}:a:log-stream:", f"{arn}::log-stream:", f"{arn}:*"])
    with pytest.raises(Exception) as refused:
        held.check([f"{arn}:b:log-stream:"])
    assert getattr(refused.value, "code", None) == "NotImplemented"


# --- SNS: TagResource names its topic by ResourceArn -------------------------------------------------------------


def test_sns_tag_resource_does_not_tag_a_topic_recreated_after_it_was_decided(gated: tuple[Endpoint, Path]) -> None:
    """Attack: user `tagger` may sns:TagResource the topics tagged env=dev; TagResource names its topic by
    `ResourceArn` (not `TopicArn`, the parameter round 2's topic hold reads). Her TagResource of `race6-topic` is
    decided on its dev tags; before it executes the owner deletes the topic and creates `race6-topic` again tagged
    env=prod (a new topic at the same ARN). Without a hold on the ARN's topic, the prod topic got her tag.

    AWS: aws:ResourceTag is the tag of the topic the request acts on
    (https://docs.aws.amazon.com/sns/latest/dg/sns-using-identity-based-policies.html#sns-tag-based-access-control);
    a deleted topic's tags go with it (https://docs.aws.amazon.com/sns/latest/api/API_DeleteTopic.html)."""
    server, gate = gated
    account = "555500000621"
    statement = {"Effect": "Allow", "Action": "sns:TagResource", "Resource": "*", "Condition": _DEV}
    keys = user_keys(server, account, "tagger", statement)
    owner = server.client("sns", key=account)
    arn = owner.create_topic(Name="race6-topic", Tags=[{"Key": "env", "Value": "dev"}])["TopicArn"]
    held_client = through_gate(server.client("sns", **keys), "sns-tag")
    tag = [{"Key": "planted", "Value": "yes"}]
    held = Held(gate, "sns-tag", lambda: held_client.tag_resource(ResourceArn=arn, Tags=tag)).start()

    def recreate() -> None:
        owner.delete_topic(TopicArn=arn)
        assert owner.create_topic(Name="race6-topic", Tags=[{"Key": "env", "Value": "prod"}])["TopicArn"] == arn

    outcome = release_after(held, recreate)
    tags = owner.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert {"Key": "planted", "Value": "yes"} not in tags, f"the re-created prod topic got her tag ({outcome})"
    assert {"Key": "env", "Value": "prod"} in tags
