"""Test-only: what the persistence tests do around a restart or a `kill -9` of a real server.

`crash_during` kills a server (started by `gated_servers.gated_starter` under `crash_gate_round7` or a gate module
built on it) while a call's trail commit is held, so that the call is executed but never acknowledged;
`s3_key_logger`, `delivered` and `lambda_targets` observe an S3 → Lambda notification across the restart.

AWS: an acknowledged write is durable and an unacknowledged one may or may not have happened — never half
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from lambdaperm.gateway.events import NOTIFICATION
from lambdaperm.state import Records
from lambdaperm.state.db import Database
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of
from tests.security import race_gate


def crash_during(endpoint: Endpoint, gate: Path, call: Callable[[], Any]) -> None:
    """Run `call`, and `kill -9` the server once the call executed and its trail commit (with its journal entry)
    is about to be written: the call is never acknowledged."""
    (gate / "commit.hold").touch()
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # the connection is cut by the kill
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    race_gate.wait_for(gate / "commit.arrived")
    endpoint.proc.kill()
    endpoint.proc.wait()
    thread.join(timeout=30)
    (gate / "commit.hold").unlink()
    (gate / "commit.arrived").unlink()
    assert outcome and outcome[0] is not None, "the call was acknowledged before the kill"


def s3_key_logger(endpoint: Endpoint, account: str, bucket: str) -> str:
    """Function `process` of `account` (logs every S3 key it is given), invocable by S3 for `bucket`: its ARN."""
    role = make_role(
        endpoint.client("iam", key=account),
        "process-role",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": "*",
                }
            ],
        },
    )
    lam = endpoint.client("lambda", key=account)
    handler = "def handler(e, c):\n    print('saw', e['Records'][0]['s3']['object']['key'])\n    return 1\n"
    arn = lam.create_function(
        FunctionName="process",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": handler})},
    )["FunctionArn"]
    lam.add_permission(
        FunctionName="process",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=f"arn:aws:s3:::{bucket}",
        SourceAccount=account,
    )
    return str(arn)


def delivered(endpoint: Endpoint, account: str, key: str) -> bool:
    """Whether `account`'s function `process` logged an S3 event of `key` (waited for, up to 30 s: a positive
    signal)."""
    logs = endpoint.client("logs", key=account)
    deadline = time.monotonic() + 30
    while True:
        try:
            found = logs.filter_log_events(logGroupName="/aws/lambda/process", filterPattern=f'"saw {key}"')["events"]
        except ClientError:  # no log group yet
            found = []
        if found or time.monotonic() >= deadline:
            return bool(found)
        time.sleep(0.2)


def lambda_targets(state: Path, bucket: str) -> Any:
    """The S3 → Lambda targets lambdaperm keeps for `bucket` (its records, read beside the server)."""
    db = Database(state)
    try:
        return Records(db).get(NOTIFICATION, "", bucket)
    finally:
        db.close()
