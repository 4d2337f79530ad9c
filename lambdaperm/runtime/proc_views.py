"""A sandbox's view of the kernel's host-wide counters in ``/proc``: its own, never the host's.

Why (isolation review round 16): bwrap's ``--proc`` gives every sandbox a ``/proc`` of its own PID namespace, but the
kernel's host-wide counters in it are the host's — ``/proc/loadavg``'s thread total, ``/proc/stat``'s ``processes``
and per-CPU time, ``/proc/pressure/*``, ``/proc/meminfo``, ``/proc/vmstat`` … Account A's handler saw the thread total
rise by 601 while account B's handler held 600 threads: it learned when B's code ran and what it did. On AWS each
execution environment is a Firecracker microVM with a guest kernel of its own, so its ``/proc`` counts its own
environment only
(https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/lambda-isolation-technologies.html).

How: `TABLE` maps each host-wide counter file a sandbox can read to a generator of its view; `Sandbox.command` binds
the views read-only over the files after ``--proc`` (bwrap applies its options in order), as lxcfs does for
containers. `MASKED` directories are covered by an empty read-only tmpfs (per-IRQ and per-filesystem statistics, which
nothing a handler runs needs). A view reveals nothing of any other sandbox or of the host's activity: its counters are
fixed (zero, idle), ``MemTotal``/``MemFree``/``MemAvailable`` are the function's MemorySize, the CPU lines are the
host's count of CPUs (what ``os.cpu_count()`` reads) all idle. Every view keeps its file's format, so a parser such as
psutil's still reads it. Stricter than Lambda, whose ``/proc`` shows the microVM's live counters (docs/fidelity.md).
Not covered, because it is a system call and not a file: sysinfo(2) (glibc's getloadavg) still answers the host's task
count, load and memory (a strict xfail, docs/security.md, isolation round 16).

`ALLOWED` is the reviewed rest: each file (or directory, by a prefix ending in ``/``) a sandbox can read under
``/proc`` that is not bound over, with why it tells a handler nothing of another sandbox (a per-namespace file, a
setting, a static description of the machine). A structural test lists every readable file from inside a real
sandbox and requires each one to be in `TABLE`, under `MASKED` or in `ALLOWED`.

Linux's proc(5): https://man7.org/linux/man-pages/man5/proc.5.html; PSI:
https://docs.kernel.org/accounting/psi.html; lxcfs: https://github.com/lxc/lxcfs
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MEMORY_MB = 128  # Lambda's default MemorySize


@dataclass(frozen=True)
class Host:
    """What a view takes from the host: nothing that changes with any sandbox's activity."""

    cpus: int  # the number of CPU lines (glibc's get_nprocs reads /proc/stat where /sys is absent, as in a sandbox)
    booted: int  # btime: when the views were written (the environment's start, as far as it can tell)
    uptime: float  # seconds since the host booted when the views were written (CLOCK_BOOTTIME shows it anyway)


def _kb(memory_mb: int) -> int:
    return memory_mb * 1024


def _loadavg(memory_mb: int, host: Host) -> str:
    return "0.00 0.00 0.00 1/1 1\n"  # idle; one running task of one (running/total), last pid 1


CPU_FIELDS = 10  # user nice system idle iowait irq softirq steal guest guest_nice


def _stat(memory_mb: int, host: Host) -> str:
    zeros = " ".join(["0"] * CPU_FIELDS)
    lines = [f"cpu  {zeros}", *(f"cpu{n} {zeros}" for n in range(host.cpus))]
    lines += [
        "intr 0",
        "ctxt 0",
        f"btime {host.booted}",
        "processes 1",
        "procs_running 1",
        "procs_blocked 0",
        "softirq 0 0 0 0 0 0 0 0 0 0 0",
    ]
    return "\n".join(lines) + "\n"


_MEMINFO_ZERO_NAMES = (
    "Buffers Cached SwapCached Active Inactive Active(anon) Inactive(anon) Active(file) Inactive(file) "
    "Unevictable Mlocked SwapTotal SwapFree Dirty Writeback AnonPages Mapped Shmem KReclaimable Slab "
    "SReclaimable SUnreclaim KernelStack PageTables NFS_Unstable Bounce WritebackTmp CommitLimit "
    "Committed_AS VmallocTotal VmallocUsed VmallocChunk Percpu HardwareCorrupted AnonHugePages "
    "ShmemHugePages ShmemPmdMapped FileHugePages FilePmdMapped "
)
MEMINFO_ZERO = tuple(_MEMINFO_ZERO_NAMES.split())


def _meminfo(memory_mb: int, host: Host) -> str:
    total = _kb(memory_mb)
    rows = [("MemTotal", total), ("MemFree", total), ("MemAvailable", total), *((n, 0) for n in MEMINFO_ZERO)]
    out = "".join(f"{name + ':':<16}{value:>8} kB\n" for name, value in rows)
    hugepages = ("HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp")
    return out + "".join(f"{name + ':':<16}{0:>8}\n" for name in hugepages) + f"{'Hugepagesize:':<16}{2048:>8} kB\n"


_VMSTAT_NAMES = (
    "nr_free_pages nr_inactive_anon nr_active_anon nr_inactive_file nr_active_file nr_unevictable "
    "nr_mlock nr_dirty nr_writeback nr_anon_pages nr_mapped nr_file_pages nr_shmem nr_slab_reclaimable "
    "nr_slab_unreclaimable nr_page_table_pages nr_kernel_stack pgpgin pgpgout pswpin pswpout "
    "pgalloc_normal pgfree pgactivate pgdeactivate pgfault pgmajfault pgsteal_kswapd pgsteal_direct "
    "pgscan_kswapd pgscan_direct oom_kill "
)
VMSTAT = tuple(_VMSTAT_NAMES.split())


def _vmstat(memory_mb: int, host: Host) -> str:
    free_pages = _kb(memory_mb) // 4  # 4 KiB pages
    return "".join(f"{name} {free_pages if name == 'nr_free_pages' else 0}\n" for name in VMSTAT)


def _pressure(full: bool) -> Callable[[int, Host], str]:
    def view(memory_mb: int, host: Host) -> str:
        line = "avg10=0.00 avg60=0.00 avg300=0.00 total=0"
        return f"some {line}\n" + (f"full {line}\n" if full else "")

    return view


def _uptime(memory_mb: int, host: Host) -> str:
    return f"{host.uptime:.2f} 0.00\n"  # the second field (idle time of all CPUs) is the host's activity


def _per_cpu_table(rows: tuple[str, ...]) -> Callable[[int, Host], str]:
    def view(memory_mb: int, host: Host) -> str:
        header = " " * 4 + "".join(f"{'CPU' + str(n):>11}" for n in range(host.cpus))
        return header + "\n" + "".join(f"{row + ':':>10}" + f"{0:>11}" * host.cpus + "\n" for row in rows)

    return view


SOFTIRQS = ("HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU")


def _schedstat(memory_mb: int, host: Host) -> str:
    return "version 15\ntimestamp 0\n" + "".join(f"cpu{n} 0 0 0 0 0 0 0 0 0\n" for n in range(host.cpus))


def _fixed(text: str) -> Callable[[int, Host], str]:
    def view(memory_mb: int, host: Host) -> str:
        return text

    return view


# path under /proc -> its view. Every file here counts something host-wide that another sandbox's activity moves.
TABLE: dict[str, Callable[[int, Host], str]] = {
    "loadavg": _loadavg,  # load averages and running/total tasks of the host
    "stat": _stat,  # per-CPU time, processes forked, procs_running/blocked, interrupts, context switches
    "meminfo": _meminfo,  # the host's memory in use, page cache, dirty pages
    "vmstat": _vmstat,  # page faults, pages in/out, swap activity of the host
    "uptime": _uptime,  # idle time of every CPU
    "pressure/cpu": _pressure(full=True),
    "pressure/memory": _pressure(full=True),
    "pressure/io": _pressure(full=True),
    "pressure/irq": _pressure(full=True),
    "diskstats": _fixed(""),  # I/O per block device: none in a view
    "schedstat": _schedstat,  # run time and wait time per CPU
    "softirqs": _per_cpu_table(SOFTIRQS),  # softirqs per CPU (network, timers, block I/O)
    "interrupts": _per_cpu_table(("NMI", "LOC", "RES", "CAL", "TLB", "ERR", "MIS")),  # interrupts per CPU
    "buddyinfo": _fixed(""),  # free pages per order and zone
    "zoneinfo": _fixed(""),  # pages per zone: free, active, inactive, scanned
    "pagetypeinfo": _fixed(""),  # free pages per migrate type
    "slabinfo": _fixed("slabinfo - version: 2.1\n"),  # kernel objects in use (root only)
    "cgroups": _fixed("#subsys_name\thierarchy\tnum_cgroups\tenabled\n"),  # num_cgroups: one per sandbox as root
    "key-users": _fixed(""),  # keys and bytes per uid (as root: every sandbox's uid)
    "sys/fs/file-nr": _fixed("0\t0\t9223372036854775807\n"),  # open file handles of the host
    "sys/fs/inode-nr": _fixed("0\t0\n"),
    "sys/fs/inode-state": _fixed("0\t0\t0\t0\t0\t0\t0\n"),
    "sys/fs/dentry-state": _fixed("0\t0\t45\t0\t0\t0\n"),
    "sys/fs/aio-nr": _fixed("0\n"),  # asynchronous I/O contexts of the host
    "sys/fs/quota/allocated_dquots": _fixed("0\n"),
    "sys/fs/quota/cache_hits": _fixed("0\n"),
    "sys/fs/quota/drops": _fixed("0\n"),
    "sys/fs/quota/free_dquots": _fixed("0\n"),
    "sys/fs/quota/lookups": _fixed("0\n"),
    "sys/fs/quota/reads": _fixed("0\n"),
    "sys/fs/quota/syncs": _fixed("0\n"),
    "sys/fs/quota/writes": _fixed("0\n"),
    "sys/kernel/pty/nr": _fixed("0\n"),  # pseudo-terminals open on the host
    "sys/kernel/random/entropy_avail": _fixed("256\n"),  # a constant since Linux 5.18; moved with use before
    "sys/kernel/hung_task_detect_count": _fixed("0\n"),
}

# directories under /proc covered by an empty read-only tmpfs: statistics per device nothing a handler runs needs
MASKED: dict[str, str] = {
    "irq": "per-IRQ affinity and `spurious` interrupt counts of the host's devices",
    "fs": "per-filesystem statistics of the host (ext4's mb_stats, mb_groups: block allocations by every process)",
}

# Reviewed: what a sandbox may read under /proc as it is, and why that tells nothing of another sandbox. A key ending
# in "/" covers a directory (TABLE and MASKED take precedence). Process directories (<pid>, self, thread-self) are
# the sandbox's own PID namespace.
ALLOWED: dict[str, str] = {
    "sys/net/": "per network namespace: each sandbox has its own (isolation round 13's follow-up)",
    "sysvipc/": "per IPC namespace: each sandbox has its own",
    "sys/user/": "limits of the sandbox's user namespace (settings, not counts)",
    "sys/vm/": "the host's memory management settings (no counter: vm/stat_interval and friends are tunables)",
    "sys/kernel/": "the host's kernel settings and identity (hostname/domainname per UTS namespace, ns_last_pid per "
    "PID namespace, msg/sem/shm_next_id per IPC namespace, random/uuid fresh per read, boot_id constant); its "
    "counters are in TABLE",
    "sys/fs/": "the host's filesystem settings (limits, protections, mqueue per IPC namespace); its counters are in "
    "TABLE",
    "sys/abi/": "a setting",
    "sys/debug/": "a setting",
    "sys/dev/": "settings",
    "bus/": "the machine's devices (static)",
    "tty/": "line disciplines and drivers (static)",
    "driver/": "the machine's drivers (static)",
    "cpuinfo": "the machine's CPUs (their model and flags; a handler runs on them)",
    "version": "the kernel's version (the same kernel runs every sandbox)",
    "cmdline": "the kernel's command line (static)",
    "config.gz": "the kernel's build configuration (static)",
    "filesystems": "filesystem types the kernel knows (static)",
    "execdomains": "static",
    "crypto": "the kernel's algorithms (static but for modules loaded)",
    "devices": "device majors (static)",
    "misc": "misc device minors (static)",
    "dma": "DMA channels (static)",
    "iomem": "the physical memory map (addresses zeroed for an unprivileged reader)",
    "ioports": "I/O port regions (addresses zeroed for an unprivileged reader)",
    "partitions": "block devices and their sizes (static)",
    "swaps": "swap areas (static; their use is counted in meminfo, bound over)",
    "consoles": "static",
    "kallsyms": "kernel symbols (addresses zeroed for an unprivileged reader, kptr_restrict)",
    "mounts": "a link to self/mounts: the sandbox's own mount namespace",
    "keys": "keys the reader may view (its own)",
    "locks": "file locks of the sandbox's own PID namespace (Linux 4.9+ shows no other's)",
    "kmsg": "root only (the worker is not root)",
    "timer_list": "root only",
    "program_cpu": "root only",
    "vmallocinfo": "root only",
    "kpagecount": "root only",
    "kpageflags": "root only",
    "kpagecgroup": "root only",
    "mtrr": "memory type ranges (static)",
}


def covered(path: str) -> str | None:
    """How `path` (under /proc, without the prefix) is kept from the host's activity: "table", "masked", "allowed",
    or None where it is not (a file the review has not seen)."""
    if path in TABLE:
        return "table"
    if any(path.startswith(d + "/") for d in MASKED):
        return "masked"
    if path in ALLOWED or any(k.endswith("/") and path.startswith(k) for k in ALLOWED):
        return "allowed"
    return None


class ProcViews:
    """The views, written once per MemorySize below `directory` (private to the server: bwrap reads them as the
    server's user; a bound file keeps its own mode, 0444). Thread-safe."""

    def __init__(self, directory: Path, host: Host | None = None) -> None:
        self.directory = directory
        self.host = host or Host(os.cpu_count() or 1, int(time.time()), time.clock_gettime(time.CLOCK_BOOTTIME))
        # only what the host's /proc has: bwrap cannot create a file in procfs to bind over
        self.paths = tuple(p for p in TABLE if os.path.isfile(f"/proc/{p}"))
        self.masked = tuple(d for d in MASKED if os.path.isdir(f"/proc/{d}"))
        self._written: set[int] = set()
        self._lock = threading.Lock()

    def view(self, path: str, memory_mb: int) -> str:
        """The content a sandbox of `memory_mb` reads at /proc/`path`."""
        return TABLE[path](memory_mb, self.host)

    def _write(self, memory_mb: int) -> Path:
        base = self.directory / str(memory_mb)
        with self._lock:
            if memory_mb not in self._written:
                for path in self.paths:
                    target = base / path
                    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
                    partial = target.with_name(target.name + ".partial")
                    partial.write_text(self.view(path, memory_mb))
                    partial.chmod(0o444)
                    os.replace(partial, target)
                self._written.add(memory_mb)
        return base

    def args(self, memory_mb: int | None) -> list[str]:
        """bwrap's arguments binding the views of a sandbox of `memory_mb` (default: Lambda's 128) over its /proc;
        they must follow ``--proc /proc``. OSError if they cannot be written."""
        base = self._write(memory_mb if memory_mb is not None else DEFAULT_MEMORY_MB)
        args: list[str] = []
        for path in self.paths:
            args += ["--ro-bind", str(base / path), f"/proc/{path}"]
        for directory in self.masked:
            args += ["--tmpfs", f"/proc/{directory}", "--remount-ro", f"/proc/{directory}"]
        return args
