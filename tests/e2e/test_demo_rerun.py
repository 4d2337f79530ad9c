"""`lambdaperm demo --endpoint-url` against one running server can be run again: the second run finds what the
first created and still proves every step (issue 8 §4: it failed with "table exists")."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT, Endpoint


def _demo(server: Endpoint) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdaperm.cli.main", "demo", "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_the_demo_runs_twice_against_one_server(server: Endpoint) -> None:
    keys = []
    for _ in range(2):
        proc = _demo(server)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert "table test now holds" in proc.stdout and "Demo complete" in proc.stdout
        assert "User: arn:aws:iam::999988887777:root is not authorized to perform: lambda:InvokeFunction" in proc.stdout
        keys.append(next(line for line in proc.stdout.splitlines() if "Upload " in line))
    assert keys[0] != keys[1]  # each run proves the S3 → Lambda → DynamoDB path with an object of its own
