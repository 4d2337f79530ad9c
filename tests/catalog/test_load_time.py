"""The server starts in < 1 s: importing the catalog is cheap; data loads per service on first use."""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = r"""
import json, time
t0 = time.perf_counter()
import lambdaperm.catalog as catalog
t1 = time.perf_counter()
catalog.required_actions("lambda", "Invoke", {"FunctionName": "f"}, account="111111111111",
                         region="us-east-1")
t2 = time.perf_counter()
for service, op, params in [
    ("iam", "GetRole", {"RoleName": "r"}),
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::111111111111:role/r"}),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}), ("dynamodb", "GetItem", {"TableName": "t", "Key": {}}),
    ("sqs", "ListQueues", {}), ("sns", "ListTopics", {}), ("logs", "DescribeLogGroups", {}),
    ("ec2", "DescribeVpcs", {}), ("cloudtrail", "LookupEvents", {}), ("accessanalyzer", "ListAnalyzers", {}),
]:
    catalog.required_actions(service, op, params, account="111111111111", region="us-east-1")
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_call": t2 - t1, "all_services": t3 - t2}))
"""


def test_load_time() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    times = json.loads(out.stdout)
    assert times["import"] < 0.25, times
    assert times["first_call"] < 1.0, times
    assert times["import"] + times["first_call"] + times["all_services"] < 2.0, times
