"""Where a server's memory cgroup is (runtime/memory_cgroups.py `find`), read from /proc/self/cgroup and
/proc/self/mountinfo as the kernel writes them (cgroups(7), proc(5)), and how a sandbox joins its cgroup."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lambdaperm.runtime.memory_cgroups import JOIN, Hierarchy, find

HYBRID_CGROUP = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n"
HYBRID_MOUNTS = (
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
)
V2_MOUNTS = "30 23 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"


def test_a_v1_memory_hierarchy_is_found_before_v2() -> None:
    """Hybrid hosts (this one): the memory controller is bound to the v1 hierarchy, v2 has none."""
    assert find(HYBRID_CGROUP, HYBRID_MOUNTS) == Hierarchy(1, Path("/sys/fs/cgroup/memory/process_api/abc"))


def test_v2_alone() -> None:
    found = find("0::/user.slice/user-1000.slice/session-2.scope\n", V2_MOUNTS)
    assert found == Hierarchy(2, Path("/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope"))


def test_a_mount_of_part_of_the_hierarchy() -> None:
    """A container without a cgroup namespace: its own subtree is mounted at /sys/fs/cgroup/memory."""
    mounts = "35 31 0:32 /docker/ab /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    assert find("4:memory:/docker/ab/inner\n", mounts) == Hierarchy(1, Path("/sys/fs/cgroup/memory/inner"))
    assert isinstance(find("4:memory:/elsewhere\n", mounts), str)  # outside the mounted part: none, said why


def test_no_memory_hierarchy_is_said() -> None:
    assert isinstance(find("4:memory:/x\n", "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"), str)
    assert isinstance(find("", ""), str)


def test_a_sandbox_that_cannot_join_its_cgroup_does_not_start(tmp_path: Path) -> None:
    """Fail closed: a cgroup.procs that cannot be written ends the launch before the command runs (exit 125), and the
    message names no path."""
    marker = tmp_path / "ran"
    procs = tmp_path / "missing" / "cgroup.procs"
    out = subprocess.run(["sh", "-c", JOIN, str(procs), "touch", str(marker)], capture_output=True, text=True)
    assert out.returncode == 125 and not marker.exists()
    assert str(tmp_path) not in out.stderr and "memory cgroup" in out.stderr
    ok = tmp_path / "cgroup.procs"
    out = subprocess.run(["sh", "-c", JOIN, str(ok), "touch", str(marker)], capture_output=True, text=True)
    assert out.returncode == 0 and marker.exists()
    assert ok.read_text().strip().isdigit() and int(ok.read_text()) != os.getpid()  # the shell's own pid, then exec
