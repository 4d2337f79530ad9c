"""Attack class 2, review round 4: a parameter authorized in one location or form and executed from another —
a Logs `logGroupIdentifier` the backend resolves to another log group, an ARN of another partition or with no
account that names nothing the authorization could match, a restore writing a table without the item-level
permissions AWS asks for on it.

Each test plays the attack against a real `lambdaperm serve` with real boto3 and asserts AWS's outcome: the
answer AWS gives, and the victim resource untouched. The structural oracle (tests/structural) also checks
*acted-on ⊆ authorized* for every request when each test's server stops.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"


def user(server: Endpoint, account: str, name: str, statements: list[dict[str, Any]]) -> Any:
    """A user of `account` with exactly these policy statements, as a boto3 client factory."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    created = iam.create_access_key(UserName=name)["AccessKey"]
    return lambda service: server.client(service, key=created["AccessKeyId"], secret=created["SecretAccessKey"])


def _error(call: Any, **params: Any) -> str:
    """The error code of a boto3 call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(**params)
    return str(caught.value.response["Error"]["Code"])


def _log_group(logs: Any, group: str, message: str) -> None:
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.create_log_stream(logGroupName=group, logStreamName=f"{group}-only")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[{"timestamp": now, "message": message}])


def test_a_log_group_identifier_reads_that_log_group(server: Endpoint) -> None:
    """`logGroupIdentifier` is "the name or ARN of the log group"; "you must include either logGroupIdentifier
    or logGroupName, but not both"
    (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html,
    API_DescribeLogStreams.html). Attack: a user allowed every Logs action except on the account's `secret-*`
    log groups names its own group (or one that does not exist) by `logGroupIdentifier`. The authorization
    decided on that group; the backend's lookup by identifier ended on the last log group it iterated, whatever
    the identifier — the secret group created last: GetLogEvents returned its events, DescribeLogStreams its
    streams. AWS's outcome: the named group's events and streams; a group that does not exist is
    ResourceNotFoundException; both parameters at once are InvalidParameterException.
    """
    account = "888800000001"
    admin = server.client("logs", key=account)
    _log_group(admin, "mine", "my own event")
    _log_group(admin, "secret-audit", "SECRET EVENT")  # created last: the backend's lookup ended on it
    logs = user(
        server,
        account,
        "reader",
        [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "logs:*", "Resource": f"arn:aws:logs:*:{account}:log-group:secret-*"},
        ],
    )("logs")
    mine_arn = f"arn:aws:logs:{REGION}:{account}:log-group:mine"
    events = logs.get_log_events(logGroupIdentifier="mine", logStreamName="s")["events"]
    assert [e["message"] for e in events] == ["my own event"]
    # the ARN DescribeLogGroups shows (`…:*`) is outside logGroupIdentifier's pattern: refused before any decision
    assert _error(logs.describe_log_streams, logGroupIdentifier=f"{mine_arn}:*") == "InvalidParameterException"
    for identifier in ("mine", mine_arn):
        streams = logs.describe_log_streams(logGroupIdentifier=identifier)["logStreams"]
        assert sorted(s["logStreamName"] for s in streams) == ["mine-only", "s"], identifier
    assert _error(logs.describe_log_streams, logGroupIdentifier="no-such-group") == "ResourceNotFoundException"
    assert _error(logs.get_log_events, logGroupIdentifier="no-such-group", logStreamName="s") == (
        "ResourceNotFoundException"
    )
    assert _error(logs.describe_log_streams, logGroupName="mine", logGroupIdentifier="mine") == (
        "InvalidParameterException"
    )
    # the Deny still holds by identifier
    assert _error(logs.describe_log_streams, logGroupIdentifier="secret-audit") == "AccessDeniedException"


def test_an_arn_of_another_partition_or_no_account_is_refused(server: Endpoint) -> None:
    """An ARN names a partition and, for a Logs, SNS, SQS or DynamoDB resource, a 12-digit account
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html); an endpoint of the `aws` partition
    serves that partition's resources only. Attack: a user denied everything on the account's `secret-*` log
    groups names one by an ARN with another partition (`aws-cn`) or an empty / `*` account: the authorization
    decided on that ARN (which the Deny on `arn:aws:...:ACCOUNT:...` does not match) and the backend, which
    reads the name out of it or keys tags by the text, acted on the group or stored tags under it. AWS's
    outcome: refused, nothing tagged.
    """
    account = "888800000002"
    admin = server.client("logs", key=account)
    _log_group(admin, "mine", "my own event")
    _log_group(admin, "secret-keys", "SECRET EVENT")
    logs = user(
        server,
        account,
        "tagger",
        [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "logs:*", "Resource": f"arn:aws:logs:*:{account}:log-group:secret-*"},
        ],
    )("logs")
    refused = {"ResourceNotFoundException", "InvalidParameterException", "AccessDeniedException"}
    for arn in (
        f"arn:aws-cn:logs:{REGION}:{account}:log-group:secret-keys",
        f"arn:aws:logs:{REGION}::log-group:secret-keys",
        f"arn:aws:logs:{REGION}:*:log-group:secret-keys",
    ):
        assert _error(logs.tag_resource, resourceArn=arn, tags={"owner": "attacker"}) in refused, arn
        assert _error(logs.describe_log_streams, logGroupIdentifier=arn) in refused, arn
    real = f"arn:aws:logs:{REGION}:{account}:log-group:secret-keys"
    assert admin.list_tags_for_resource(resourceArn=real)["tags"] == {}


def _pitr_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=name, Item={"id": {"S": "1"}, "secret": {"S": "payroll"}})


_TARGET_ITEM_ACTIONS = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchWriteItem",
]


def test_a_restore_needs_read_and_write_on_the_target_table(server: Endpoint) -> None:
    """AWS: "DynamoDB RestoreTableToPointInTime permissions are necessary on the source table, and DynamoDB read and
    write permissions on the target table are necessary for restore functionality" (likewise RestoreTableFromBackup
    on the source backup; the guide's policy lists PutItem, UpdateItem, DeleteItem, GetItem, Query, Scan and
    BatchWriteItem) — https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html.
    Attack: a user allowed the restore actions but denied writing items into `restored-*` tables restores a
    table's items into `restored-copy`, a table the Deny says it may not fill. lambdaperm authorized the restore
    actions alone, and the backend copied every item. AWS's outcome: AccessDeniedException, no table created;
    with the item permissions on the target, the restore is allowed.
    """
    account = "888800000003"
    admin = server.client("dynamodb", key=account)
    _pitr_table(admin, "pc4-source")
    backup = admin.create_backup(TableName="pc4-source", BackupName="pc4-backup")["BackupDetails"]["BackupArn"]
    restore = ["dynamodb:RestoreTableToPointInTime", "dynamodb:RestoreTableFromBackup", "dynamodb:DescribeTable"]
    denied = user(
        server,
        account,
        "restorer",
        [
            {"Effect": "Allow", "Action": [*restore, *_TARGET_ITEM_ACTIONS], "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": ["dynamodb:PutItem", "dynamodb:BatchWriteItem"],
                "Resource": f"arn:aws:dynamodb:*:{account}:table/restored-*",
            },
        ],
    )("dynamodb")
    code = _error(denied.restore_table_to_point_in_time, SourceTableName="pc4-source", TargetTableName="restored-copy")
    assert code == "AccessDeniedException"
    code = _error(denied.restore_table_from_backup, BackupArn=backup, TargetTableName="restored-backup")
    assert code == "AccessDeniedException"
    assert "restored-copy" not in admin.list_tables()["TableNames"]
    assert "restored-backup" not in admin.list_tables()["TableNames"]
    # positive control: with read and write on the target, the restore is allowed
    allowed = user(
        server,
        account,
        "full-restorer",
        [{"Effect": "Allow", "Action": [*restore, *_TARGET_ITEM_ACTIONS], "Resource": "*"}],
    )("dynamodb")
    allowed.restore_table_to_point_in_time(SourceTableName="pc4-source", TargetTableName="allowed-copy")
    assert "allowed-copy" in admin.list_tables()["TableNames"]


def test_a_publish_names_exactly_one_destination(server: Endpoint) -> None:
    """SNS Publish takes exactly one of TopicArn, TargetArn and PhoneNumber (API_Publish). Attack: both a
    TopicArn and a TargetArn — the backend published to one while lambdaperm invoked the Lambda subscribers of
    the other. AWS's outcome: InvalidParameter, nothing published."""
    account = "666600000099"
    sns = server.client("sns", key=account)
    first = sns.create_topic(Name="one-destination-a")["TopicArn"]
    second = sns.create_topic(Name="one-destination-b")["TopicArn"]
    with pytest.raises(ClientError) as refused:
        sns.publish(TopicArn=first, TargetArn=second, Message="x")
    assert refused.value.response["Error"]["Code"] == "InvalidParameter"
    assert sns.publish(TopicArn=first, Message="x")["MessageId"]
