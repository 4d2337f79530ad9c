"""Kernel budgets of an unprivileged server's sandboxes: a fair share each, the server keeping a reserve.

Why: the kernel counts some resources per user — inotify instances and watches, fanotify groups and marks, user
namespaces (``/proc/sys/user/max_*``, ``kernel/ucount.c``: ``inc_ucount``), POSIX message queue bytes and queued
signals (``RLIMIT_MSGQUEUE``, ``RLIMIT_SIGPENDING``: ``inc_rlimit_ucounts``) — and it charges what a user namespace
holds to its creator in every ancestor namespace too. As an ordinary user every sandbox is a user namespace of the
server's uid, so one handler could take the uid's whole budget (measured: 128 inotify instances, 819,200 bytes of
queues, 96,362 signals) and every other sandbox and the server itself got none. On AWS each execution environment
has a kernel of its own (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html): what one
handler holds is never counted against another's.

How: the sandbox launcher (``LAUNCHER``, run by `Sandbox.command` in front of bwrap) creates one more user namespace
around the sandbox, in which it has every capability for a moment:

1. it writes each ``/proc/sys/user/max_*`` count of that namespace (writable only with ``CAP_SYS_RESOURCE`` in it):
   every process of the sandbox is below it, so the sandbox's total is bounded there;
2. it maps the server's uid and gid to themselves (not to root) and lowers ``RLIMIT_MSGQUEUE`` and
   ``RLIMIT_SIGPENDING``, soft and hard, *after* creating the namespace (the kernel bounds a namespace's charge
   to its parent by the creator's limit at creation: the server's whole budget, the sum over sandboxes);
3. it drops every capability (bounding set, then effective/permitted/inheritable, ``SECBIT_NOROOT`` locked) and
   executes bwrap, which builds the sandbox below it as usual.

A handler cannot undo it: raising a hard rlimit needs ``CAP_SYS_RESOURCE`` in the initial user namespace, the
counts it could write are those of its own namespace (below the launcher's, which still bounds it), and it holds
no capability anywhere. A share is ``budget // (max_sandboxes + 1)``: at most ``max_sandboxes`` sandboxes live at
once (`SandboxSlots`), and the server's uid keeps one share as its reserve. As root none of this is needed: every
sandbox is a uid of its own with budgets of its own (`sandbox_uids`).

user_namespaces(7), setrlimit(2): https://man7.org/linux/man-pages/man7/user_namespaces.7.html
"""

from __future__ import annotations

import json
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path

USER_COUNTS = Path("/proc/sys/user")  # the per-user counts of the caller's user namespace
RLIMITS = ("RLIMIT_MSGQUEUE", "RLIMIT_SIGPENDING")  # counted per user (ucounts) and not per process
MAX_SANDBOXES = 3  # with Linux's defaults, a share is two default queues (2 x 10 x 8 KiB), 32 inotify instances

# Run as `python -I -S -c LAUNCHER <budgets json> <bwrap argv...>`; a failure exits 125 naming the step (no sandbox).
LAUNCHER = """
import ctypes, json, os, resource, sys
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 0x10000000, 24, 28
SECBITS = 0x01 | 0x02 | 0x20 | 0x40 | 0x80  # NOROOT(+LOCKED), KEEP_CAPS_LOCKED, NO_CAP_AMBIENT_RAISE(+LOCKED)
def check(ok, step):
    if not ok:
        err = ctypes.get_errno()
        sys.stderr.write(f"lambdaperm sandbox launcher: {step}: {os.strerror(err)}\\n")
        os._exit(125)
def write(path, text):
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as e:
        ctypes.set_errno(e.errno or 0)
        check(False, f"write {path}")
budgets, argv = json.loads(sys.argv[1]), sys.argv[2:]
uid, gid = os.getuid(), os.getgid()
check(libc.unshare(CLONE_NEWUSER) == 0, "unshare(CLONE_NEWUSER)")
for name, value in budgets["counts"].items():
    write(f"/proc/sys/user/{name}", str(value))
write("/proc/self/setgroups", "deny")
write("/proc/self/uid_map", f"{uid} {uid} 1")
write("/proc/self/gid_map", f"{gid} {gid} 1")
for name, value in budgets["rlimits"].items():
    try:
        resource.setrlimit(getattr(resource, name), (value, value))
    except (OSError, ValueError) as e:
        ctypes.set_errno(getattr(e, "errno", None) or 22)
        check(False, f"setrlimit {name}")
check(libc.prctl(PR_SET_SECUREBITS, SECBITS, 0, 0, 0) == 0, "securebits")
last = int(open("/proc/sys/kernel/cap_last_cap").read())
for cap in range(last + 1):
    check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0, f"drop capability {cap}")
header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
check(libc.capset(header, (ctypes.c_uint32 * 6)()) == 0, "capset")
try:
    os.execv(argv[0], argv)
except OSError as e:
    ctypes.set_errno(e.errno or 0)
    check(False, f"exec {argv[0]}")
"""


@dataclass(frozen=True)
class KernelBudgets:
    """The share of each per-user budget one sandbox gets (``None``: the server's own is unlimited)."""

    max_sandboxes: int
    counts: dict[str, int]  # /proc/sys/user/<name> of the sandbox's outer user namespace
    rlimits: dict[str, int]  # soft and hard limit of the sandbox's processes

    def launcher(self, argv: list[str]) -> list[str]:
        """`argv` (bwrap's command line) run by the launcher, which sets the budgets first."""
        budgets = json.dumps({"counts": self.counts, "rlimits": self.rlimits}, sort_keys=True)
        return [sys.executable, "-I", "-S", "-c", LAUNCHER, budgets, *argv]

    def status(self) -> dict[str, object]:
        """What the health endpoint shows."""
        return {"enforced": True, "max_sandboxes": self.max_sandboxes, "per_sandbox": {**self.counts, **self.rlimits}}


def _count(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def fair_shares(max_sandboxes: int = MAX_SANDBOXES) -> KernelBudgets:
    """Each budget of the server's uid (its own user namespace's counts, its soft rlimits) divided by
    ``max_sandboxes + 1``: ``max_sandboxes`` shares for the sandboxes, one for the server. An unlimited rlimit stays
    unlimited (there is nothing to run out of)."""
    if max_sandboxes < 1:
        raise ValueError("max_sandboxes must be at least 1")
    counts: dict[str, int] = {}
    for path in sorted(USER_COUNTS.glob("max_*")) if USER_COUNTS.is_dir() else []:
        budget = _count(path)
        if budget is not None and budget >= 0:
            counts[path.name] = budget // (max_sandboxes + 1)
    rlimits: dict[str, int] = {}
    for name in RLIMITS:
        which = getattr(resource, name, None)
        if which is None:
            continue
        soft, _hard = resource.getrlimit(which)
        if soft != resource.RLIM_INFINITY:
            rlimits[name] = soft // (max_sandboxes + 1)
    return KernelBudgets(max_sandboxes, counts, rlimits)


def applicable() -> str:
    """Why per-sandbox shares cannot be set here ("" when they can)."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    if not USER_COUNTS.is_dir():
        return "no /proc/sys/user (per-user-namespace counts)"
    if not os.path.exists("/proc/self/uid_map"):
        return "no user namespaces"
    return ""
