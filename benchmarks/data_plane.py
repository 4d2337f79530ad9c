"""Data-plane throughput, lambdaperm vs moto's own server, side by side in one run (issue 7, "Performance").
Not a test: CI never runs it; run it by hand.

    python benchmarks/data_plane.py [--duration 5] [--repeats 5] [--threads 1,8] [--ops put_item,...]
                                    [--json out.json]

What it measures: requests/s (and p50/p99 latency) of `dynamodb.put_item`, `s3.put_object`,
`s3.get_object` and `sqs.send_message` made with real boto3 clients against

- `lambdaperm serve --state DIR` (a real process with a real SQLite state file: every call is
  authenticated, authorized and its trail record committed before it is answered), the calls made by the
  IAM user `bench` with its own access key and a 10-statement inline identity policy
  (`endpoint.bench_policy`) — not root, so every request's policy is evaluated;
- `python -m moto.server` (werkzeug, threaded), which enforces nothing, with any key.

Both servers start on free ports, pinned to one core (`--server-cpu`, default 1); the load generator is
pinned to the other (`--client-cpu`, default 0). A repeat runs every (operation, client count) case on
both servers back to back, in alternating order, for `--duration` seconds each, so the peers share the
machine's noise within each repeat; `--repeats` (≥ 5) gives median and min–max.

Clients: N client *processes* (not threads), each with its own boto3 session and client, created and
warmed up (keep-alive connection open) before the clock. Processes, because N boto3 clients in threads of
one Python process contend for its GIL: a thread whose response has arrived waits for the others' Python
to run, which adds client-side latency to both peers and measures the load generator rather than the
servers. `--clients threads` runs them as threads instead, for comparison. The client and server CPU time
per request (from /proc) is printed with every case so a saturated load generator is visible.

The workloads:
- put_item: a new item (distinct key) per call, 3 attributes, ~80 bytes.
- put_object: a 1 KiB body onto one of 64 keys per client (overwrites: the bucket stays small).
- get_object: the same 1 KiB object, body read in full.
- send_message: a ~20-byte body onto the client's own queue. moto's SendMessage reads the queue's
  attributes, which count its messages by scanning them all (`Queue.attributes` →
  `approximate_number_of_messages*`), so its cost grows with the queue's depth; a fixed-duration run
  would penalize the faster server with deeper queues. So each client purges its queue after every
  `--purge-every` (20) sends: depth stays ≤ 20 on both servers whatever their rate. The PurgeQueue calls
  run inside the timed window (they load both servers) and are not counted as requests (a purge's time is
  in the latency of the send before it).

Prints a Markdown table: req/s median (min–max), p50/p99 ms, ratio lambdaperm/moto (of the medians, and the
lowest and highest per-repeat ratio), server and client CPU ms per request; `--json` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import endpoint  # noqa: E402
from endpoint import Launched, make_client  # noqa: E402

OPS = ("dynamodb.put_item", "s3.put_object", "s3.get_object", "sqs.send_message")
SERVERS = ("lambdaperm", "moto")
BUCKET = "bench-bucket"
GET_KEY = "get-me"
BODY = b"x" * 1024
QUEUE_PREFIX = "bench-q"


# --- the client side (runs in each client process or thread) ---------------------------------------------


class Client:
    """One load-generating client: its own boto3 session and clients for every (server, service)."""

    def __init__(self, index: int, targets: dict[str, dict[str, Any]], purge_every: int) -> None:
        self.index = index
        self.purge_every = purge_every
        self.targets = targets
        self.clients = {
            (kind, service): make_client(service, t["url"], t["key"], t["secret"])
            for kind, t in targets.items()
            for service in ("dynamodb", "s3", "sqs")
        }

    def call(self, kind: str, op: str) -> Callable[[int], Any]:
        """The call of `op` on `kind`, taking a sequence number (distinct items, rotating keys)."""
        service = op.split(".", 1)[0]
        c = self.clients[(kind, service)]
        me = self.index
        tag = f"{me}-{time.time_ns()}"
        if op == "dynamodb.put_item":
            return lambda i: c.put_item(
                TableName=endpoint.TABLE, Item={"pk": {"S": f"{tag}-{i}"}, "n": {"N": "42"}, "payload": {"S": "x" * 64}}
            )
        if op == "s3.put_object":
            return lambda i: c.put_object(Bucket=BUCKET, Key=f"obj-{me}-{i % 64}", Body=BODY)
        if op == "s3.get_object":

            def get(i: int) -> None:
                body = c.get_object(Bucket=BUCKET, Key=GET_KEY)["Body"].read()
                if len(body) != len(BODY):
                    raise RuntimeError(f"get_object returned {len(body)} bytes")

            return get
        if op == "sqs.send_message":
            url = self.targets[kind]["queues"][me]

            def send(i: int) -> None:
                c.send_message(QueueUrl=url, MessageBody=f"message {i}")
                if (i + 1) % self.purge_every == 0:
                    c.purge_queue(QueueUrl=url)

            return send
        raise ValueError(op)

    def run(self, kind: str, op: str, start_at: float, duration: float, warmup: int) -> dict[str, Any]:
        """Warm up, wait for the common start (wall clock), then call for `duration` seconds."""
        fn = self.call(kind, op)
        for i in range(warmup):
            fn(-1 - i)
        lat: list[float] = []
        errors: list[str] = []
        clock = time.perf_counter
        _sleep_until(start_at)
        cpu0 = time.process_time()
        t0 = clock()
        end = t0 + duration
        i = 0
        now = t0
        while now < end:
            try:
                fn(i)
            except Exception as err:  # counted and reported, never timed as a success
                errors.append(repr(err))
            t = clock()
            lat.append(t - now)
            now = t
            i += 1
        return {
            "requests": i - len(errors),
            "errors": len(errors),
            "error_sample": errors[:3],
            "wall_s": now - t0,
            "latencies": lat,
            "client_cpu_s": time.process_time() - cpu0,
        }


def _sleep_until(when: float) -> None:
    while time.time() < when:
        time.sleep(0.0005)


def client_process(index: int, targets: dict[str, dict[str, Any]], purge_every: int, conn: Connection) -> None:
    client = Client(index, targets, purge_every)
    conn.send("ready")
    while True:
        msg = conn.recv()
        if msg is None:
            return
        conn.send(client.run(*msg))


class Pool:
    """N clients as processes (default) or threads, each running one case when told."""

    def __init__(self, n: int, targets: dict[str, dict[str, Any]], purge_every: int, mode: str) -> None:
        self.mode = mode
        if mode == "processes":
            ctx = mp.get_context("spawn")
            self.conns: list[Connection] = []
            self.procs = []
            for i in range(n):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=client_process, args=(i, targets, purge_every, child), daemon=True)
                proc.start()
                self.conns.append(parent)
                self.procs.append(proc)
            for conn in self.conns:
                if conn.recv() != "ready":
                    raise SystemExit("a client process did not start")
        else:
            self.clients = [Client(i, targets, purge_every) for i in range(n)]

    def run(
        self, n: int, kind: str, op: str, duration: float, warmup: int, on_start: Callable[[], None]
    ) -> list[dict[str, Any]]:
        """The case on the first n clients; `on_start` is called when the timed window opens."""
        start_at = time.time() + 0.5 + 0.02 * warmup * n  # after every client's warm-up
        if self.mode == "processes":
            for conn in self.conns[:n]:
                conn.send((kind, op, start_at, duration, warmup))
            _sleep_until(start_at)
            on_start()
            return [conn.recv() for conn in self.conns[:n]]
        out: list[dict[str, Any]] = [{} for _ in range(n)]

        def work(t: int) -> None:
            out[t] = self.clients[t].run(kind, op, start_at, duration, warmup)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(n)]
        for th in threads:
            th.start()
        _sleep_until(start_at)
        on_start()
        for th in threads:
            th.join()
        return out

    def close(self) -> None:
        if self.mode == "processes":
            for conn in self.conns:
                conn.send(None)
            for proc in self.procs:
                proc.join(timeout=10)
                if proc.is_alive():
                    proc.terminate()


# --- set-up on each server -------------------------------------------------------------------------------


def prepare(launched: dict[str, Launched], clients: int) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The bench user (lambdaperm), table, bucket with the object to get, one queue per client; the
    enforcement checks. Returns each server's target (url, key, secret, queue URLs) and the check notes."""
    targets: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for kind, server in launched.items():

        def root(service: str, url: str = server.url) -> Any:
            return make_client(service, url, "test", "test")

        found = endpoint.setup(root, with_user=kind == "lambdaperm")
        key, secret = (found[0], found[1]) if found else ("AKIAMOTOBENCH", "moto-secret")
        s3 = root("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=GET_KEY, Body=BODY)
        sqs = root("sqs")
        queues = [sqs.create_queue(QueueName=f"{QUEUE_PREFIX}-{i}")["QueueUrl"] for i in range(clients)]
        targets[kind] = {"url": server.url, "key": key, "secret": secret, "queues": queues}
        if kind == "lambdaperm":

            def user(service: str, url: str = server.url, k: str = key, s: str = secret) -> Any:
                return make_client(service, url, k, s)

            notes += endpoint.check_enforcement(user)
            notes += check_data_plane_enforcement(user, queues[0])
    return targets, notes


def check_data_plane_enforcement(make: Callable[[str], Any], queue_url: str) -> list[str]:
    """The bench user is allowed the four calls and denied the same calls outside its policy."""
    from botocore.exceptions import ClientError

    make("s3").get_object(Bucket=BUCKET, Key=GET_KEY)
    make("sqs").send_message(QueueUrl=queue_url, MessageBody="allowed")
    notes = []
    denied = [
        ("s3", lambda c: c.list_buckets()),
        ("s3", lambda c: c.delete_bucket(Bucket=BUCKET)),
        ("sqs", lambda c: c.create_queue(QueueName="not-bench")),
    ]
    for service, fn in denied:
        try:
            fn(make(service))
        except ClientError as err:
            code = err.response["Error"]["Code"]
            if "AccessDenied" not in code:
                raise SystemExit(f"expected AccessDenied, got {code}") from None
            notes.append(f"{service}: {code}")
        else:
            raise SystemExit(f"{service} call outside the policy was allowed: enforcement is off")
    return notes


# --- one run ---------------------------------------------------------------------------------------------


def case_result(parts: list[dict[str, Any]], server: Launched, cpu0: float, wall: float) -> dict[str, Any]:
    done = sum(p["requests"] for p in parts)
    server_cpu = server.cpu_seconds() - cpu0
    return {
        "requests": done,
        "wall_s": wall,
        "rps": done / wall,
        "errors": sum(p["errors"] for p in parts),
        "error_sample": [e for p in parts for e in p["error_sample"]][:3],
        "server_cpu_ms_per_req": server_cpu * 1e3 / max(done, 1),
        "server_cpu_util": server_cpu / wall,
        "client_cpu_ms_per_req": sum(p["client_cpu_s"] for p in parts) * 1e3 / max(done, 1),
        "latencies": [x for p in parts for x in p["latencies"]],
    }


def benchmark(args: argparse.Namespace, state: Path) -> dict[str, Any]:
    launched: dict[str, Launched] = {}
    pool: Pool | None = None
    try:
        for kind in SERVERS:
            launched[kind] = endpoint.launch(
                kind, args.server_cpu, args.log, state=state if kind == "lambdaperm" else None
            )
        max_n = max(args.threads)
        targets, notes = prepare(launched, max_n)
        print("enforcement checked: " + "; ".join(notes), flush=True)
        pool = Pool(max_n, targets, args.purge_every, args.clients)
        runs: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        for rep in range(args.repeats):
            order = SERVERS if rep % 2 == 0 else tuple(reversed(SERVERS))
            for op in args.ops:
                for n in args.threads:
                    for kind in order:
                        server = launched[kind]
                        cpu0: list[float] = []
                        parts = pool.run(
                            n, kind, op, args.duration, args.warmup, lambda s=server, c=cpu0: c.append(s.cpu_seconds())
                        )
                        result = case_result(parts, server, cpu0[0], max(p["wall_s"] for p in parts))
                        runs.setdefault((kind, op, n), []).append(result)
                        print(
                            f"  rep {rep + 1} {op:20} {n} cl {kind:10} {result['rps']:7.0f} req/s  server "
                            f"{result['server_cpu_ms_per_req']:.2f} ms CPU/req, client "
                            f"{result['client_cpu_ms_per_req']:.2f} ms CPU/req, {result['errors']} errors",
                            flush=True,
                        )
        return {
            "cases": {f"{k}|{op}|{n}": summarize(r) for (k, op, n), r in runs.items()},
            "enforcement_checks": notes,
            "startup_s": {k: s.healthy_s for k, s in launched.items()},
        }
    finally:
        if pool is not None:
            pool.close()
        for s in launched.values():
            s.stop()


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = endpoint.summarize(runs)
    out["rps"] = [r["rps"] for r in runs]
    out["server_cpu_ms_per_req_runs"] = [r["server_cpu_ms_per_req"] for r in runs]
    out["server_cpu_util_runs"] = [r["server_cpu_util"] for r in runs]
    return out


# --- report ----------------------------------------------------------------------------------------------


def ratios(cases: dict[str, Any], op: str, n: int) -> tuple[float, float, float]:
    lp, mo = cases[f"lambdaperm|{op}|{n}"], cases[f"moto|{op}|{n}"]
    per_repeat = [a / b for a, b in zip(lp["rps"], mo["rps"], strict=True)]
    return lp["rps_median"] / mo["rps_median"], min(per_repeat), max(per_repeat)


def cpu_ratios(cases: dict[str, Any], op: str, n: int) -> tuple[float, float, float]:
    """moto's server CPU per request over lambdaperm's: the throughput ratio each would reach with a core of
    its own (the req/s ratio measures the share of a contended core as well)."""
    lp, mo = cases[f"lambdaperm|{op}|{n}"], cases[f"moto|{op}|{n}"]
    runs = lp["server_cpu_ms_per_req_runs"], mo["server_cpu_ms_per_req_runs"]
    per_repeat = [b / a for a, b in zip(*runs, strict=True)]
    return mo["server_cpu_ms_per_req"] / lp["server_cpu_ms_per_req"], min(per_repeat), max(per_repeat)


def report(result: dict[str, Any], args: argparse.Namespace) -> str:
    cases = result["cases"]
    targets = {1: 1.0, 8: 1.5}
    lines = [
        "| call | clients | lambdaperm req/s | p50 / p99 ms | moto server req/s | p50 / p99 ms "
        "| ratio (per-repeat min–max) | target | server CPU ms/req lambdaperm / moto "
        "| CPU ratio moto / lambdaperm (per-repeat min–max) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for op in args.ops:
        for n in args.threads:
            lp, mo = cases[f"lambdaperm|{op}|{n}"], cases[f"moto|{op}|{n}"]
            r, lo, hi = ratios(cases, op, n)
            c, c_lo, c_hi = cpu_ratios(cases, op, n)
            target = targets.get(n)
            verdict = "" if target is None else f"≥ {target:.1f}×: {'met' if r >= target else '**not met**'}"
            lines.append(
                f"| `{op}` | {n} | {endpoint.fmt_rps(lp)} | {lp['p50_ms']:.2f} / {lp['p99_ms']:.2f} "
                f"| {endpoint.fmt_rps(mo)} | {mo['p50_ms']:.2f} / {mo['p99_ms']:.2f} "
                f"| **{r:.2f}×** ({lo:.2f}–{hi:.2f}) | {verdict} "
                f"| {lp['server_cpu_ms_per_req']:.2f} / {mo['server_cpu_ms_per_req']:.2f} "
                f"| {c:.2f}× ({c_lo:.2f}–{c_hi:.2f}) |"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per case and repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", default="1,8", help="client counts, comma-separated")
    ap.add_argument("--clients", choices=["processes", "threads"], default="processes")
    ap.add_argument("--ops", default=",".join(OPS), help="operations, comma-separated")
    ap.add_argument("--warmup", type=int, default=10, help="untimed calls per client before each case")
    ap.add_argument("--purge-every", type=int, default=20, help="sends between two PurgeQueue of a client")
    ap.add_argument("--server-cpu", type=int, default=1, help="core the servers are pinned to (taskset)")
    ap.add_argument("--client-cpu", type=int, default=0, help="core of the load generator")
    ap.add_argument("--log", type=Path, default=Path("/tmp/lambdaperm-data-plane-bench.log"))
    ap.add_argument("--json", type=Path, help="write every figure (without raw latencies) to this file")
    args = ap.parse_args()
    args.threads = [int(x) for x in args.threads.split(",")]
    args.ops = [x.strip() for x in args.ops.split(",") if x.strip()]
    unknown = set(args.ops) - set(OPS)
    if unknown:
        raise SystemExit(f"unknown operations: {sorted(unknown)}")
    allowed = os.sched_getaffinity(0)
    pinned = args.client_cpu in allowed and args.server_cpu in allowed and args.client_cpu != args.server_cpu
    if pinned:
        os.sched_setaffinity(0, {args.client_cpu})  # inherited by the client processes
    else:
        print(f"cannot pin (allowed cores {sorted(allowed)}): running unpinned", flush=True)
        args.server_cpu = None
    import boto3
    import moto

    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "boto3": boto3.__version__,
        "moto": moto.__version__,
        "pinned": pinned,
        "taskset": shutil.which("taskset") is not None,
        "loadavg_before": os.getloadavg(),
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    print(
        f"{result['date']}: load average before {result['loadavg_before']}; servers on core {args.server_cpu}, "
        f"{args.clients} on core {args.client_cpu}; {args.duration:g} s per case, {args.repeats} repeats",
        flush=True,
    )
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="lambdaperm-bench-state-") as state:
        result.update(benchmark(args, Path(state)))
    result["loadavg_after"] = os.getloadavg()
    result["elapsed_s"] = time.time() - started
    print(f"load average after: {result['loadavg_after']}; {result['elapsed_s']:.0f} s\n", flush=True)
    print(report(result, args))
    if args.json:
        for case in result["cases"].values():
            case.pop("latencies", None)
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
