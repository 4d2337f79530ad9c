"""Condition keys, review round 5 (attack class 6: missing or wrong condition context keys).

Each test sends a request whose condition key lambdaperm could supply differently from AWS — a key AWS
supplies left out, a value taken from the wrong place or the wrong state of the resource — and asserts AWS's
outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.authz import request_context
from lambdaperm.catalog import required_actions
from lambdaperm.policy import AuthzRequest, Caller, PolicySet, PolicyType, PrincipalKind, decide, parse_policy
from lambdaperm.state.identity import Identity
from tests.e2e.conftest import Endpoint
from tests.security.iam_users import user_keys

REGION = "us-east-1"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _user_client(server: Endpoint, account: str, name: str, service: str, policy: dict[str, Any]) -> Any:
    return server.client(service, **user_keys(server, account, name, document=policy), region=REGION)


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


# --- global keys per principal type (a table, against AWS's documented presence) ----------------------------------

_A = "650000000009"
_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
_ROLE = f"arn:aws:iam::{_A}:role/ops/deployer"
_USER = f"arn:aws:iam::{_A}:user/alice"
_ABSENT = None
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html ("Availability" of each
# key) and the principal table of https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
_PRINCIPALS: dict[str, tuple[Identity, dict[str, str | None]]] = {
    "root": (
        Identity(Caller(f"arn:aws:iam::{_A}:root", PrincipalKind.ROOT, _A), _A, _A),
        {
            "aws:principalarn": f"arn:aws:iam::{_A}:root",
            "aws:principalaccount": _A,
            "aws:principaltype": "Account",
            "aws:userid": _A,
            "aws:username": _ABSENT,
            "aws:principalisawsservice": "false",
            "aws:principalservicename": _ABSENT,
            "aws:tokenissuetime": _ABSENT,
            "aws:multifactorauthpresent": _ABSENT,
            "aws:sourceidentity": _ABSENT,
        },
    ),
    "user": (
        Identity(Caller(_USER, PrincipalKind.USER, _A, name="alice"), "AIDAEXAMPLE", "AKIAEXAMPLE", user_name="alice"),
        {
            "aws:principalarn": _USER,
            "aws:principalaccount": _A,
            "aws:principaltype": "User",
            "aws:userid": "AIDAEXAMPLE",
            "aws:username": "alice",
            "aws:principalisawsservice": "false",
            "aws:tokenissuetime": _ABSENT,
            "aws:multifactorauthpresent": _ABSENT,
        },
    ),
    "user session (GetSessionToken)": (
        Identity(
            Caller(_USER, PrincipalKind.USER, _A, name="alice"),
            "AIDAEXAMPLE",
            "ASIAEXAMPLE",
            user_name="alice",
            session_created=_NOW,
        ),
        {
            "aws:principalarn": _USER,
            "aws:principaltype": "User",
            "aws:userid": "AIDAEXAMPLE",
            "aws:username": "alice",
            "aws:tokenissuetime": "2026-01-02T03:04:05Z",
            "aws:multifactorauthpresent": "false",
        },
    ),
    "role session": (
        Identity(
            Caller(
                f"arn:aws:sts::{_A}:assumed-role/deployer/ci",
                PrincipalKind.ASSUMED_ROLE,
                _A,
                role_arn=_ROLE,
                name="deployer",
                session="ci",
            ),
            "AROAEXAMPLE:ci",
            "ASIAEXAMPLE2",
            role_name="deployer",
            session_created=_NOW,
            source_identity="alice",
        ),
        {
            "aws:principalarn": _ROLE,  # the role's ARN, path included, not the session's
            "aws:principalaccount": _A,
            "aws:principaltype": "AssumedRole",
            "aws:userid": "AROAEXAMPLE:ci",
            "aws:username": _ABSENT,
            "aws:principalisawsservice": "false",
            "aws:sourceidentity": "alice",
            "aws:tokenissuetime": "2026-01-02T03:04:05Z",
            "aws:multifactorauthpresent": "false",
        },
    ),
    "anonymous": (
        Identity(Caller("anonymous", PrincipalKind.ANONYMOUS, ""), "anonymous"),
        {
            "aws:principalarn": _ABSENT,
            "aws:principalaccount": _ABSENT,
            "aws:principaltype": "Anonymous",
            "aws:userid": "anonymous",
            "aws:username": _ABSENT,
            "aws:principalisawsservice": _ABSENT,  # "for all signed API requests"
        },
    ),
    "service principal": (
        Identity(Caller("sns.amazonaws.com", PrincipalKind.SERVICE, "", name="sns.amazonaws.com"), "sns.amazonaws.com"),
        {
            "aws:principalarn": _ABSENT,
            "aws:principalaccount": _ABSENT,
            "aws:userid": _ABSENT,
            "aws:username": _ABSENT,
            "aws:principalisawsservice": "true",
            "aws:principalservicename": "sns.amazonaws.com",
        },
    ),
}
# Keys no lambdaperm caller carries: no Organizations (aws:PrincipalOrgID, aws:ResourceOrgID...), no web identity
# or SAML sessions (aws:FederatedProvider), no sts:AssumeRoot (aws:AssumedRoot), no MFA (aws:MultiFactorAuthAge).
_NEVER = (
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:resourceorgid",
    "aws:resourceorgpaths",
    "aws:federatedprovider",
    "aws:assumedroot",
    "aws:multifactorauthage",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
)


@pytest.mark.parametrize("principal", sorted(_PRINCIPALS))
def test_the_global_keys_of_each_principal_type_are_aws_documented_ones(principal: str) -> None:
    """Held (table): the principal keys of each kind of caller are present with AWS's value, or absent where AWS
    documents them absent — root, an IAM user, a user's GetSessionToken session, a role session (aws:PrincipalArn
    is the role's ARN), an anonymous caller (aws:userid "anonymous", no signed-request keys), a service principal
    delivering (aws:PrincipalIsAWSService / aws:PrincipalServiceName only)."""
    identity, expected = _PRINCIPALS[principal]
    got = request_context(identity, now=_NOW, region=REGION, source_ip="192.0.2.1", tags={})
    for key, value in expected.items():
        assert got.get(key) == (None if value is None else (value,)), (principal, key, got.get(key))
    assert [k for k in _NEVER if k in got] == []


# --- request keys: the value's form (a table) ---------------------------------------------------------------------

_RETAIN = datetime(2030, 1, 1, tzinfo=UTC)
_REQUEST_VALUES: list[tuple[str, str, dict[str, Any], str, dict[str, tuple[str, ...] | None]]] = [
    # S3 reads header values as sent; numbers are their decimal text (Numeric* operators parse it)
    (
        "s3",
        "ListObjectsV2",
        {"Bucket": "b", "MaxKeys": 10, "Prefix": ""},
        "s3:ListBucket",
        {"s3:max-keys": ("10",), "s3:prefix": ("",), "s3:delimiter": None},
    ),
    (
        "s3",
        "PutObject",
        {"Bucket": "b", "Key": "k", "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/x"},
        "s3:PutObject",
        {
            "s3:x-amz-server-side-encryption": ("aws:kms",),
            "s3:x-amz-server-side-encryption-aws-kms-key-id": ("alias/x",),
            "s3:x-amz-acl": None,
        },
    ),
    (
        "s3",
        "PutObject",
        {"Bucket": "b", "Key": "k", "ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": _RETAIN},
        "s3:PutObject",
        {"s3:object-lock-mode": ("GOVERNANCE",), "s3:object-lock-retain-until-date": ("2030-01-01T00:00:00+00:00",)},
    ),
    # DynamoDB: an omitted Select / ReturnConsumedCapacity is absent (the DynamoDB guide's attribute policy tests them
    # with StringEqualsIfExists); an omitted Select that reads whole items leaves dynamodb:Attributes unsupplied
    (
        "dynamodb",
        "Scan",
        {"TableName": "t"},
        "dynamodb:Scan",
        {"dynamodb:select": None, "dynamodb:returnconsumedcapacity": None},
    ),
    (
        "dynamodb",
        "Scan",
        {"TableName": "t", "Select": "COUNT", "ReturnConsumedCapacity": "TOTAL"},
        "dynamodb:Scan",
        {"dynamodb:select": ("COUNT",), "dynamodb:returnconsumedcapacity": ("TOTAL",)},
    ),
    # SNS: the protocol as sent (SNS and the deliveries compare it exactly: `SQS` is not `sqs`)
    (
        "sns",
        "Subscribe",
        {"TopicArn": f"arn:aws:sns:{REGION}:{_A}:t", "Protocol": "SQS", "Endpoint": "x"},
        "sns:Subscribe",
        {"sns:protocol": ("SQS",), "sns:endpoint": ("x",)},
    ),
]


@pytest.mark.parametrize(("service", "operation", "params", "action", "expected"), _REQUEST_VALUES)
def test_request_keys_have_the_form_aws_gives_them(
    service: str, operation: str, params: dict[str, Any], action: str, expected: dict[str, tuple[str, ...] | None]
) -> None:
    """Held (table): request keys carry the request's value in the form AWS evaluates (header text, decimal
    numbers, ISO 8601 dates), and are absent when the request omits the parameter."""
    needs = [n for n in required_actions(service, operation, params, account=_A, region=REGION) if n.action == action]
    assert len(needs) == 1, needs
    for key, value in expected.items():
        assert needs[0].context.get(key) == value, (key, needs[0].context)


def test_an_object_lock_date_compares_as_a_date() -> None:
    """Held: the retain-until date of a request compares with Date operators whatever the offset it was written
    with (`DateGreaterThan` on s3:object-lock-retain-until-date, the S3 guide's object-lock policies)."""
    statement = {
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"DateGreaterThan": {"s3:object-lock-retain-until-date": "2029-12-31T23:00:00Z"}},
    }
    caller = Caller(_USER, PrincipalKind.USER, _A, name="alice")
    for written, allowed in (("2030-01-01T00:00:00+00:00", True), ("2030-01-01T00:30:00+02:00", False)):
        request = AuthzRequest.build(
            caller, "s3:PutObject", "arn:aws:s3:::b/k", {"s3:object-lock-retain-until-date": written}, _A
        )
        got = decide(PolicySet(identity=(parse_policy(json.dumps(_policy(statement)), PolicyType.IDENTITY),)), request)
        assert got.allowed is allowed, (written, got)
