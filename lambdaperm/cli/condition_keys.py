"""`python -m lambdaperm.cli.condition_keys [--check]`: write docs/condition-keys.md, the table of the
condition keys AWS documents for every action lambdaperm serves against the keys lambdaperm supplies
(`lambdaperm.catalog.coverage.condition_keys_markdown`). `--check` only reports whether the file is current.

Served: the operations of our own control plane (IAM, STS, Lambda, CloudTrail: those with a handler) and
every operation the catalog maps for the data-plane services (they are authorized, then executed by the
embedded backend).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Sequence
from pathlib import Path

from lambdaperm.catalog.coverage import condition_keys_markdown
from lambdaperm.gateway.server import DATA_PLANE, SERVICES

DOC = Path(__file__).resolve().parents[2] / "docs" / "condition-keys.md"


def served() -> dict[str, Collection[str] | None]:
    out: dict[str, Collection[str] | None] = {name: set(ops) for name, ops in SERVICES.items()}
    out.update({name: None for name in DATA_PLANE})
    return out


def text() -> str:
    return condition_keys_markdown(served())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambdaperm.cli.condition_keys", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/condition-keys.md is stale")
    args = parser.parse_args(argv)
    current = text()
    if args.check:
        stale = not DOC.exists() or DOC.read_text(encoding="utf-8") != current
        print("docs/condition-keys.md is stale" if stale else "docs/condition-keys.md is current")
        return 1 if stale else 0
    DOC.write_text(current, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
