"""Region/account confusion and condition context keys, review round 2.

Each test is an attack on the value a condition key takes (or the region/account a call is decided in)
against a real `lambdaperm serve`, asserting AWS's outcome (or, where AWS's value is not documented, the
fail-closed one: the key is undecidable, an Allow on it does not apply and a Deny does).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.security.signed_http import send

REGION = "us-east-1"


def _user(server: Endpoint, account: str, name: str, policy: dict[str, Any]) -> tuple[str, str]:
    """(access key, secret) of a new user of `account` with one inline policy."""
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
    error = denied.value.response["Error"]
    assert error["Code"] == code, error
    return str(error["Message"])


def _allow_all_but(deny: dict[str, Any]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", **deny}],
    }


def _raw_dynamodb(server: Endpoint, creds: tuple[str, str], target: str, body: dict[str, Any]) -> tuple[int, str]:
    """A DynamoDB call sent as written (boto3 would re-encode a binary value)."""
    reply = send(
        server,
        "dynamodb",
        REGION,
        "POST",
        key=creds[0],
        secret=creds[1],
        headers=[("X-Amz-Target", f"DynamoDB_20120810.{target}"), ("Content-Type", "application/x-amz-json-1.0")],
        body=json.dumps(body).encode(),
    )
    return reply.status, reply.text


# --- dynamodb:LeadingKeys of a number or binary partition key ---------------------------------------------


def _keyed_table(server: Endpoint, account: str, name: str, kind: str) -> str:
    ddb = server.client("dynamodb", key=account)
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": kind}],
        BillingMode="PAY_PER_REQUEST",
    )
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{name}"


NUMBER_WRITINGS = ["1.0", "01", "1e0", "+1", "1.000", "10E-1"]


@pytest.mark.parametrize("written", NUMBER_WRITINGS)
def test_a_number_partition_key_written_another_way_is_the_same_partition(server: Endpoint, written: str) -> None:
    """Attack: a Deny on `dynamodb:LeadingKeys` = "1" guards the partition of the number 1; the caller writes
    the same number another way (N "1.0", "01", "1e0"...) and reads and overwrites that partition.

    AWS rule: a DynamoDB number is a number, not its text ("Leading and trailing zeroes are trimmed";
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number),
    so `N "1.0"` is the key 1 and the request touches the guarded partition. The value AWS compares in
    `dynamodb:LeadingKeys` for a number written in a non-canonical form is not documented
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html): the
    fail-closed reading is that the Deny applies (the key is undecidable, or the number's canonical text).
    """
    account = "720000000001"
    table_name = f"Numbers{NUMBER_WRITINGS.index(written)}"
    table = _keyed_table(server, account, table_name, "N")
    owner = server.client("dynamodb", key=account)
    owner.put_item(TableName=table_name, Item={"Id": {"N": "1"}, "Secret": {"S": "s3cr3t"}})
    deny = {
        "Action": "dynamodb:*",
        "Resource": table,
        "Condition": {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["1"]}},
    }
    ddb = _client(server, "dynamodb", _user(server, account, f"num{table_name}", _allow_all_but(deny)))
    denied = "AccessDeniedException"
    _denied(ddb.get_item, denied, TableName=table_name, Key={"Id": {"N": "1"}})  # the guard itself works
    message = _denied(ddb.get_item, denied, TableName=table_name, Key={"Id": {"N": written}})
    assert "explicit deny" in message, message
    _denied(
        ddb.query,
        denied,
        TableName=table_name,
        KeyConditionExpression="Id = :v",
        ExpressionAttributeValues={":v": {"N": written}},
    )
    _denied(ddb.put_item, denied, TableName=table_name, Item={"Id": {"N": written}, "Secret": {"S": "gone"}})
    assert owner.get_item(TableName=table_name, Key={"Id": {"N": "1"}})["Item"]["Secret"] == {"S": "s3cr3t"}
    # another partition, written canonically, is not touched by the Deny
    ddb.put_item(TableName=table_name, Item={"Id": {"N": "2"}})
    assert ddb.get_item(TableName=table_name, Key={"Id": {"N": "2"}})["Item"]["Id"] == {"N": "2"}


def test_a_number_partition_key_in_another_writing_does_not_satisfy_an_allow(server: Endpoint) -> None:
    """The other direction: an Allow on `ForAllValues:StringEquals dynamodb:LeadingKeys ["2"]` does not
    allow `N "02"` on the say-so of its text (the key is undecidable in any writing but DynamoDB's own), while
    the canonical "2" is allowed. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html"""
    account = "720000000002"
    table = _keyed_table(server, account, "OwnPartition", "N")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
                "Resource": table,
                "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["2"]}},
            }
        ],
    }
    ddb = _client(server, "dynamodb", _user(server, account, "own", policy))
    ddb.put_item(TableName="OwnPartition", Item={"Id": {"N": "2"}})
    message = _denied(ddb.get_item, "AccessDeniedException", TableName="OwnPartition", Key={"Id": {"N": "02"}})
    assert "dynamodb:LeadingKeys" in message, message


def test_a_binary_partition_key_in_another_base64_writing_is_the_same_partition(server: Endpoint) -> None:
    """Attack: B "QR==" decodes to the same byte as "QQ==" (the unused bits of the last character are not
    checked by lenient decoders); a Deny on `dynamodb:LeadingKeys` "QQ==" must see it. AWS: binary values are
    base64-encoded on the wire and compared as bytes
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Binary)."""
    account = "720000000003"
    table = _keyed_table(server, account, "Blobs", "B")
    owner = server.client("dynamodb", key=account)
    owner.put_item(TableName="Blobs", Item={"Id": {"B": b"A"}, "Secret": {"S": "s3cr3t"}})
    deny = {
        "Action": "dynamodb:*",
        "Resource": table,
        "Condition": {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["QQ=="]}},
    }
    creds = _user(server, account, "blobs", _allow_all_but(deny))
    status, body = _raw_dynamodb(server, creds, "GetItem", {"TableName": "Blobs", "Key": {"Id": {"B": "QR=="}}})
    assert status == 400 and "AccessDeniedException" in body, (status, body)
    status, body = _raw_dynamodb(server, creds, "GetItem", {"TableName": "Blobs", "Key": {"Id": {"B": "QQ=="}}})
    assert status == 400 and "AccessDeniedException" in body, (status, body)


# --- s3:x-amz-copy-source of a percent-encoded header ----------------------------------------------------


def test_a_percent_encoded_copy_source_does_not_escape_a_deny_on_the_source(server: Endpoint) -> None:
    """Attack: a Deny on `s3:x-amz-copy-source` `src/secret/*` guards the secret prefix from copies; the caller
    sends `x-amz-copy-source: src/%73ecret/x` (the header "must be URL-encoded"; S3 decodes it and copies
    `secret/x`). The condition must not see the encoded text while the copy reads the decoded key.

    AWS rule: the header names the source object, URL-encoded
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html#API_CopyObject_RequestSyntax); the key
    "filters access by copy source bucket, prefix, or object" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html,
    example https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html). Whether IAM
    compares the encoded or the decoded text is not documented: a value whose two readings differ is undecidable
    (the Deny applies, an Allow does not); one written without escapes is compared as is.
    """
    account = "720000000004"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="src-720")
    s3.create_bucket(Bucket="dst-720")
    s3.put_object(Bucket="src-720", Key="secret/x", Body=b"classified")
    s3.put_object(Bucket="src-720", Key="public/y", Body=b"open")
    deny = {
        "Action": "s3:PutObject",
        "Resource": "*",
        "Condition": {"StringLike": {"s3:x-amz-copy-source": "src-720/secret/*"}},
    }
    creds = _user(server, account, "copier", _allow_all_but(deny))
    for source in ("src-720/%73ecret/x", "/src-720/%73ecret/x", "src-720/secre%74/x"):
        reply = send(
            server,
            "s3",
            REGION,
            "PUT",
            f"/dst-720/stolen{len(source)}",
            key=creds[0],
            secret=creds[1],
            headers=[("x-amz-copy-source", source), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
        )
        assert reply.status == 403 and reply.code == "AccessDenied", (source, reply.status, reply.text)
    assert "Contents" not in s3.list_objects_v2(Bucket="dst-720", Prefix="stolen")
    # the plain writing is denied by the policy itself; another prefix is copied
    mine = _client(server, "s3", creds)
    _denied(mine.copy_object, "AccessDenied", Bucket="dst-720", Key="a", CopySource="src-720/secret/x")
    mine.copy_object(Bucket="dst-720", Key="b", CopySource={"Bucket": "src-720", "Key": "public/y"})
    assert s3.get_object(Bucket="dst-720", Key="b")["Body"].read() == b"open"


# --- sts:* keys of AssumeRole, in the role's trust policy ------------------------------------------------


def test_assume_role_keys_reach_the_trust_policy(server: Endpoint) -> None:
    """The trust policy's conditions on `sts:ExternalId` and `sts:RoleSessionName` see the request's values, as
    written (the confused-deputy guard: https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html;
    keys: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_externalid).
    Attacks that must fail: no ExternalId, the id in another case, a session name that is not the caller's."""
    account = "720000000005"
    iam = server.client("iam", key=account)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"sts:ExternalId": "Ext-42"},
                    "StringLike": {"sts:RoleSessionName": "${aws:username}"},
                },
            }
        ],
    }
    role = iam.create_role(RoleName="deputy", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}]}
    sts = _client(server, "sts", _user(server, account, "carol", allow))
    for params in (
        {"RoleSessionName": "carol"},
        {"RoleSessionName": "carol", "ExternalId": "ext-42"},
        {"RoleSessionName": "mallory", "ExternalId": "Ext-42"},
    ):
        _denied(sts.assume_role, "AccessDenied", RoleArn=role, **params)
    assumed = sts.assume_role(RoleArn=role, RoleSessionName="carol", ExternalId="Ext-42")
    assert assumed["AssumedRoleUser"]["Arn"].endswith(":assumed-role/deputy/carol")
