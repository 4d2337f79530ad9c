"""Benchmark of lambdaperm's policy engine (issue: policy engine, §5). Not a test: run it by hand.

    python benchmarks/policy_engine.py [--repeats 5] [--stream 100000] [--json out.json]

Measures, on one core: a hot repeated request (memoized by Evaluator), a stream of distinct requests
with the realistic 11-statement policy, and the distinct-request cost as the identity policy grows to
2, 11, 101 and 1,001 statements. Prints median and min-max over the repeats.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import distinct_requests, function_policy, hot_request, identity_policy

from lambdaperm.policy import Evaluator, PolicySet, PolicyType, Scenario, decide, parse_policy
from lambdaperm.policy.request import AuthzRequest

SIZES = (2, 11, 101, 1001)


def policy_set(n: int) -> PolicySet:
    # 1,001 statements is far past the 6,144-character quota: lift it, the point is the scaling.
    return PolicySet(identity=(parse_policy(identity_policy(n), PolicyType.IDENTITY, max_size=10**7),),
                     resource=parse_policy(function_policy(), PolicyType.RESOURCE))


def requests(raw: list[dict[str, object]]) -> list[AuthzRequest]:
    return [Scenario.from_json(r).request for r in raw]


def timed(fn: Callable[[], int], repeats: int) -> list[float]:
    """Seconds per operation for each repeat (fn returns the number of operations it did).

    As timeit does, the collector is kept out of the timing: the heap (100,000 prebuilt requests) is
    collected and frozen first, so a full collection scanning it is not charged to the decisions.
    """
    out = []
    for _ in range(repeats):
        gc.collect()
        gc.freeze()
        start = time.perf_counter()
        ops = fn()
        out.append((time.perf_counter() - start) / ops)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    us = [s * 1e6 for s in samples]
    return {"median_us": statistics.median(us), "min_us": min(us), "max_us": max(us)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--stream", type=int, default=100_000)
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    results: dict[str, object] = {}

    hot = Scenario.from_json(hot_request()).request
    evaluator = Evaluator(policy_set(11))
    evaluator.decide(hot)

    def hot_loop() -> int:
        d = evaluator.decide
        for _ in range(200_000):
            d(hot)
        return 200_000
    results["hot_11"] = summary(timed(hot_loop, args.repeats))

    def hot_uncached() -> int:
        ps = evaluator.policies
        for _ in range(20_000):
            decide(ps, hot)
        return 20_000
    results["hot_11_uncached"] = summary(timed(hot_uncached, args.repeats))

    stream = requests(distinct_requests(args.stream))
    for n in SIZES:
        ps = policy_set(n)
        reqs = stream if n <= 11 else stream[: max(2000, args.stream // (n // 10))]

        def run(ps: PolicySet = ps, reqs: list[AuthzRequest] = reqs) -> int:
            ev = Evaluator(ps)  # fresh memo: every request is a miss
            for r in reqs:
                ev.decide(r)
            return len(reqs)
        results[f"distinct_{n}"] = summary(timed(run, args.repeats))

    outcomes: dict[str, int] = {}
    ev = Evaluator(policy_set(11))
    for r in stream[:10_000]:
        o = ev.decide(r).outcome.value
        outcomes[o] = outcomes.get(o, 0) + 1
    results["outcome_mix_first_10000"] = outcomes

    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
