"""Condition keys, review round 5 (attack class 6: missing or wrong condition context keys).

Each test sends a request whose condition key lambdaperm could supply differently from AWS — a key AWS
supplies left out, a value taken from the wrong place or the wrong state of the resource — and asserts AWS's
outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _user_client(server: Endpoint, account: str, name: str, service: str, policy: dict[str, Any]) -> Any:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return server.client(service, key=key["AccessKeyId"], secret=key["SecretAccessKey"], region=REGION)


def _denied(call: Callable[..., Any], code: str, **params: Any) -> str:
    with pytest.raises(ClientError) as denied:
        call(**params)
    got = denied.value.response["Error"]["Code"]
    message = denied.value.response["Error"]["Message"]
    assert got == code, (got, message)
    return message


# --- s3:ExistingObjectTag is the tags of the version the request names, for every action it is checked as ------

_SECRET = {"StringEquals": {"s3:ExistingObjectTag/classification": "secret"}}


def _versioned_bucket(server: Endpoint, account: str, bucket: str) -> tuple[Any, str, str]:
    """A versioned bucket whose object `doc` has an older version tagged classification=secret and a newer,
    untagged, current version: (the owner's client, the old version id, the current version id)."""
    s3 = server.client("s3", key=account, region=REGION)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="doc", Body=b"secret", Tagging="classification=secret")["VersionId"]
    new = s3.put_object(Bucket=bucket, Key="doc", Body=b"public")["VersionId"]
    return s3, old, new


@pytest.mark.parametrize(
    ("operation", "action", "params"),
    [
        ("get_object_tagging", "s3:GetObjectTagging", {}),
        ("put_object_tagging", "s3:PutObjectTagging", {"Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
        ("delete_object_tagging", "s3:DeleteObjectTagging", {}),
    ],
)
def test_an_object_tag_deny_applies_to_the_version_named(
    server: Endpoint, operation: str, action: str, params: dict[str, Any]
) -> None:
    """Attack: a bucket keeps an old version of `doc` tagged classification=secret under an untagged current
    version. A Deny on `s3:GetObjectTagging` (…`PutObjectTagging`, …`DeleteObjectTagging`) conditioned on
    `s3:ExistingObjectTag/classification` = secret protects secret objects' tags. GetObjectTagging with
    `versionId` of the old version is authorized as s3:GetObjectTagging and s3:GetObjectVersionTagging;
    lambdaperm read the tags for the first of these checks from the current version (the key `s3:versionid`
    is not documented for s3:GetObjectTagging, so the version was not passed to it): the Deny did not apply
    and the secret version's tags were read (or replaced, or deleted).
    AWS rule: `s3:ExistingObjectTag/<key>` is the tag of the object the request acts on — with `versionId`,
    that version (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html); the
    operation needs both actions ("To retrieve tags of any other version, use the versionId query parameter.
    You also need permission for the s3:GetObjectVersionTagging action",
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html), each decided on that object.
    """
    account = "650000000001"
    bucket = f"round5-tags-{operation.replace('_', '-')}"
    owner, old, _new = _versioned_bucket(server, account, bucket)
    policy = _policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
        {"Effect": "Deny", "Action": action, "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": _SECRET},
    )
    user = _user_client(server, account, f"reader-{operation.split('_')[0]}", "s3", policy)

    _denied(getattr(user, operation), "AccessDenied", Bucket=bucket, Key="doc", VersionId=old, **params)
    tags = owner.get_object_tagging(Bucket=bucket, Key="doc", VersionId=old)["TagSet"]
    assert tags == [{"Key": "classification", "Value": "secret"}]
    # held: the current (untagged) version is not protected by the Deny
    getattr(user, operation)(Bucket=bucket, Key="doc", **params)


# --- sts:TransitiveTagKeys of a role chain that inherits transitive tags -----------------------------------------


def test_a_deny_on_transitive_tag_keys_applies_to_a_chain_that_inherits_them(server: Endpoint) -> None:
    """Attack: role `vault` may be assumed with session tags (its trust policy allows sts:AssumeRole and
    sts:TagSession) but denies sts:TagSession to any request whose `sts:TransitiveTagKeys` include `project`,
    so that no project tag propagates into its sessions. A session of `first` tagged project=p1 (transitive)
    assumes `vault` without passing tags itself: the chained session inherits project=p1 as a transitive tag.
    lambdaperm read sts:TransitiveTagKeys from the request only, so it was absent, the Deny did not apply and
    the vault session carried the transitive project tag.
    AWS rule: inherited transitive tags are session tags of the new session, passed as transitive ("Incoming
    transitive session tags — The tags inherited from a previous session in a role chain", which need
    sts:TagSession, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_role-chaining).
    Whether AWS lists them in sts:TransitiveTagKeys (and in aws:RequestTag/aws:TagKeys) of that request is not
    documented: the key cannot be told, so it is unsupplied (policy/unsupplied.py) — a Deny on it applies.
    """
    account = "650000000002"
    iam = server.client("iam", key=account)
    root = f"arn:aws:iam::{account}:root"
    allow_all = json.dumps(_policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    anyone = {"Effect": "Allow", "Principal": {"AWS": root}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    iam.create_role(RoleName="first", AssumeRolePolicyDocument=json.dumps(_policy(anyone)))
    iam.put_role_policy(RoleName="first", PolicyName="p", PolicyDocument=allow_all)
    no_project = {
        "Effect": "Deny",
        "Principal": {"AWS": root},
        "Action": "sts:TagSession",
        "Condition": {"ForAnyValue:StringEquals": {"sts:TransitiveTagKeys": "project"}},
    }
    iam.create_role(RoleName="vault", AssumeRolePolicyDocument=json.dumps(_policy(anyone, no_project)))
    sts = _user_client(server, account, "assumer", "sts", _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    vault = f"arn:aws:iam::{account}:role/vault"
    # positive control: the Deny applies to the request that passes the key itself
    _denied(
        sts.assume_role,
        "AccessDenied",
        RoleArn=vault,
        RoleSessionName="direct",
        Tags=[{"Key": "project", "Value": "p1"}],
        TransitiveTagKeys=["project"],
    )
    first = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/first",
        RoleSessionName="first",
        Tags=[{"Key": "project", "Value": "p1"}],
        TransitiveTagKeys=["project"],
    )["Credentials"]
    chained = server.client(
        "sts", key=first["AccessKeyId"], secret=first["SecretAccessKey"], token=first["SessionToken"], region=REGION
    )
    _denied(chained.assume_role, "AccessDenied", RoleArn=vault, RoleSessionName="next")
    # held: a session without transitive tags may still assume the role
    plain = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/first", RoleSessionName="plain")["Credentials"]
    server.client(
        "sts", key=plain["AccessKeyId"], secret=plain["SecretAccessKey"], token=plain["SessionToken"], region=REGION
    ).assume_role(RoleArn=vault, RoleSessionName="next")


# --- sts:SourceIdentity of a role chain whose calling session carries one ----------------------------------------


def test_a_deny_on_the_source_identity_applies_to_a_chain_that_inherits_it(server: Endpoint) -> None:
    """Attack: role `vault` denies sts:AssumeRole to `sts:SourceIdentity` = mallory. Mallory assumes `first`
    with SourceIdentity=mallory, then (role chaining) assumes `vault` without passing SourceIdentity: the
    chained session inherits the source identity mallory. lambdaperm read sts:SourceIdentity from the request
    alone, so it was absent, the Deny did not apply and mallory's session of `vault` was issued.
    AWS rule: "After a source identity is set, it is present in requests for any AWS action taken during the role
    session. The value that is set persists when a role is used to assume another role"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html). Whether
    the persisted value is the chained AssumeRole's sts:SourceIdentity is not documented: it cannot be told, so
    the key is unsupplied (policy/unsupplied.py) — a Deny on it applies, an Allow requiring it does not.
    """
    account = "650000000003"
    iam = server.client("iam", key=account)
    root = f"arn:aws:iam::{account}:root"
    anyone = {"Effect": "Allow", "Principal": {"AWS": root}, "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}
    iam.create_role(RoleName="first", AssumeRolePolicyDocument=json.dumps(_policy(anyone)))
    iam.put_role_policy(
        RoleName="first",
        PolicyName="p",
        PolicyDocument=json.dumps(_policy({"Effect": "Allow", "Action": "*", "Resource": "*"})),
    )
    no_mallory = {
        "Effect": "Deny",
        "Principal": {"AWS": root},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:SourceIdentity": "mallory"}},
    }
    iam.create_role(RoleName="vault", AssumeRolePolicyDocument=json.dumps(_policy(anyone, no_mallory)))
    sts = _user_client(server, account, "assumer", "sts", _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    vault = f"arn:aws:iam::{account}:role/vault"
    first = f"arn:aws:iam::{account}:role/first"
    # positive control: the Deny applies to the request that names the source identity itself
    _denied(sts.assume_role, "AccessDenied", RoleArn=vault, RoleSessionName="direct", SourceIdentity="mallory")
    creds = sts.assume_role(RoleArn=first, RoleSessionName="mallory", SourceIdentity="mallory")["Credentials"]
    chained = server.client(
        "sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"], region=REGION
    )
    _denied(chained.assume_role, "AccessDenied", RoleArn=vault, RoleSessionName="next")
    _denied(chained.assume_role, "AccessDenied", RoleArn=vault, RoleSessionName="next", SourceIdentity="mallory")
    # held: a chain whose source identity is another one's may assume the role
    creds = sts.assume_role(RoleArn=first, RoleSessionName="alice", SourceIdentity="alice")["Credentials"]
    server.client(
        "sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"], region=REGION
    ).assume_role(RoleArn=vault, RoleSessionName="next", SourceIdentity="alice")
