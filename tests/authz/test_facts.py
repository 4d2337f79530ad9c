"""The authorizer completes each decision's context from where the resource lives, and hands the engine the
keys it cannot supply as unsupplied (undecidable), never as absent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdaperm.authz import Authorizer
from lambdaperm.catalog import RequiredAction, required_actions
from lambdaperm.catalog import condition_keys as ck
from lambdaperm.policy import Caller, PrincipalKind
from lambdaperm.state.identity import Identity

ACCOUNT = "111122223333"
REGION = "us-east-1"
USER = Identity(Caller(f"arn:aws:iam::{ACCOUNT}:user/alice", PrincipalKind.USER, ACCOUNT, name="alice"), "AIDAALICE")
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/T"


@dataclass
class Policies:
    identity: tuple[tuple[str, str], ...]
    boundary: str | None = None
    session: tuple[str, ...] = ()


@dataclass
class Source:
    statements: list[dict[str, Any]]
    tags: dict[str, dict[str, str] | None] = field(default_factory=dict)
    objects: dict[str, dict[str, str] | None] = field(default_factory=dict)
    partition: dict[str, str | None] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def identity_policies(self, identity: Identity) -> Policies:
        return Policies((("p", json.dumps({"Version": "2012-10-17", "Statement": self.statements})),))

    def resource_policy(self, action: str, resource: str) -> tuple[str, str | None] | None:
        return None

    def resource_account(self, resource: str) -> str | None:
        return self.owners.get(resource.removeprefix("arn:aws:s3:::").split("/", 1)[0])

    def resource_tags(self, resource: str) -> Mapping[str, str] | None:
        self.reads.append(resource)
        return self.tags.get(resource, {})

    def object_tags(self, resource: str, version: str | None) -> Mapping[str, str] | None:
        self.reads.append(f"{resource}?{version}")
        return self.objects.get(resource, {})

    def partition_key(self, resource: str) -> str | None:
        return self.partition.get(resource)


def _allow(action: str = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": "*"}
    if condition:
        stmt["Condition"] = condition
    return stmt


def _deny(action: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {**_allow(action, condition), "Effect": "Deny"}


PROD = {"StringEquals": {"aws:ResourceTag/env": "prod"}}


def test_resource_tags_are_read_at_decision_time() -> None:
    source = Source([_allow(), _deny("*", PROD)], tags={FUNCTION: {"Env": "prod"}})
    authorizer = Authorizer(source)
    need = [RequiredAction("lambda:GetFunction", (FUNCTION,))]
    denied = authorizer.enforce(USER, need, {})
    assert denied is not None and denied.decision.outcome.value == "explicitDeny"
    source.tags[FUNCTION] = {"env": "dev"}
    assert authorizer.enforce(USER, need, {}) is None


def test_tags_are_read_only_when_a_policy_tests_them() -> None:
    source = Source([_allow()], tags={FUNCTION: {"env": "prod"}})
    assert Authorizer(source).enforce(USER, [RequiredAction("lambda:GetFunction", (FUNCTION,))], {}) is None
    assert source.reads == []


def test_tags_that_cannot_be_read_are_unsupplied() -> None:
    source = Source([_allow(), _deny("*", PROD)], tags={FUNCTION: None})
    denied = Authorizer(source).enforce(USER, [RequiredAction("lambda:GetFunction", (FUNCTION,))], {})
    assert denied is not None
    assert denied.decision.unsupplied_keys == ("aws:ResourceTag/env",)
    assert "aws:ResourceTag/env" in denied.decision.message


def test_tags_of_an_action_that_does_not_document_them_are_not_read() -> None:
    """lambda:ListFunctions has no resource type: aws:ResourceTag is not in its context (absent)."""
    source = Source([_allow(), _deny("*", PROD)], tags={"*": None})
    assert Authorizer(source).enforce(USER, [RequiredAction("lambda:ListFunctions", ("*",))], {}) is None
    assert source.reads == []


def test_existing_object_tags_of_the_version_asked_for() -> None:
    obj = "arn:aws:s3:::b/k"
    deny = _deny("s3:*", {"StringEquals": {"s3:ExistingObjectTag/env": "prod"}})
    source = Source([_allow(), deny], objects={obj: {"env": "prod"}}, owners={"b": ACCOUNT})
    need = required_actions(
        "s3", "GetObject", {"Bucket": "b", "Key": "k", "VersionId": "v1"}, account=ACCOUNT, region=REGION
    )
    denied = Authorizer(source).enforce(USER, need, {}, {})
    assert denied is not None and denied.action == "s3:GetObjectVersion"
    assert f"{obj}?v1" in source.reads


def _partition_policy() -> list[dict[str, Any]]:
    return [_allow("dynamodb:*", {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:userid}"]}})]


def _ddb(operation: str, params: dict[str, Any]) -> list[RequiredAction]:
    return required_actions("dynamodb", operation, params, account=ACCOUNT, region=REGION)


def test_leading_keys_from_the_key_schema() -> None:
    source = Source(_partition_policy(), partition={TABLE: "pk"})
    authorizer = Authorizer(source)
    context = {"aws:userid": ("AIDAALICE",)}
    own = _ddb("GetItem", {"TableName": "T", "Key": {"pk": {"S": "AIDAALICE"}, "sk": {"S": "AIDABOB"}}})
    assert authorizer.enforce(USER, own, context) is None
    other = _ddb("GetItem", {"TableName": "T", "Key": {"pk": {"S": "AIDABOB"}, "sk": {"S": "AIDAALICE"}}})
    assert authorizer.enforce(USER, other, context) is not None


def test_leading_keys_of_an_unknown_table_are_unsupplied() -> None:
    """Without the key schema, ForAllValues on an ABSENT key would allow every partition."""
    source = Source(_partition_policy(), partition={TABLE: None})
    need = _ddb("GetItem", {"TableName": "T", "Key": {"pk": {"S": "AIDABOB"}}})
    denied = Authorizer(source).enforce(USER, need, {"aws:userid": ("AIDAALICE",)})
    assert denied is not None and denied.decision.unsupplied_keys == ("dynamodb:LeadingKeys",)


def test_an_item_without_its_partition_key_is_unsupplied() -> None:
    source = Source(_partition_policy(), partition={TABLE: "pk"})
    need = _ddb("GetItem", {"TableName": "T", "Key": {"other": {"S": "AIDAALICE"}}})
    denied = Authorizer(source).enforce(USER, need, {"aws:userid": ("AIDAALICE",)})
    assert denied is not None and denied.decision.unsupplied_keys == ("dynamodb:LeadingKeys",)


def test_marks_never_reach_the_engine() -> None:
    """A policy cannot read lambdaperm's own facts: they are removed from the context."""
    source = Source(
        [_allow("dynamodb:*", {"Null": {ck.KEY_ITEMS_MARK: "true", ck.UNSUPPLIED_MARK: "true"}})],
        partition={TABLE: "pk"},
    )
    need = _ddb("PutItem", {"TableName": "T", "Item": {"pk": {"S": "x"}}})
    assert ck.KEY_ITEMS_MARK in need[0].context
    assert Authorizer(source).enforce(USER, need, {}) is None


def test_signature_keys_need_the_transport() -> None:
    deny = _deny("s3:*", {"StringNotEquals": {"s3:authType": "REST-HEADER"}})
    source = Source([_allow(), deny], owners={"b": ACCOUNT})
    need = [RequiredAction("s3:GetObject", ("arn:aws:s3:::b/k",))]
    authorizer = Authorizer(source)
    assert authorizer.enforce(USER, need, {}, {"s3:authtype": ("REST-HEADER",)}) is None
    assert authorizer.enforce(USER, need, {}, {"s3:authtype": ("REST-QUERY-STRING",)}) is not None
    unknown = authorizer.enforce(USER, need, {}, None)  # a call lambdaperm makes itself: unknown
    assert unknown is not None and unknown.decision.unsupplied_keys == ("s3:authType",)


def test_bucket_owner() -> None:
    check = {"StringEquals": {"aws:ResourceAccount": ACCOUNT, "s3:ResourceAccount": ACCOUNT}}
    source = Source([_allow("s3:*", check)], owners={"mine": ACCOUNT})
    authorizer = Authorizer(source)
    assert authorizer.enforce(USER, [RequiredAction("s3:ListBucket", ("arn:aws:s3:::mine",))], {}, {}) is None
    unknown = authorizer.enforce(USER, [RequiredAction("s3:ListBucket", ("arn:aws:s3:::nobody",))], {}, {})
    assert unknown is not None
    assert set(unknown.decision.unsupplied_keys) == {"aws:ResourceAccount", "s3:ResourceAccount"}
    # a bucket being created will be the caller's
    assert authorizer.enforce(USER, [RequiredAction("s3:CreateBucket", ("arn:aws:s3:::new",))], {}, {}) is None


def test_statically_unsupplied_keys() -> None:
    source = Source([_allow(), _deny("s3:*", {"NumericLessThan": {"s3:TlsVersion": "1.2"}})], owners={"b": ACCOUNT})
    denied = Authorizer(source).enforce(USER, [RequiredAction("s3:GetObject", ("arn:aws:s3:::b/k",))], {}, {})
    assert denied is not None and denied.decision.outcome.value == "explicitDeny"
    assert "s3:TlsVersion" in denied.decision.message


@dataclass
class IamSource(Source):
    boundaries: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    vpcs: dict[tuple[str, ...], str | None] = field(default_factory=dict)

    def permissions_boundary(self, resource: str) -> tuple[str, ...] | None:
        return self.boundaries.get(resource)

    def subnet_vpc(self, account: str, region: str, subnets: tuple[str, ...]) -> str | None:
        return self.vpcs.get(subnets)


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundary"


def test_permissions_boundary_of_the_user_acted_on() -> None:
    """AWS's delegated-admin pattern: inline policies only on users that carry the boundary."""
    allow = _allow("iam:PutUserPolicy", {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}})
    bounded, free = f"arn:aws:iam::{ACCOUNT}:user/bounded", f"arn:aws:iam::{ACCOUNT}:user/free"
    source = IamSource([allow], boundaries={bounded: (BOUNDARY,), free: ()})
    authorizer = Authorizer(source)
    put = {"PolicyName": "p", "PolicyDocument": "{}"}
    assert (
        authorizer.enforce(
            USER,
            required_actions("iam", "PutUserPolicy", {"UserName": "bounded", **put}, account=ACCOUNT, region=REGION),
            {},
        )
        is None
    )
    assert (
        authorizer.enforce(
            USER,
            required_actions("iam", "PutUserPolicy", {"UserName": "free", **put}, account=ACCOUNT, region=REGION),
            {},
        )
        is not None
    )
    # the boundary a creation sets is the request's, not read from the (absent) user
    create = {"UserName": "new", "PermissionsBoundary": BOUNDARY}
    allow_create = _allow("iam:CreateUser", {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}})
    assert (
        Authorizer(IamSource([allow_create])).enforce(
            USER, required_actions("iam", "CreateUser", create, account=ACCOUNT, region=REGION), {}
        )
        is None
    )


def test_vpc_of_the_function_subnets() -> None:
    deny = _deny("lambda:CreateFunction", {"StringEquals": {"lambda:VpcIds": "vpc-blocked"}})
    source = IamSource(
        [_allow(), deny], vpcs={("subnet-1",): "vpc-blocked", ("subnet-2",): "vpc-ok", ("subnet-3",): None}
    )
    authorizer = Authorizer(source)

    def create(subnet: str) -> list[RequiredAction]:
        params = {
            "FunctionName": "f",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/r",
            "Code": {},
            "VpcConfig": {"SubnetIds": [subnet], "SecurityGroupIds": ["sg-1"]},
        }
        return required_actions("lambda", "CreateFunction", params, account=ACCOUNT, region=REGION)

    assert authorizer.enforce(USER, create("subnet-1"), {}) is not None
    assert authorizer.enforce(USER, create("subnet-2"), {}) is None
    unknown = authorizer.enforce(USER, create("subnet-3"), {})  # a subnet EC2 does not know
    assert unknown is not None and unknown.decision.unsupplied_keys == ("lambda:VpcIds",)


def test_tag_keys_that_differ_only_by_case_are_unsupplied() -> None:
    source = Source([_allow(), _deny("*", PROD)], tags={FUNCTION: {"Env": "prod", "env": "dev"}})
    denied = Authorizer(source).enforce(USER, [RequiredAction("lambda:GetFunction", (FUNCTION,))], {})
    assert denied is not None and denied.decision.unsupplied_keys == ("aws:ResourceTag/env",)
