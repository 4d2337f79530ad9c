"""Issue 8 §4: `lambdaperm validate` reports every error of a document, flags unknown actions (from the Service
Authorization Reference), and applies the inline-policy quota with `--inline user|group|role`; run as a real process."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli import run

STATEMENTS = [
    {"Effect": "Allow", "Action": "lambda:InvokeFuncton", "Resource": "arn:error:lambda:us-east-1:1:function:f"},
    {"Effect": "Permit", "Action": "s3:GetObject", "Resource": "arn:aws:s3:us-east-1::b"},
    {"Effect": "Allow", "Action": ["s3:GetObject", "nosuchservice:DoIt"], "Resource": "*"},
]


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def test_every_error_is_reported_as_json(tmp_path: Path) -> None:
    doc = _write(tmp_path, {"Version": "2012-10-17", "Statement": STATEMENTS})
    proc = run("validate", str(doc), "--type", "identity", "--json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["valid"] is False
    messages = [e["message"] for e in out["errors"]]
    assert 'Partition "error" is not valid for resource "arn:error:lambda:us-east-1:1:function:f".' in messages
    assert "Invalid effect: Permit" in messages
    assert "Resource arn:aws:s3:us-east-1::b can not contain region information." in messages
    assert all(e["line"] is not None for e in out["errors"])
    findings = {f["action"]: f for f in out["findings"]}
    assert findings["lambda:InvokeFuncton"]["code"] == "UnknownAction"
    assert "lambda:InvokeFunction" in findings["lambda:InvokeFuncton"]["message"]
    assert findings["nosuchservice:DoIt"]["code"] == "UnknownService"
    assert "s3:GetObject" not in findings


def test_a_table_lists_every_error_with_its_location(tmp_path: Path) -> None:
    doc = _write(tmp_path, {"Version": "2012-10-17", "Statement": STATEMENTS})
    proc = run("validate", str(doc), "--type", "identity")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["LINE", "COL", "PATH", "CODE"]
    assert sum("MalformedPolicyDocument" in line for line in lines) >= 3
    assert any("UnknownAction" in line and "Statement[0].Action" in line for line in lines)


def test_unknown_actions_alone_are_findings_not_errors(tmp_path: Path) -> None:
    doc = _write(
        tmp_path,
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["lambda:InvokeFuncton", "lambda:Invoke*"], "Resource": "*"}],
        },
    )
    proc = run("validate", str(doc), "--type", "identity", "--json")
    out = json.loads(proc.stdout)
    assert out["errors"] == []
    assert [f["action"] for f in out["findings"]] == ["lambda:InvokeFuncton"]
    assert proc.returncode == 1  # a finding is a problem worth a non-zero status
    proc = run("validate", str(doc), "--type", "identity", "--json", "--no-action-check")
    assert proc.returncode == 0, proc.stdout


def test_inline_quota(tmp_path: Path) -> None:
    resources = [f"arn:aws:s3:::bucket-{i:04d}/*" for i in range(100)]  # about 2,800 characters
    doc = _write(
        tmp_path,
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}]},
    )
    assert run("validate", str(doc), "--type", "identity").returncode == 0
    for entity, ok in (("user", False), ("group", True), ("role", True)):
        proc = run("validate", str(doc), "--type", "identity", "--inline", entity, "--json")
        assert (proc.returncode == 0) is ok, (entity, proc.stdout)
        if not ok:
            err = json.loads(proc.stdout)["errors"][0]
            assert err["code"] == "LimitExceeded"
            assert "2048" in err["message"]


def test_managed_is_the_default_for_identity_and_inline_keeps_the_default_version(tmp_path: Path) -> None:
    doc = _write(tmp_path, {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    proc = run("validate", str(doc), "--type", "identity", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["errors"][0]["message"] == "Policy document must be version 2012-10-17 or greater."
    assert run("validate", str(doc), "--type", "identity", "--inline", "role").returncode == 0


def test_inline_needs_identity(tmp_path: Path) -> None:
    doc = _write(
        tmp_path,
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}],
        },
    )
    proc = run("validate", str(doc), "--type", "resource", "--inline", "role")
    assert proc.returncode == 2
    assert "--inline" in proc.stderr
