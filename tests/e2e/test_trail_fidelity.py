"""CloudTrail fidelity of issue 8 §4: Lambda management events carry AWS's API-version suffix
(`CreateFunction20150331`, `UpdateFunctionCode20150331v2`, …); IAM and the STS global endpoint are recorded in
us-east-1 whatever region the client names; a role's RoleLastUsed and an access key's LastUsedDate are kept.
https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .conftest import Endpoint
from .lambda_helpers import make_role, zip_of

ACCOUNT = "777740000007"
CODE = zip_of({"app.py": "def handler(event, context):\n    return 1\n"})


def _records(server: Endpoint, region: str, source: str) -> list[dict[str, Any]]:
    ct = server.client("cloudtrail", key=ACCOUNT, region=region)
    found = []
    for page in ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": source}]
    ):
        found += [json.loads(e["CloudTrailEvent"]) for e in page["Events"]]
    return found


def test_lambda_event_names_carry_the_api_version(server: Endpoint) -> None:
    role = make_role(server.client("iam", key=ACCOUNT), "ct-fidelity-role")
    lam = server.client("lambda", key=ACCOUNT)
    lam.create_function(FunctionName="ct-f", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": CODE})
    lam.get_waiter("function_active_v2").wait(FunctionName="ct-f")
    lam.update_function_code(FunctionName="ct-f", ZipFile=CODE)
    lam.get_waiter("function_updated_v2").wait(FunctionName="ct-f")
    lam.update_function_configuration(FunctionName="ct-f", Timeout=5)
    lam.get_waiter("function_updated_v2").wait(FunctionName="ct-f")
    lam.add_permission(FunctionName="ct-f", StatementId="s", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com")
    lam.get_policy(FunctionName="ct-f")
    lam.remove_permission(FunctionName="ct-f", StatementId="s")
    lam.publish_version(FunctionName="ct-f")
    lam.create_alias(FunctionName="ct-f", Name="live", FunctionVersion="1")
    lam.list_functions()
    lam.tag_resource(Resource=lam.get_function(FunctionName="ct-f")["Configuration"]["FunctionArn"], Tags={"a": "b"})
    lam.delete_function(FunctionName="ct-f")
    names = {r["eventName"] for r in _records(server, "us-east-1", "lambda.amazonaws.com")}
    expected = {"CreateFunction20150331", "UpdateFunctionCode20150331v2", "UpdateFunctionConfiguration20150331v2",
                "AddPermission20150331v2", "GetPolicy20150331v2", "RemovePermission20150331v2",
                "PublishVersion20150331", "CreateAlias20150331", "ListFunctions20150331", "GetFunction20150331v2",
                "TagResource20170331v2", "DeleteFunction20150331"}
    assert expected <= names, sorted(names)
    assert not {"CreateFunction", "UpdateFunctionCode", "AddPermission", "DeleteFunction"} & names


def test_iam_and_global_sts_are_recorded_in_us_east_1(server: Endpoint) -> None:
    server.client("iam", key=ACCOUNT, region="eu-west-1").create_user(UserName="ct-region-user")
    server.client("sts", key=ACCOUNT, region="us-east-1").get_caller_identity()
    iam = [r for r in _records(server, "us-east-1", "iam.amazonaws.com") if r["eventName"] == "CreateUser"]
    assert iam and all(r["awsRegion"] == "us-east-1" for r in iam)
    assert _records(server, "eu-west-1", "iam.amazonaws.com") == []
    sts = [r for r in _records(server, "us-east-1", "sts.amazonaws.com") if r["eventName"] == "GetCallerIdentity"]
    assert sts and sts[0]["awsRegion"] == "us-east-1"


def test_role_last_used_and_access_key_last_used_are_kept(server: Endpoint) -> None:
    iam = server.client("iam", key=ACCOUNT)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}
    iam.create_role(RoleName="ct-used", AssumeRolePolicyDocument=json.dumps(trust))
    assert iam.get_role(RoleName="ct-used")["Role"]["RoleLastUsed"] == {}
    iam.create_user(UserName="ct-key-user")
    iam.put_user_policy(UserName="ct-key-user", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="ct-key-user")["AccessKey"]
    unused = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
    assert "LastUsedDate" not in unused and unused["ServiceName"] == "N/A"
    sts = server.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"], region="eu-west-1")
    sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/ct-used", RoleSessionName="s1")
    used = iam.get_role(RoleName="ct-used")["Role"]["RoleLastUsed"]
    assert isinstance(used["LastUsedDate"], datetime) and used["Region"] == "eu-west-1"
    last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert last["UserName"] == "ct-key-user"
    assert isinstance(last["AccessKeyLastUsed"]["LastUsedDate"], datetime)
    assert last["AccessKeyLastUsed"]["ServiceName"] == "sts" and last["AccessKeyLastUsed"]["Region"] == "eu-west-1"
