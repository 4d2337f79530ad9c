"""docs/coverage.md is generated from the catalog and must not drift; coverage of every service.

The catalog considers every operation of the installed botocore's models, so the exact lists (docs/coverage.md,
the operations left unmapped) describe the botocore pinned in constraints.txt, the one the README's install and CI
use. Another botocore (a fresh install without `-c constraints.txt`) knows other operations: that install is not
broken — the server denies what the catalog does not map, naming it — so the exact tests are skipped there, and
what holds for every botocore is still checked: each unmapped operation is denied, and each operation the pinned
catalog maps is still mapped. The operations that botocore adds are reported as a warning; `lambdaperm
check-upstream` lists what the newest releases add.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import botocore
import pytest

from lambdaperm.catalog import (
    UnmappedOperation,
    coverage_markdown,
    mapped_operations,
    reference,
    required_actions,
    services,
    unmapped_operations,
)
from lambdaperm.cli.upstream_diff import pinned_versions

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "coverage.md"
CONSTRAINTS = ROOT / "constraints.txt"
REGENERATE = (
    'python -c "from lambdaperm.catalog import coverage_markdown; '
    "open('docs/coverage.md', 'w').write(coverage_markdown())\""
)
PINNED = pinned_versions(CONSTRAINTS.read_text(encoding="utf-8")).get("botocore") if CONSTRAINTS.is_file() else None
INSTALLED = str(botocore.__version__)
ON_PIN = PINNED == INSTALLED
pinned_models = pytest.mark.skipif(
    not ON_PIN,
    reason=f"botocore {INSTALLED} is installed, not the pinned {PINNED} (constraints.txt): docs/coverage.md and the "
    "unmapped list describe the pinned models. Install with `-c constraints.txt` to run this test; "
    "test_unmapped_operations_are_denied and test_the_pinned_mapping_holds check this botocore; "
    "`lambdaperm check-upstream` lists what newer releases add.",
)


class NewUpstreamOperations(UserWarning):
    """The installed botocore has operations the pinned one has not (reported, not a failure)."""


def documented_operations() -> dict[str, tuple[set[str], set[str]]]:
    """service → (mapped, unmapped) operations as docs/coverage.md lists them: the catalog on the pinned botocore."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    mapped: set[str] = set()
    unmapped: set[str] = set()
    for line in DOC.read_text(encoding="utf-8").splitlines():
        section = re.match(r"^## (\S+) \(`", line)
        if section:
            mapped, unmapped = set(), set()
            out[section.group(1)] = (mapped, unmapped)
        elif out and (row := re.match(r"^\| `([A-Za-z0-9]+)` \|", line)):
            mapped.add(row.group(1))
        elif out and line.startswith("Unmapped (denied): "):
            unmapped.update(re.findall(r"`([A-Za-z0-9]+)`", line))
    return out


@pinned_models
def test_coverage_doc_is_in_sync() -> None:
    assert DOC.read_text(encoding="utf-8") == coverage_markdown(), f"docs/coverage.md is stale; run {REGENERATE}"


@pinned_models
def test_every_service_is_covered() -> None:
    mapped = mapped_operations()
    for service in services.IAM_PREFIX:
        ops = services.operations(service)
        count = sum(1 for s, _, _ in mapped if s == service)
        assert ops and count >= len(ops) - 2, (service, count, len(ops))
    assert {(s, o) for s, o in unmapped_operations()} == {
        ("iam", "UpdateDelegationRequest"),
        ("s3", "RenameObject"),
        ("s3", "WriteGetObjectResponse"),
        ("logs", "GetLogObject"),
    }


def test_unmapped_operations_are_denied() -> None:
    """Whatever botocore is installed, every operation of it the catalog does not map fails closed."""
    unmapped = unmapped_operations()
    assert unmapped
    for service, operation in unmapped:
        with pytest.raises(UnmappedOperation) as info:
            required_actions(service, operation, {}, account="111111111111", region="us-east-1")
        assert (info.value.service, info.value.operation) == (service, operation)


def test_the_pinned_mapping_holds() -> None:
    """Every operation the catalog maps on the pinned botocore (docs/coverage.md) and the installed botocore still
    has is still mapped; the operations the installed botocore adds are reported (and denied if unmapped)."""
    documented = documented_operations()
    assert set(documented) == set(services.IAM_PREFIX)
    mapped = {(s, o) for s, o, _ in mapped_operations()}
    kept = [(s, o) for s, (ops, _) in documented.items() for o in sorted(ops) if o in services.operations(s)]
    assert [(s, o) for s, o in kept if (s, o) not in mapped] == []
    added = sorted(
        (s, o, (s, o) in mapped)
        for s in services.IAM_PREFIX
        for o in services.operations(s)
        if o not in documented[s][0] | documented[s][1]
    )
    if ON_PIN:
        assert added == [], f"docs/coverage.md is stale; run {REGENERATE}"
    elif added:
        listed = ", ".join(f"{s}:{o} ({'mapped by name' if m else 'UNMAPPED: denied'})" for s, o, m in added)
        warnings.warn(NewUpstreamOperations(f"botocore {INSTALLED} (pinned: {PINNED}) adds {listed}"), stacklevel=1)


def test_mapped_actions_exist() -> None:
    for service, operation, actions in mapped_operations():
        assert operation in services.operations(service)
        for action in actions:
            assert reference.action(action) is not None, (service, operation, action)


def test_required_ec2_operations() -> None:
    ops = {o for s, o, _ in mapped_operations() if s == "ec2"}
    assert {
        "DescribeVpcs",
        "DescribeSubnets",
        "DescribeSecurityGroups",
        "CreateVpc",
        "DeleteVpc",
        "CreateSubnet",
        "DeleteSubnet",
        "CreateSecurityGroup",
        "DeleteSecurityGroup",
        "CreateNetworkInterface",
        "DescribeNetworkInterfaces",
        "DeleteNetworkInterface",
        "CreateVpcEndpoint",
        "DescribeVpcEndpoints",
        "DeleteVpcEndpoints",
    } <= ops
