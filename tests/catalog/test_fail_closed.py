"""Fail closed: anything the catalog cannot map precisely raises, and never maps to "no permission"."""

from __future__ import annotations

import contextlib

import pytest

from lambdaperm.catalog import UnmappedOperation, UnresolvedResource, required_actions

from .helpers import ACCOUNT, REGION, need


@pytest.mark.parametrize(
    ("service", "operation"),
    [
        ("kms", "Decrypt"),  # a service the catalog does not cover
        ("lambda", "NoSuchOperation"),
        ("lambda", "invoke"),  # operation names are exact (botocore's)
        ("iam", "PassRole"),  # an IAM action, but not an API operation
        ("ec2", "TerminateInstances"),  # outside the EC2 subset
        ("iam", "UpdateDelegationRequest"),  # no IAM action in the reference, no exception row
        ("s3", "WriteGetObjectResponse"),
        ("logs", "GetLogObject"),
        ("access-analyzer", "ListAnalyzers"),  # the IAM prefix is not a botocore service name
    ],
)
def test_unmapped_operations_raise(service: str, operation: str) -> None:
    with pytest.raises(UnmappedOperation) as info:
        need(service, operation)
    assert info.value.service == service
    assert info.value.operation in (operation, operation.split("2")[0])


def test_unresolved_resource_names_the_missing_parameter() -> None:
    # IAM operations whose UserName defaults to the caller: the gateway adds it and asks again.
    with pytest.raises(UnresolvedResource) as info:
        need("iam", "ListAccessKeys")
    assert info.value.missing[0] == "UserName"
    assert info.value.implicit == {"UserName": "caller"}
    assert isinstance(info.value, UnmappedOperation)
    assert need("iam", "ListAccessKeys", {"UserName": "bob"})[0].resources == (
        f"arn:aws:iam::{ACCOUNT}:user/bob",
    )
    with pytest.raises(UnresolvedResource) as info:
        need("iam", "GetAccessKeyLastUsed", {"AccessKeyId": "AKIAEXAMPLE"})
    assert info.value.missing[0] == "UserName"
    assert info.value.implicit == {"UserName": "access-key-owner"}
    with pytest.raises(UnresolvedResource):
        need("iam", "ListMFADevices")
    with pytest.raises(UnresolvedResource) as info:
        need("logs", "GetQueryResults", {"queryId": "q"})
    assert info.value.implicit == {}


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        ("lambda", "Invoke", {}),  # no FunctionName
        ("lambda", "Invoke", {"FunctionName": "bad name!"}),  # not a function name
        ("lambda", "TagResource", {"Resource": "arn:aws:sqs:us-east-1:111111111111:q", "Tags": {}}),
        ("s3", "GetObject", {"Bucket": "b"}),  # no Key: not the bucket instead
        ("s3", "CopyObject", {"Bucket": "b", "Key": "k"}),  # no source (a malformed one: test_s3_copy_source)
        ("s3", "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": []}}),
        ("sns", "Publish", {"Message": "m"}),  # conditional needs, none applies
        ("sqs", "SendMessage", {"QueueUrl": "not a url", "MessageBody": "m"}),
        ("dynamodb", "ExecuteStatement", {}),  # no statement (an unreadable one: test_partiql)
        ("dynamodb", "TransactWriteItems", {"TransactItems": [{}]}),
        ("ec2", "CreateTags", {"Resources": ["unknown-1"], "Tags": []}),
        ("ec2", "DeleteSecurityGroup", {"GroupName": "default"}),  # by name only: the ID is server state
        ("logs", "GetQueryResults", {"queryId": "q"}),
        ("sts", "AssumeRole", {"RoleArn": "not-an-arn", "RoleSessionName": "s"}),
    ],
)
def test_unresolvable_requests_raise(service: str, operation: str, params: dict[str, object]) -> None:
    with pytest.raises(UnresolvedResource):
        need(service, operation, params)


def test_no_permission_only_where_documented() -> None:
    assert need("sts", "GetCallerIdentity") == []
    assert need("sts", "GetSessionToken") == []


def test_star_only_without_resource_level_permissions() -> None:
    assert need("lambda", "ListFunctions")[0].resources == ("*",)
    assert need("iam", "ListRoles")[0].resources == ("*",)
    # A required resource type never degrades to `*`.
    with pytest.raises(UnresolvedResource):
        need("dynamodb", "GetItem", {"Key": {}})


def test_bad_parameter_types_do_not_crash() -> None:
    for params in (
        {"FunctionName": 12},
        {"FunctionName": ["f"]},
        {"FunctionName": None},
        {"FunctionName": {}},
        {"FunctionName": b"f"},
        {"QueueUrl": 3},
    ):
        with contextlib.suppress(UnmappedOperation):
            required_actions("lambda", "Invoke", params, account=ACCOUNT, region=REGION)


def test_resource_parameters_must_be_arns() -> None:
    for role in ("*", "exec-role", ""):
        with pytest.raises(UnresolvedResource):
            need("lambda", "CreateFunction", {"FunctionName": "f", "Role": role, "Code": {}})
