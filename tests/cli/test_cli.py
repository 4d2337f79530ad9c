"""The `lambdaperm simulate` and `validate` commands, run as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdaperm.cli.main", *args],
        capture_output=True, text=True, input=stdin, timeout=60, cwd=ROOT,
    )


def test_simulate_allowed_exits_0_and_explains() -> None:
    proc = run("simulate", str(EXAMPLES / "s3-invokes-function.json"))
    assert proc.returncode == 0, proc.stderr
    assert "Decision:   ALLOWED" in proc.stdout
    assert "Sid 's3invoke'" in proc.stdout


def test_simulate_denied_json() -> None:
    proc = run("simulate", str(EXAMPLES / "function-writes-other-table.json"), "--json")
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["decision"] == "implicitDeny"
    assert out["decidedBy"] == "identity"
    assert out["matchedStatements"] == []
    assert out["message"].endswith("because no identity-based policy allows the dynamodb:PutItem action")
    assert set(out) == {"decision", "decidedBy", "matchedStatements", "missingContextValues", "unsuppliedKeys",
                        "message"}
    assert out["unsuppliedKeys"] == []  # the request names every key its policies test


def test_simulate_bad_json_exits_2_with_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"principal": "arn:aws:iam::111122223333:user/a",\n "action": }')
    proc = run("simulate", str(bad))
    assert proc.returncode == 2
    assert "line 2" in proc.stderr and "invalid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_simulate_bad_policy_exits_2_and_names_it() -> None:
    request = {
        "principal": "arn:aws:iam::111122223333:user/a", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
        "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
             "Condition": {"StringEqualsSometimes": {"aws:username": "a"}}}]}]},
    }
    proc = run("simulate", "-", stdin=json.dumps(request))
    assert proc.returncode == 2
    assert "Invalid Condition type : StringEqualsSometimes" in proc.stderr
    assert "policies.identity[0].Statement[0].Condition.StringEqualsSometimes" in proc.stderr


def test_simulate_missing_file_exits_2() -> None:
    proc = run("simulate", "/nonexistent/request.json")
    assert proc.returncode == 2
    assert "no such file" in proc.stderr


def test_validate_reports_line_and_column(tmp_path: Path) -> None:
    doc = tmp_path / "p.json"
    doc.write_text('{\n  "Version": "2012-10-17",\n  "Statement": [{"Effect": "Allow",\n'
                   '    "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}]\n}\n')
    proc = run("validate", str(doc), "--type", "identity")
    assert proc.returncode == 1
    row = next(line for line in proc.stdout.splitlines() if "Policy document should not specify a principal." in line)
    assert row.split()[0] == "4"  # the table's LINE column
    proc = run("validate", str(doc), "--type", "resource", "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"valid": True, "errors": [], "findings": []}


def test_validate_json_error_fields(tmp_path: Path) -> None:
    doc = tmp_path / "p.json"
    doc.write_text('{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3GetObject", '
                   '"Resource": "*"}}')
    proc = run("validate", str(doc), "--type", "identity", "--json")
    assert proc.returncode == 1
    err = json.loads(proc.stdout)["errors"][0]
    assert err["code"] == "MalformedPolicyDocument"
    assert err["message"] == "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    assert err["path"] == "Statement.Action"
    assert err["line"] == 1 and err["column"] > 1
