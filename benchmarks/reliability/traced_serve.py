"""`lambdaperm serve` under tracemalloc, for the load campaign's memory diagnosis (benchmark-only, not a product
flag): `python benchmarks/reliability/traced_serve.py DIR SECONDS FRAMES serve ...` starts tracemalloc with FRAMES
frames 30 s after the start (after start-up and the load's setup), writes a snapshot to DIR/snap-NNNN.pickle every
SECONDS seconds from a daemon thread, then runs the CLI. Snapshots hold only what was allocated after tracing began,
which is what a growth under load is.

server_process.start uses it when LAMBDAPERM_BENCH_TRACEMALLOC=DIR[:SECONDS[:FRAMES]] is set. Compare snapshots with
`python benchmarks/reliability/traced_serve.py --compare DIR/snap-0001.pickle DIR/snap-0006.pickle`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import sys
import threading
import tracemalloc
from collections import Counter
from pathlib import Path

START_AFTER_S = 30.0


def _mallinfo() -> tuple[int, int, int]:
    """glibc's malloc heap: (bytes in use, bytes free but kept, bytes in mmapped chunks) — mallinfo2(3)."""

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena",
                "ordblks",
                "smblks",
                "hblks",
                "hblkhd",
                "usmblks",
                "fsmblks",
                "uordblks",
                "fordblks",
                "keepcost",
            )
        ]

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return int(info.uordblks), int(info.fordblks), int(info.hblkhd)


def _sqlite_bytes() -> int:
    """What SQLite holds (page caches of every connection, statements): sqlite3_memory_used()."""
    import _sqlite3

    lib = ctypes.CDLL(_sqlite3.__file__)
    lib.sqlite3_memory_used.restype = ctypes.c_int64
    return int(lib.sqlite3_memory_used())


def _pymalloc_bytes() -> int:
    """pymalloc's arenas (sys._debugmallocstats: '# arenas allocated current' × arena size)."""
    import io
    import os
    import tempfile

    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = io.TextIOWrapper(out).read()
    arenas = int(text.split("# arenas allocated current")[1].split("=")[1].split()[0].replace(",", ""))
    return arenas * 1024 * 1024


def _dump(directory: Path, seconds: float, frames: int, stop: threading.Event) -> None:
    stop.wait(START_AFTER_S)  # tracing the start-up's imports makes it miss the benchmark's 120-s health deadline
    if frames:
        tracemalloc.start(frames)
    n = 0
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    with (directory / "memory.tsv").open("a") as out:
        out.write("n\ttraced\trss\tpymalloc\tmalloc_used\tmalloc_free\tmalloc_mmapped\tsqlite\tthreads\tfds\n")
    while not stop.wait(seconds):
        n += 1
        traced = 0
        if frames:
            snap = tracemalloc.take_snapshot().filter_traces(
                [
                    tracemalloc.Filter(False, tracemalloc.__file__),
                    tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
                ]
            )
            traced, _peak = tracemalloc.get_traced_memory()
            snap.dump(str(directory / f"snap-{n:04d}.pickle"))
        if (directory / "trim").exists():  # touch DIR/trim to measure what the allocator keeps
            libc.malloc_trim(0)
        rss = int(Path("/proc/self/statm").read_text().split()[1]) * 4096
        used, free, mapped = _mallinfo()
        row = (
            n,
            traced,
            rss,
            _pymalloc_bytes(),
            used,
            free,
            mapped,
            _sqlite_bytes(),
            threading.active_count(),
            len(list(Path("/proc/self/fd").iterdir())),
        )
        with (directory / "memory.tsv").open("a") as out:
            out.write("\t".join(str(v) for v in row) + "\n")
        if (directory / "census").exists():  # touch DIR/census: live objects by type (gc-tracked ones)
            counts = Counter(type(o).__qualname__ + " " + type(o).__module__ for o in gc.get_objects())
            (directory / f"census-{n:04d}.json").write_text(json.dumps(counts.most_common(300)))


def compare(old: str, new: str, key: str = "traceback", top: int = 25) -> None:
    a = tracemalloc.Snapshot.load(old)
    b = tracemalloc.Snapshot.load(new)
    stats = b.compare_to(a, key)
    total = sum(s.size_diff for s in stats)
    print(f"total traced diff: {total / 2**20:.2f} MiB over {len(stats)} sites")
    for s in stats[:top]:
        print(f"\n{s.size_diff / 1024:+.1f} KiB ({s.count_diff:+d} blocks) now {s.size / 1024:.1f} KiB")
        for line in s.traceback.format()[-24:]:
            print("   ", line)


def main() -> int:
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3], *(sys.argv[4:5] or ["traceback"]))
        return 0
    directory, seconds, frames = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    directory.mkdir(parents=True, exist_ok=True)
    threading.Thread(target=_dump, args=(directory, seconds, frames, threading.Event()), daemon=True).start()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # as `python -m` from the repository would
    from lambdaperm.cli.main import main as cli

    return cli(sys.argv[4:])


if __name__ == "__main__":
    sys.exit(main())
