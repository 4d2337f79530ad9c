"""Review round 1: the state directory holds every account's secret access keys (state.db), function code and the
trail; it must be readable by the server's OS user only, whatever the umask. Started as a real `lambdaperm serve`
(with a permissive umask, as a shared machine may have), the files are stat'ed.

Threat: another local OS user reads `state.db` (or its -wal, where fresh writes live) and takes every account's
keys. Expected: the directory and its subdirectories 0700, the database, -wal, -shm and code archives 0600; a
state directory created earlier with looser modes is tightened at start-up, and the log says so.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, zip_of


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def loose(path: Path) -> list[str]:
    """Every file or directory under `path` (itself included) that a group or other user can reach."""
    found = [] if mode(path) & 0o077 == 0 else [f"{path} {oct(mode(path))}"]
    for entry in path.rglob("*"):
        if entry.relative_to(path).parts[0] == "runtime":
            continue  # unpacked code for sandboxed workers: world-readable by design, inside the 0700 directory
        if not entry.is_symlink() and mode(entry) & 0o077:
            found.append(f"{entry} {oct(mode(entry))}")
    return found


def populate(server: Endpoint) -> None:
    """Keys, a function (a code archive), a trail: every kind of secret the state holds; and a write after the WAL
    exists, so that -wal and -shm are there to be checked."""
    iam = server.client("iam")
    iam.create_user(UserName="someone")
    iam.create_access_key(UserName="someone")
    role = make_role(iam, "fn-role")
    server.client("lambda").create_function(
        FunctionName="f",
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_of({"app.py": "def handler(e, c):\n    return 1\n"})},
    )


def test_fresh_state_is_private_whatever_the_umask(make_server: Callable[..., Endpoint], tmp_path: Path) -> None:
    state = tmp_path / "state"
    with umask(0o002):
        server = make_server(state)
    populate(server)
    assert mode(state) == 0o700
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        assert (state / name).exists(), name
        assert mode(state / name) == 0o600, name
    assert mode(state / "code") == 0o700
    assert [mode(p) for p in (state / "code").glob("*.zip")] == [0o600]
    assert loose(state) == []


def test_existing_loose_state_is_tightened_at_start(make_server: Callable[..., Endpoint], tmp_path: Path) -> None:
    state = tmp_path / "state"
    with umask(0o022):
        first = make_server(state)
        populate(first)
    for entry in [state, *state.rglob("*")]:  # as an older version (or a careless hand) left it
        if not entry.is_symlink():
            entry.chmod(0o755 if entry.is_dir() else 0o644)
    from tests.e2e.conftest import stop_server

    stop_server(first)
    second = make_server(state)
    assert mode(state) == 0o700
    assert mode(state / "state.db") == 0o600
    assert mode(state / "code") == 0o700
    assert loose(state) == []
    assert "tightened" in second.log.read_text()
    second.client("iam").get_user(UserName="someone")  # the data survived
