"""Attack class 2, review round 16: identifiers the decision reads as written and the backend reads as parsed.

Round 15 found an EC2 `GroupId` check written as `re.match` with a pattern ending in `$`, which Python also matches
just before a final newline. This round made that shape structural for the data plane (the readers of DynamoDB,
SQS, SNS, Logs and EC2 values, which no model pattern checks first) and found it once more: a DynamoDB table named
by ARN (`TableName`, `RequestItems` and `TransactItems` tables) with a final newline was decided on the ARN as
written — which a Deny on the table's ARN does not match — and executed on the table the parsed name gave. AWS: a
table name is 3 to 255 characters of `[a-zA-Z0-9_.-]`
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html), so an
ARN ending in a newline names no table: 400 ValidationException. Each end-to-end test runs against a real
`lambdaperm serve` with real boto3 and asserts AWS's outcome.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import lambdaperm
from tests.e2e.conftest import Endpoint
from tests.security.iam_users import clients_of, user_keys

_DATAPLANE = Path(lambdaperm.__file__).parent / "dataplane"


def _fails(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    return str(err.value.response["Error"]["Code"]), int(err.value.response["ResponseMetadata"]["HTTPStatusCode"])


def _dollar_anchored_prefix_matches(source: str) -> Iterator[tuple[int, str]]:
    """(line, pattern) of every `re.match`/`re.search`, or `.match`/`.search` of a module-level `re.compile`, whose
    literal pattern ends in an unescaped `$` — which also matches before a final newline, so `x\\n` passes a check
    of `x` and the groups drop the newline."""
    tree = ast.parse(source)
    compiled: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            args = node.value.args
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "compile"
                and isinstance(func.value, ast.Name)
                and func.value.id == "re"
                and args
                and isinstance(args[0], ast.Constant)
                and isinstance(args[0].value, str)
            ):
                compiled.update({t.id: args[0].value for t in node.targets if isinstance(t, ast.Name)})
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("match", "search")
            and isinstance(node.func.value, ast.Name)
        ):
            continue
        name = node.func.value.id
        pattern: object = None
        if name == "re" and node.args and isinstance(node.args[0], ast.Constant):
            pattern = node.args[0].value
        elif name in compiled:
            pattern = compiled[name]
        if isinstance(pattern, str) and re.search(r"(?<!\\)\$\s*$", pattern):
            yield node.lineno, pattern


def test_the_scan_finds_the_shape() -> None:
    """The scan below can fail: it finds round 15's shape in a sample."""
    sample = (
        '_ID = re.compile(r"^sg-[0-9a-f]{8}$")\nok = _ID.match(v)\nalso = re.search(r"^a$", v)\nno = _ID.fullmatch(v)\n'
    )
    assert [line for line, _ in _dollar_anchored_prefix_matches(sample)] == [2, 3]


def test_no_data_plane_reader_checks_an_identifier_with_a_dollar_anchored_match() -> None:
    """Structural: the data plane's readers (`lambdaperm/dataplane/`) read the values of services no model pattern
    checks first (S3, SQS, SNS, EC2) or checks only for length (DynamoDB's `TableName`, a name or an ARN). Each
    pattern there is applied with `fullmatch`, so a value is the identifier AWS's alphabet names or is refused — never
    a parsed prefix of what the decision read. Round 15 found `re.match(...$)` in `ec2_groups.py`; round 16 found it
    in `canonical_params.py` (DynamoDB table ARNs, a wrong allow) and four more modules."""
    found = [
        f"{path.relative_to(_DATAPLANE.parent.parent)}:{line}: {pattern!r}"
        for path in sorted(_DATAPLANE.rglob("*.py"))
        for line, pattern in _dollar_anchored_prefix_matches(path.read_text())
    ]
    assert found == []


def _orders(server: Endpoint, account: str) -> tuple[Any, str]:
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="orders", Item={"pk": {"S": "k"}, "card": {"S": "4111-secret"}})
    return ddb, f"arn:aws:dynamodb:us-east-1:{account}:table/orders"


_KEY = {"pk": {"S": "k"}}
_OPERATIONS = ["GetItem", "BatchGetItem", "Query", "PutItem", "DeleteItem", "TransactGetItems"]


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("GetItem", lambda c, t: c.get_item(TableName=t, Key=_KEY)),
        ("BatchGetItem", lambda c, t: c.batch_get_item(RequestItems={t: {"Keys": [_KEY]}})),
        (
            "Query",
            lambda c, t: c.query(
                TableName=t, KeyConditionExpression="pk = :k", ExpressionAttributeValues={":k": {"S": "k"}}
            ),
        ),
        ("PutItem", lambda c, t: c.put_item(TableName=t, Item={"pk": {"S": "planted"}})),
        ("DeleteItem", lambda c, t: c.delete_item(TableName=t, Key=_KEY)),
        ("TransactGetItems", lambda c, t: c.transact_get_items(TransactItems=[{"Get": {"TableName": t, "Key": _KEY}}])),
    ],
)
def test_a_table_arn_with_a_final_newline_does_not_pass_a_deny_on_the_table(
    server: Endpoint, operation: str, call: Callable[[Any, str], Any]
) -> None:
    """Attack: a user allowed dynamodb:* but denied everything on `table/orders` names the table as
    `arn:…:table/orders\\n`. The decision read that text (no Deny matches it); the table-ARN reader's `re.match(...$)`
    parsed `orders`, and the backend read the card number, planted an item or deleted one. AWS: a table name is
    `[a-zA-Z0-9_.-]{3,255}` — the ARN names no table: 400 ValidationException, nothing read or written
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html)."""
    account = f"8888000016{10 + _OPERATIONS.index(operation)}"
    ddb, arn = _orders(server, account)
    user = clients_of(
        server,
        user_keys(
            server,
            account,
            "r16-app",
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "dynamodb:*", "Resource": arn},
        ),
    )("dynamodb")
    assert _fails(lambda: call(user, arn)) == ("AccessDeniedException", 400)
    assert _fails(lambda: call(user, arn + "\n")) == ("ValidationException", 400)
    items = ddb.scan(TableName="orders")["Items"]
    assert items == [{"pk": {"S": "k"}, "card": {"S": "4111-secret"}}], operation


def test_a_resource_policy_call_with_a_final_newline_does_not_pass_a_deny_on_the_table(server: Endpoint) -> None:
    """Hardening, no wrong allow: the same user, denied dynamodb:PutResourcePolicy on `table/orders`, sends
    `ResourceArn` with a final newline, to write a policy granting another account the table. The resource-policy
    reader (`dynamodb_policies`) used `re.match(...$)` too and passed it; the backend then answered
    ResourceNotFoundException (nothing written). AWS: the ARN names no table, 400 ValidationException
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutResourcePolicy.html)."""
    account = "888800001602"
    ddb, arn = _orders(server, account)
    user = clients_of(
        server,
        user_keys(
            server,
            account,
            "r16-ops",
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "dynamodb:PutResourcePolicy", "Resource": arn},
        ),
    )("dynamodb")
    grant = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::888800001699:root"},
                    "Action": "dynamodb:*",
                    "Resource": arn,
                }
            ],
        }
    )
    assert _fails(lambda: user.put_resource_policy(ResourceArn=arn, Policy=grant)) == ("AccessDeniedException", 400)
    assert _fails(lambda: user.put_resource_policy(ResourceArn=arn + "\n", Policy=grant)) == (
        "ValidationException",
        400,
    )
    assert _fails(lambda: ddb.get_resource_policy(ResourceArn=arn))[0] == "PolicyNotFoundException"


def test_a_table_named_by_its_exact_arn_still_works(server: Endpoint) -> None:
    """Guard against a wrong deny: the ARN without the newline names the table for a caller allowed on it."""
    account = "888800001603"
    ddb, arn = _orders(server, account)
    assert ddb.get_item(TableName=arn, Key=_KEY)["Item"]["card"] == {"S": "4111-secret"}
    got = ddb.batch_get_item(RequestItems={arn: {"Keys": [_KEY]}})["Responses"]
    assert [i["card"] for i in got["orders"]] == [{"S": "4111-secret"}]


def test_a_lambda_endpoint_with_a_final_newline_is_not_a_function_arn(server: Endpoint) -> None:
    """SNS: "For the lambda protocol, the endpoint is the ARN of an Lambda function"
    (https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html); an ARN with a final newline is none: 400
    InvalidParameter. The check (`sns_lambda_endpoints`, review round 7) used `re.match(...$)`, and the
    subscription was created (hardening: no delivery was probed)."""
    account = "888800001604"
    sns = server.client("sns", key=account)
    topic = sns.create_topic(Name="r16")["TopicArn"]
    endpoint = f"arn:aws:lambda:us-east-1:{account}:function:f"
    assert _fails(lambda: sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=endpoint + "\n")) == (
        "InvalidParameter",
        400,
    )
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []


@pytest.mark.parametrize("taken", ["web", "WEB", "Web", "DEFAULT"])
def test_a_security_group_name_is_unique_in_its_vpc_whatever_its_case(server: Endpoint, taken: str) -> None:
    """AWS: "Names are case-insensitive and must be unique within the VPC"
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html): `WEB` beside `web`
    (or `DEFAULT` beside the VPC's `default`) is 400 InvalidGroup.Duplicate. The backend compared names exactly and
    created both — two groups AWS reads as one name. In the default VPC and in a VPC of the caller's alike."""
    account = f"8888000016{30 + ['web', 'WEB', 'Web', 'DEFAULT'].index(taken)}"
    ec2 = server.client("ec2", key=account)
    vpc = ec2.create_vpc(CidrBlock="10.16.0.0/16")["Vpc"]["VpcId"]
    for where in ({}, {"VpcId": vpc}):
        if taken != "DEFAULT":
            ec2.create_security_group(GroupName="web", Description="d", **where)
        assert _fails(lambda w=where: ec2.create_security_group(GroupName=taken, Description="d", **w)) == (
            "InvalidGroup.Duplicate",
            400,
        )
    names = sorted(g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"])
    assert names == (["default", "default"] if taken == "DEFAULT" else ["default", "default", "web", "web"])


def test_security_group_names_differing_otherwise_are_created(server: Endpoint) -> None:
    """Guard against a wrong deny: a name that differs by more than case is another group; one name in two VPCs is
    two groups."""
    ec2 = server.client("ec2", key="888800001640")
    vpc = ec2.create_vpc(CidrBlock="10.17.0.0/16")["Vpc"]["VpcId"]
    ec2.create_security_group(GroupName="web", Description="d")
    ec2.create_security_group(GroupName="web-2", Description="d")
    ec2.create_security_group(GroupName="WEB", Description="d", VpcId=vpc)
    names = sorted(g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"])
    assert names == ["WEB", "default", "default", "web", "web-2"]
