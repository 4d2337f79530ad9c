"""Building function packages and roles for the Lambda end-to-end tests."""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from typing import Any

LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    return buf.getvalue()


HANDLER = """
import json, os
import boto3

def handler(event, context):
    action = event.get("action")
    if action == "whoami":
        return boto3.client("sts").get_caller_identity()["Arn"]
    if action == "put":
        ddb = boto3.client("dynamodb", region_name="us-west-2")
        try:
            ddb.put_item(TableName=event["table"], Item={"id": {"S": event.get("id", "1")}})
            return {"ok": True}
        except Exception as err:
            return {"ok": False, "error": str(err)}
    if action == "env":
        return {k: os.environ.get(k) for k in event["keys"]}
    if action == "fail":
        raise KeyError("action")
    print("hello from the handler")
    return {"echo": event}
"""


def make_role(iam: Any, name: str, policy: dict[str, Any] | None = None, trust: dict[str, Any] | None = None,
              managed: list[str] | None = None) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or LAMBDA_TRUST))["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    for m in managed or []:
        iam.attach_role_policy(RoleName=name, PolicyArn=m)
    return str(arn)


def payload(resp: dict[str, Any]) -> Any:
    return json.loads(resp["Payload"].read())
