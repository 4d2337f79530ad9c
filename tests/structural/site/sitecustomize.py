"""Test-only: the end-to-end fixtures put this directory first on PYTHONPATH of the servers they start.
With LAMBDAPERM_STRUCTURAL_ORACLE naming a file, the structural oracle (tests/structural) is installed in
the process; without it, nothing happens."""

import os
import sys

if os.environ.get("LAMBDAPERM_STRUCTURAL_ORACLE"):
    _root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    if _root not in sys.path:
        sys.path.append(_root)
    from tests.structural.hooks import install_from_environment

    install_from_environment()
