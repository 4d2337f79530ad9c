"""Static gates that run with the test suite: ruff, mypy --strict on the policy engine, and the
import-layer contracts of pyproject.toml (a wrong-way import fails here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff() -> None:
    proc = _run(sys.executable, "-m", "ruff", "check", "lambdaperm", "tests", "benchmarks")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_policy_engine() -> None:
    proc = _run(sys.executable, "-m", "mypy", "--strict", "lambdaperm/policy")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_layers() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("import-linter is not installed: pip install -e '.[test]'")
    proc = _run(exe)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: " in proc.stdout and " broken" in proc.stdout and "0 broken" in proc.stdout
