"""S3's "public" test of a bucket policy, table-driven from the pages that define it.

https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html ("The meaning of
public"), https://docs.aws.amazon.com/AmazonS3/latest/API/API_PublicAccessBlockConfiguration.html."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdaperm.dataplane.s3_public_policies import _public_acl, is_public, restricted


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(principal: Any = "*", condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:PutObject", "Resource": "*", **extra}
    if condition is not None:
        statement["Condition"] = condition
    return statement


CASES: list[tuple[str, str, bool]] = [
    # the user guide's examples
    ("principal * without condition", _policy(_allow()), True),
    ("aws:SourceVpc with a wildcard", _policy(_allow(condition={"StringLike": {"aws:SourceVpc": "vpc-*"}})), True),
    ("a fixed aws:SourceVpc", _policy(_allow(condition={"StringEquals": {"aws:SourceVpc": "vpc-91237329"}})), False),
    # a fixed principal: an account, a user, a service principal
    ("an account", _policy(_allow({"AWS": "arn:aws:iam::111122223333:root"})), False),
    ("a bare account id", _policy(_allow({"AWS": "111122223333"})), False),
    ("a service principal", _policy(_allow({"Service": "logs.amazonaws.com"})), False),
    ("AWS *", _policy(_allow({"AWS": "*"})), True),
    ("one of the AWS principals is *", _policy(_allow({"AWS": ["111122223333", "*"]})), True),
    ("a wildcard in a principal ARN", _policy(_allow({"AWS": "arn:aws:iam::111122223333:user/*"})), True),
    ("NotPrincipal", _policy({"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:*"}), True),
    # the listed keys, each fixed
    *(
        (f"a fixed {key}", _policy(_allow(condition={"StringEquals": {key: value}})), False)
        for key, value in (
            ("aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:t"),
            ("aws:SourceVpce", "vpce-1a2b3c4d"),
            ("aws:SourceOwner", "111122223333"),
            ("aws:SourceAccount", "111122223333"),
            ("aws:userid", "AIDAEXAMPLE"),
            ("s3:DataAccessPointAccount", "111122223333"),
            ("s3:x-amz-server-side-encryption-aws-kms-key-id", "arn:aws:kms:us-east-1:111122223333:key/k"),
        )
    ),
    ("ArnEquals aws:SourceArn", _policy(_allow(condition={"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::b"}})), False),
    ("aws:SourceArn ArnLike *", _policy(_allow(condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}})), True),
    ("aws:userid AROLEID:*", _policy(_allow(condition={"StringLike": {"aws:userid": "AROAEXAMPLE:*"}})), True),
    ("a policy variable", _policy(_allow(condition={"StringEquals": {"aws:SourceAccount": "${aws:username}"}})), True),
    ("a key not listed", _policy(_allow(condition={"StringEquals": {"aws:PrincipalTag/team": "a"}})), True),
    (
        "aws:PrincipalOrgID (read strictly)",
        _policy(_allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}})),
        True,
    ),
    ("a negated operator", _policy(_allow(condition={"StringNotEquals": {"aws:SourceAccount": "1"}})), True),
    ("IfExists", _policy(_allow(condition={"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}})), True),
    (
        "key names in any case",
        _policy(_allow(condition={"StringEquals": {"AWS:SOURCEACCOUNT": "111122223333"}})),
        False,
    ),
    # aws:SourceIp: a set of CIDRs, none broader than /8 (IPv4) or /32 (IPv6)
    ("a /24", _policy(_allow(condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})), False),
    ("one address", _policy(_allow(condition={"IpAddress": {"aws:SourceIp": "203.0.113.7"}})), False),
    ("a /8", _policy(_allow(condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), False),
    ("0.0.0.0/1", _policy(_allow(condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}})), True),
    ("0.0.0.0/0", _policy(_allow(condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})), True),
    ("an IPv6 /64", _policy(_allow(condition={"IpAddress": {"aws:SourceIp": "2001:db8::/64"}})), False),
    ("an IPv6 /16", _policy(_allow(condition={"IpAddress": {"aws:SourceIp": "2001::/16"}})), True),
    ("NotIpAddress", _policy(_allow(condition={"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}})), True),
    # statement by statement
    (
        "a Deny with principal *",
        _policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
        False,
    ),
    ("one public Allow among fixed ones", _policy(_allow({"AWS": "111122223333"}), _allow()), True),
    ("not JSON", "{", True),
]


@pytest.mark.parametrize(("name", "text", "public"), CASES, ids=[c[0] for c in CASES])
def test_the_meaning_of_public(name: str, text: str, public: bool) -> None:
    assert is_public(text) is public, name


@pytest.mark.parametrize(
    ("params", "public"),
    [
        ({"ACL": "public-read"}, True),
        ({"ACL": "public-read-write"}, True),
        ({"ACL": "authenticated-read"}, True),
        ({"ACL": "private"}, False),
        ({"ACL": "bucket-owner-full-control"}, False),
        ({"GrantRead": 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'}, True),
        ({"GrantWrite": 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"'}, True),
        ({"GrantRead": 'id="abc"'}, False),
        (
            {
                "AccessControlPolicy": {
                    "Grants": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AllUsers"}}],
                }
            },
            True,
        ),
        ({"AccessControlPolicy": {"Grants": [{"Grantee": {"ID": "abc", "Type": "CanonicalUser"}}]}}, False),
    ],
)
def test_a_public_acl(params: dict[str, Any], public: bool) -> None:
    assert _public_acl(params) is public


def test_restricted_keeps_the_owner_and_services_and_every_deny() -> None:
    text = _policy(
        {"Sid": "Public", **_allow(condition={"StringEquals": {"aws:PrincipalAccount": "999999999999"}})},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "*"},
    )
    statements = json.loads(restricted(text, "111122223333"))["Statement"]
    assert [s["Effect"] for s in statements] == ["Allow", "Allow", "Deny"]
    assert "Sid" not in statements[0]
    # the existing test of aws:PrincipalAccount stays and the owner's is added under another operator (AND)
    assert statements[0]["Condition"] == {
        "StringEquals": {"aws:PrincipalAccount": "999999999999"},
        "StringEqualsIgnoreCase": {"aws:PrincipalAccount": "111122223333"},
    }
    assert statements[1]["Condition"]["Bool"] == {"aws:PrincipalIsAWSService": "true"}
