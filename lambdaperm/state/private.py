"""The state directory is private to the server's OS user: it holds every account's secret access keys (the
database), every function's code and the trail. Directories are 0700 and files 0600 whatever the umask, and an
existing path with looser modes (an older version, a careless hand) is tightened, with a warning naming it.

Threat model: docs/security.md ("State at rest"). An attacker with the server's own OS user is out of scope.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600

log = logging.getLogger("lambdaperm.state")


def private_directory(path: Path) -> Path:
    """Create `path` (and its missing parents) and make it 0700."""
    existed = path.is_dir()
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    _tighten(path, DIRECTORY_MODE, report=existed)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if missing (never readable by others, not even for an instant) and make it 0600."""
    existed = path.exists()
    fd = os.open(path, os.O_CREAT | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE, report=existed)
    return path


def tighten_if_present(path: Path, wanted: int = FILE_MODE) -> None:
    """Make an existing file (or directory) `wanted` if it is looser; nothing if it does not exist."""
    if path.exists():
        _tighten(path, wanted, report=True)


def _tighten(path: Path, wanted: int, *, report: bool) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current == wanted:
        return
    os.chmod(path, wanted)
    if report and current & ~wanted:
        log.warning(
            "tightened %s from %04o to %04o: the state directory is private to the server's user", path, current, wanted
        )
