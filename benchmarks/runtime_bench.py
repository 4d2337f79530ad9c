"""The runtime's own costs: a warm invoke's round trip and a cold start (issue targets: ≤ 1 ms warm,
≤ 300 ms cold including the endpoint's share).

    python benchmarks/runtime_bench.py [--warm 3000] [--cold 30] [--json out.json]

- warm: `Runtime.invoke` of a hello-world handler on a warm worker, wall time in the calling thread; the
  "overhead" column subtracts the handler's own time as the worker measured it (what REPORT calls Duration).
- cold: `evict` then `invoke`: a new worker process, the bootstrap, importing the handler, the invoke.
  Also shown: bare interpreter start-up (``python -I -S -c pass``) and the same with the site module
  (``python -I -c pass``), to separate what the runtime adds from what the machine costs.
- cold + boto3: the handler module imports boto3 at module level (typical of real functions).
- concurrent: 4 threads × warm invokes through a 4-worker pool (invokes per second).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lambdaperm.runtime import Credentials, FunctionSpec, Runtime

HELLO = "def handler(event, context):\n    return {'hello': 'world'}\n"
BOTO3 = "import boto3\n\ndef handler(event, context):\n    return {'hello': 'world'}\n"
CREDS = Credentials("ASIABENCH", "secret", "token")


def spec_for(root: Path, name: str, source: str) -> FunctionSpec:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    path = root / f"{name}.zip"
    path.write_bytes(buf.getvalue())
    sha = base64.b64encode(hashlib.sha256(buf.getvalue()).digest()).decode()
    return FunctionSpec(name, f"arn:aws:lambda:us-east-1:123456789012:function:{name}:$LATEST", "$LATEST",
                        "app.handler", "python3.11", path, sha, {}, 30, 128, "us-east-1", "123456789012",
                        f"/aws/lambda/{name}")


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {"median": statistics.median(ordered), "p90": ordered[int(len(ordered) * 0.9) - 1],
            "p99": ordered[max(int(len(ordered) * 0.99) - 1, 0)], "min": ordered[0], "n": len(ordered)}


def timed_spawn(argv: list[str], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, env={"PATH": os.environ.get("PATH", "")})
        samples.append((time.perf_counter() - started) * 1000)
    return summary(samples)


def bench(warm_runs: int, cold_runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rt = Runtime(root / "work", "http://127.0.0.1:9", max_workers_per_function=4)
        try:
            hello = spec_for(root, "hello", HELLO)
            rt.invoke(hello, b"{}", CREDS, request_id="warmup")
            wall, overhead = [], []
            for _ in range(warm_runs):
                started = time.perf_counter()
                result = rt.invoke(hello, b'{"k": "v"}', CREDS, request_id=str(uuid.uuid4()))
                elapsed = (time.perf_counter() - started) * 1000
                wall.append(elapsed)
                overhead.append(elapsed - result.duration_ms)
            results["warm_wall_ms"] = summary(wall)
            results["warm_overhead_ms"] = summary(overhead)

            cold, init = [], []
            for _ in range(cold_runs):
                rt.evict(hello.function_arn)
                started = time.perf_counter()
                result = rt.invoke(hello, b"{}", CREDS, request_id=str(uuid.uuid4()))
                cold.append((time.perf_counter() - started) * 1000)
                init.append(result.init_duration_ms or 0.0)
            results["cold_wall_ms"] = summary(cold)
            results["cold_init_duration_ms"] = summary(init)

            with_boto3 = spec_for(root, "boto3fn", BOTO3)
            boto = []
            for _ in range(max(cold_runs // 5, 3)):
                rt.evict(with_boto3.function_arn)
                started = time.perf_counter()
                rt.invoke(with_boto3, b"{}", CREDS, request_id=str(uuid.uuid4()))
                boto.append((time.perf_counter() - started) * 1000)
            results["cold_boto3_wall_ms"] = summary(boto)

            count = warm_runs
            with ThreadPoolExecutor(4) as pool:
                for _ in range(8):  # start the 4 workers
                    list(pool.map(lambda _: rt.invoke(hello, b"{}", CREDS, request_id="w"), range(4)))
                started = time.perf_counter()
                list(pool.map(lambda _: rt.invoke(hello, b"{}", CREDS, request_id="c"), range(count)))
                results["concurrent_4_invokes_per_s"] = count / (time.perf_counter() - started)
        finally:
            rt.shutdown()
    results["python_-I_-S_pass_ms"] = timed_spawn([sys.executable, "-I", "-S", "-c", "pass"], cold_runs)
    results["python_-I_pass_ms"] = timed_spawn([sys.executable, "-I", "-c", "pass"], cold_runs)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm", type=int, default=3000)
    parser.add_argument("--cold", type=int, default=30)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    load_before = os.getloadavg()
    results = bench(args.warm, args.cold)
    results["loadavg_before_after"] = [load_before[0], os.getloadavg()[0]]
    results["cpus"] = os.cpu_count()
    load = f"(load {load_before[0]:.2f} → {os.getloadavg()[0]:.2f})"
    print(f"| measure {load} | median | p90 | p99 | min | n |")
    print("|---|---|---|---|---|---|")
    for key, value in results.items():
        if isinstance(value, dict):
            print(f"| {key} | {value['median']:.3f} | {value['p90']:.3f} | {value['p99']:.3f} | "
                  f"{value['min']:.3f} | {value['n']:.0f} |")
    print(f"\nconcurrent (4 threads, 4 workers): {results['concurrent_4_invokes_per_s']:.0f} invokes/s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
