"""Run a static test of moto's code in a new interpreter.

Some tests read moto's backend code as moto ships it (its methods, their sources and signatures). Other tests of
the same pytest process (an in-process server: tests/security/test_parser_differential.py, the structural oracle's
own tests, persistence round 12) install lambdaperm's replacements into moto's classes, for the rest of the
process; which tests share a process depends on the order and on how pytest-xdist spreads the files. A test
decorated here runs in a fresh `python` whatever ran before it, and fails with that interpreter's output.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_RUNNING = "LAMBDAPERM_TEST_FRESH_INTERPRETER"  # set, in the new interpreter, to the test it runs


def fresh_interpreter(test: Callable[[], None]) -> Callable[[], None]:
    name = f"{test.__module__}.{test.__name__}"

    @functools.wraps(test)
    def run() -> None:
        if os.environ.get(_RUNNING) == name:
            test()
            return
        code = f"import {test.__module__} as m; m.{test.__name__}()"
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=_ROOT,
            env={**os.environ, _RUNNING: name},
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, (
            f"{name} failed in a fresh interpreter:\n{done.stdout[-3000:]}{done.stderr[-6000:]}"
        )

    return run
