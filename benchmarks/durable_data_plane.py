"""Durable data plane (docs/performance.md, "Durable data plane"): in-process, on real Server objects.

    python benchmarks/durable_data_plane.py write [--calls 300]      # per-call cost of the journal
    python benchmarks/durable_data_plane.py replay [--entries 1000]  # start-up replay of N journal entries
    python benchmarks/durable_data_plane.py snapshot [--objects 1000 --size 1048576]

Each measurement runs in a fresh process (moto's backends are per process) and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's lambdaperm


def _server(state: Path | None) -> Any:
    from lambdaperm.gateway import Server, ServerConfig

    return Server(ServerConfig(state_dir=state, port=0))


def _put_item(server: Any, i: int) -> None:
    from lambdaperm.protocol.models import operation_model

    server.dataplane.execute(operation_model("dynamodb", "PutItem"),
                             {"TableName": "t", "Item": {"k": {"S": str(i)}, "n": {"N": str(i)}}},
                             "000000000000", "us-east-1")
    server.trail.sync()  # the commit the call's record waits for (it carries the journal entries)


def _table(server: Any) -> None:
    from lambdaperm.protocol.models import operation_model

    server.dataplane.execute(operation_model("dynamodb", "CreateTable"), {
        "TableName": "t", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"},
        "000000000000", "us-east-1")


def write(calls: int, journaled: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server = _server(Path(tmp) / "state")
        if not journaled:
            server.dataplane.journal = None
            server.trail.journal = None
        _table(server)
        for i in range(50):  # warm-up
            _put_item(server, i)
        samples = []
        for i in range(calls):
            started = time.perf_counter()
            _put_item(server, i)
            samples.append((time.perf_counter() - started) * 1e6)
        server.close()
    return {"journaled": journaled, "median_us": statistics.median(samples)}


def replay(entries: int, state: Path, phase: str) -> dict[str, Any]:
    if phase == "write":
        server = _server(state)
        _table(server)
        for i in range(entries - 1):
            _put_item(server, i)
        server.trail.close()  # no close(): no snapshot, the journal stays (as after a kill -9)
        return {}
    server = _server(state)
    return {"entries": server.restored.replayed, "replay_s": server.restored.seconds}


def snapshot(objects: int, size: int) -> dict[str, Any]:
    from lambdaperm.dataplane import snapshots
    from lambdaperm.protocol.models import operation_model

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        server = _server(state)
        put = operation_model("s3", "PutObject")
        account, region = "000000000000", "us-east-1"
        server.dataplane.execute(operation_model("s3", "CreateBucket"), {"Bucket": "bench-bucket"}, account, region)
        body = b"x" * size
        for i in range(objects):
            server.dataplane.execute(put, {"Bucket": "bench-bucket", "Key": f"k{i}", "Body": body}, account, region)
        server.trail.sync()
        started = time.perf_counter()
        _seq, written = snapshots.take(server.journal, state)
        seconds = time.perf_counter() - started
        server.trail.close()
    return {"objects": objects, "size": size, "snapshot_s": seconds, "bytes": written}


def _child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return dict(json.loads(lines[-1])) if lines else {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["write", "replay", "snapshot"])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1024 * 1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", default="")
    parser.add_argument("--state", default="")
    args = parser.parse_args()
    if args.child:
        if args.what == "write":
            result = write(args.calls, args.child == "journaled")
        elif args.what == "replay":
            result = replay(args.entries, Path(args.state), args.child)
        else:
            result = snapshot(args.objects, args.size)
        print(json.dumps(result))
        return
    for _ in range(args.repeats):
        if args.what == "write":
            for mode in ("plain", "journaled"):
                print(json.dumps(_child(["write", "--calls", str(args.calls), "--child", mode])), flush=True)
        elif args.what == "replay":
            with tempfile.TemporaryDirectory() as tmp:
                state = str(Path(tmp) / "state")
                _child(["replay", "--entries", str(args.entries), "--child", "write", "--state", state])
                print(json.dumps(_child(["replay", "--entries", str(args.entries), "--child", "read",
                                         "--state", state])), flush=True)
        else:
            print(json.dumps(_child(["snapshot", "--objects", str(args.objects), "--size", str(args.size),
                                     "--child", "1"])), flush=True)


if __name__ == "__main__":
    main()
