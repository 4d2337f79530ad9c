"""The list of operations the catalog was reviewed against is the pinned botocore's (catalog/reviewed.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore
import pytest

from lambdaperm.catalog import reviewed, services

CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"


def _pinned(package: str) -> str:
    match = re.search(rf"^{package}==(\S+)$", CONSTRAINTS.read_text(), re.MULTILINE)
    assert match, f"{package} is not pinned in constraints.txt"
    return match.group(1)


def test_the_list_is_the_pinned_botocores() -> None:
    assert reviewed.reviewed_botocore() == _pinned("botocore")


def test_the_list_is_current() -> None:
    if botocore.__version__ != _pinned("botocore"):
        pytest.skip(f"botocore {botocore.__version__} is installed, {_pinned('botocore')} is pinned")
    on_disk = json.loads(reviewed.DATA.read_text(encoding="utf-8"))
    assert on_disk == reviewed.generate(), "regenerate: python -m lambdaperm.catalog.reviewed --write"


def test_an_operation_outside_the_list_is_not_considered(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a newer botocore adds is unmapped even where its name is an IAM action (iam:PassRole)."""
    monkeypatch.setattr(services, "botocore_operations", lambda service: frozenset({"PassRole", "GetRole"}))
    services.operations.cache_clear()
    try:
        assert services.operations("iam") == frozenset({"GetRole"})
    finally:
        services.operations.cache_clear()
