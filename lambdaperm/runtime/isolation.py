"""Runtime isolation: every worker runs in a bubblewrap (``bwrap``) sandbox of its own.

Threat model: a handler is untrusted with respect to every other account and to the server. Inside its
sandbox a worker sees

- its own code, read-only, at ``/var/task`` (as on AWS) and the runtime's bootstrap at ``/var/runtime``;
- read-only: ``/usr`` (and the ``/bin``, ``/lib``… links or directories of the host), a short list of
  ``/etc`` entries a program needs (name service, TLS roots, time zone …) and the interpreter's own
  directories (prefix, site-packages);
- a private ``/tmp`` (tmpfs, 512 MiB), a minimal read-only ``/dev`` (no ``/dev/shm`` to write, as on Lambda) and a
  ``/proc`` of its own PID namespace, where
  the only processes are its own;
- nothing else: not the state directory (the database with every account's keys, the stored code of every
  function, the other workers' logs), not another worker's process (no /proc entry, no signal target),
  not the server's environment.

Namespaces: mount, PID, IPC, UTS, cgroup and network always. The network namespace holds only the sandbox's own
loopback (another sandbox's loopback listeners and abstract Unix sockets are out of reach, isolation round 13); the
handler reaches the endpoint at the address AWS_ENDPOINT_URL names through the sandbox's link (`endpoint_links`, a
Unix socket of its own bound at ``/run/lambdaperm``), as on AWS it calls the service endpoints. Where bwrap cannot
make the network namespace the probe fails: there is no sandbox that shares the host's network. As an ordinary user
the sandbox is a new user namespace (bwrap's unprivileged mode) in which nested user namespaces are disabled. As root,
bwrap sets up the same mounts with its privileges and the worker then runs as a uid/gid of its own
(`sandbox_uids`, no supplementary groups, empty capability sets, ``no_new_privs``) through ``setpriv`` — Lambda
also runs handlers as an unprivileged user — so that it does not hold root's file ownership either.

Processes and threads: at most ``max_tasks`` per sandbox (Lambda's quota: 1,024 execution processes/threads,
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), through RLIMIT_NPROC, which the bootstrap
sets before it imports the handler. The kernel counts that limit per (user namespace, uid) (Linux 5.14+), so it is
per sandbox: as an ordinary user each sandbox is a user namespace of its own, as root each has a uid of its own.
The probe checks it from inside; where the count is not per sandbox (an older kernel) there is no limit, and the
health endpoint says so (a shared budget would let one account's bomb starve the others).

Kernel budgets counted per user (inotify, fanotify, user namespaces, POSIX message queues, queued signals): as root
each sandbox's uid has its own; as an ordinary user the sandboxes share the server uid's, so each gets a fair share
of them, set by a launcher in front of bwrap, and at most ``max_sandboxes`` live at once (`kernel_budgets`,
`sandbox_slots`). Where the launcher cannot run, the health endpoint says the budgets are shared.

Where this cannot work (not Linux, no ``bwrap``, namespaces refused by the kernel or a container's seccomp
profile, an interpreter installed in a directory that holds the state) `probe` says why, and the caller
announces it: the server never runs handlers unisolated silently.

bubblewrap: https://github.com/containers/bubblewrap (Debian package ``bubblewrap``).
"""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lambdaperm.runtime import memory_cgroups
from lambdaperm.runtime.endpoint_links import INNER_DIR
from lambdaperm.runtime.kernel_budgets import MAX_SANDBOXES, RLIMITS, KernelBudgets, applicable, fair_shares
from lambdaperm.runtime.memory_cgroups import MemoryCgroups, SandboxMemory
from lambdaperm.runtime.proc_views import DEFAULT_MEMORY_MB, ProcViews
from lambdaperm.runtime.sandbox_uids import SandboxUids

TASK_DIR = "/var/task"  # LAMBDA_TASK_ROOT on AWS
RUNTIME_DIR = "/var/runtime"  # LAMBDA_RUNTIME_DIR on AWS
SANDBOX_UID = 65534  # nobody/nogroup: the default uid of `Sandbox.command` as root (a runtime gives each its own)
MAX_TASKS = 1024  # Lambda's "Execution processes/threads" quota per execution environment
TMP_BYTES = 512 << 20  # /tmp of a Lambda function's default ephemeral storage
PROBE_SECONDS = 10.0
TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC_ENTRIES = (
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "crypto-policies",
    "gai.conf",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "pki",
    "protocols",
    "resolv.conf",
    "services",
    "ssl",
    "timezone",
)
# What the probe checks from inside a sandbox: its PID namespace holds only itself and bwrap's init, it
# holds no capability, it is not root, and the private paths are not there.
# And that RLIMIT_NPROC counts this sandbox alone: under a limit of (the tasks it can see + 1) it can fork, under
# a limit of 1 it cannot (were the count the uid's across the host, the server's own threads would exceed it).
PROBE = (
    "import json, os, resource, socket, sys\n"
    "caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm'))]\n"
    "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
    "def forks(limit):\n"
    "    resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))\n"
    "    try:\n"
    "        child = os.fork()\n"
    "    except OSError:\n"
    "        return False\n"
    "    if child == 0:\n"
    "        os._exit(0)\n"
    "    os.waitpid(child, 0)\n"
    "    return True\n"
    "tasks = sum(len(os.listdir(f'/proc/{p}/task')) for p in pids)\n"
    "nproc = forks(tasks + 1) and not forks(1)\n"
    f"rlimits = {{n: resource.getrlimit(getattr(resource, n))[1] for n in {RLIMITS!r}}}\n"
    "def interfaces():\n"
    "    return sorted(name for _, name in socket.if_nameindex())\n"
    "print(json.dumps({'uid': os.getuid(), 'pids': pids, 'caps': caps, 'nproc': nproc, 'rlimits': rlimits,\n"
    "                  'net': os.readlink('/proc/self/ns/net'), 'interfaces': interfaces(),\n"
    "                  'loadavg': open('/proc/loadavg').read(),\n"
    "                  'visible': [p for p in sys.argv[1:] if os.path.exists(p)]}))\n"
)
NO_TASK_LIMIT = ("RLIMIT_NPROC is not counted per sandbox here (Linux < 5.14 counts a uid across user namespaces):"
                 " a sandbox's processes and threads are not limited")


@dataclass(frozen=True)
class Sandbox:
    """How to start a command inside a worker sandbox (the command line of bwrap)."""

    bwrap: str
    setpriv: str | None  # set when the server is root: the worker drops to SANDBOX_UID
    system: tuple[str, ...]  # bwrap arguments for the read-only system view
    version: str
    options: frozenset[str] = frozenset()  # the options this bwrap knows (older ones lack a few)
    max_tasks: int | None = MAX_TASKS  # RLIMIT_NPROC of every sandbox; None where it would not be per sandbox
    no_task_limit: str = ""  # why max_tasks is None
    budgets: KernelBudgets | None = None  # unprivileged: each sandbox's share of the uid's kernel budgets
    no_budgets: str = ""  # unprivileged without budgets: why
    memory: MemoryCgroups | None = None  # a memory cgroup per sandbox (review round 6), None where none can be made
    views: ProcViews | None = None  # the sandbox's own view of /proc's host-wide counters (isolation round 16)
    no_memory: str = ""  # why memory is None

    @property
    def privileged(self) -> bool:
        return self.setpriv is not None

    def command(self, argv: list[str], *, task_root: Path, runtime_dir: Path, info_fd: int | None = None,
                uid: int = SANDBOX_UID, memory: SandboxMemory | None = None, link: Path | None = None,
                memory_mb: int | None = None) -> list[str]:
        """``argv`` (a path inside the sandbox) in a new sandbox whose /var/task is ``task_root``. bwrap
        writes ``{"child-pid": N}`` to `info_fd`: the host pid of the sandbox's init, whose death ends every
        process of the sandbox (see `Worker.kill`). `uid`: the worker's uid and gid when the server is root.
        `memory`: the sandbox's memory cgroup (see `memory_cgroups`), joined before anything else runs.
        `link`: the directory of the sandbox's link to the endpoint (`endpoint_links`), bound read-only at
        ``/run/lambdaperm``. `memory_mb`: the function's MemorySize, which its view of ``/proc/meminfo`` shows
        (`proc_views`)."""
        args = self._command(argv, task_root=task_root, runtime_dir=runtime_dir, info_fd=info_fd, uid=uid, link=link,
                             memory_mb=memory_mb)
        if memory is not None and self.memory is not None:
            return self.memory.command(memory, args)
        return args

    def _command(self, argv: list[str], *, task_root: Path, runtime_dir: Path, info_fd: int | None,
                 uid: int, link: Path | None, memory_mb: int | None) -> list[str]:
        args = [
            self.bwrap,
            *(("--info-fd", str(info_fd)) if info_fd is not None else ()),
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--unshare-net",  # only its own loopback: the endpoint through its link (isolation round 13)
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
        ]
        if self.privileged:  # what setpriv needs to drop to SANDBOX_UID (and the bounding set)
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
        else:
            args += ["--unshare-user", "--disable-userns"]
        # the private /proc, /dev and /tmp first: an interpreter directory below /tmp (a virtualenv made
        # there) is then bound on top of the private /tmp instead of being hidden by it
        args += [
            "--proc",
            "/proc",
            # the sandbox's own view over the host-wide counters, after --proc (bwrap applies options in order)
            *(self.views.args(memory_mb) if self.views is not None else ()),
            "--dev",
            "/dev",
            "--remount-ro",  # no /dev/shm to write, as on Lambda; unprivileged, the tmpfs was the handler's own
            "/dev",
            "--perms",
            "1777",
            "--size",
            str(TMP_BYTES),
            "--tmpfs",
            "/tmp",
        ]
        args += self.system
        args += [
            "--perms",
            "0755",
            "--dir",
            "/var",
            "--ro-bind",
            str(task_root),
            TASK_DIR,
            "--ro-bind",
            str(runtime_dir),
            RUNTIME_DIR,
        ]
        if link is not None:
            args += ["--perms", "0755", "--dir", os.path.dirname(INNER_DIR), "--ro-bind", str(link), INNER_DIR]
        args += [
            "--chdir",
            TASK_DIR,
        ]
        if self.setpriv is not None:
            args += [
                self.setpriv,
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--no-new-privs",
                "--",
            ]
        for option, arity in (("--disable-userns", 0), ("--size", 1), ("--perms", 1)):  # bwrap < 0.8
            if option not in self.options:
                args = _without(args, option, arity)
        if self.budgets is not None and not self.privileged:  # the shares, set around the sandbox before bwrap
            return self.budgets.launcher([*args, *argv])
        return [*args, *argv]

    @property
    def max_sandboxes(self) -> int | None:
        """How many sandboxes may live at once (None: no cap, each has budgets of its own or none is shared)."""
        return self.budgets.max_sandboxes if self.budgets is not None and not self.privileged else None

    def describe(self) -> str:
        who = "a uid of its own via setpriv" if self.privileged else "an unprivileged user namespace"
        return (
            f"bubblewrap {self.version}: mount, pid, ipc, uts, cgroup and network namespaces, {who}; "
            f"code read-only at {TASK_DIR}, private /tmp and /proc, the endpoint through a link of its own"
        )

    def limits(self) -> dict[str, object]:
        """What the health endpoint shows of the per-sandbox limits."""
        tasks: dict[str, object] = (
            {"enforced": False, "reason": self.no_task_limit}
            if self.max_tasks is None
            else {"enforced": True, "max": self.max_tasks}
        )
        kernel: dict[str, object]
        if self.privileged:
            kernel = {"enforced": True, "scope": "a uid of its own per sandbox"}
        elif self.budgets is not None:
            kernel = self.budgets.status()
        else:
            kernel = {"enforced": False, "reason": self.no_budgets}
        memory = self.memory.status() if self.memory is not None else {"enforced": False, "reason": self.no_memory}
        return {"tasks": tasks, "kernel": kernel, "memory": memory}


@dataclass(frozen=True)
class Isolation:
    """The outcome of `probe`: a sandbox, or the reason there is none."""

    sandbox: Sandbox | None
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.sandbox is not None

    def status(self) -> dict[str, object]:
        """What /_lambdaperm/health shows (no filesystem path)."""
        if self.sandbox is None:
            return {"available": False, "reason": self.reason}
        return {"available": True, "mechanism": self.sandbox.describe(), "limits": self.sandbox.limits()}

    def log_line(self) -> str:
        if self.sandbox is None:
            return f"runtime isolation UNAVAILABLE, Lambda handlers run unisolated: {self.reason}"
        if self.sandbox.memory is None:  # said at start-up: memory is not bounded per sandbox
            return (f"runtime isolation: {self.sandbox.describe()}; memory NOT limited per sandbox (a handler can hold "
                    f"host memory beyond its MemorySize): {self.sandbox.no_memory}")
        return f"runtime isolation: {self.sandbox.describe()}; memory: a cgroup per sandbox (MemorySize + " \
               f"{self.sandbox.memory.margin_mb} MiB)"


def interpreter_dirs() -> list[str]:
    """The directories the worker's interpreter reads: its prefixes, its site-packages, the directory of
    the executable, LD_LIBRARY_PATH."""
    dirs = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        os.path.dirname(sys.executable),
        *site.getsitepackages(),
    ]
    dirs += [d for d in os.environ.get("LD_LIBRARY_PATH", "").split(":") if d]
    return [d for d in dirs if os.path.isabs(d) and os.path.isdir(d)]


def _within(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def system_view(private: list[Path]) -> tuple[str, ...]:
    """bwrap arguments for the read-only system: /usr, the top-level links or directories, /etc's
    entries and the interpreter. ValueError if one of them would expose a private path."""
    args: list[str] = ["--ro-bind", "/usr", "/usr"]
    for name in TOP_LEVEL:
        path = f"/{name}"
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_ENTRIES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    bound = ["/usr", *(f"/{n}" for n in TOP_LEVEL)]
    made: set[str] = set()
    links: list[tuple[str, str]] = []
    for wanted in sorted(set(interpreter_dirs())):
        real = os.path.realpath(wanted)
        if wanted != real and not any(_within(wanted, b) for b in bound):
            links.append((real, wanted))
        if any(_within(real, b) for b in bound):
            continue
        secret = [p for p in private if _within(str(p), real)]
        if secret:
            raise ValueError(f"the interpreter's directory {real} holds the server's state directory")
        for ancestor in map(str, reversed(Path(real).parents[:-1])):  # intermediate directories: 0755
            if ancestor not in made and not any(_within(ancestor, b) for b in bound):
                made.add(ancestor)
                args += ["--perms", "0755", "--dir", ancestor]
        args += ["--ro-bind", real, real]
        bound.append(real)
    for target, link in links:
        if not any(_within(link, b) for b in bound):
            args += ["--symlink", target, link]
    return tuple(args)


def _without(args: list[str], option: str, arity: int) -> list[str]:
    out: list[str] = []
    skip = 0
    for arg in args:
        if skip:
            skip -= 1
        elif arg == option:
            skip = arity
        else:
            out.append(arg)
    return out


def _options(bwrap: str) -> frozenset[str]:
    try:
        out = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=PROBE_SECONDS)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(w for w in (out.stdout + out.stderr).split() if w.startswith("--"))


def _version(bwrap: str) -> str:
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=PROBE_SECONDS)
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.stdout.strip().rsplit(" ", 1)[-1] or "?"


def _run_probe(sandbox: Sandbox, private: list[Path], runtime_dir: Path) -> dict[str, Any] | str:
    """What a probe sees inside a sandbox, or why it could not run."""
    argv = [sys.executable, "-I", "-S", "-c", PROBE, *map(str, private)]
    command = sandbox.command(argv, task_root=runtime_dir, runtime_dir=runtime_dir, uid=SandboxUids().acquire())
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_SECONDS, env={}, cwd="/")
    except (OSError, subprocess.SubprocessError) as e:
        return f"bwrap could not start a sandbox: {e}"
    if out.returncode != 0:
        detail = (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[-1]
        return f"bwrap could not start a sandbox: {detail}"
    try:
        seen = json.loads(out.stdout)
    except ValueError:
        return "the sandbox probe answered something unreadable"
    return seen if isinstance(seen, dict) else "the sandbox probe answered something unreadable"


def _with_budgets(sandbox: Sandbox, max_sandboxes: int, private: list[Path],
                  runtime_dir: Path) -> tuple[Sandbox, dict[str, Any] | None]:
    """The unprivileged sandbox with each one's share of the uid's kernel budgets and what its probe saw (its hard
    rlimits must be the shares), or the sandbox without them, saying why, and None."""
    why = applicable()
    if not why:
        budgets = fair_shares(max_sandboxes)
        seen = _run_probe(replace(sandbox, budgets=budgets), private, runtime_dir)
        if isinstance(seen, str):
            why = seen
        elif seen.get("rlimits") != {n: budgets.rlimits.get(n, resource.RLIM_INFINITY) for n in RLIMITS}:
            why = f"the sandbox's rlimits are not its share: {json.dumps(seen.get('rlimits'))}"
        else:
            return replace(sandbox, budgets=budgets), seen
    return replace(sandbox, no_budgets=f"kernel budgets are shared by every sandbox and the server: {why}"), None


def probe(private: list[Path], runtime_dir: Path, *, max_tasks: int = MAX_TASKS,
          max_sandboxes: int = MAX_SANDBOXES, views: Path | None = None) -> Isolation:
    """Build the sandbox and start one to check it from inside. `private` are the paths (the state
    directory) that must not be visible in a sandbox; `max_tasks` the processes and threads a sandbox may hold;
    `max_sandboxes` how many sandboxes share an unprivileged server's kernel budgets (see `kernel_budgets`);
    `views` the directory of the sandboxes' views of /proc's host-wide counters (`proc_views`; default: a new
    temporary directory)."""
    if not sys.platform.startswith("linux"):
        return Isolation(None, f"needs Linux namespaces (bubblewrap); this platform is {sys.platform}")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation(None, "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    setpriv = None
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return Isolation(None, "the server runs as root and setpriv (util-linux) is not installed")
    private = [p.resolve() for p in private]
    try:
        system = system_view(private)
    except ValueError as e:
        return Isolation(None, str(e))
    try:
        if views is None:  # a temporary directory, removed when the process ends
            views = Path(tempfile.mkdtemp(prefix="lambdaperm-proc-views-"))
            atexit.register(shutil.rmtree, views, True)
        directory = views
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        proc_views = ProcViews(directory)
        proc_views.args(None)  # written now: a directory that cannot hold them means no sandbox, said at start-up
    except OSError as e:
        return Isolation(None, f"cannot write the sandboxes' views of /proc: {e.strerror}")
    sandbox = Sandbox(bwrap, setpriv, system, _version(bwrap), _options(bwrap), views=proc_views)
    budgeted: dict[str, Any] | None = None
    if not sandbox.privileged:  # the budgets' launcher runs in front of bwrap: the probe checks that command
        sandbox, budgeted = _with_budgets(sandbox, max_sandboxes, private, runtime_dir)
    seen = budgeted or _run_probe(sandbox, private, runtime_dir)
    if isinstance(seen, str):
        return Isolation(None, seen)
    if seen["visible"] or seen["uid"] == 0 or len(seen["pids"]) > 2 or any(int(c, 16) for c in seen["caps"]):
        return Isolation(None, f"the sandbox does not isolate: {json.dumps(seen)}")
    if "loadavg" in proc_views.paths and seen.get("loadavg") != proc_views.view("loadavg", DEFAULT_MEMORY_MB):
        return Isolation(None, "the sandbox's /proc shows the host's counters, not its own view (/proc/loadavg: "
                               f"{json.dumps(seen.get('loadavg'))})")
    if seen.get("net") == os.readlink("/proc/self/ns/net") or seen.get("interfaces") != ["lo"]:
        return Isolation(None, "the sandbox does not have a network namespace of its own (it would share the host's "
                               f"network): {json.dumps({k: seen.get(k) for k in ('net', 'interfaces')})}")
    memory = memory_cgroups.probe()
    sandbox = replace(sandbox, no_memory=memory) if isinstance(memory, str) else replace(sandbox, memory=memory)
    if seen.get("nproc") is not True:
        return Isolation(replace(sandbox, max_tasks=None, no_task_limit=NO_TASK_LIMIT))
    return Isolation(replace(sandbox, max_tasks=max_tasks))
