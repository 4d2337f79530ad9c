"""A memory cgroup per sandbox: what one execution environment holds of the host's memory is bounded by its MemorySize.

Why (isolation review round 6): a worker's ``RLIMIT_DATA`` counts private writable mappings only. A handler of a
128 MB function held 1.5 GiB of host memory through files in ``/dev/shm``, memfds and shared anonymous mappings
(``mmap(MAP_SHARED)``) — memory every account's workers and the server share (no swap: the kernel's OOM killer then
picks a victim anywhere). On AWS each execution environment has the function's memory and no more, and a function
over it is ended (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): the invocation fails with
``Runtime.OutOfMemory``, "Runtime exited with error: signal: killed", and the REPORT line says ``Status: error``,
``Error Type: Runtime.OutOfMemory`` (as CloudWatch shows it; older reports showed ``Runtime.ExitError``).

How: the memory controller counts every page a process faults in — private or shared, anonymous, tmpfs (``/tmp``,
``/dev/shm``), memfds, the log the worker writes into the server's memfd — against the cgroup of that process. Each
sandbox gets a cgroup of its own below the server's own cgroup (``<own>/lambdaperm-<server pid>/sandbox-<n>``) whose
limit is the function's MemorySize plus ``MARGIN_MB`` for what lambdaperm's sandbox adds to a Lambda environment (the
sandbox's init and bwrap, output not yet read by the server), and no swap. The sandbox's first process joins it before
it executes anything (`Sandbox.command`: ``sh -c 'echo $$ > cgroup.procs && exec …'``), so every process of the
sandbox is in it; the kernel kills within the cgroup when it is full, and the runtime reads the cgroup's OOM-kill
count to report the death as AWS does. The cgroup is removed when the sandbox has been reaped.

Both hierarchies are supported: cgroup v1 (the ``memory`` hierarchy: ``memory.limit_in_bytes``,
``memory.memsw.limit_in_bytes``, ``memory.oom_control``) and cgroup v2 (``memory.max``, ``memory.swap.max``,
``memory.oom.group``, ``memory.events``; the server's cgroup must be able to enable the controller for a subtree,
which cgroup v2's "no internal processes" rule refuses when it holds processes and is not the root).
Where no writable cgroup exists — an ordinary user without a delegated subtree, no memory controller — `probe` says
why and sandboxes run without one (the health endpoint shows ``limits.memory.enforced: false``).

cgroups(7): https://man7.org/linux/man-pages/man7/cgroups.7.html; cgroup v2:
https://docs.kernel.org/admin-guide/cgroup-v2.html; v1 memory: https://docs.kernel.org/admin-guide/cgroup-v1/memory.html
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lambdaperm.runtime.errors import WorkerStartError

MARGIN_MB = 64  # what lambdaperm's sandbox adds to a Lambda environment: bwrap's processes, output not yet read
PROC_CGROUP = Path("/proc/self/cgroup")
MOUNTINFO = Path("/proc/self/mountinfo")
PREFIX = "lambdaperm-"  # <own cgroup>/lambdaperm-<server pid>
REMOVE_SECONDS = 2.0  # a reaped sandbox's cgroup can be busy for a moment while its last tasks leave
# Joins the cgroup whose cgroup.procs is $0, then executes the sandbox's command line: a failure ends here (exit 125),
# before anything of the sandbox runs, saying nothing of the host's paths.
JOIN = (
    '{ echo $$ > "$0"; } 2>/dev/null || { echo "lambdaperm: cannot join the sandbox memory cgroup" >&2; exit 125; }; '
    'exec "$@"'
)


def _read(path: Path) -> str:
    return path.read_text()


def _write(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


@dataclass(frozen=True)
class Hierarchy:
    """Where the server's own memory cgroup is: its directory and the cgroup version."""

    version: int  # 1 or 2
    own: Path  # the server's cgroup directory


def _mounts(mountinfo: str) -> list[tuple[str, str, str, set[str]]]:
    """(root, mount point, fstype, super options) of each mount in /proc/self/mountinfo."""
    mounts = []
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if not sep or len(fields) < 5 or len(rest) < 3:
            continue
        mounts.append((fields[3], fields[4].replace("\\040", " "), rest[0], set(rest[2].split(","))))
    return mounts


def find(proc_cgroup: str, mountinfo: str) -> Hierarchy | str:
    """The server's memory cgroup directory from its /proc/self/cgroup and /proc/self/mountinfo, or why there is
    none. A v1 ``memory`` hierarchy takes the controller away from v2, so it is looked for first."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                paths[controller] = parts[2]
    mounts = _mounts(mountinfo)
    if "memory" in paths:
        for root, point, fstype, options in mounts:
            if fstype == "cgroup" and "memory" in options:
                return _below(1, root, point, paths["memory"])
        return "the cgroup v1 memory hierarchy is not mounted"
    if "" in paths:
        for root, point, fstype, _options in mounts:
            if fstype == "cgroup2":
                return _below(2, root, point, paths[""])
        return "cgroup v2 is not mounted"
    return "no memory cgroup (neither a cgroup v1 memory hierarchy nor cgroup v2)"


def _below(version: int, root: str, point: str, own: str) -> Hierarchy | str:
    """The directory of `own` (a path of the hierarchy) under a mount of the hierarchy's `root` at `point`."""
    if own != root and not own.startswith(root.rstrip("/") + "/"):
        return "the server's cgroup is outside the mounted part of the hierarchy"
    return Hierarchy(version, Path(point) / own[len(root.rstrip("/")) :].lstrip("/"))


@dataclass
class SandboxMemory:
    """One sandbox's memory cgroup."""

    path: Path
    version: int

    @property
    def procs(self) -> Path:
        """The file the sandbox's first process writes its pid to (see JOIN)."""
        return self.path / "cgroup.procs"

    def oom_kills(self) -> int:
        """How many processes of the sandbox the kernel killed for its memory limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in _read(self.path / name).splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self) -> bool:
        """Remove the cgroup once its processes are gone (reaped); False if it is still busy after a moment."""
        deadline = time.monotonic() + REMOVE_SECONDS
        while True:
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError as e:
                if e.errno != errno.EBUSY or time.monotonic() >= deadline:
                    return False
                time.sleep(0.01)


@dataclass
class MemoryCgroups:
    """The server's memory cgroups of sandboxes. Thread-safe."""

    hierarchy: Hierarchy
    sh: str  # the shell that joins a sandbox's cgroup before executing it (JOIN)
    margin_mb: int = MARGIN_MB
    _names: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def parent(self) -> Path:
        return self.hierarchy.own / f"{PREFIX}{os.getpid()}"

    def limit_bytes(self, memory_size_mb: int) -> int:
        return (memory_size_mb + self.margin_mb) << 20

    def _ensure_parent(self) -> Path:
        parent = self.parent
        with self._lock:
            if self.hierarchy.version == 2:  # a cgroup has memory.* files only if its parent enables the controller
                _enable_memory(self.hierarchy.own)  # EBUSY where the server's cgroup holds processes (not the root)
            parent.mkdir(exist_ok=True)
            if self.hierarchy.version == 2:
                _enable_memory(parent)
        return parent

    def create(self, memory_size_mb: int) -> SandboxMemory:
        """A new cgroup limited to `memory_size_mb` + the margin, without swap. OSError if it cannot be made."""
        path = self._ensure_parent() / f"sandbox-{next(self._names)}"
        path.mkdir()
        limit = str(self.limit_bytes(memory_size_mb))
        try:
            if self.hierarchy.version == 1:
                _write(path / "memory.limit_in_bytes", limit)
                if (path / "memory.memsw.limit_in_bytes").exists():  # memory + swap: no swap beyond the limit
                    _write(path / "memory.memsw.limit_in_bytes", limit)
            else:
                _write(path / "memory.max", limit)
                if (path / "memory.swap.max").exists():
                    _write(path / "memory.swap.max", "0")
                _write(path / "memory.oom.group", "1")  # the environment ends as a whole, as on AWS
        except OSError:
            SandboxMemory(path, self.hierarchy.version).remove()
            raise
        return SandboxMemory(path, self.hierarchy.version)

    def command(self, memory: SandboxMemory, argv: list[str]) -> list[str]:
        """`argv` run in `memory`'s cgroup from its first instruction on. WorkerStartError if `argv[0]` cannot be
        executed (the shell would start and then fail to, which would read as the runtime's own exit)."""
        if not os.access(argv[0], os.X_OK):
            raise WorkerStartError(f"cannot start the worker process: {os.path.basename(argv[0])} is not executable")
        return [self.sh, "-c", JOIN, str(memory.procs), *argv]

    def close(self) -> None:
        """Remove the server's directory of sandbox cgroups (the sandboxes' own are gone by then)."""
        _remove_tree(self.parent)

    def status(self) -> dict[str, object]:
        """What the health endpoint shows (no path)."""
        return {
            "enforced": True,
            "cgroup": f"v{self.hierarchy.version}",
            "limit": f"MemorySize + {self.margin_mb} MiB per sandbox, no swap",
            "margin_mb": self.margin_mb,
        }


def _enable_memory(cgroup: Path) -> None:
    if "memory" not in _read(cgroup / "cgroup.subtree_control").split():
        _write(cgroup / "cgroup.subtree_control", "+memory")


def _remove_tree(path: Path) -> None:
    """rmdir a cgroup and its child cgroups (those without processes)."""
    try:
        children = [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        return
    for child in children:
        _remove_tree(child)
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _sweep(own: Path) -> None:
    """Remove the cgroups a killed server left (``lambdaperm-<pid>`` of a process that no longer exists)."""
    try:
        entries = list(own.iterdir())
    except OSError:
        return
    for entry in entries:
        pid = entry.name[len(PREFIX) :]
        if entry.name.startswith(PREFIX) and pid.isdigit() and not Path(f"/proc/{pid}").exists():
            _remove_tree(entry)


def probe(margin_mb: int = MARGIN_MB) -> MemoryCgroups | str:
    """Memory cgroups for this server's sandboxes, checked by making one and starting a process in it; or why there
    are none (said without a path: the health endpoint shows it)."""
    sh = shutil.which("sh")
    if sh is None:
        return "no sh to start a sandbox in its cgroup"
    try:
        found = find(_read(PROC_CGROUP), _read(MOUNTINFO))
    except OSError as e:
        return f"cannot read the server's cgroup: {e.strerror}"
    if isinstance(found, str):
        return found
    if found.version == 2 and "memory" not in _controllers(found.own / "cgroup.controllers"):
        return "cgroup v2 without the memory controller in the server's cgroup"
    cgroups = MemoryCgroups(found, sh, margin_mb)
    _sweep(found.own)
    try:
        memory = cgroups.create(128)
    except OSError as e:
        cgroups.close()
        return _why(found, e)
    try:
        joined = subprocess.run(cgroups.command(memory, [sh, "-c", ":"]), capture_output=True, timeout=10, env={})
        reason = "" if joined.returncode == 0 else "a process cannot join a sandbox cgroup (cgroup.procs not writable)"
    except (OSError, subprocess.SubprocessError) as e:
        reason = f"a process could not be started in a sandbox cgroup: {e}"
    memory.remove()
    cgroups.close()
    return reason or cgroups


def _controllers(path: Path) -> list[str]:
    try:
        return _read(path).split()
    except OSError:
        return []


def _why(found: Hierarchy, e: OSError) -> str:
    if found.version == 2 and e.errno == errno.EBUSY:
        return (
            "cgroup v2: the server's cgroup holds processes and is not the root, so it cannot give the memory "
            'controller to a subtree (the "no internal processes" rule); start the server in a cgroup of its own '
            "with a delegated subtree (systemd-run --scope -p Delegate=yes …)"
        )
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (
            f"the server's cgroup (v{found.version}) is not writable by uid {os.geteuid()}: an ordinary user needs "
            "a delegated cgroup subtree (systemd user delegation), which this server does not have"
        )
    return f"cannot create a memory cgroup (v{found.version}): {e.strerror}"
