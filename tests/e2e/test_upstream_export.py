"""`--upstream` forwarding to another AWS-compatible endpoint, `lambdaperm trail export`, and functions
surviving a restart."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from .conftest import ROOT, free_port, stop_server
from .lambda_helpers import make_role, zip_of
from .test_iam_sts import error, make_user


def test_upstream_receives_only_authorized_calls(make_server: Any, tmp_path: Path) -> None:
    port = free_port()
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        server = make_server(tmp_path / "state", "--upstream", f"http://127.0.0.1:{port}")
        assert server.health()["upstream"] == f"http://127.0.0.1:{port}"
        ddb = server.client("dynamodb", region="us-west-2")
        ddb.create_table(TableName="up", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        direct = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-west-2",
                              aws_access_key_id="test", aws_secret_access_key="test")
        assert "up" in direct.list_tables()["TableNames"]  # the call reached the upstream
        key, secret = make_user(server, "nobody")
        with pytest.raises(ClientError) as denied:
            server.client("dynamodb", key=key, secret=secret, region="us-west-2").delete_table(TableName="up")
        assert error(denied)[0] == "AccessDeniedException"
        assert "up" in direct.list_tables()["TableNames"]  # a denied call never reaches it
    finally:
        moto.terminate()
        moto.wait(timeout=20)


def test_trail_export_writes_the_s3_layout(make_server: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    server = make_server(state)
    server.client("iam").create_user(UserName="exported")
    stop_server(server)
    out = tmp_path / "bucket"
    proc = subprocess.run([sys.executable, "-m", "lambdaperm.cli.main", "trail", "export", str(out), "--state",
                           str(state)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    files = sorted(out.rglob("*.json.gz"))
    assert files
    rel = files[0].relative_to(out).parts
    assert rel[:4] == ("AWSLogs", "000000000000", "CloudTrail", "us-east-1") and len(rel) == 8
    assert rel[-1].startswith("000000000000_CloudTrail_us-east-1_") and rel[-1].endswith(".json.gz")
    records = [r for f in files for r in json.loads(gzip.decompress(f.read_bytes()))["Records"]]
    assert any(r["eventName"] == "CreateUser" and r["requestParameters"]["userName"] == "exported" for r in records)
    missing = subprocess.run([sys.executable, "-m", "lambdaperm.cli.main", "trail", "export", str(out), "--state",
                              str(tmp_path / "nothing")], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert missing.returncode == 2 and "no state" in missing.stderr


def test_functions_survive_a_restart_and_the_cli_invokes(make_server: Any, tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = make_server(state)
    role = make_role(first.client("iam"), "keep-role")
    lam = first.client("lambda", region="us-west-2")
    code = zip_of({"app.py": "def handler(e, c):\n    return {'n': e.get('n', 0) + 1}\n"})
    lam.create_function(FunctionName="kept", Runtime="python3.11", Role=role, Handler="app.handler",
                        Code={"ZipFile": code})
    lam.add_permission(FunctionName="kept", StatementId="partner", Action="lambda:InvokeFunction",
                       Principal="111122223333")
    assert stop_server(first) == 0
    second = make_server(state)
    again = second.client("lambda", region="us-west-2")
    assert json.loads(again.get_policy(FunctionName="kept")["Policy"])["Statement"][0]["Sid"] == "partner"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
           "AWS_ACCESS_KEY_ID": "111122223333", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-west-2"}
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "awscli", "--endpoint-url", second.url, "lambda", "invoke",
                           "--function-name", "arn:aws:lambda:us-west-2:000000000000:function:kept",
                           "--payload", '{"n": 41}', str(out)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["StatusCode"] == 200
    assert json.loads(out.read_text()) == {"n": 42}
