"""Fail-open paths found by review, each pinned by a test: a made-up path in a role ARN, a deleted
boundary policy, trust policies and sessions after a principal is deleted and re-created."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint
from .test_iam_sts import error

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def trust(principal: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})


def user(server: Endpoint, account: str, name: str, policy: dict[str, Any] | None = None) -> tuple[str, str]:
    iam = server.client("iam", key=account)
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_a_made_up_path_does_not_reach_another_role(server: Endpoint) -> None:
    account = "222200000001"
    iam = server.client("iam", key=account)
    iam.create_role(RoleName="Admin", AssumeRolePolicyDocument=trust(account))
    iam.attach_role_policy(RoleName="Admin", PolicyArn=ADMIN)
    key, secret = user(server, account, "alice", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{account}:role/sandbox/*"}]})
    sts = server.client("sts", key=key, secret=secret)
    for arn in (f"arn:aws:iam::{account}:role/Admin", f"arn:aws:iam::{account}:role/sandbox/Admin"):
        with pytest.raises(ClientError) as denied:
            sts.assume_role(RoleArn=arn, RoleSessionName="s1")
        assert error(denied)[0] == "AccessDenied"


def test_a_boundary_policy_in_use_cannot_be_deleted(server: Endpoint) -> None:
    account = "222200000002"
    iam = server.client("iam", key=account)
    boundary = iam.create_policy(PolicyName="bnd", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}))["Policy"]["Arn"]
    key, secret = user(server, account, "bob")
    iam.attach_user_policy(UserName="bob", PolicyArn=ADMIN)
    iam.put_user_permissions_boundary(UserName="bob", PermissionsBoundary=boundary)
    bob = server.client("iam", key=key, secret=secret)
    with pytest.raises(ClientError) as bounded:
        bob.list_users()
    assert error(bounded)[1].endswith("because no permissions boundary allows the iam:ListUsers action")
    with pytest.raises(ClientError) as in_use:
        iam.delete_policy(PolicyArn=boundary)
    assert error(in_use)[0] == "DeleteConflict"
    with pytest.raises(ClientError) as still:
        bob.list_users()
    assert error(still)[0] == "AccessDenied"


def test_trust_does_not_follow_a_recreated_user(server: Endpoint) -> None:
    account = "222200000003"
    iam = server.client("iam", key=account)
    iam.create_user(UserName="dave")
    dave_arn = f"arn:aws:iam::{account}:user/dave"
    iam.create_role(RoleName="DaveRole", AssumeRolePolicyDocument=trust(dave_arn))
    iam.delete_user(UserName="dave")
    key, secret = user(server, account, "dave")  # another person under the same name
    with pytest.raises(ClientError) as denied:
        server.client("sts", key=key, secret=secret).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/DaveRole", RoleSessionName="s1")
    assert error(denied)[0] == "AccessDenied"
    shown = iam.get_role(RoleName="DaveRole")["Role"]["AssumeRolePolicyDocument"]
    principal = shown["Statement"][0]["Principal"]["AWS"]
    assert principal.startswith("AIDA")  # the unique id of the deleted user, as AWS shows it


def test_an_old_session_does_not_gain_a_recreated_roles_permissions(server: Endpoint) -> None:
    account = "222200000004"
    iam = server.client("iam", key=account)
    key, secret = user(server, account, "erin", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
    iam.create_role(RoleName="R", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{account}:user/erin"))
    creds = server.client("sts", key=key, secret=secret).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/R", RoleSessionName="old")["Credentials"]
    old = server.client("iam", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                        token=creds["SessionToken"])
    with pytest.raises(ClientError):
        old.list_roles()
    iam.delete_role(RoleName="R")
    iam.create_role(RoleName="R", AssumeRolePolicyDocument=trust(f"arn:aws:iam::{account}:user/erin"))
    iam.attach_role_policy(RoleName="R", PolicyArn=ADMIN)
    with pytest.raises(ClientError) as still:
        old.list_roles()
    assert error(still)[0] == "AccessDenied"


def _function(server: Endpoint, account: str, name: str) -> str:
    from .lambda_helpers import make_role, zip_of

    iam = server.client("iam", key=account)
    role = make_role(iam, f"{name}-role", managed=[
        "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"])
    lam = server.client("lambda", key=account, region="us-west-2")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                        Code={"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 1\n"})})
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="prod", FunctionVersion="1")
    return role


def test_no_event_source_mapping_on_another_accounts_function(server: Endpoint) -> None:
    owner, stranger = "222200000005", "222200000006"
    _function(server, owner, "victim")
    server.client("sqs", key=owner, region="us-west-2").create_queue(QueueName="owners-queue")
    with pytest.raises(ClientError) as denied:
        server.client("lambda", key=stranger, region="us-west-2").create_event_source_mapping(
            FunctionName=f"arn:aws:lambda:us-west-2:{owner}:function:victim",
            EventSourceArn=f"arn:aws:sqs:us-west-2:{owner}:owners-queue")
    assert error(denied)[0] == "AccessDeniedException"


def test_a_qualified_name_cannot_change_latest(server: Endpoint) -> None:
    account = "222200000007"
    _function(server, account, "qf")
    key, secret = user(server, account, "alias-admin", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "lambda:*", "Resource": f"arn:aws:lambda:us-west-2:{account}:function:qf:prod"}]})
    lam = server.client("lambda", key=key, secret=secret, region="us-west-2")
    with pytest.raises(ClientError) as refused:
        lam.update_function_configuration(FunctionName="qf:prod", Timeout=77)
    assert error(refused)[0] == "InvalidParameterValueException"
    owner = server.client("lambda", key=account, region="us-west-2")
    assert owner.get_function_configuration(FunctionName="qf")["Timeout"] == 3
    url = lam.create_function_url_config(FunctionName="qf:prod", AuthType="AWS_IAM")
    assert url["FunctionArn"].endswith(":function:qf:prod")  # on the alias it was authorized for
    with pytest.raises(ClientError) as mismatch:
        lam.create_function_url_config(FunctionName="qf:prod", Qualifier="dev", AuthType="NONE")
    assert error(mismatch)[0] == "InvalidParameterValueException"


def test_invoke_needs_the_trust_policy_every_time(server: Endpoint) -> None:
    account = "222200000008"
    _function(server, account, "tf")
    server.client("iam", key=account).update_assume_role_policy(RoleName="tf-role", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))
    with pytest.raises(ClientError) as refused:
        server.client("lambda", key=account, region="us-west-2").invoke(FunctionName="tf", Payload=b"{}")
    assert error(refused)[:2] == ("InvalidParameterValueException",
                                  "The role defined for the function cannot be assumed by Lambda.")


def _signed(server: Endpoint, method: str, path: str, host: str, key: str, body: bytes = b"") -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method, f"http://{host}{path}", data=body)
    S3SigV4Auth(Credentials(key, "x"), "s3", "us-east-1").add_auth(request)
    headers = dict(request.prepare().headers)
    req = urllib.request.Request(f"{server.url}{path}", data=body or None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_host_header_cannot_name_another_bucket(server: Endpoint) -> None:
    owner, stranger = "222200000009", "222200000010"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket="victim-bucket")
    s3.put_object(Bucket="victim-bucket", Key="secret", Body=b"TOP SECRET")
    for host in ("victim-bucket.example.com", "victim-bucket.x.localhost"):
        for path in ("/", "/secret"):
            status, body = _signed(server, "GET", path, host, stranger)
            assert b"TOP SECRET" not in body and b"<Key>secret</Key>" not in body, (host, path, status)
    status, _ = _signed(server, "PUT", "/secret", "victim-bucket.x.localhost", stranger, b"PWNED")
    assert s3.get_object(Bucket="victim-bucket", Key="secret")["Body"].read() == b"TOP SECRET"


def test_motos_admin_api_is_not_reachable(server: Endpoint) -> None:
    owner = "222200000011"
    s3 = server.client("s3", key=owner)
    s3.create_bucket(Bucket="kept-bucket")
    _signed(server, "POST", "/moto-api/reset?uploads", "localhost", "222200000012")
    status, body = _signed(server, "GET", "/moto-api/data.json", "localhost", "222200000012")
    assert status == 404 and b"<Code>NoSuchBucket</Code>" in body  # an S3 request for bucket "moto-api", nothing else
    assert "kept-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_a_queue_url_names_exactly_one_queue_in_the_request_region(server: Endpoint) -> None:
    account = "222200000013"
    east = server.client("sqs", key=account, region="us-east-1")
    east.create_queue(QueueName="allowed")
    victim = east.create_queue(QueueName="victimq")["QueueUrl"]
    east.send_message(QueueUrl=victim, MessageBody="victim secret")
    key, secret = user(server, account, "qonly", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:*", "Resource": f"arn:aws:sqs:us-east-1:{account}:allowed"}]})
    mine = server.client("sqs", key=key, secret=secret, region="us-east-1")
    for url in (f"http://x/{account}/allowed?/victimq", f"https://sqs.us-west-2.amazonaws.com/{account}/victimq"):
        with pytest.raises(ClientError) as refused:
            mine.receive_message(QueueUrl=url)
        assert error(refused)[0] in ("InvalidAddress", "AccessDenied", "AccessDeniedException")
    assert east.receive_message(QueueUrl=victim)["Messages"][0]["Body"] == "victim secret"


def _raw(server: Endpoint, service: str, method: str, path: str, headers: dict[str, str], body: bytes,
         key: str, secret: str, host: str | None = None) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://{host}{path}" if host else f"{server.url}{path}"
    request = AWSRequest(method, url, data=body, headers=headers)
    (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(key, secret), service, "us-east-1").add_auth(request)
    req = urllib.request.Request(f"{server.url}{path}", data=body or None, headers=dict(request.prepare().headers),
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_one_request_is_one_operation(server: Endpoint) -> None:
    account = "222200000014"
    sqs = server.client("sqs", key=account, region="us-east-1")
    url = sqs.create_queue(QueueName="keepme")["QueueUrl"]
    key, secret = user(server, account, "lister", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:ListQueues", "dynamodb:ListTables"], "Resource": "*"}]})
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = f"Action=DeleteQueue&QueueUrl={url}&Version=2012-11-05&Action=ListQueues".encode()
    status, _ = _raw(server, "sqs", "POST", "/", form, body, key, secret)
    assert status >= 400
    status, _ = _raw(server, "sqs", "POST", f"/?Action=DeleteQueue&QueueUrl={url}",
                     {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"},
                     b"{}", key, secret)
    assert status >= 400
    assert url in sqs.list_queues()["QueueUrls"]
    ddb = server.client("dynamodb", key=account, region="us-east-1")
    ddb.create_table(TableName="vt", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    status, _ = _raw(server, "dynamodb", "POST", "/?Action=DeleteTable",
                     {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"},
                     b'{"TableName": "vt"}', key, secret)
    assert status >= 400
    assert "vt" in ddb.list_tables()["TableNames"]


def test_a_virtual_hosted_key_is_the_whole_path(server: Endpoint) -> None:
    account = "222200000015"
    s3 = server.client("s3", key=account)
    s3.create_bucket(Bucket="vbkt")
    s3.put_object(Bucket="vbkt", Key="secret", Body=b"TOP SECRET")
    key, secret = user(server, account, "reader", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::vbkt/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::vbkt/secret"}]})
    status, body = _raw(server, "s3", "GET", "/vbkt/secret", {}, b"", key, secret, host="vbkt.s3.amazonaws.com")
    assert b"TOP SECRET" not in body and status >= 400  # key "vbkt/secret" in bucket vbkt: no such object
