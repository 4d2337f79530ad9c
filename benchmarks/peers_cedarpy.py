"""Peer benchmark: the shared workload (benchmarks/workload.py) translated to Cedar and run by cedarpy.

    python benchmarks/peers_cedarpy.py [--repeats 5] [--json out.json]

Needs `pip install cedarpy` (the `bench` extra of pyproject.toml). Not a test: run it by hand, or through
benchmarks/run_all.py, which runs it next to lambdaperm and iam-simulate.

Translation (IAM -> Cedar), one Cedar policy per IAM statement, statement order kept:

* Effect Allow/Deny -> `permit` / `forbid`. IAM's "an explicit deny wins, otherwise any allow" for one
  account is exactly Cedar's "any forbid wins, otherwise any permit", so the combination needs no glue.
* The identity policy is attached to alice: every statement gets `principal == User::"<alice's ARN>"`.
  The Lambda function policy's statements get `principal == AwsService::"s3.amazonaws.com"` and
  `principal in AwsAccount::"444455556666"` (they never match alice, as in IAM, but are evaluated).
* Actions: a literal action list goes into Cedar's action scope, `action in [Action::"dynamodb:PutItem", ..]`
  (the idiomatic Cedar form); a wildcard action (`lambda:Invoke*`, `s3:*Object*`, `*`) becomes
  `context.action like "lambda:Invoke*"`, because Cedar cannot pattern-match entity ids. `*` alone drops
  the constraint. Cedar's `like` is case-sensitive, IAM's action match is not (the workload never needs it).
* Resources: Cedar cannot pattern-match entity ids either, so the request carries the resource ARN as
  `context.resource` and a wildcard Resource becomes `context.resource like "<pattern>"`; a literal
  Resource becomes `resource == Resource::"<ARN>"`; `"*"` drops the constraint. IAM matches ARNs segment
  by segment (the service segment literally); `like` globs the whole string. Same answers on this workload.
* Conditions: StringEquals -> `context has k && context.k == "v"`; NotIpAddress -> `!(ip.isInRange(..) ||
  ..)` with Cedar's ipaddr extension (the request's aws:SourceIp is an `ip(...)` value); Bool -> a Cedar
  boolean; ArnLike -> `like`. IAM's rule that a Not... operator matches when the key is absent is kept
  (`!(context has k) || ...`). Condition keys become fixed Cedar attribute names (sourceIp, viaAWSService,
  requestedRegion, sourceAccount, sourceArn): IAM's case-insensitive key lookup is not modelled.
* No entity store is needed (no attribute of an entity is read, `in` on an absent entity is equality), so
  the entities are the empty list; no schema, no validation.

What is timed, per decision (the request dicts are built before timing, as lambdaperm's are):

* `reparse`: `cedarpy.is_authorized(request, <policy text>, "[]")` -- the plain API, which re-parses the
  whole policy set on every call. This is what the issue's "cedarpy 105 µs -> 20 ms" figure measured.
* `handle`: `cedarpy.is_authorized(request, PolicySet, Entities)` with the policies and entities parsed
  once into cedarpy's reusable handles (cedarpy >= 4.10).
* `batch`: `cedarpy.is_authorized_batch(requests, PolicySet, Entities)` over chunks of `BATCH` requests.

Every variant still pays cedarpy's own per-call marshalling (json.dumps of the context, json.loads of each
answer), which is part of its Python API.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import USER, distinct_requests, function_policy, hot_request, identity_policy

SIZES = (2, 11, 101, 1001)
BATCH = 100
# Distinct requests timed per repeat, per policy size: (reparse, handle and batch). The first K requests of
# the same stream lambdaperm uses; reparse is ~20 ms per decision at 1,001 statements, hence the cut.
REPARSE_COUNTS = {2: 2000, 11: 2000, 101: 1000, 1001: 200}
HANDLE_COUNTS = {2: 10_000, 11: 10_000, 101: 2000, 1001: 500}
HOT_ITERATIONS = {"reparse": 2000, "handle": 20_000, "batch": 20_000}

# IAM condition key -> Cedar context attribute.
CONTEXT_KEYS = {
    "aws:sourceip": "sourceIp",
    "aws:viaawsservice": "viaAWSService",
    "aws:requestedregion": "requestedRegion",
    "aws:sourceaccount": "sourceAccount",
    "aws:sourcearn": "sourceArn",
}


def available() -> str | None:
    """None when cedarpy can run here, else the reason it cannot."""
    try:
        import cedarpy
    except ImportError as exc:
        return f"cedarpy is not installed (pip install cedarpy, or the `bench` extra): {exc}"
    if not hasattr(cedarpy, "PolicySet") or not hasattr(cedarpy, "Entities"):
        return "cedarpy is too old (no PolicySet/Entities handles; need cedarpy >= 4.10)"
    return None


def version() -> str:
    from importlib.metadata import version as dist_version

    return dist_version("cedarpy")


# --------------------------------------------------------------------------------------------- translation
def _str(value: str) -> str:
    return json.dumps(value)  # a Cedar string literal has JSON's escapes for what the workload contains


def _as_list(value: object) -> list[str]:
    return [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]


def _uid(kind: str, ident: str) -> str:
    return f"{kind}::{_str(ident)}"


def _action_clause(actions: list[str]) -> tuple[str, list[str]]:
    """(action scope, when-conditions) for an IAM Action element."""
    if "*" in actions:
        return "action", []
    literal = [a for a in actions if "*" not in a and "?" not in a]
    patterns = [a for a in actions if a not in literal]
    if not patterns:
        return "action in [" + ", ".join(_uid("Action", a) for a in literal) + "]", []
    alternatives = [f"context.action like {_str(p)}" for p in patterns]
    alternatives += [f"action == {_uid('Action', a)}" for a in literal]
    return "action", ["(" + " || ".join(alternatives) + ")" if len(alternatives) > 1 else alternatives[0]]


def _resource_clause(resources: list[str]) -> tuple[str, list[str]]:
    if "*" in resources:
        return "resource", []
    if len(resources) == 1 and "*" not in resources[0] and "?" not in resources[0]:
        return f"resource == {_uid('Resource', resources[0])}", []
    alternatives = [f"context.resource like {_str(r)}" for r in resources]
    return "resource", ["(" + " || ".join(alternatives) + ")" if len(alternatives) > 1 else alternatives[0]]


def _condition_clauses(condition: dict[str, dict[str, object]]) -> list[str]:
    out = []
    for operator, block in condition.items():
        for key, raw in block.items():
            attr = CONTEXT_KEYS[key.lower()]
            values = _as_list(raw)
            ref = f"context.{attr}"
            present = f"context has {attr}"
            if operator == "StringEquals":
                out.append(f"({present} && (" + " || ".join(f"{ref} == {_str(v)}" for v in values) + "))")
            elif operator in ("ArnLike", "StringLike"):
                out.append(f"({present} && (" + " || ".join(f"{ref} like {_str(v)}" for v in values) + "))")
            elif operator == "Bool":
                literals = ["true" if str(v).lower() == "true" else "false" for v in values]
                out.append(f"({present} && (" + " || ".join(f"{ref} == {b}" for b in literals) + "))")
            elif operator == "NotIpAddress":
                ranges = " || ".join(f"{ref}.isInRange(ip({_str(v)}))" for v in values)
                out.append(f"(!(context has {attr}) || !({ranges}))")
            elif operator == "IpAddress":
                ranges = " || ".join(f"{ref}.isInRange(ip({_str(v)}))" for v in values)
                out.append(f"(context has {attr} && ({ranges}))")
            else:
                raise ValueError(f"no Cedar translation for condition operator {operator}")
    return out


def _principal_scope(statement: dict[str, Any], attached_to: str | None) -> str:
    if attached_to is not None:
        return f"principal == {_uid('User', attached_to)}"
    principal = statement["Principal"]
    if "Service" in principal:
        return f"principal == {_uid('AwsService', principal['Service'])}"
    arn = principal["AWS"]
    if arn.endswith(":root"):
        return f"principal in {_uid('AwsAccount', arn.split(':')[4])}"
    return f"principal == {_uid('User', arn)}"


def translate_policy(doc: dict[str, Any], attached_to: str | None = None) -> list[str]:
    """One Cedar policy per statement; `attached_to` is the identity the identity policy is attached to."""
    out = []
    for st in doc["Statement"]:
        action_scope, when = _action_clause(_as_list(st["Action"]))
        resource_scope, resource_when = _resource_clause(_as_list(st["Resource"]))
        when += resource_when + _condition_clauses(st.get("Condition", {}))
        effect = "permit" if st["Effect"] == "Allow" else "forbid"
        scope = f"{_principal_scope(st, attached_to)}, {action_scope}, {resource_scope}"
        text = f"@id({_str(st.get('Sid', ''))})\n{effect}({scope})"
        if when:
            text += "\nwhen { " + " && ".join(when) + " }"
        out.append(text + ";")
    return out


def cedar_policies(n: int) -> str:
    """The Cedar text of identity_policy(n) attached to alice plus the function policy."""
    return "\n\n".join(translate_policy(identity_policy(n), USER) + translate_policy(function_policy()))


def cedar_request(req: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {"action": req["action"], "resource": req["resource"]}
    for key, value in req["context"].items():
        attr = CONTEXT_KEYS[key.lower()]
        if attr == "sourceIp":
            context[attr] = {"__extn": {"fn": "ip", "arg": value}}
        elif attr == "viaAWSService":
            context[attr] = str(value).lower() == "true"
        else:
            context[attr] = value
    return {"principal": {"type": "User", "id": req["principal"]},
            "action": {"type": "Action", "id": req["action"]},
            "resource": {"type": "Resource", "id": req["resource"]},
            "context": context}


# --------------------------------------------------------------------------------------------- timing
def _timed(fn: Callable[[], int], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        ops = fn()
        out.append((time.perf_counter() - start) / ops)
    return out


def _summary(samples: list[float], count: int) -> dict[str, float]:
    us = [s * 1e6 for s in samples]
    return {"median_us": statistics.median(us), "min_us": min(us), "max_us": max(us), "requests": count}


def _runners(policies: str) -> dict[str, Callable[[Sequence[dict[str, Any]]], int]]:
    import cedarpy

    handle = cedarpy.PolicySet.from_str(policies)
    entities = cedarpy.Entities.from_json_str("[]")
    is_authorized, is_authorized_batch = cedarpy.is_authorized, cedarpy.is_authorized_batch

    def reparse(reqs: Sequence[dict[str, Any]]) -> int:
        for r in reqs:
            is_authorized(r, policies, "[]")
        return len(reqs)

    def with_handle(reqs: Sequence[dict[str, Any]]) -> int:
        for r in reqs:
            is_authorized(r, handle, entities)
        return len(reqs)

    def batch(reqs: Sequence[dict[str, Any]]) -> int:
        for i in range(0, len(reqs), BATCH):
            is_authorized_batch(list(reqs[i:i + BATCH]), handle, entities)
        return len(reqs)

    return {"reparse": reparse, "handle": with_handle, "batch": batch}


def decisions(n: int, raw: Sequence[dict[str, Any]]) -> list[bool]:
    """cedarpy's allow/deny for each request (to check the translation against lambdaperm)."""
    import cedarpy

    handle = cedarpy.PolicySet.from_str(cedar_policies(n))
    entities = cedarpy.Entities.from_json_str("[]")
    reqs = [cedar_request(r) for r in raw]
    out: list[bool] = []
    for i in range(0, len(reqs), BATCH):
        for result in cedarpy.is_authorized_batch(reqs[i:i + BATCH], handle, entities):
            if result.diagnostics.errors:
                raise RuntimeError(f"cedar evaluation error: {result.diagnostics.errors}")
            out.append(result.allowed)
    return out


def run(repeats: int = 5, sizes: Sequence[int] = SIZES, scale: float = 1.0,
        log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """{case: {variant: summary}} for hot_11 and distinct_<n>; `scale` shrinks the request counts."""
    results: dict[str, Any] = {"version": version(), "batch_size": BATCH}
    hot = cedar_request(hot_request())
    runners = _runners(cedar_policies(11))
    for runner in runners.values():
        runner([hot] * BATCH)  # warm up
    results["hot_11"] = {}
    for variant, runner in runners.items():
        count = max(BATCH, int(HOT_ITERATIONS[variant] * scale))
        reqs = [hot] * count
        results["hot_11"][variant] = _summary(_timed(lambda r=runner, q=reqs: r(q), repeats), count)
    stream = [cedar_request(r) for r in distinct_requests(max(HANDLE_COUNTS.values()))]
    for n in sizes:
        text = cedar_policies(n)
        runners = _runners(text)
        runners["handle"](stream[:50])  # warm up
        case: dict[str, Any] = {"policy_chars": len(text)}
        for variant, runner in runners.items():
            counts = REPARSE_COUNTS if variant == "reparse" else HANDLE_COUNTS
            count = max(BATCH, int(counts[n] * scale))
            reqs = stream[:count]
            case[variant] = _summary(_timed(lambda r=runner, q=reqs: r(q), repeats), count)
            if log:
                log(f"cedarpy distinct_{n} {variant}: {case[variant]['median_us']:.1f} µs")
        results[f"distinct_{n}"] = case
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    ap.add_argument("--show-policies", type=int, metavar="N", help="print the Cedar text for N statements")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    if args.show_policies:
        print(cedar_policies(args.show_policies))
        return
    reason = available()
    if reason:
        sys.exit(f"cedarpy: skipped: {reason}")
    results = run(args.repeats, scale=args.scale, log=lambda s: print(s, file=sys.stderr))
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
