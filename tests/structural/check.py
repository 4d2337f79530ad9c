"""Reading what a server's oracle recorded, and failing when *acted-on ⊆ authorized* does not hold.

`oracle_env(server_log)` is what the end-to-end fixtures add to a server's environment;
`check_server(server_log)` runs when the server has stopped and raises `OracleViolation` naming every
offending request (its id, operation, authorized resources and each uncovered touch with the backend call
that made it). A server the oracle was not loaded into fails the check too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .containment import Violation, violations
from .hooks import ENV_LOG, ENV_ROLE, INSTALLED

SITE = Path(__file__).resolve().parent / "site"


class OracleViolation(AssertionError):
    """The backend acted on something the request was not authorized for."""


def oracle_log(server_log: Path) -> Path:
    return server_log.with_suffix(".oracle.jsonl")


def oracle_env(server_log: Path, role: str = "lambdaperm") -> dict[str, str]:
    """Environment variables that load the oracle into a server whose output goes to `server_log`."""
    path = os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, ENV_LOG: str(oracle_log(server_log)), ENV_ROLE: role}


def read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class Report:
    requests: int = 0  # data-plane requests that reached a backend
    touches: int = 0
    deliveries: int = 0
    found: list[Violation] = field(default_factory=list)


def joined(entries: list[dict[str, Any]], upstream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """lambdaperm's lines with the touches the upstream recorded for each forwarded request."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for line in upstream:
        if line.get("upstream"):
            by_id.setdefault(line["upstream"], []).append(line)
    out = []
    for entry in entries:
        if entry.get("forwarded"):
            entry = dict(entry)
            for line in by_id.get(entry["request"], ()):
                entry["touches"] = entry["touches"] + line["touches"]
                entry["methods"] = entry["methods"] + line["methods"]
                entry["errors"] = entry["errors"] + line["errors"]
        out.append(entry)
    return out


def report(entries: list[dict[str, Any]]) -> Report:
    result = Report()
    for entry in entries:
        if INSTALLED in entry:
            continue
        result.requests += 1
        result.touches += len(entry.get("touches", ()))
        result.deliveries += sum(1 for t in entry.get("touches", ()) if t.get("delivery"))
        result.found += violations(entry)
    return result


def check_server(server_log: Path, upstream_log: Path | None = None) -> Report:
    """Check one stopped server's record (joined with its upstream's, if any); raise on any violation."""
    path = oracle_log(server_log)
    entries = read(path)
    if not any(INSTALLED in e for e in entries):
        raise OracleViolation(
            f"the structural oracle was not loaded into the server of {server_log} "
            f"(no {path.name}): its run proves nothing"
        )
    if upstream_log is not None:
        upstream = read(upstream_log)
        if not any(INSTALLED in e for e in upstream):
            raise OracleViolation(f"the structural oracle was not loaded into the upstream ({upstream_log})")
        entries = joined(entries, upstream)
    result = report(entries)
    if result.found:
        listed = "\n".join(f"  - {v}" for v in result.found[:50])
        more = f"\n  … and {len(result.found) - 50} more" if len(result.found) > 50 else ""
        raise OracleViolation(f"acted-on ⊄ authorized in {len(result.found)} case(s) ({path}):\n{listed}{more}")
    return result
