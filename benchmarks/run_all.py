"""lambdaperm vs cedarpy vs iam-simulate on the shared workload, in one run, each pinned to one core.

    python benchmarks/run_all.py [--repeats 5] [--cpu N] [--json out.json] [--scale 1.0]

1. lambdaperm: benchmarks/policy_engine.py itself (a subprocess, inheriting the pin), i.e. the issue's
   protocol: Evaluator with its memo, 100,000-request stream at 2 and 11 statements, fewer at 101/1,001.
   Then, in this process, `decide()` without any memo over the same request prefixes the peers get
   ("no memo"): the stream repeats some ec2 requests exactly, which the memo answers for free, and the
   peers have no memo, so the ratios are taken against this column.
2. cedarpy (benchmarks/peers_cedarpy.py): re-parse per call, pre-parsed PolicySet/Entities handles, batch.
3. iam-simulate (benchmarks/peers_iam_simulate.py, timed inside node): runSimulation, and with
   pre-validated policies.

A peer that does not install is skipped with the reason. The slow peers get fewer distinct requests at large
sizes (their counts are printed); the requests are always the first K of the same stream. Allow/deny of each
peer is compared with lambdaperm's on a prefix of the stream, so the translated work is known to be the same
decisions. Prints Markdown tables (µs per decision, median and min–max over the repeats).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peers_cedarpy  # noqa: E402
import peers_iam_simulate  # noqa: E402
from workload import distinct_requests, hot_request  # noqa: E402

SIZES = (2, 11, 101, 1001)
STREAM = 100_000
# Requests for lambdaperm's no-memo figure: the same prefixes as cedarpy's handle/batch variants.
NO_MEMO_COUNTS = peers_cedarpy.HANDLE_COUNTS
CEDAR_CHECK = 2000  # requests whose allow/deny cedarpy must agree on, per size
TARGETS = {"hot_11": 2.0, "distinct_11": 15.0, "distinct_1001": 50.0}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        node = subprocess.run(["node", "--version"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except OSError:
        node = None
    return {"date": datetime.date.today().isoformat(), "nproc": os.cpu_count(), "cpu_model": model,
            "python": platform.python_version(), "node": node, "platform": platform.platform()}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def summary(samples: list[float], count: int) -> dict[str, float]:
    us = [s * 1e6 for s in samples]
    return {"median_us": statistics.median(us), "min_us": min(us), "max_us": max(us), "requests": count}


# --------------------------------------------------------------------------------------------- lambdaperm
def lambdaperm_protocol(repeats: int, stream: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lambdaperm-bench-") as tmp:
        out = Path(tmp) / "lp.json"
        subprocess.run([sys.executable, str(HERE / "policy_engine.py"), "--repeats", str(repeats),
                        "--stream", str(stream), "--json", str(out)], check=True, stdout=subprocess.DEVNULL)
        result: dict[str, Any] = json.loads(out.read_text())
    return result


def lambdaperm_no_memo(repeats: int, scale: float) -> tuple[dict[str, Any], dict[int, list[bool]]]:
    import policy_engine

    from lambdaperm.policy import decide

    results: dict[str, Any] = {}
    raw = distinct_requests(max(max(NO_MEMO_COUNTS.values()), CEDAR_CHECK,
                                peers_iam_simulate.CHECK_COUNT))
    reqs = policy_engine.requests(raw)
    verdicts: dict[int, list[bool]] = {}
    hot = policy_engine.requests([hot_request()])[0]
    ps11 = policy_engine.policy_set(11)
    hot_reqs = [hot] * 20_000
    for r in hot_reqs[:100]:
        decide(ps11, r)

    def hot_loop() -> int:
        for r in hot_reqs:
            decide(ps11, r)
        return len(hot_reqs)
    results["hot_11"] = summary(policy_engine.timed(hot_loop, repeats), len(hot_reqs))
    for n in SIZES:
        ps = policy_engine.policy_set(n)
        count = max(100, int(NO_MEMO_COUNTS[n] * scale))
        batch = reqs[:count]
        for r in batch[:100]:
            decide(ps, r)

        def loop(ps: Any = ps, batch: list[Any] = batch) -> int:
            for r in batch:
                decide(ps, r)
            return len(batch)
        results[f"distinct_{n}"] = summary(policy_engine.timed(loop, repeats), count)
        verdicts[n] = [decide(ps, r).allowed for r in reqs]
    return results, verdicts


# --------------------------------------------------------------------------------------------- formatting
def fmt(s: dict[str, float] | None) -> str:
    if not s:
        return "—"

    def num(x: float) -> str:
        return f"{x:,.2f}" if x < 10 else f"{x:,.1f}" if x < 100 else f"{x:,.0f}"
    return f"{num(s['median_us'])} ({num(s['min_us'])}–{num(s['max_us'])})"


def ratio(peer: dict[str, float] | None, ours: dict[str, float] | None) -> str:
    if not peer or not ours:
        return "—"
    r = peer["median_us"] / ours["median_us"]
    return f"{r:,.1f}×" if r < 100 else f"{r:,.0f}×"


def get(results: dict[str, Any], engine: str, case: str,
        variant: str | None = None) -> dict[str, float] | None:
    block = results.get(engine)
    if not isinstance(block, dict) or case not in block:
        return None
    entry = block[case]
    return entry.get(variant) if variant else entry  # type: ignore[no-any-return]


CASES = [("hot_11", "hot request, 11 statements")] + [(f"distinct_{n}", f"distinct, {n:,} statements")
                                                         for n in SIZES]


def tables(results: dict[str, Any]) -> str:
    lines = ["| case | lambdaperm (policy_engine.py) | lambdaperm, no memo | cedarpy, parsed handle "
             "| cedarpy, re-parse per call | iam-simulate runSimulation | ratio cedarpy handle "
             "| ratio cedarpy re-parse | ratio iam-simulate |",
             "|---|---|---|---|---|---|---|---|---|"]
    for case, label in CASES:
        ours = get(results, "lambdaperm", case)
        base = get(results, "lambdaperm_no_memo", case)
        ch, cr = get(results, "cedarpy", case, "handle"), get(results, "cedarpy", case, "reparse")
        sim = get(results, "iam_simulate", case, "simulate")
        lines.append(f"| {label} | {fmt(ours)} | {fmt(base)} | {fmt(ch)} | {fmt(cr)} | {fmt(sim)} "
                     f"| {ratio(ch, base)} | {ratio(cr, base)} | {ratio(sim, base)} |")
    lines += ["", "Other peer variants (ratios against lambdaperm, no memo):", "",
              "| case | cedarpy batch (handle) | ratio | iam-simulate, pre-validated policies | ratio |",
              "|---|---|---|---|---|"]
    for case, label in CASES:
        base = get(results, "lambdaperm_no_memo", case)
        cb, sp = get(results, "cedarpy", case, "batch"), get(results, "iam_simulate", case, "prevalidated")
        lines.append(f"| {label} | {fmt(cb)} | {ratio(cb, base)} | {fmt(sp)} | {ratio(sp, base)} |")
    hot_memo, hot_plain = get(results, "lambdaperm", "hot_11"), get(results, "lambdaperm", "hot_11_uncached")
    lines += ["", f"lambdaperm hot request through decide() without the memo (policy_engine.py "
              f"hot_11_uncached): {fmt(hot_plain)} µs; with the memo {fmt(hot_memo)} µs.", ""]
    lines.append("Requests per repeat (distinct cases): " + "; ".join(
        f"{n:,} stmts: lambdaperm {counts(results, 'lambdaperm_no_memo', f'distinct_{n}')}, "
        f"cedarpy handle/batch {counts(results, 'cedarpy', f'distinct_{n}', 'handle')}, "
        f"re-parse {counts(results, 'cedarpy', f'distinct_{n}', 'reparse')}, "
        f"iam-simulate {counts(results, 'iam_simulate', f'distinct_{n}', 'simulate')}" for n in SIZES))
    lines += ["", "Targets (lambdaperm, policy_engine.py protocol / no memo):", ""]
    for case, limit in TARGETS.items():
        ours = get(results, "lambdaperm", case)
        base = get(results, "lambdaperm_no_memo", case) if case != "hot_11" else None
        verdict = "met" if ours and ours["median_us"] <= limit else "NOT met"
        extra = ""
        if base:
            ok = "met" if base["median_us"] <= limit else "NOT met"
            extra = f"; no memo {base['median_us']:.2f} µs: {ok}"
        lines.append(f"- {case} ≤ {limit:g} µs: {ours['median_us']:.2f} µs: {verdict}{extra}" if ours
                     else f"- {case}: not measured")
    for peer in ("cedarpy", "iam_simulate"):
        if peer in results.get("skipped", {}):
            lines.append(f"- {peer}: skipped: {results['skipped'][peer]}")
    if results.get("agreement"):
        lines += ["", "Allow/deny agreement with lambdaperm: " + "; ".join(
            f"{peer} {n} stmts {a['same']}/{a['total']}" for peer, per in results["agreement"].items()
            for n, a in per.items())]
    return "\n".join(lines)


def counts(results: dict[str, Any], engine: str, case: str, variant: str | None = None) -> str:
    s = get(results, engine, case, variant)
    return f"{int(s['requests']):,}" if s and "requests" in s else "—"


def agreement(ours: dict[int, list[bool]], theirs: dict[Any, list[bool | None]]) -> dict[str, dict[str, int]]:
    out = {}
    for n, bits in theirs.items():
        mine = ours[int(n)][: len(bits)]
        out[str(n)] = {"same": sum(1 for a, b in zip(mine, bits, strict=True) if a == b), "total": len(bits)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cpu", type=int, help="core to pin every engine to (default: the last allowed core)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the peers' request counts")
    ap.add_argument("--stream", type=int, default=STREAM, help="policy_engine.py --stream")
    ap.add_argument("--skip", action="append", default=[], choices=["cedarpy", "iam-simulate"])
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    if args.repeats < 5:
        log(f"warning: --repeats {args.repeats} < 5")

    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # inherited by the policy_engine.py and node subprocesses
    results: dict[str, Any] = {"machine": machine(), "cpu": cpu, "repeats": args.repeats,
                               "command": " ".join([Path(sys.executable).name, *sys.argv]),
                               "loadavg_start": loadavg(), "skipped": {}, "agreement": {}}
    started = time.perf_counter()

    log(f"pinned to core {cpu}; lambdaperm: policy_engine.py --repeats {args.repeats} --stream {args.stream}")
    results["lambdaperm"] = lambdaperm_protocol(args.repeats, args.stream)
    log("lambdaperm: decide() without memo on the peers' prefixes")
    results["lambdaperm_no_memo"], verdicts = lambdaperm_no_memo(args.repeats, args.scale)

    reason = "--skip" if "cedarpy" in args.skip else peers_cedarpy.available()
    if reason:
        results["skipped"]["cedarpy"] = reason
        log(f"cedarpy: skipped: {reason}")
    else:
        log(f"cedarpy {peers_cedarpy.version()}")
        results["cedarpy"] = peers_cedarpy.run(args.repeats, SIZES, args.scale, log=log)
        raw = distinct_requests(CEDAR_CHECK)
        theirs = {n: peers_cedarpy.decisions(n, raw) for n in SIZES}
        results["agreement"]["cedarpy"] = agreement(verdicts, theirs)  # type: ignore[arg-type]

    reason = "--skip" if "iam-simulate" in args.skip else peers_iam_simulate.available()
    if reason:
        results["skipped"]["iam_simulate"] = reason
        log(f"iam-simulate: skipped: {reason}")
    else:
        log(f"iam-simulate {peers_iam_simulate.VERSION} (node, core {cpu})")
        sim = peers_iam_simulate.run(args.repeats, SIZES, args.scale, cpu=cpu, log=log)
        results["agreement"]["iam_simulate"] = agreement(verdicts, sim.pop("decisions"))
        results["iam_simulate"] = sim

    results["loadavg_end"] = loadavg()
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    m = results["machine"]
    cedar_version = results.get("cedarpy", {}).get("version", "—")
    sim_version = results.get("iam_simulate", {}).get("versions", {}).get("iamSimulate", "—")
    print(f"# {m['date']}, {m['nproc']} CPUs ({m['cpu_model']}), pinned to core {cpu}, "
          f"repeats {args.repeats}, Python {m['python']}, node {m['node']}, cedarpy {cedar_version}, "
          f"iam-simulate {sim_version}; load average {results['loadavg_start']} -> {results['loadavg_end']}; "
          f"{results['elapsed_s']} s")
    print("# µs per decision, median (min–max) over the repeats; "
          "ratio = peer median / lambdaperm no-memo median")
    print()
    print(tables(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
