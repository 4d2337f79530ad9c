"""Attack class 9, code from S3: CreateFunction and UpdateFunctionCode read `S3Bucket/S3Key[/S3ObjectVersion]`
with the caller's credentials, so the caller needs `s3:GetObject` (`s3:GetObjectVersion` for a version) on the
object — from its identity policies and, across accounts, from the bucket policy too. Otherwise Lambda answers
403 AccessDeniedException "Your access has been denied by S3, please make sure your request credentials have
permission to GetObject for BUCKET/KEY. S3 Error Code: AccessDenied. S3 Error Message: Access Denied"
(observed: e.g. awslabs/dynamodb-continuous-backup#7, buildkite/elastic-ci-stack-for-aws#564). The bucket must be
in the function's region (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-deployment.html).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of

REGION = "us-east-1"
SECRET = zip_of({"app.py": "SECRET = 'victim data'\n\ndef handler(event, context):\n    return SECRET\n"})
OWN = zip_of({"app.py": "def handler(event, context):\n    return 'own'\n"})


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def denied_by_s3(bucket: str, key: str) -> tuple[str, str, int]:
    return (
        "AccessDeniedException",
        f"Your access has been denied by S3, please make sure your request credentials have permission to "
        f"GetObject for {bucket}/{key}. S3 Error Code: AccessDenied. S3 Error Message: Access Denied",
        403,
    )


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def user_with(server: Endpoint, account: str, name: str, *statements: dict[str, Any]) -> dict[str, str]:
    """A user who may manage functions and pass roles, plus `statements`: its client keys."""
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="p",
        PolicyDocument=policy(
            {"Effect": "Allow", "Action": ["lambda:*", "iam:PassRole"], "Resource": "*"}, *statements
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def code_of(server: Endpoint, lam: Any, name: str) -> bytes:
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    with urllib.request.urlopen(location, timeout=10) as resp:
        return bytes(resp.read())


def test_another_accounts_private_object_cannot_become_function_code(server: Endpoint) -> None:
    victim, attacker = "444400000001", "444400000002"
    s3 = server.client("s3", key=victim)
    s3.create_bucket(Bucket="victim-code")
    s3.put_object(Bucket="victim-code", Key="secret.zip", Body=SECRET)
    role = make_role(server.client("iam", key=attacker), "fn-role")
    lam = server.client("lambda", key=attacker)
    with pytest.raises(ClientError) as created:
        lam.create_function(
            FunctionName="thief",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"S3Bucket": "victim-code", "S3Key": "secret.zip"},
        )
    assert error(created) == denied_by_s3("victim-code", "secret.zip")
    with pytest.raises(ClientError) as absent:
        lam.get_function(FunctionName="thief")
    assert error(absent)[0] == "ResourceNotFoundException"
    lam.create_function(
        FunctionName="own", Runtime="python3.11", Role=role, Handler="app.handler", Code={"ZipFile": OWN}
    )
    with pytest.raises(ClientError) as updated:
        lam.update_function_code(FunctionName="own", S3Bucket="victim-code", S3Key="secret.zip")
    assert error(updated) == denied_by_s3("victim-code", "secret.zip")
    assert code_of(server, lam, "own") == OWN
    # a missing key of the other account is not revealed either (no s3:ListBucket there)
    with pytest.raises(ClientError) as missing:
        lam.update_function_code(FunctionName="own", S3Bucket="victim-code", S3Key="nothing.zip")
    assert error(missing) == denied_by_s3("victim-code", "nothing.zip")
    # the bucket owner can share the object: then the attacker's identity policy and the bucket policy allow
    s3.put_bucket_policy(
        Bucket="victim-code",
        Policy=policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": attacker},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::victim-code/secret.zip",
            }
        ),
    )
    lam.update_function_code(FunctionName="own", S3Bucket="victim-code", S3Key="secret.zip")
    assert code_of(server, lam, "own") == SECRET


def test_the_callers_identity_policy_must_allow_get_object(server: Endpoint) -> None:
    account = "444400000003"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="team-code")
    s3.put_object(Bucket="team-code", Key="app.zip", Body=SECRET)
    role = make_role(server.client("iam", key=account), "fn-role")
    keys = user_with(server, account, "dev")
    lam = server.client("lambda", key=keys["key"], secret=keys["secret"])
    with pytest.raises(ClientError) as denied:
        lam.create_function(
            FunctionName="f",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"S3Bucket": "team-code", "S3Key": "app.zip"},
        )
    assert error(denied) == denied_by_s3("team-code", "app.zip")
    reader = user_with(
        server, account, "reader", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::team-code/*"}
    )
    lam = server.client("lambda", key=reader["key"], secret=reader["secret"])
    lam.create_function(
        FunctionName="f",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"S3Bucket": "team-code", "S3Key": "app.zip"},
    )
    assert code_of(server, lam, "f") == SECRET
    # an explicit Deny in the bucket policy wins over the identity policy's Allow
    s3.put_bucket_policy(
        Bucket="team-code",
        Policy=policy(
            {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::team-code/*"}
        ),
    )
    with pytest.raises(ClientError) as bucket_denied:
        lam.update_function_code(FunctionName="f", S3Bucket="team-code", S3Key="app.zip")
    assert error(bucket_denied) == denied_by_s3("team-code", "app.zip")


def test_a_version_needs_get_object_version(server: Endpoint) -> None:
    account = "444400000004"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="versioned-code")
    s3.put_bucket_versioning(Bucket="versioned-code", VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket="versioned-code", Key="app.zip", Body=SECRET)["VersionId"]
    s3.put_object(Bucket="versioned-code", Key="app.zip", Body=OWN)
    role = make_role(server.client("iam", key=account), "fn-role")
    keys = user_with(
        server,
        account,
        "dev",
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::versioned-code/*"},
    )
    lam = server.client("lambda", key=keys["key"], secret=keys["secret"])
    with pytest.raises(ClientError) as denied:
        lam.create_function(
            FunctionName="f",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"S3Bucket": "versioned-code", "S3Key": "app.zip", "S3ObjectVersion": old},
        )
    assert error(denied) == denied_by_s3("versioned-code", "app.zip")
    lam.create_function(
        FunctionName="f",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"S3Bucket": "versioned-code", "S3Key": "app.zip"},
    )
    assert code_of(server, lam, "f") == OWN
    versions = user_with(
        server,
        account,
        "versions",
        {"Effect": "Allow", "Action": "s3:GetObjectVersion", "Resource": "arn:aws:s3:::versioned-code/*"},
    )
    lam = server.client("lambda", key=versions["key"], secret=versions["secret"])
    lam.update_function_code(FunctionName="f", S3Bucket="versioned-code", S3Key="app.zip", S3ObjectVersion=old)
    assert code_of(server, lam, "f") == SECRET


def test_a_missing_key_is_named_only_to_who_may_list_the_bucket(server: Endpoint) -> None:
    account = "444400000005"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="sparse-code")
    role = make_role(server.client("iam", key=account), "fn-role")
    blind = user_with(
        server,
        account,
        "blind",
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::sparse-code/*"},
    )
    lam = server.client("lambda", key=blind["key"], secret=blind["secret"])
    code = {"S3Bucket": "sparse-code", "S3Key": "none.zip"}
    with pytest.raises(ClientError) as hidden:
        lam.create_function(FunctionName="f", Runtime="python3.11", Role=role, Handler="app.handler", Code=code)
    assert error(hidden) == denied_by_s3("sparse-code", "none.zip")
    lister = user_with(
        server,
        account,
        "lister",
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::sparse-code/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::sparse-code"},
    )
    lam = server.client("lambda", key=lister["key"], secret=lister["secret"])
    with pytest.raises(ClientError) as named:
        lam.create_function(FunctionName="f", Runtime="python3.11", Role=role, Handler="app.handler", Code=code)
    assert error(named) == (
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.",
        400,
    )
    with pytest.raises(ClientError) as no_bucket:
        lam.create_function(
            FunctionName="f",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"S3Bucket": "no-such-code-bucket", "S3Key": "x.zip"},
        )
    assert error(no_bucket) == (
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: "
        "NoSuchBucket. S3 Error Message: The specified bucket does not exist",
        400,
    )


def test_the_bucket_must_be_in_the_functions_region(server: Endpoint) -> None:
    account = "444400000006"
    s3 = server.client("s3", key=account, region="eu-west-1")
    s3.create_bucket(Bucket="eu-code", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_object(Bucket="eu-code", Key="app.zip", Body=OWN)
    role = make_role(server.client("iam", key=account), "fn-role")
    lam = server.client("lambda", key=account, region=REGION)
    with pytest.raises(ClientError) as elsewhere:
        lam.create_function(
            FunctionName="f",
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"S3Bucket": "eu-code", "S3Key": "app.zip"},
        )
    assert error(elsewhere) == (
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: PermanentRedirect. S3 "
        "Error Message: The bucket is in this region: eu-west-1. Please use this region to retry the request",
        400,
    )
    lam = server.client("lambda", key=account, region="eu-west-1")
    lam.create_function(
        FunctionName="f",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"S3Bucket": "eu-code", "S3Key": "app.zip"},
    )
    assert code_of(server, lam, "f") == OWN
