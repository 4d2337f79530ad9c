"""Condition keys, review round 8 (attack class 6: missing or wrong condition context keys).

Round 7's lesson generalized: every key whose value lambdaperm DERIVES (from the request's structure, from the
resource, or from another call the request implies) rather than copies, checked over every form the request can
take — and the checks a request carrying tags implies (tag on create), which carry the request's tag keys.
In-process tables drive `required_actions` and the authorizer's `facts.prepare`; e2e tests prove the mismatches
against a real `lambdaperm serve`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.authz import facts
from lambdaperm.catalog import condition_keys as ck
from lambdaperm.catalog import required_actions
from lambdaperm.catalog.model import RequiredAction
from lambdaperm.policy.unsupplied import unsupplied as unsupplied_set
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security.iam_users import user_keys

ACCOUNT = "123456789012"
REGION = "us-east-1"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"
INDEX = f"{TABLE}/index/g"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 'ok'\n"})


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _user_client(server: Endpoint, account: str, name: str, service: str, policy: dict[str, Any]) -> Any:
    return server.client(service, **user_keys(server, account, name, document=policy), region=REGION)


def _error(call: Callable[..., Any], **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**params)
    return refused.value.response["Error"]["Code"], refused.value.response["Error"]["Message"]


def _unsupplied(ra: RequiredAction) -> Any:
    return unsupplied_set(ra.context.get(ck.UNSUPPLIED_MARK, ()))


# --- dynamodb:LeadingKeys and dynamodb:Attributes: every form, through the authorizer -----------------------------


class _Schema:
    """The fact source's key schema: the table's partition key is `pk`, the index's `gpk`."""

    def partition_key(self, resource: str) -> str | None:
        return "gpk" if "/index/" in resource else "pk"


def _decided(operation: str, params: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], set[str]]]:
    """(action, resource, dynamodb keys supplied, keys unsupplied) of every decision the request needs, with the
    authorizer completing the context as it does when a policy tests both keys."""
    out = []
    for ra in required_actions("dynamodb", operation, params, account=ACCOUNT, region=REGION):
        for resource in ra.resources:
            d = facts.Decision(ra.action, resource, ACCOUNT, dict(ra.context), set(), _Schema())
            facts.prepare(d, lambda: frozenset({"dynamodb:leadingkeys", "dynamodb:attributes"}), None)
            keys = {k: set(v) for k, v in d.context.items() if k in ("dynamodb:leadingkeys", "dynamodb:attributes")}
            out.append((ra.action, resource, keys, {k.lower() for k in d.unsupplied}))
    return out


def _s(value: str) -> dict[str, str]:
    return {"S": value}


_ALICE = {":a": _s("alice")}
# (operation, params, leading keys or None for unsupplied, attributes or None for unsupplied)
DYNAMODB_FORMS: list[tuple[str, dict[str, Any], set[str] | None, set[str] | None]] = [
    ("Query", {"KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": _ALICE}, {"alice"}, None),
    (
        "Query",
        {
            "KeyConditionExpression": "pk = :a AND begins_with(sk, :b)",
            "ExpressionAttributeValues": {**_ALICE, ":b": _s("x")},
            "ProjectionExpression": "pk, note",
        },
        {"alice"},
        {"pk", "sk", "note"},
    ),
    (
        "Query",
        {
            "KeyConditionExpression": "pk = :a AND sk BETWEEN :b AND :c",
            "ExpressionAttributeValues": {**_ALICE, ":b": _s("a"), ":c": _s("z")},
            "ProjectionExpression": "pk",
        },
        {"alice"},
        {"pk", "sk"},
    ),
    (  # the equality written the other way round, the sort key first
        "Query",
        {
            "KeyConditionExpression": "sk = :b AND :a = #p",
            "ExpressionAttributeNames": {"#p": "pk"},
            "ExpressionAttributeValues": {**_ALICE, ":b": _s("bob")},
            "Select": "COUNT",
        },
        {"alice"},
        {"sk", "pk"},
    ),
    (  # an OR is no key condition: the partition cannot be told
        "Query",
        {
            "KeyConditionExpression": "pk = :a OR pk = :b",
            "ExpressionAttributeValues": {**_ALICE, ":b": _s("bob")},
            "ProjectionExpression": "pk",
        },
        None,
        {"pk"},
    ),
    (  # one attribute equal to two values
        "Query",
        {
            "KeyConditionExpression": "pk = :a AND pk = :b",
            "ExpressionAttributeValues": {**_ALICE, ":b": _s("bob")},
            "ProjectionExpression": "pk",
        },
        None,
        {"pk"},
    ),
    (  # the legacy form: EQ on the partition key, BEGINS_WITH on the sort key
        "Query",
        {
            "KeyConditions": {
                "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [_s("alice")]},
                "sk": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [_s("a")]},
            },
            "AttributesToGet": ["pk", "note"],
        },
        {"alice"},
        {"pk", "sk", "note"},
    ),
    (  # both forms: refused by DynamoDB, read by no one here
        "Query",
        {
            "KeyConditionExpression": "pk = :a",
            "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [_s("bob")]}},
            "ExpressionAttributeValues": _ALICE,
            "ProjectionExpression": "pk",
        },
        None,
        {"pk"},
    ),
    (  # a filter and a nested projection path name their top-level attributes
        "Query",
        {
            "KeyConditionExpression": "pk = :a",
            "FilterExpression": "attribute_exists(secret) AND size(#o) > :n",
            "ProjectionExpression": "pk, #m.inner[0]",
            "ExpressionAttributeNames": {"#o": "other", "#m": "meta"},
            "ExpressionAttributeValues": {**_ALICE, ":n": {"N": "1"}},
        },
        {"alice"},
        {"pk", "secret", "other", "meta"},
    ),
    (  # a number partition key not in DynamoDB's canonical form
        "Query",
        {"KeyConditionExpression": "pk = :a", "ExpressionAttributeValues": {":a": {"N": "1.0"}}, "Select": "COUNT"},
        None,
        {"pk"},
    ),
    (  # an index query: the index's partition key (the only one the request gives)
        "Query",
        {
            "IndexName": "g",
            "KeyConditionExpression": "gpk = :a",
            "ExpressionAttributeValues": _ALICE,
            "ProjectionExpression": "pk, secret",
        },
        {"alice"},
        {"gpk", "pk", "secret"},
    ),
    (  # an index query naming the TABLE's partition key only: not the index's key, unsupplied
        "Query",
        {
            "IndexName": "g",
            "KeyConditionExpression": "pk = :a",
            "ExpressionAttributeValues": _ALICE,
            "ProjectionExpression": "pk",
        },
        None,
        {"pk"},
    ),
    ("GetItem", {"Key": {"pk": _s("alice")}}, {"alice"}, None),
    ("GetItem", {"Key": {"pk": _s("alice")}, "ProjectionExpression": "pk, secret"}, {"alice"}, {"pk", "secret"}),
    (
        "PutItem",
        {"Item": {"pk": _s("alice"), "note": _s("n")}, "ConditionExpression": "attribute_not_exists(secret)"},
        {"alice"},
        {"pk", "note", "secret"},
    ),
    (
        "UpdateItem",
        {
            "Key": {"pk": _s("alice")},
            "UpdateExpression": "SET a.b = :v, c = if_not_exists(secret, :v) REMOVE d ADD e :n DELETE f :s",
            "ConditionExpression": "other = :v",
            "ExpressionAttributeValues": {":v": _s("1"), ":n": {"N": "1"}, ":s": {"SS": ["x"]}},
        },
        {"alice"},
        {"pk", "a", "c", "secret", "d", "e", "f", "other"},
    ),
    (
        "UpdateItem",
        {
            "Key": {"pk": _s("alice")},
            "AttributeUpdates": {"secret": {"Action": "PUT", "Value": _s("x")}},
            "Expected": {"other": {"Exists": False}},
        },
        {"alice"},
        {"pk", "secret", "other"},
    ),
    (
        "DeleteItem",
        {
            "Key": {"pk": _s("alice")},
            "ConditionExpression": "secret = :v",
            "ExpressionAttributeValues": {":v": _s("x")},
        },
        {"alice"},
        {"pk", "secret"},
    ),
    ("PutItem", {"Item": {"note": _s("n")}}, None, {"note"}),  # an item without its partition key
]


@pytest.mark.parametrize(("operation", "params", "leading", "attributes"), DYNAMODB_FORMS)
def test_dynamodb_derived_keys_over_every_form(
    operation: str, params: dict[str, Any], leading: set[str] | None, attributes: set[str] | None
) -> None:
    """`dynamodb:LeadingKeys` is "the partition key" values of the items a request touches and `dynamodb:Attributes`
    the attribute names it reads or writes
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html). Over every
    expression kind and key-condition form: the values AWS would evaluate, or UNSUPPLIED (an Allow on them does not
    apply, a Deny does) where the request does not tell them — never absent, never another value."""
    found = _decided(operation, {"TableName": "t", **params})
    assert len(found) == 1, found
    _, resource, keys, unsupplied = found[0]
    assert resource == (INDEX if "IndexName" in params else TABLE)
    # an unsupplied key is undecidable whatever value the context holds (`policy/evaluate.py`)
    if leading is None:
        assert "dynamodb:leadingkeys" in unsupplied, found
    else:
        assert keys.get("dynamodb:leadingkeys") == leading and "dynamodb:leadingkeys" not in unsupplied, found
    if attributes is None:
        assert "dynamodb:attributes" in unsupplied, found
    else:
        assert keys.get("dynamodb:attributes") == attributes and "dynamodb:attributes" not in unsupplied, found


def test_dynamodb_keys_of_a_multi_table_request_stay_with_their_table() -> None:
    """BatchGetItem / BatchWriteItem / TransactWriteItems over two tables: each table's decision carries the keys and
    attributes of its own entries only (a key of table b does not reach table a's LeadingKeys)."""
    batch_get = {
        "RequestItems": {
            "a": {"Keys": [{"pk": _s("alice")}], "ProjectionExpression": "pk"},
            "b": {"Keys": [{"pk": _s("bob")}, {"pk": _s("carol")}], "ProjectionExpression": "pk, secret"},
        }
    }
    batch_write = {
        "RequestItems": {
            "a": [{"PutRequest": {"Item": {"pk": _s("alice")}}}],
            "b": [{"DeleteRequest": {"Key": {"pk": _s("bob")}}}, {"PutRequest": {"Item": {"pk": _s("carol")}}}],
        }
    }
    transact = {
        "TransactItems": [
            {"Put": {"TableName": "a", "Item": {"pk": _s("alice")}}},
            {
                "Update": {
                    "TableName": "b",
                    "Key": {"pk": _s("bob")},
                    "UpdateExpression": "SET secret = :v",
                    "ExpressionAttributeValues": {":v": _s("x")},
                }
            },
        ]
    }
    for operation, params, b_keys, b_attributes in (
        ("BatchGetItem", batch_get, {"bob", "carol"}, {"pk", "secret"}),
        ("BatchWriteItem", batch_write, {"bob", "carol"}, {"pk"}),
        ("TransactWriteItems", transact, {"bob"}, {"pk", "secret"}),
    ):
        by_table = {resource.rsplit("/", 1)[1]: keys for _, resource, keys, _ in _decided(operation, params)}
        assert by_table["a"] == {"dynamodb:leadingkeys": {"alice"}, "dynamodb:attributes": {"pk"}}, operation
        assert by_table["b"] == {"dynamodb:leadingkeys": b_keys, "dynamodb:attributes": b_attributes}, operation


# --- S3: list keys, the copy source's version --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "action", "keys"),
    [
        ("ListObjects", "s3:ListBucket", {"s3:prefix", "s3:delimiter", "s3:max-keys"}),
        ("ListObjectsV2", "s3:ListBucket", {"s3:prefix", "s3:delimiter", "s3:max-keys"}),
        ("ListObjectVersions", "s3:ListBucketVersions", {"s3:prefix", "s3:delimiter", "s3:max-keys"}),
        ("ListMultipartUploads", "s3:ListBucketMultipartUploads", set()),  # documents none of the three
    ],
)
def test_s3_list_keys_are_the_requests(operation: str, action: str, keys: set[str]) -> None:
    """`s3:prefix`, `s3:delimiter`, `s3:max-keys` are documented on s3:ListBucket and s3:ListBucketVersions only
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html): each list call carries
    the request's values where documented, and none where not (ListMultipartUploads)."""
    limit = "MaxUploads" if operation == "ListMultipartUploads" else "MaxKeys"
    params = {"Bucket": "b", "Prefix": "home/alice/", "Delimiter": "/", limit: 5}
    (ra,) = required_actions("s3", operation, params, account=ACCOUNT, region=REGION)
    assert ra.action == action
    expected = {"s3:prefix": ("home/alice/",), "s3:delimiter": ("/",), "s3:max-keys": ("5",)}
    assert {k: v for k, v in ra.context.items() if k in expected} == {k: expected[k] for k in keys}


def test_the_copy_sources_tags_are_the_named_versions() -> None:
    """`s3:ExistingObjectTag` of a copy's source is the tags of the version the copy reads: CopyObject and
    UploadPartCopy with `?versionId=` (string or dict form) are decided as s3:GetObjectVersion with that
    s3:versionid, and the destination's checks carry none of the source's version."""
    for operation, extra in (("CopyObject", {}), ("UploadPartCopy", {"UploadId": "u", "PartNumber": 1})):
        for source in ("src/o?versionId=v1", {"Bucket": "src", "Key": "o", "VersionId": "v1"}):
            found = required_actions(
                "s3",
                operation,
                {"Bucket": "b", "Key": "k", "CopySource": source, **extra},
                account=ACCOUNT,
                region=REGION,
            )
            read = next(ra for ra in found if ra.resources == ("arn:aws:s3:::src/o",))
            assert read.action == "s3:GetObjectVersion" and read.context["s3:versionid"] == ("v1",)
            for ra in found:
                if ra is not read:
                    assert "s3:versionid" not in ra.context and ck.OBJECT_VERSION_MARK not in ra.context, ra


# --- Tag on create: EC2 ------------------------------------------------------------------------------------------

EC2_CREATES = {
    "CreateVpc": ({"CidrBlock": "10.0.0.0/16"}, "vpc"),
    "CreateSubnet": ({"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/24"}, "subnet"),
    "CreateSecurityGroup": ({"GroupName": "g", "Description": "d", "VpcId": "vpc-1"}, "security-group"),
    "CreateNetworkInterface": ({"SubnetId": "subnet-1"}, "network-interface"),
    "CreateVpcEndpoint": ({"VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3"}, "vpc-endpoint"),
    # security group rules, created (and tagged) by the authorize calls
    **{
        op: (
            {"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2}]},
            "security-group-rule",
        )
        for op in ("AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress")
    },
}


@pytest.mark.parametrize("operation", sorted(EC2_CREATES))
def test_an_ec2_create_with_tags_is_also_create_tags(operation: str) -> None:
    """ "If tags are specified in the resource-creating action, Amazon performs additional authorization on the
    ec2:CreateTags action to verify if users have permissions to create tags"; the check carries `ec2:CreateAction`,
    the name of the resource-creating action, and the request's tags
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html). lambdaperm decided a
    create with TagSpecifications as the create alone: a user without ec2:CreateTags (or denied it) tagged the new
    resource."""
    params, kind = EC2_CREATES[operation]
    spec = [{"ResourceType": kind, "Tags": [{"Key": "team", "Value": "blue"}]}]
    found = required_actions("ec2", operation, {**params, "TagSpecifications": spec}, account=ACCOUNT, region=REGION)
    tag = [ra for ra in found if ra.action == "ec2:CreateTags"]
    assert len(tag) == 1, found
    assert tag[0].resources == (f"arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/*",)
    assert tag[0].context["ec2:createaction"] == (operation,)
    assert tag[0].context["aws:requesttag/team"] == ("blue",) and tag[0].context["aws:tagkeys"] == ("team",)
    assert set(_unsupplied(tag[0]).names) <= {"ec2:vpceservicename"}, tag[0]
    plain = required_actions("ec2", operation, params, account=ACCOUNT, region=REGION)
    assert [ra.action for ra in plain] == [f"ec2:{operation}"]


def test_a_create_tags_call_is_no_resource_creating_action() -> None:
    """A CreateTags call of its own is not a tag on create: `ec2:CreateAction` is not the request's (it stays
    unsupplied, as before: a guardrail conditioned on it fails closed)."""
    (ra,) = required_actions(
        "ec2",
        "CreateTags",
        {"Resources": ["sg-1"], "Tags": [{"Key": "team", "Value": "blue"}]},
        account=ACCOUNT,
        region=REGION,
    )
    (resource,) = ra.resources
    d = facts.Decision(ra.action, resource, ACCOUNT, dict(ra.context), set(), object())
    facts.prepare(d, frozenset, None)
    assert "ec2:createaction" not in d.context and "ec2:createaction" in {k.lower() for k in d.unsupplied}


def test_tagging_a_security_group_on_creation_needs_create_tags(server: Endpoint) -> None:
    """Attack: a user allowed ec2:CreateSecurityGroup but denied ec2:CreateTags creates a security group with
    `TagSpecifications` (team=prod). AWS rule: tagging on creation is also authorized as ec2:CreateTags
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html): AccessDenied (EC2's
    UnauthorizedOperation), and no group. With the guide's `ec2:CreateAction` Allow the tagged create succeeds."""
    account = "780800000801"
    ec2_admin = server.client("ec2", key=account, region=REGION)
    vpc = ec2_admin.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    ec2 = _user_client(
        server,
        account,
        "netadmin",
        "ec2",
        _policy(
            {"Effect": "Allow", "Action": ["ec2:CreateSecurityGroup", "ec2:Describe*"], "Resource": "*"},
            {"Effect": "Deny", "Action": "ec2:CreateTags", "Resource": "*"},
        ),
    )
    spec = [{"ResourceType": "security-group", "Tags": [{"Key": "team", "Value": "prod"}]}]
    code, _ = _error(ec2.create_security_group, GroupName="tagged", Description="d", VpcId=vpc, TagSpecifications=spec)
    assert code == "UnauthorizedOperation"
    groups = ec2_admin.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["tagged"]}])
    assert groups["SecurityGroups"] == []
    ec2.create_security_group(GroupName="untagged", Description="d", VpcId=vpc)  # the create alone is allowed
    guided = _user_client(
        server,
        account,
        "guided",
        "ec2",
        _policy(
            {"Effect": "Allow", "Action": "ec2:CreateSecurityGroup", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "ec2:CreateTags",
                "Resource": "*",
                "Condition": {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}},
            },
        ),
    )
    made = guided.create_security_group(GroupName="tagged", Description="d", VpcId=vpc, TagSpecifications=spec)
    (group,) = ec2_admin.describe_security_groups(GroupIds=[made["GroupId"]])["SecurityGroups"]
    assert {"Key": "team", "Value": "prod"} in group.get("Tags", [])


# --- Tag on create: Lambda event source mappings -----------------------------------------------------------------


def test_event_source_mapping_tags_are_not_dropped_undecided(server: Endpoint) -> None:
    """Attack: CreateEventSourceMapping with `Tags`, by a user denied lambda:TagResource. AWS rule:
    "lambda:TagResource – Grant this permission to anyone who needs to call TagResource or perform a tag on create"
    (https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html); the mapping's ARN is made by Lambda, so the
    catalog cannot name the resource of that check before the call. lambdaperm accepted the request, decided it
    as lambda:CreateEventSourceMapping alone and dropped the tags. Tags on event source mappings are not served:
    501 NotImplemented naming the parameter, and no mapping."""
    account = "780800000802"
    iam, sqs = server.client("iam", key=account), server.client("sqs", key=account)
    role = make_role(
        iam,
        "esm8",
        _policy(
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                "Resource": "*",
            }
        ),
    )
    url = sqs.create_queue(QueueName="esm8")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    admin = server.client("lambda", key=account)
    admin.create_function(
        FunctionName="esm8", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": CODE}
    )
    lam = _user_client(
        server,
        account,
        "mapper",
        "lambda",
        _policy(
            {"Effect": "Allow", "Action": "lambda:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "lambda:TagResource", "Resource": "*"},
        ),
    )
    code, message = _error(
        lam.create_event_source_mapping, FunctionName="esm8", EventSourceArn=queue, Tags={"team": "prod"}
    )
    assert code == "NotImplemented" and "Tags" in message, message
    assert admin.list_event_source_mappings(FunctionName="esm8")["EventSourceMappings"] == []
