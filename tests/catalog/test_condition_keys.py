"""Every condition key AWS documents for an action lambdaperm serves has a source, or is marked unsupplied
(undecidable); docs/condition-keys.md is generated from that table and must not drift."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdaperm.authz.facts import RESOLVERS
from lambdaperm.catalog import condition_keys as ck
from lambdaperm.catalog import context, reference
from lambdaperm.catalog.coverage import served_actions
from lambdaperm.catalog.rules import rules
from lambdaperm.cli import condition_keys as doc
from lambdaperm.gateway.server import DATA_PLANE, SERVICES
from lambdaperm.policy.unsupplied import normalize

from .helpers import ACCOUNT, REGION, need

DOC = Path(__file__).resolve().parents[2] / "docs" / "condition-keys.md"


def _marks(action: str, params: dict[str, object], service: str = "dynamodb", index: int = 0) -> dict[str, object]:
    return {k: v for k, v in need(service, action, params)[index].context.items() if k.startswith("lambdaperm:")}


def test_condition_keys_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == doc.text(), "docs/condition-keys.md is stale; run " + (
        "python -m lambdaperm.cli.condition_keys"
    )


def test_doc_covers_every_served_service() -> None:
    served = doc.served()
    assert set(served) == set(SERVICES) | set(DATA_PLANE)
    actions = served_actions(served)
    assert {
        "dynamodb:GetItem",
        "s3:GetObject",
        "lambda:InvokeFunction",
        "iam:GetRole",
        "sqs:SendMessage",
        "sns:Publish",
        "sts:AssumeRole",
        "logs:PutLogEvents",
    } <= set(actions)
    assert "lambda:InvokeFunction" in actions and "lambda:Invoke" in actions["lambda:InvokeFunction"]


def test_the_normalization_is_the_engines() -> None:
    for key in (
        "aws:ResourceTag/${TagKey}",
        "s3:ExistingObjectTag/<key>",
        "dynamodb:LeadingKeys",
        "token.actions.githubusercontent.com/${subpath}:sub",
    ):
        assert ck.normalize(key) == normalize(key)


def test_every_request_key_has_an_extractor() -> None:
    missing = [k for k, r in ck.RULES.items() if r.supply is ck.Supply.REQUEST and not context.has_extractor(k)]
    missing += [
        f"{a} {k}"
        for (a, k), r in ck.OVERRIDES.items()
        if r.supply is ck.Supply.REQUEST and not context.has_extractor(k)
    ]
    assert missing == []


def test_every_resource_key_has_a_resolver() -> None:
    keys = {k for k, r in ck.RULES.items() if r.supply is ck.Supply.RESOURCE}
    keys |= {k for (_, k), r in ck.OVERRIDES.items() if r.supply is ck.Supply.RESOURCE}
    assert keys - set(RESOLVERS) == set()


def test_every_classified_key_is_documented_somewhere() -> None:
    """A typo in the table would classify a key AWS never sends (and leave the real one unsupplied)."""
    documented = {
        normalize(k)
        for prefix in ("iam", "sts", "lambda", "dynamodb", "s3", "s3express", "sqs", "sns", "logs", "ec2", "cloudtrail")
        for info in reference.actions(prefix).values()
        for k in ck.documented_keys(info.full_name)
    }
    assert set(ck.RULES) - documented == set()


def test_unknown_keys_are_unsupplied() -> None:
    assert ck.rule("dynamodb:GetItem", "dynamodb:SomeFutureKey").supply is ck.Supply.UNSUPPLIED
    assert ck.rule("s3:GetObject", "s3:TlsVersion").supply is ck.Supply.UNSUPPLIED
    assert ck.rule("sts:AssumeRole", "accounts.google.com:aud").supply is ck.Supply.ABSENT


def test_overrides_are_per_action() -> None:
    assert ck.rule("dynamodb:GetItem", "dynamodb:LeadingKeys").supply is ck.Supply.RESOURCE
    assert ck.rule("dynamodb:PartiQLSelect", "dynamodb:LeadingKeys").supply is ck.Supply.UNSUPPLIED
    assert ck.rule("iam:CreateRole", "iam:PermissionsBoundary").supply is ck.Supply.REQUEST
    assert ck.rule("iam:PutRolePolicy", "iam:PermissionsBoundary").supply is ck.Supply.RESOURCE


def test_keys_follow_the_resource_type() -> None:
    bucket = ck.plan("s3:ListBucket", "arn:aws:s3:::b")
    obj = ck.plan("s3:GetObject", "arn:aws:s3:::b/k")
    assert "s3:existingobjecttag/*" in obj[ck.Supply.RESOURCE]
    assert "s3:existingobjecttag/*" not in bucket[ck.Supply.RESOURCE]
    assert (
        "aws:resourcetag/*"
        in ck.plan("lambda:InvokeFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f:1")[ck.Supply.RESOURCE]
    )
    role = ck.plan("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/path/r")[ck.Supply.RESOURCE]
    assert {"aws:resourcetag/*", "iam:resourcetag/*", "iam:permissionsboundary"} <= set(role)
    assert ck.plan("s3:ListAllMyBuckets", "*")[ck.Supply.RESOURCE] == ("s3:resourceaccount",)  # no type keys


def test_every_pass_role_row_says_to_which_service() -> None:
    """AWS sets iam:PassedToService on every iam:PassRole check: each row gives it or marks it unsupplied."""
    for row in rules().values():
        for n in row.needs:
            if n.action == "iam:PassRole":
                given = {k.lower() for k in (*n.context, *n.unsupplied)}
                assert "iam:passedtoservice" in given, (row.service, row.operation)


def test_literal_keys_only_where_documented() -> None:
    check = need(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"ConditionCheck": {"TableName": "A", "Key": {"pk": {"S": "u"}}, "ConditionExpression": "x"}}
            ]
        },
    )[0]
    assert check.context["dynamodb:enclosingoperation"] == ("TransactWriteItems",)  # the transactions guide
    assert "dynamodb:enclosingoperation" not in need("dynamodb", "GetItem", {"TableName": "A", "Key": {}})[0].context


# --- dynamodb:LeadingKeys inputs ---------------------------------------------------------------------------


def _items(action: str, params: dict[str, object], index: int = 0) -> list[dict[str, str]] | None:
    marks = _marks(action, params, index=index)
    if ck.KEY_ITEMS_MARK not in marks:
        return None
    values = marks[ck.KEY_ITEMS_MARK]
    assert isinstance(values, tuple)
    return [json.loads(v) for v in values]


def test_key_items_of_single_item_operations() -> None:
    key = {"pk": {"S": "u1"}, "sk": {"N": "7"}}
    assert _items("GetItem", {"TableName": "T", "Key": key}) == [{"pk": "u1", "sk": "7"}]
    assert _items("DeleteItem", {"TableName": "T", "Key": key}) == [{"pk": "u1", "sk": "7"}]
    assert _items("PutItem", {"TableName": "T", "Item": {**key, "data": {"M": {}}}}) == [{"pk": "u1", "sk": "7"}]
    assert _items("PutItem", {"TableName": "T", "Item": {"pk": {"B": b"\x01\x02"}}}) == [{"pk": "AQI="}]


def test_key_items_of_a_query() -> None:
    q = {
        "TableName": "T",
        "KeyConditionExpression": "(#p = :v) AND sk BETWEEN :a AND :b",
        "ExpressionAttributeNames": {"#p": "pk"},
        "ExpressionAttributeValues": {":v": {"S": "u1"}, ":a": {"N": "1"}, ":b": {"N": "2"}},
    }
    assert _items("Query", q) == [{"pk": "u1"}]
    legacy = {
        "TableName": "T",
        "KeyConditions": {
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "u2"}]},
            "sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "1"}]},
        },
    }
    assert _items("Query", legacy) == [{"pk": "u2"}]
    reversed_ = {"TableName": "T", "KeyConditionExpression": ":v = pk", "ExpressionAttributeValues": {":v": {"S": "x"}}}
    assert _items("Query", reversed_) == [{"pk": "x"}]


def test_unreadable_requests_leave_leading_keys_unsupplied() -> None:
    marks = _marks(
        "Query",
        {
            "TableName": "T",
            "KeyConditionExpression": "pk = :v OR pk = :w",
            "ExpressionAttributeValues": {":v": {"S": "a"}, ":w": {"S": "b"}},
        },
    )
    assert marks[ck.KEY_ITEMS_MARK] == ("{}",)  # no equality term the authorizer can read: it fails closed
    assert "dynamodb:leadingkeys" in _marks("GetItem", {"TableName": "T"})[ck.UNSUPPLIED_MARK]  # no Key at all
    assert "dynamodb:leadingkeys" not in _marks("Scan", {"TableName": "T"}).get(ck.UNSUPPLIED_MARK, ())


def test_batch_operations_are_decided_per_table() -> None:
    out = need(
        "dynamodb",
        "BatchGetItem",
        {
            "RequestItems": {
                "A": {"Keys": [{"pk": {"S": "a1"}}], "ProjectionExpression": "x"},
                "B": {"Keys": [{"id": {"S": "b1"}}]},
            }
        },
    )
    assert [(n.resources, n.context["dynamodb:attributes"]) for n in out] == [
        ((f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/A",), ("pk", "x")),
        ((f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/B",), ("id",)),
    ]
    assert [n.context[ck.KEY_ITEMS_MARK] for n in out] == [('{"pk":"a1"}',), ('{"id":"b1"}',)]
    writes = need(
        "dynamodb",
        "BatchWriteItem",
        {
            "RequestItems": {
                "A": [
                    {"PutRequest": {"Item": {"pk": {"S": "a1"}, "v": {"S": "z"}}}},
                    {"DeleteRequest": {"Key": {"pk": {"S": "a2"}}}},
                ]
            }
        },
    )
    assert writes[0].context[ck.KEY_ITEMS_MARK] == ('{"pk":"a1","v":"z"}', '{"pk":"a2"}')


def test_transaction_items_have_their_own_keys() -> None:
    out = need(
        "dynamodb",
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"TableName": "A", "Item": {"pk": {"S": "a"}, "secret": {"S": "s"}}}},
                {
                    "Delete": {
                        "TableName": "B",
                        "Key": {"id": {"S": "b"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        },
    )
    by_action = {n.action: n.context for n in out}
    assert by_action["dynamodb:PutItem"]["dynamodb:attributes"] == ("pk", "secret")
    assert by_action["dynamodb:DeleteItem"]["dynamodb:attributes"] == ("id",)
    assert by_action["dynamodb:DeleteItem"][ck.UNSUPPLIED_MARK] == ("dynamodb:returnvalues",)
    assert ck.UNSUPPLIED_MARK not in by_action["dynamodb:PutItem"]


def test_partiql_keys_are_unsupplied() -> None:
    plan = ck.plan("dynamodb:PartiQLSelect", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/T")
    assert {"dynamodb:leadingkeys", "dynamodb:attributes", "dynamodb:select", "dynamodb:fulltablescan"} <= set(
        plan[ck.Supply.UNSUPPLIED]
    )


@pytest.mark.parametrize(
    ("service", "operation", "params", "key", "value"),
    [
        (
            "s3",
            "PutObject",
            {"Bucket": "b", "Key": "k", "SSECustomerAlgorithm": "AES256"},
            "s3:x-amz-server-side-encryption-customer-algorithm",
            ("AES256",),
        ),
        (
            "s3",
            "PutObject",
            {"Bucket": "b", "Key": "k", "WebsiteRedirectLocation": "/x"},
            "s3:x-amz-website-redirect-location",
            ("/x",),
        ),
        (
            "s3",
            "PutBucketInventoryConfiguration",
            {"Bucket": "b", "Id": "i", "InventoryConfiguration": {"OptionalFields": ["Size", "ETag"]}},
            "s3:inventoryaccessibleoptionalfields",
            ("Size", "ETag"),
        ),
    ],
)
def test_new_request_keys(
    service: str, operation: str, params: dict[str, object], key: str, value: tuple[str, ...]
) -> None:
    assert need(service, operation, params)[0].context[key] == value


def test_add_role_to_instance_profile_marks_passed_to_service() -> None:
    pass_role = need("iam", "AddRoleToInstanceProfile", {"InstanceProfileName": "p", "RoleName": "r"})[1]
    assert pass_role.action == "iam:PassRole"
    assert pass_role.context[ck.UNSUPPLIED_MARK] == ("iam:passedtoservice",)


def test_a_copy_source_version_is_the_source_objects_version_id() -> None:
    """The source object's s3:ExistingObjectTag is read from the version the copy names: s3:versionid."""
    source, dest = need("s3", "CopyObject", {"Bucket": "d", "Key": "k", "CopySource": "src/obj?versionId=v1"})
    assert (source.action, source.context) == ("s3:GetObjectVersion", {"s3:versionid": ("v1",)})
    assert "s3:versionid" not in dest.context
    current = need("s3", "CopyObject", {"Bucket": "d", "Key": "k", "CopySource": "src/obj"})[0]
    assert (current.action, current.context) == ("s3:GetObject", {})


def test_a_partition_key_equal_to_two_values_is_unreadable() -> None:
    """`pk = :a AND pk = :b`: whichever value the backend would use, the authorizer cannot know it."""
    marks = _marks(
        "Query",
        {
            "TableName": "T",
            "KeyConditionExpression": "(pk = :a) AND (pk = :b)",
            "ExpressionAttributeValues": {":a": {"S": "mine"}, ":b": {"S": "yours"}},
        },
    )
    assert ck.KEY_ITEMS_MARK not in marks and "dynamodb:leadingkeys" in marks[ck.UNSUPPLIED_MARK]


def test_both_key_condition_forms_are_unreadable() -> None:
    marks = _marks(
        "Query",
        {
            "TableName": "T",
            "KeyConditionExpression": "pk = :a",
            "ExpressionAttributeValues": {":a": {"S": "mine"}},
            "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}},
        },
    )
    assert ck.KEY_ITEMS_MARK not in marks and "dynamodb:leadingkeys" in marks[ck.UNSUPPLIED_MARK]


def test_keys_a_request_does_not_carry_come_from_state_or_are_unsupplied() -> None:
    """A request naming a mapping by UUID: lambda:FunctionArn is the mapping's function (read at decision
    time); a request that specifies no auth type or principal: those keys are undecidable."""
    assert ck.rule("lambda:DeleteEventSourceMapping", "lambda:FunctionArn").supply is ck.Supply.RESOURCE
    assert ck.rule("lambda:CreateEventSourceMapping", "lambda:FunctionArn").supply is ck.Supply.REQUEST
    assert ck.rule("lambda:DeleteFunctionUrlConfig", "lambda:FunctionUrlAuthType").supply is ck.Supply.UNSUPPLIED
    assert ck.rule("lambda:RemovePermission", "lambda:Principal").supply is ck.Supply.UNSUPPLIED
    moved = need("lambda", "UpdateEventSourceMapping", {"UUID": "u", "FunctionName": "other"})[0]
    assert moved.context[ck.UNSUPPLIED_MARK] == ("lambda:functionarn",)
    assert (
        ck.UNSUPPLIED_MARK not in need("lambda", "UpdateEventSourceMapping", {"UUID": "u", "BatchSize": 5})[0].context
    )


def test_a_read_that_names_no_attributes_leaves_attributes_unsupplied() -> None:
    """ForAllValues on dynamodb:Attributes (the DynamoDB guide's attribute-restricting policy) must not let a
    GetItem without a projection read every attribute: the attributes it reads are not known beforehand."""
    whole = _marks("GetItem", {"TableName": "T", "Key": {"pk": {"S": "a"}}})
    assert "dynamodb:attributes" in whole[ck.UNSUPPLIED_MARK]
    named = _marks("GetItem", {"TableName": "T", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "pk, x"})
    assert ck.UNSUPPLIED_MARK not in named
    count = _marks(
        "Query",
        {
            "TableName": "T",
            "Select": "COUNT",
            "KeyConditionExpression": "pk = :v",
            "ExpressionAttributeValues": {":v": {"S": "a"}},
        },
    )
    assert ck.UNSUPPLIED_MARK not in count
    assert "dynamodb:attributes" in _marks("Scan", {"TableName": "T", "Select": "ALL_ATTRIBUTES"})[ck.UNSUPPLIED_MARK]
    put = _marks("PutItem", {"TableName": "T", "Item": {"pk": {"S": "a"}}})  # a write names its attributes
    assert ck.UNSUPPLIED_MARK not in put
