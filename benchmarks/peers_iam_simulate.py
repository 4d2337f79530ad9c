"""Peer benchmark: the shared workload (benchmarks/workload.py) run by @cloud-copilot/iam-simulate in node.

    python benchmarks/peers_iam_simulate.py [--repeats 5] [--cpu 1] [--json out.json]

iam-simulate is AGPL-3.0-or-later: it is never vendored or committed. This script installs it with npm into
a cache directory (``$LAMBDAPERM_CACHE/bench-iam-simulate``, default
``~/.cache/lambdaperm/bench-iam-simulate``),
writes the workload as JSON, and runs benchmarks/iam_simulate_bench.mjs (our own driver) in node, which
times the decisions in-process and prints the figures as JSON. No Python<->node round trip is timed.

The mapping onto iam-simulate's Simulation: the identity policy of N statements is alice's one identity
policy, the Lambda function policy is the resource policy of every request (as in
benchmarks/policy_engine.py), the resource account is alice's account (the workload is single-account),
no SCPs/RCPs (iam-simulate still evaluates its implicit RCPFullAWSAccess), simulationMode "Strict".
iam-simulate also looks every action up in its IAM data set (service, action, resource types, allowed
context keys): that is part of what it does per decision and is included.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import ACCOUNT, distinct_requests, function_policy, hot_request, identity_policy

PACKAGE = "@cloud-copilot/iam-simulate"
# The version tests/oracle/iam_simulate.py pins for the differential test; override with the same variable.
VERSION = os.environ.get("LAMBDAPERM_IAM_SIMULATE_VERSION", "0.1.173")
DRIVER = Path(__file__).with_name("iam_simulate_bench.mjs")
SIZES = (2, 11, 101, 1001)
VARIANTS = ("simulate", "prevalidated")
# Distinct requests timed per repeat and variant: the first K of the same stream lambdaperm uses.
COUNTS = {2: 2000, 11: 2000, 101: 1000, 1001: 200}
HOT_ITERATIONS = 2000
CHECK_COUNT = 300  # requests whose allow/deny is compared with lambdaperm, per size
INSTALL_TIMEOUT_S = 300


def cache_dir() -> Path:
    base = os.environ.get("LAMBDAPERM_CACHE")
    root = Path(base).expanduser() if base else Path.home() / ".cache" / "lambdaperm"
    return root / "bench-iam-simulate"


def installed_version(directory: Path) -> str | None:
    pkg = directory / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"
    try:
        return str(json.loads(pkg.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def ensure_installed(directory: Path | None = None) -> tuple[Path, str | None]:
    """(cache dir, None) when iam-simulate is ready to run, else (cache dir, the reason it is not)."""
    directory = directory or cache_dir()
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node:
        return directory, "node is not installed"
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return directory, f"node does not run: {exc}"
    if int(out.strip().lstrip("v").split(".")[0]) < 18:
        return directory, f"node {out.strip()} is too old for iam-simulate (need >= 18)"
    if installed_version(directory) == VERSION:
        return directory, None
    if not npm:
        return directory, "npm is not installed (needed to install iam-simulate)"
    directory.mkdir(parents=True, exist_ok=True)
    pkg_json = directory / "package.json"
    if not pkg_json.exists():
        pkg_json.write_text(json.dumps({
            "name": "lambdaperm-bench-cache", "private": True,
            "description": "Benchmark-time cache for iam-simulate (not shipped)."}))
    cmd = [npm, "install", "--prefix", str(directory), "--no-audit", "--no-fund", "--loglevel=error",
           f"{PACKAGE}@{VERSION}"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return directory, f"`npm install {PACKAGE}@{VERSION}` timed out (no network?)"
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        return directory, f"`npm install {PACKAGE}@{VERSION}` failed (no network?): {tail}"
    if installed_version(directory) != VERSION:
        return directory, f"npm install finished but {PACKAGE}@{VERSION} is not in {directory}"
    return directory, None


def available() -> str | None:
    return ensure_installed()[1]


def workload_json(repeats: int, sizes: Sequence[int], scale: float, check_count: int) -> dict[str, Any]:
    counts = {str(n): {v: max(20, int(COUNTS[n] * scale)) for v in VARIANTS} for n in sizes}
    longest = max(max(c.values()) for c in counts.values())
    return {
        "repeats": repeats,
        "accountId": ACCOUNT,
        "resourcePolicy": function_policy(),
        "identityPolicies": {str(n): identity_policy(n) for n in sorted({*sizes, 11})},
        "hot": {"request": hot_request(), "size": 11,
                "iterations": {v: max(100, int(HOT_ITERATIONS * scale)) for v in VARIANTS}},
        "stream": distinct_requests(max(longest, check_count)),
        "counts": counts,
        "checkCount": check_count,
    }


def run(repeats: int = 5, sizes: Sequence[int] = SIZES, scale: float = 1.0, check_count: int = CHECK_COUNT,
        cpu: int | None = None, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Install if needed, run the node driver once, return its figures ({case: {variant: summary}})."""
    directory, reason = ensure_installed()
    if reason:
        raise RuntimeError(reason)
    with tempfile.TemporaryDirectory(prefix="lambdaperm-bench-") as tmp:
        path = Path(tmp) / "workload.json"
        path.write_text(json.dumps(workload_json(repeats, sizes, scale, check_count)))

        def pin() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})

        proc = subprocess.Popen([str(shutil.which("node")), str(DRIVER), str(directory), str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pin)
        assert proc.stderr is not None and proc.stdout is not None
        err_lines = []
        for line in proc.stderr:
            err_lines.append(line)
            if log and line.startswith("iam-simulate "):
                log(line.rstrip())
        out = proc.stdout.read()
        if proc.wait() != 0:
            tail = "".join(err_lines)[-2000:]
            raise RuntimeError(f"iam_simulate_bench.mjs failed (exit {proc.returncode}): {tail}")
    results: dict[str, Any] = json.loads(out)
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    ap.add_argument("--cpu", type=int, help="pin node to this core")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    reason = available()
    if reason:
        sys.exit(f"iam-simulate: skipped: {reason}")
    results = run(args.repeats, scale=args.scale, cpu=args.cpu, log=lambda s: print(s, file=sys.stderr))
    results.pop("decisions", None)
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
