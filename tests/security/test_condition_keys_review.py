"""Condition keys, review round 1 (attack class 6: missing or wrong condition context keys).

Each test sends a request whose condition key lambdaperm could read differently from AWS (a value taken from
another reading of the request than the executor's, a key supplied where AWS does not supply it, a key
silently absent) and asserts AWS's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint

REGION = "us-east-1"


def _user(server: Endpoint, account: str, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _client(server: Endpoint, service: str, creds: tuple[str, str], region: str = REGION) -> Any:
    return server.client(service, key=creds[0], secret=creds[1], region=region)


def _denied(call: Callable[..., Any], code: str, **params: Any) -> str:
    with pytest.raises(ClientError) as denied:
        call(**params)
    got = denied.value.response["Error"]["Code"]
    message = denied.value.response["Error"]["Message"]
    assert got == code, (got, message)
    return message


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# --- dynamodb:Attributes ---------------------------------------------------------------------------------------

TABLE = "Scores"


def _table(server: Endpoint, account: str) -> str:
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "UserId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "UserId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(
        TableName=TABLE,
        Item={"UserId": {"S": "u1"}, "Nick": {"S": "p"}, "contains": {"S": "secret"}, "size": {"S": "s"}},
    )
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{TABLE}"


def test_attribute_named_like_a_function_is_an_attribute(server: Endpoint) -> None:
    """Attack: a ProjectionExpression names an attribute `contains` (a function name of the expression
    language, not a reserved word: it can be written unescaped). If the reader of dynamodb:Attributes takes it
    for the function and leaves it out, the guide's attribute-restricting policy
    (ForAllValues:StringEquals dynamodb:Attributes [UserId, Nick]) lets the caller read it.
    AWS rule: dynamodb:Attributes is every top-level attribute name the request accesses.
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html"""
    account = "620000000001"
    table = _table(server, account)
    reader = _client(
        server,
        "dynamodb",
        _user(
            server,
            account,
            "reader",
            _policy(
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"],
                    "Resource": table,
                    "Condition": {"ForAllValues:StringEquals": {"dynamodb:Attributes": ["UserId", "Nick"]}},
                }
            ),
        ),
    )
    key = {"UserId": {"S": "u1"}}
    assert reader.get_item(TableName=TABLE, Key=key, ProjectionExpression="UserId, Nick")["Item"]["Nick"]
    for projection in ("UserId, contains", "contains", "UserId,contains"):
        try:
            got = reader.get_item(TableName=TABLE, Key=key, ProjectionExpression=projection)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] in ("AccessDeniedException", "ValidationException"), exc.response
        else:
            assert "contains" not in got.get("Item", {}), (projection, got)


# --- aws:PrincipalTag of role sessions ---------------------------------------------------------------------------


def _assumer(server: Endpoint, account: str) -> Any:
    """An STS client of a user of `account` allowed everything (the role's trust policy decides)."""
    return _client(
        server, "sts", _user(server, account, "assumer", _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    )


def _trust(account: str, *extra: dict[str, Any]) -> str:
    statements = extra or ({"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"]},)
    return json.dumps(_policy(*({"Principal": {"AWS": f"arn:aws:iam::{account}:root"}, **s} for s in statements)))


def _session_client(server: Endpoint, service: str, creds: dict[str, Any]) -> Any:
    return server.client(
        service, key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"]
    )


def _only_if_tag(key: str, value: str) -> str:
    return json.dumps(
        _policy(
            {
                "Effect": "Allow",
                "Action": ["iam:ListRoles", "sts:AssumeRole", "sts:TagSession"],
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:PrincipalTag/{key}": value}},
            }
        )
    )


def test_a_session_tag_overrides_the_role_tag_of_any_case(server: Endpoint) -> None:
    """Attack: the role is tagged `department=Marketing`; the session is assumed with the session tag
    `Department=Engineering`. Merged case-sensitively, the role's tag could win and the session would keep
    the Marketing grants. AWS rule: tag keys are case-insensitive, "the session tag passed in the request takes
    precedence over the role tag". https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
    https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html (Tags)"""
    account = "620000000002"
    iam = server.client("iam", key=account)
    iam.create_role(
        RoleName="marketing",
        AssumeRolePolicyDocument=_trust(account),
        Tags=[{"Key": "department", "Value": "Marketing"}],
    )
    iam.put_role_policy(RoleName="marketing", PolicyName="p", PolicyDocument=_only_if_tag("department", "Marketing"))
    sts = _assumer(server, account)
    arn = f"arn:aws:iam::{account}:role/marketing"
    plain = sts.assume_role(RoleArn=arn, RoleSessionName="plain")["Credentials"]
    assert _session_client(server, "iam", plain).list_roles()["Roles"]  # positive control: the role's tag
    tagged = sts.assume_role(RoleArn=arn, RoleSessionName="eng", Tags=[{"Key": "Department", "Value": "Engineering"}])[
        "Credentials"
    ]
    _denied(_session_client(server, "iam", tagged).list_roles, "AccessDenied")


def test_session_tags_differing_only_by_case_are_refused(server: Endpoint) -> None:
    """Attack: the trust policy lets a caller tag sessions only with `team=guest`; the caller passes
    `team=admin` and `Team=guest`. Read as two keys, the TagSession decision saw `guest` while the session
    carried `admin`. AWS rule: tag keys are case-insensitive, `Department` and `department` cannot both be
    passed (the call fails). https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html"""
    account = "620000000003"
    iam = server.client("iam", key=account)
    trust = _trust(
        account,
        {"Effect": "Allow", "Action": "sts:AssumeRole"},
        {
            "Effect": "Allow",
            "Action": "sts:TagSession",
            "Condition": {"StringEquals": {"aws:RequestTag/team": "guest"}},
        },
    )
    iam.create_role(RoleName="shared", AssumeRolePolicyDocument=trust)
    iam.put_role_policy(RoleName="shared", PolicyName="p", PolicyDocument=_only_if_tag("team", "admin"))
    sts = _assumer(server, account)
    arn = f"arn:aws:iam::{account}:role/shared"
    sts.assume_role(RoleArn=arn, RoleSessionName="guest", Tags=[{"Key": "team", "Value": "guest"}])  # control
    with pytest.raises(ClientError) as refused:
        sts.assume_role(
            RoleArn=arn,
            RoleSessionName="mixed",
            Tags=[{"Key": "team", "Value": "admin"}, {"Key": "Team", "Value": "guest"}],
        )
    # refused: 400 when the tags are validated first, 403 when sts:TagSession is decided first (with the tag's
    # value undecidable); which comes first in AWS is not documented
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403), refused.value.response


def test_transitive_session_tags_persist_in_a_role_chain(server: Endpoint) -> None:
    """Attack: a session tagged `clearance=low` (transitive) assumes a second role (role chaining) to shed the
    tag: a Deny on aws:PrincipalTag/clearance=low no longer applies, and a new tag of the same key would
    replace it. AWS rule: a chained session inherits the calling session's transitive tags; passing a session
    tag with the same key as an inherited one fails; a transitive key must be among the passed tags.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_role-chaining"""
    account = "620000000004"
    iam = server.client("iam", key=account)
    iam.create_role(RoleName="hop", AssumeRolePolicyDocument=_trust(account))
    iam.put_role_policy(
        RoleName="hop",
        PolicyName="p",
        PolicyDocument=json.dumps(
            _policy(
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "iam:ListRoles",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalTag/clearance": "low"}},
                },
            )
        ),
    )
    sts = _assumer(server, account)
    arn = f"arn:aws:iam::{account}:role/hop"
    with pytest.raises(ClientError) as refused:
        sts.assume_role(RoleArn=arn, RoleSessionName="bad", TransitiveTagKeys=["clearance"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, refused.value.response
    first = sts.assume_role(
        RoleArn=arn,
        RoleSessionName="first",
        Tags=[{"Key": "clearance", "Value": "low"}],
        TransitiveTagKeys=["clearance"],
    )["Credentials"]
    _denied(_session_client(server, "iam", first).list_roles, "AccessDenied")
    chained_sts = _session_client(server, "sts", first)
    second = chained_sts.assume_role(RoleArn=arn, RoleSessionName="second")["Credentials"]
    _denied(_session_client(server, "iam", second).list_roles, "AccessDenied")
    with pytest.raises(ClientError) as overridden:
        chained_sts.assume_role(RoleArn=arn, RoleSessionName="third", Tags=[{"Key": "Clearance", "Value": "high"}])
    assert overridden.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, overridden.value.response


# --- aws:RequestTag / s3:RequestObjectTag with a key given twice ---------------------------------------------


def test_a_request_tag_given_in_two_cases_is_not_read_as_the_last_one(server: Endpoint) -> None:
    """Attack: the guardrail denies tagging anything `Env=prod` (StringEquals aws:RequestTag/Env). SQS and SNS
    tag keys are case-sensitive, so TagQueue with {"Env": "prod", "env": "dev"} sets both tags; read as a
    dictionary of lower-cased keys, aws:RequestTag/env was "dev" (the last) and the Deny did not apply.
    AWS rule: condition key names, tag-key suffixes included, are case-insensitive
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html); the key
    has no single value here, so lambdaperm holds it undecidable and the Deny applies (docs/condition-keys.md).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html#access_tags_control-requests"""
    account = "620000000005"
    deny = {
        "Effect": "Deny",
        "Action": ["sqs:TagQueue", "sns:TagResource", "s3:PutObject"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestTag/Env": "prod", "s3:RequestObjectTag/Env": "prod"}},
    }
    deny_tag = {**deny, "Condition": {"StringEquals": {"aws:RequestTag/Env": "prod"}}}
    deny_object = {**deny, "Action": "s3:PutObject", "Condition": {"StringEquals": {"s3:RequestObjectTag/Env": "prod"}}}
    creds = _user(
        server,
        account,
        "tagger",
        _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}, deny_tag, deny_object),
    )
    owner_sqs = server.client("sqs", key=account)
    url = owner_sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs = _client(server, "sqs", creds)
    sqs.tag_queue(QueueUrl=url, Tags={"Env": "dev"})  # positive control
    _denied(sqs.tag_queue, "AccessDenied", QueueUrl=url, Tags={"Env": "prod"})
    _denied(sqs.tag_queue, "AccessDenied", QueueUrl=url, Tags={"Env": "prod", "env": "dev"})
    assert owner_sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"Env": "dev"}
    topic = server.client("sns", key=account).create_topic(Name="t")["TopicArn"]
    sns = _client(server, "sns", creds)
    for tags in (
        [{"Key": "Env", "Value": "prod"}, {"Key": "env", "Value": "dev"}],
        [{"Key": "env", "Value": "dev"}, {"Key": "Env", "Value": "prod"}],
    ):
        with pytest.raises(ClientError) as refused:  # (the SNS error code of a denial is not this test's point)
            sns.tag_resource(ResourceArn=topic, Tags=tags)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, refused.value.response
    server.client("s3", key=account).create_bucket(Bucket="tagged-objects-620000000005")
    s3 = _client(server, "s3", creds)
    s3.put_object(Bucket="tagged-objects-620000000005", Key="ok", Body=b"x", Tagging="Env=dev")
    _denied(
        s3.put_object,
        "AccessDenied",
        Bucket="tagged-objects-620000000005",
        Key="k",
        Body=b"x",
        Tagging="env=dev&Env=prod",
    )


def test_a_chained_session_with_transitive_tags_needs_tag_session(server: Endpoint) -> None:
    """Attack: a session with a transitive tag assumes a role whose trust policy allows sts:AssumeRole but not
    sts:TagSession; the new session carries the tag without the role's owner having allowed tags.
    AWS rule: passing session tags — transitive tags carried into a role chain included — needs sts:TagSession
    in the trust policy of the role assumed; without it AssumeRole is denied.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required"""
    account = "620000000006"
    iam = server.client("iam", key=account)
    iam.create_role(RoleName="first", AssumeRolePolicyDocument=_trust(account))
    iam.put_role_policy(
        RoleName="first",
        PolicyName="p",
        PolicyDocument=json.dumps(_policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})),
    )
    iam.create_role(
        RoleName="untagged", AssumeRolePolicyDocument=_trust(account, {"Effect": "Allow", "Action": "sts:AssumeRole"})
    )
    sts = _assumer(server, account)
    first = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/first",
        RoleSessionName="first",
        Tags=[{"Key": "project", "Value": "p1"}],
        TransitiveTagKeys=["project"],
    )["Credentials"]
    chained = _session_client(server, "sts", first)
    _denied(
        chained.assume_role, "AccessDenied", RoleArn=f"arn:aws:iam::{account}:role/untagged", RoleSessionName="next"
    )
