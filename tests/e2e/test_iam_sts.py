"""IAM and STS through a real server with real boto3 clients: identities, authentication errors, every
call authorized, trust policies, sessions, limits, persistence across a restart."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import Endpoint, stop_server

ACCOUNT = "000000000000"
TABLE_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "dynamodb:PutItem",
     "Resource": f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/test"}]}


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def make_user(server: Endpoint, name: str, policy: dict[str, Any] | None = None) -> tuple[str, str]:
    iam = server.client("iam")
    iam.create_user(UserName=name)
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def test_health(server: Endpoint) -> None:
    health = server.health()
    assert health["status"] == "ok"
    assert {"iam", "sts", "dynamodb", "s3"} <= set(health["services"])
    assert "state" not in health  # no filesystem path: a handler can read this (docs/security.md)


def test_root_identities(server: Endpoint) -> None:
    ident = server.client("sts").get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:root" and ident["Account"] == ACCOUNT
    other = server.client("sts", key="111122223333").get_caller_identity()
    assert other["Arn"] == "arn:aws:iam::111122223333:root"


def test_user_keys_are_verified(server: Endpoint) -> None:
    key, secret = make_user(server, "keyuser")
    sts = server.client("sts", key=key, secret=secret)
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/keyuser"
    with pytest.raises(ClientError) as bad:
        server.client("sts", key=key, secret=secret[:-1] + ("A" if secret[-1] != "A" else "B")).get_caller_identity()
    assert error(bad)[0] == "SignatureDoesNotMatch" and error(bad)[2] == 403
    with pytest.raises(ClientError) as unknown:
        server.client("iam", key="AKIAUNKNOWNUNKNOWN00", secret="x").list_users()
    assert error(unknown)[:2] == ("InvalidClientTokenId", "The security token included in the request is invalid.")
    with pytest.raises(ClientError) as ddb:
        server.client("dynamodb", key=key, secret="wrong", region="us-west-2").list_tables()
    code, _, status = error(ddb)
    assert (code, status) == ("InvalidSignatureException", 400)


def test_every_call_is_authorized(server: Endpoint) -> None:
    key, secret = make_user(server, "alice", TABLE_POLICY)
    iam = server.client("iam", key=key, secret=secret)
    with pytest.raises(ClientError) as denied:
        iam.list_users()
    code, message, status = error(denied)
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith(f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: iam:ListUsers "
                              "on resource: ")
    assert message.endswith(" because no identity-based policy allows the iam:ListUsers action")
    ddb = server.client("dynamodb", region="us-west-2")
    ddb.create_table(TableName="test", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.create_table(TableName="other", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    alice_ddb = server.client("dynamodb", key=key, secret=secret, region="us-west-2")
    alice_ddb.put_item(TableName="test", Item={"id": {"S": "1"}})
    assert ddb.get_item(TableName="test", Key={"id": {"S": "1"}})["Item"] == {"id": {"S": "1"}}
    with pytest.raises(ClientError) as other:
        alice_ddb.put_item(TableName="other", Item={"id": {"S": "1"}})
    code, message, status = error(other)
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized to perform: dynamodb:PutItem "
                       f"on resource: arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/other because no "
                       "identity-based policy allows the dynamodb:PutItem action")
    assert "Item" not in ddb.get_item(TableName="other", Key={"id": {"S": "1"}})


def trust(principal: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def test_assume_role_trust_rules(server: Endpoint) -> None:
    key, secret = make_user(server, "bob")
    iam = server.client("iam")
    iam.create_role(RoleName="NamesBob", AssumeRolePolicyDocument=trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}))
    iam.put_role_policy(RoleName="NamesBob", PolicyName="table", PolicyDocument=json.dumps(TABLE_POLICY))
    iam.create_role(RoleName="NamesAccount", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    bob = server.client("sts", key=key, secret=secret)
    # same account, trust names the user: no identity permission needed
    creds = bob.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/NamesBob", RoleSessionName="s1")["Credentials"]
    session = server.client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                            token=creds["SessionToken"])
    me = session.get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/NamesBob/s1"
    assert me["UserId"].startswith("AROA") and me["UserId"].endswith(":s1")
    # trust names the account: an identity-policy Allow is also required
    with pytest.raises(ClientError) as denied:
        bob.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/NamesAccount", RoleSessionName="s2")
    code, message, status = error(denied)
    assert (code, status) == ("AccessDenied", 403)
    assert f"is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/NamesAccount" \
        in message
    # a role that does not exist cannot be assumed, whatever the identity policy says
    admin_key, admin_secret = make_user(server, "admin", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    with pytest.raises(ClientError) as missing:
        server.client("sts", key=admin_key, secret=admin_secret).assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Nope", RoleSessionName="s3")
    assert error(missing)[:2] == ("AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:user/admin is not authorized to "
                                  f"perform: sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/Nope")
    # chaining: at most one hour
    with pytest.raises(ClientError) as chained:
        iam.update_assume_role_policy(RoleName="NamesBob", PolicyDocument=trust(
            {"AWS": [f"arn:aws:iam::{ACCOUNT}:user/bob", f"arn:aws:iam::{ACCOUNT}:role/NamesBob"]}))
        session_sts = server.client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                                    token=creds["SessionToken"])
        session_sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/NamesBob", RoleSessionName="chained",
                                DurationSeconds=7200)
    assert error(chained)[0] == "ValidationError"


def test_session_credentials_carry_the_role(server: Endpoint) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="Writer", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}), MaxSessionDuration=3600)
    iam.put_role_policy(RoleName="Writer", PolicyName="table", PolicyDocument=json.dumps(TABLE_POLICY))
    with pytest.raises(ClientError) as root:
        server.client("sts").assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Writer", RoleSessionName="root")
    assert error(root) == ("AccessDenied", "Roles may not be assumed by root accounts.", 403)
    key, secret = make_user(server, "writer-user", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/Writer"}]})
    sts = server.client("sts", key=key, secret=secret)
    with pytest.raises(ClientError) as too_long:
        sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Writer", RoleSessionName="writer", DurationSeconds=7200)
    assert error(too_long)[:2] == ("ValidationError",
                                   "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Writer", RoleSessionName="writer")["Credentials"]
    ddb = server.client("dynamodb", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                        token=creds["SessionToken"], region="us-west-2")
    with pytest.raises(ClientError) as denied:
        ddb.put_item(TableName="other", Item={"id": {"S": "2"}})
    assert f"User: arn:aws:sts::{ACCOUNT}:assumed-role/Writer/writer is not authorized" in error(denied)[1]
    # a tampered session token is refused: its last character changed, always to another one
    token = creds["SessionToken"]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert forged != token
    with pytest.raises(ClientError) as tampered:
        server.client("sts", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                      token=forged).get_caller_identity()
    assert error(tampered)[2] == 403


def test_trust_principals_must_exist_and_limits(server: Endpoint) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError) as bad:
        iam.create_role(RoleName="Ghost", AssumeRolePolicyDocument=trust(
            {"AWS": f"arn:aws:iam::{ACCOUNT}:role/does-not-exist"}))
    assert error(bad)[:2] == ("MalformedPolicyDocument",
                              f'Invalid principal in policy: "AWS":"arn:aws:iam::{ACCOUNT}:role/does-not-exist"')
    iam.create_role(RoleName="CaseRole", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    with pytest.raises(ClientError) as dup:  # role names are unique whatever their case
        iam.create_role(RoleName="caserole", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    assert error(dup)[:2] == ("EntityAlreadyExists", "Role with name caserole already exists.")
    arn = iam.create_policy(PolicyName="versions", PolicyDocument=json.dumps(TABLE_POLICY))["Policy"]["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(TABLE_POLICY))
    with pytest.raises(ClientError) as limit:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(TABLE_POLICY))
    assert error(limit)[0] == "LimitExceeded" and error(limit)[2] == 409
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 5 and [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v1"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    assert doc == TABLE_POLICY  # botocore decoded the URL-encoded document
    with pytest.raises(ClientError) as malformed:
        iam.put_user_policy(UserName="alice", PolicyName="bad", PolicyDocument='{"Statement": [}')
    assert error(malformed)[0] == "MalformedPolicyDocument"


def test_aws_managed_policies(server: Endpoint) -> None:
    iam = server.client("iam")
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["PolicyName"] == "AWSLambdaBasicExecutionRole" and policy["Path"] == "/service-role/"
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    actions = {a for s in version["Document"]["Statement"] for a in
               (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"} <= actions
    key, secret = make_user(server, "reader")
    iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess")
    reader = server.client("dynamodb", key=key, secret=secret, region="us-west-2")
    assert "test" in reader.list_tables()["TableNames"]
    with pytest.raises(ClientError) as denied:
        reader.put_item(TableName="test", Item={"id": {"S": "r"}})
    assert error(denied)[0] == "AccessDeniedException"


def test_simulate_principal_policy(server: Endpoint) -> None:
    iam = server.client("iam")
    results = iam.simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/alice", ActionNames=["dynamodb:PutItem", "s3:GetObject"],
        ResourceArns=[f"arn:aws:dynamodb:us-west-2:{ACCOUNT}:table/test"])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {"dynamodb:PutItem": "allowed", "s3:GetObject": "implicitDeny"}
    allowed = next(r for r in results if r["EvalActionName"] == "dynamodb:PutItem")
    assert allowed["MatchedStatements"][0]["SourcePolicyType"] == "user"


def test_cloudtrail_records_allowed_and_denied_calls(server: Endpoint) -> None:
    ct = server.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])
    names = {json.loads(e["CloudTrailEvent"])["requestParameters"]["userName"] for e in events["Events"]}
    assert {"alice", "bob"} <= names
    record = json.loads(events["Events"][0]["CloudTrailEvent"])
    assert record["userIdentity"]["type"] == "Root" and record["eventSource"] == "iam.amazonaws.com"
    assert record["eventCategory"] == "Management" and record["readOnly"] is False
    denied = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}])
    failures = [json.loads(e["CloudTrailEvent"]) for e in denied["Events"]]
    alice = [r for r in failures if r["userIdentity"].get("userName") == "alice"]
    assert alice and alice[0]["errorCode"] == "AccessDenied"
    assert alice[0]["userIdentity"]["type"] == "IAMUser" and alice[0]["userIdentity"]["accessKeyId"].startswith("AKIA")
    with pytest.raises(ClientError) as two:
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "A"},
                                           {"AttributeKey": "Username", "AttributeValue": "B"}])
    assert error(two)[0] == "InvalidLookupAttributesException"


def test_bad_input_is_a_4xx(server: Endpoint) -> None:
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def send(service: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        request = AWSRequest("POST", server.url + "/", data=body, headers=headers)
        SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(request)
        prepared = request.prepare()
        req = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    status, body = send("dynamodb", b"{not json", {"X-Amz-Target": "DynamoDB_20120810.PutItem",
                                                    "Content-Type": "application/x-amz-json-1.0"})
    assert status == 400 and b"SerializationException" in body
    status, body = send("iam", b"Action=NoSuchThing&Version=2010-05-08",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and b"InvalidAction" in body
    garbled = urllib.request.Request(server.url + "/", data=b"Action=ListUsers&Version=2010-05-08", method="POST",
                                     headers={"Authorization": "AWS4-HMAC-SHA256 garbage",
                                              "Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(garbled, timeout=10)
        raise AssertionError("a garbled Authorization header was accepted")
    except urllib.error.HTTPError as err:
        assert 400 <= err.code < 500 and b"<Code>" in err.read()
    unsigned = urllib.request.Request(server.url + "/", data=b"Action=ListUsers&Version=2010-05-08", method="POST",
                                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(unsigned, timeout=10)
        raise AssertionError("an unsigned IAM call was accepted")
    except urllib.error.HTTPError as err:
        assert err.code == 403 and b"MissingAuthenticationToken" in err.read()


def test_concurrent_writes_are_not_lost(server: Endpoint) -> None:
    iam = server.client("iam")

    def create(i: int) -> None:
        server.client("iam").create_user(UserName=f"c{i}")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(24)))
    users = {u["UserName"] for u in iam.list_users(MaxItems=1000)["Users"]}
    assert {f"c{i}" for i in range(24)} <= users


def test_state_survives_a_restart(make_server: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = make_server(state)
    key, secret = make_user(first, "persisted", TABLE_POLICY)
    first.client("iam").create_role(RoleName="Kept", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    assert stop_server(first) == 0
    second = make_server(state)
    assert second.client("sts", key=key, secret=secret).get_caller_identity()["Arn"].endswith(":user/persisted")
    assert second.client("iam").get_role(RoleName="Kept")["Role"]["RoleName"] == "Kept"
    events = second.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateRole"}])["Events"]
    assert any(json.loads(e["CloudTrailEvent"])["requestParameters"]["roleName"] == "Kept" for e in events)


def test_aws_cli(server: Endpoint) -> None:
    import os
    import subprocess
    import sys

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
           "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    proc = subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", server.url, "iam", "create-user",
                           "--user-name", "from-cli", "--output", "json"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/from-cli"
    proc = subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", server.url, "sts",
                           "get-caller-identity", "--output", "json"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert json.loads(proc.stdout)["Arn"] == f"arn:aws:iam::{ACCOUNT}:root"


def test_external_id_and_session_policy(server: Endpoint) -> None:
    iam = server.client("iam")
    key, secret = make_user(server, "partner", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
    iam.create_role(RoleName="WithExternalId", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT},
                                                "Action": "sts:AssumeRole",
                                                "Condition": {"StringEquals": {"sts:ExternalId": "s3cret"}}}]}))
    iam.put_role_policy(RoleName="WithExternalId", PolicyName="rw", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}))
    sts = server.client("sts", key=key, secret=secret)
    arn = f"arn:aws:iam::{ACCOUNT}:role/WithExternalId"
    with pytest.raises(ClientError) as without:
        sts.assume_role(RoleArn=arn, RoleSessionName="nope")
    assert error(without)[0] == "AccessDenied"
    with pytest.raises(ClientError) as wrong:
        sts.assume_role(RoleArn=arn, RoleSessionName="nope", ExternalId="guess")
    assert error(wrong)[0] == "AccessDenied"
    session_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"}]}
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="narrow", ExternalId="s3cret",
                            Policy=json.dumps(session_policy))["Credentials"]
    ddb = server.client("dynamodb", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                        token=creds["SessionToken"], region="us-west-2")
    assert "TableNames" in ddb.list_tables()
    with pytest.raises(ClientError) as narrowed:
        ddb.describe_table(TableName="test")
    code, message, _ = error(narrowed)
    assert code == "AccessDeniedException"
    assert message.endswith("because no session policy allows the dynamodb:DescribeTable action")
