"""`lambdaperm demo`: the scenario users meet first, end to end, printing each step.

A bucket in a production account (111122223333) invokes `my-s3-function` in a second account
(444455556666) through the function's resource-based policy (SourceArn + SourceAccount). The function
writes to DynamoDB table `test` in us-west-2 through its execution role, which allows dynamodb:PutItem on
that table only; a write to another table is denied and explained; an invoke from an account the policy
does not name (999988887777) is denied and explained.

It starts its own in-memory `lambdaperm serve` on a free port (or uses --endpoint-url). Against a running
server it can be run again: what an earlier run created is reused (and the function's code and policy
statement put back as the demo needs them), and each run uploads an object of its own.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
import zipfile
from typing import Any

PROD, FUNCTION_ACCOUNT, STRANGER = "111122223333", "444455556666", "999988887777"
REGION = "us-west-2"
BUCKET = "prod-demo-bucket"
HANDLER = """
import boto3

def handler(event, context):
    ddb = boto3.client("dynamodb", region_name="us-west-2")
    written, denied = [], []
    for record in event.get("Records", []):
        key = record["s3"]["object"]["key"]
        table = event.get("table", "test")
        try:
            ddb.put_item(TableName=table, Item={"id": {"S": key}})
            written.append(f"{table}/{key}")
        except Exception as err:
            denied.append(str(err))
    return {"written": written, "denied": denied}
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="run the two-account S3 -> Lambda -> DynamoDB walkthrough",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--endpoint-url", help="use a running lambdaperm instead of starting one")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    proc = None
    url = args.endpoint_url
    if url is None:
        proc, url = _start_server()
    try:
        return Demo(url).run()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lambdaperm.cli.main", "serve", "--in-memory", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_lambdaperm/health", timeout=2).read()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                detail = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"lambdaperm serve exited: {detail}") from None
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("lambdaperm serve did not start")


class Demo:
    def __init__(self, url: str) -> None:
        self.url = url
        self.step = 0

    def client(self, service: str, account: str) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=account,
            aws_secret_access_key="demo",
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def say(self, text: str) -> None:
        self.step += 1
        print(f"\n[{self.step}] {text}")

    def show(self, text: str) -> None:
        print(textwrap.indent(text, "    "))

    def run(self) -> int:
        from botocore.exceptions import ClientError

        fn_iam, fn_lambda = self.client("iam", FUNCTION_ACCOUNT), self.client("lambda", FUNCTION_ACCOUNT)
        ddb = self.client("dynamodb", FUNCTION_ACCOUNT)
        print(f"lambdaperm demo against {self.url}")
        self.say(f"Account {FUNCTION_ACCOUNT}: tables 'test' and 'other' in {REGION}")
        for table in ("test", "other"):
            _existing_ok(
                lambda t=table: ddb.create_table(
                    TableName=t,
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST",
                ),
                "ResourceInUseException",
            )
        self.say(
            "Execution role my-s3-function-role: trusted by lambda.amazonaws.com, "
            "allowed dynamodb:PutItem on table 'test' only"
        )
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
            ],
        }
        role = _existing_ok(
            lambda: fn_iam.create_role(RoleName="my-s3-function-role", AssumeRolePolicyDocument=json.dumps(trust)),
            "EntityAlreadyExists",
        ) or fn_iam.get_role(RoleName="my-s3-function-role")
        fn_iam.update_assume_role_policy(RoleName="my-s3-function-role", PolicyDocument=json.dumps(trust))
        table_arn = f"arn:aws:dynamodb:{REGION}:{FUNCTION_ACCOUNT}:table/test"
        fn_iam.put_role_policy(
            RoleName="my-s3-function-role",
            PolicyName="write-test",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table_arn}],
                }
            ),
        )
        self.say("Function my-s3-function (Python, runs under that role)")
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", HANDLER)
        fn = _existing_ok(
            lambda: fn_lambda.create_function(
                FunctionName="my-s3-function",
                Runtime="python3.11",
                Handler="app.handler",
                Role=role["Role"]["Arn"],
                Code={"ZipFile": code.getvalue()},
                Timeout=30,
            ),
            "ResourceConflictException",
        )
        if fn is None:  # an earlier run's: its code and configuration put back as this run needs them
            fn_lambda.update_function_code(FunctionName="my-s3-function", ZipFile=code.getvalue())
            fn_lambda.get_waiter("function_updated_v2").wait(FunctionName="my-s3-function")
            fn = fn_lambda.update_function_configuration(
                FunctionName="my-s3-function",
                Runtime="python3.11",
                Handler="app.handler",
                Role=role["Role"]["Arn"],
                Timeout=30,
            )
            fn_lambda.get_waiter("function_updated_v2").wait(FunctionName="my-s3-function")
        self.show(fn["FunctionArn"])
        self.say(f"Function policy: s3.amazonaws.com may invoke it for bucket {BUCKET} of account {PROD}")
        _existing_ok(
            lambda: fn_lambda.remove_permission(FunctionName="my-s3-function", StatementId="s3invoke"),
            "ResourceNotFoundException",
        )
        statement = fn_lambda.add_permission(
            FunctionName="my-s3-function",
            StatementId="s3invoke",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
            SourceArn=f"arn:aws:s3:::{BUCKET}",
            SourceAccount=PROD,
        )
        self.show(json.dumps(json.loads(statement["Statement"]), indent=2))
        s3 = self.client("s3", PROD)
        self.say(f"Account {PROD}: bucket {BUCKET} notifies the function on every new object")
        _existing_ok(
            lambda: s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}),
            "BucketAlreadyOwnedByYou",
        )
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {"LambdaFunctionArn": fn["FunctionArn"], "Events": ["s3:ObjectCreated:*"]}
                ]
            },
        )
        key = f"reports/2026-11-{uuid.uuid4().hex[:8]}.csv"  # this run's: an earlier run's item would prove nothing
        self.say(f"Upload {key}: S3 invokes the function, which writes to table 'test'")
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"id,total\n1,42\n")
        item = self._wait_for_item(ddb, key)
        self.show(f"table test now holds: {item}" if item else "the item did not arrive (see the trail)")
        self.say("The same function asked to write to table 'other': denied by its execution role")
        event = {"table": "other", "Records": [{"s3": {"object": {"key": key}}}]}
        out = json.loads(fn_lambda.invoke(FunctionName="my-s3-function", Payload=json.dumps(event))["Payload"].read())
        for denial in out.get("denied", []):
            self.show(denial)
        self.show("why: the role's only statement allows dynamodb:PutItem on " + table_arn)
        self.say(f"Account {STRANGER} invokes the function: denied by the function policy")
        try:
            self.client("lambda", STRANGER).invoke(FunctionName=fn["FunctionArn"], Payload=b"{}")
            self.show("unexpectedly allowed")
            ok = False
        except ClientError as err:
            self.show(f"{err.response['Error']['Code']}: {err.response['Error']['Message']}")
            self.show(
                "why: cross-account invokes need the function policy to name the caller; it names only "
                "s3.amazonaws.com for that bucket"
            )
            ok = True
        ok = ok and item is not None and bool(out.get("denied"))
        print("\nDemo " + ("complete: every decision matched AWS's rules." if ok else "FAILED."))
        return 0 if ok else 1

    def _wait_for_item(self, ddb: Any, key: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            item = ddb.get_item(TableName="test", Key={"id": {"S": key}}).get("Item")
            if item:
                return dict(item)
            time.sleep(0.2)
        return None


def _existing_ok(create: Any, code: str) -> Any:
    """`create()`'s answer, or None when it failed with `code` (the thing exists: an earlier run's)."""
    from botocore.exceptions import ClientError

    try:
        return create()
    except ClientError as err:
        if err.response["Error"]["Code"] != code:
            raise
        return None
