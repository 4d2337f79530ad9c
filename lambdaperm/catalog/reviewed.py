"""The operations the catalog was reviewed against: those of the pinned botocore (constraints.txt).

An operation a newer botocore adds is not covered by the catalog's review, even when its name happens to be
an IAM action of the Service Authorization Reference (a permission-only action today, such as iam:PassRole,
may become an API operation with other parameters and other resources). So the catalog maps only the
operations listed in `data/reviewed_operations.json`, generated from the pinned botocore's models; any other
is unmapped, and a request for it is denied by name (fail closed). `lambdaperm check-upstream` lists what a
newer release adds; adopting it means regenerating the list after reviewing the new operations:

    python -m lambdaperm.catalog.reviewed --write
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "reviewed_operations.json"


@cache
def _reviewed() -> dict[str, frozenset[str]]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    return {service: frozenset(names) for service, names in data["operations"].items()}


def reviewed_botocore() -> str:
    """The botocore version the list was generated from."""
    return str(json.loads(DATA.read_text(encoding="utf-8"))["botocore"])


def reviewed_operations(service: str) -> frozenset[str]:
    """The operations of `service` the catalog was reviewed against (empty for a service it does not cover)."""
    return _reviewed().get(service, frozenset())


def generate() -> dict[str, object]:
    """The list, from the installed botocore's models."""
    import botocore  # type: ignore[import-untyped]

    from .services import IAM_PREFIX, botocore_operations

    return {
        "botocore": botocore.__version__,
        "operations": {service: sorted(botocore_operations(service)) for service in sorted(IAM_PREFIX)},
    }


def main(argv: list[str]) -> int:
    text = json.dumps(generate(), indent=1, sort_keys=True) + "\n"
    if argv == ["--write"]:
        DATA.write_text(text, encoding="utf-8")
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
