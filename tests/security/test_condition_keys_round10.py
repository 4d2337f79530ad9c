"""Condition keys, review round 10 (attack class 6: missing or wrong condition context keys).

Round 6/7's question — where does AWS take a documented key's value when the service fills the parameter in —
asked of the tag-removal operations: every served Untag / DeleteTags operation whose tag-key member is optional.
EC2 DeleteTags is the only one (its `Tags` is optional: "If you omit this parameter, we delete all user-defined
tags for the specified resources", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html);
every other served Untag operation requires its key list (`test_every_optional_tag_removal_is_in_the_table`).
"""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from lambdaperm.catalog import mapped_operations, required_actions
from lambdaperm.catalog.condition_keys import UNSUPPLIED_MARK
from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

ACCOUNT = "123456789012"
REGION = "us-east-1"
SG = "sg-0123456789abcdef0"

# Served operations that remove tags and whose key list may be omitted, with what the omission removes.
OPTIONAL_TAG_REMOVALS = {("ec2", "DeleteTags"): "every user-defined tag of the resources"}
_REMOVAL_WORDS = ("Untag", "DeleteTags", "RemoveTags")
_KEY_MEMBERS = ("TagKeys", "tagKeys", "Tags", "tags", "TagsList")


def test_every_optional_tag_removal_is_in_the_table() -> None:
    """Every served tag-removal operation either requires its tag-key member (the request names the keys it
    removes, so aws:TagKeys is the request's) or is in OPTIONAL_TAG_REMOVALS."""
    session = botocore.session.get_session()
    optional: set[tuple[str, str]] = set()
    for service, operation, _ in mapped_operations():
        if not any(word in operation for word in _REMOVAL_WORDS):
            continue
        shape = session.get_service_model(service).operation_model(operation).input_shape
        members = [m for m in _KEY_MEMBERS if shape is not None and m in shape.members]
        assert members, f"{service}:{operation} names no tag keys"
        if not set(members) & set(shape.required_members):
            optional.add((service, operation))
    assert optional == set(OPTIONAL_TAG_REMOVALS)


@pytest.mark.parametrize(
    ("params", "keys", "unsupplied"),
    [
        ({"Resources": [SG]}, None, True),
        ({"Resources": [SG], "Tags": []}, None, True),
        ({"Resources": [SG], "Tags": [{"Key": "owner"}]}, ("owner",), False),
        ({"Resources": [SG], "Tags": [{"Key": "owner", "Value": "alice"}]}, ("owner",), False),
    ],
)
def test_delete_tags_without_tags_leaves_tag_keys_unsupplied(
    params: dict[str, Any], keys: tuple[str, ...] | None, unsupplied: bool
) -> None:
    """DeleteTags naming tags: aws:TagKeys is their keys. Without `Tags` (an empty list is not sent by the SDK and
    reads as absent) it removes every tag, and AWS does not document the key's value then: unsupplied, so the
    `ForAllValues:StringEquals aws:TagKeys` Allow of the tag-permission guides does not let it remove every tag."""
    (need,) = required_actions("ec2", "DeleteTags", params, account=ACCOUNT, region=REGION)
    assert need.action == "ec2:DeleteTags"
    assert need.context.get("aws:tagkeys") == keys
    assert ("aws:tagkeys" in need.context.get(UNSUPPLIED_MARK, ())) is unsupplied


def _code(call: Any, **kwargs: Any) -> str:
    try:
        call(**kwargs)
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "OK"


def test_delete_tags_without_tags_is_not_allowed_by_a_tag_key_allow(server: Endpoint) -> None:
    """Attack: a user allowed to remove only the `temporary` tag key (`ForAllValues:StringEquals aws:TagKeys
    ["temporary"]` on ec2:DeleteTags, the guides' pattern: e.g.
    https://docs.aws.amazon.com/autoscaling/ec2/userguide/tag-permissions.html) and denied removing `owner`
    (`ForAnyValue:StringEquals aws:TagKeys ["owner"]`) calls DeleteTags WITHOUT `Tags`, which removes every tag
    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html). With aws:TagKeys absent the
    ForAllValues Allow is vacuously true and the ForAnyValue Deny false: lambdaperm removed the `owner` tag. AWS does
    not document the key's value for a removal of every tag; the project's rule for a value the service fills in
    (docs/fidelity.md, "Condition keys whose value the service defaults") is UNSUPPLIED: the Deny applies
    (UnauthorizedOperation) and the Allow does not; naming the `temporary` key stays allowed."""
    account = "780800001001"
    admin = server.client("ec2", key=account, region=REGION)
    group = admin.create_security_group(GroupName="r10", Description="r10")["GroupId"]
    admin.create_tags(Resources=[group], Tags=[{"Key": "owner", "Value": "alice"}, {"Key": "temporary", "Value": "x"}])
    user = server.client(
        "ec2",
        region=REGION,
        **user_keys(
            server,
            account,
            "untagger",
            document={
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Action": "ec2:DeleteTags",
                        "Resource": "*",
                        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["temporary"]}},
                    },
                    {
                        "Effect": "Deny",
                        "Action": "ec2:DeleteTags",
                        "Resource": "*",
                        "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}},
                    },
                ],
            },
        ),
    )
    assert _code(user.delete_tags, Resources=[group], Tags=[{"Key": "owner"}]) == "UnauthorizedOperation"
    assert _code(user.delete_tags, Resources=[group]) == "UnauthorizedOperation"

    def tags() -> dict[str, str]:
        (found,) = admin.describe_security_groups(GroupIds=[group])["SecurityGroups"]
        return {t["Key"]: t["Value"] for t in found.get("Tags", [])}

    assert tags() == {"owner": "alice", "temporary": "x"}
    assert _code(user.delete_tags, Resources=[group], Tags=[{"Key": "temporary"}]) == "OK"
    assert tags() == {"owner": "alice"}
