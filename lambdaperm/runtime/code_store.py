"""Deployment packages unzipped once per CodeSha256, under ``<work_dir>/code/<instance>/<sha-hex>/``, for as
long as something uses them.

A package is refused (CodeError, which the caller answers with InvalidParameterValueException "Could not
unzip uploaded file. Please check your file, then try to upload again.") when it is not a zip, or when an
entry would land outside the directory: an absolute path, a ``..`` component, a NUL byte, or a symbolic
link. Unzipped, a package may hold at most 262,144,000 bytes (Lambda's 250 MB quota,
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) and make at most 65,536 directories and 131,072
files (not Lambda's: what keeps a package's footprint on the shared disk near its quota, see MAX_DIRECTORIES).

Extraction goes to a private temporary directory that is renamed into place, so a half-written tree is
never used.

Disk: an unzipped package (up to 250 MB) is a cache of the archive, kept while it is referenced — by a warm or
starting worker (whose sandbox mounts it) or by an invocation about to start one (`acquire`/`release`) — and
deleted when its last reference goes: replaced code, deleted functions, reaped or evicted workers leave nothing
behind (repeated UpdateFunctionCode used to fill the disk every account shares). A later cold start unzips it
again. Each store (one per server) owns a directory of its own, ``<instance>``, locked (flock) for its lifetime,
so two servers sharing a work_dir never delete each other's copies; at start-up a store deletes every directory
whose owner is gone (a killed server cannot clean up) and the layout of older versions (``code/<sha-hex>/``).

Copies are per account (``<instance>/<account>-<sha-hex>/``, isolation review round 12): one copy shared by every
account that deployed the same bytes told a handler whether another account ran them — its environment recreated
after an eviction got back the very copy (inode, change time) another account's warm environment kept alive, and a
cold start skipped the unzip (the deduplication side channel). On AWS each execution environment is its own
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).

Files are readable by all (``0644`` or more, executable bits kept) and directories ``0755``: a sandboxed
worker may run as another uid than the server (see `isolation`), and reads its code through a read-only
mount, so no worker can change any stored code.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import shutil
import stat
import threading
import uuid
import zipfile
import zlib
from pathlib import Path

from lambdaperm.runtime.errors import CodeError

MAX_UNZIPPED_BYTES = 262_144_000
UNZIPPED_TOO_LARGE = f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
# Directories a package may make (isolation review round 9): the byte quota counts files only, and a directory costs
# the host a block (4 KiB) and an inode — a 258 KB zip of nested directory chains made 63,070 of them (247 MB). Lambda
# documents no such count; real packages hold hundreds to a few thousand, so the bound refuses only what amplifies.
MAX_DIRECTORIES = 65_536
TOO_MANY_DIRECTORIES = f"more than {MAX_DIRECTORIES} directories"
# Files likewise: an empty file is 0 bytes of the quota and an inode of the host; a 51 MB zip of 600,000 of them took
# 164 s of a server thread to unzip. Real packages hold thousands to a few tens of thousands.
MAX_FILES = 131_072
TOO_MANY_FILES = f"more than {MAX_FILES} files"
_Tree = dict[str, "_Tree"]
_CHUNK = 1 << 20
# Not a zip, truncated, encrypted (RuntimeError), unsupported compression, corrupt data; a name that is both
# a file and a directory (``lib`` and ``lib/mod.py``: NotADirectoryError, IsADirectoryError, FileExistsError).
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError,
               ValueError, zlib.error, NotADirectoryError, IsADirectoryError, FileExistsError)


def sha_dirname(code_sha256: str) -> str:
    """A file-name-safe key: Lambda's CodeSha256 is base64 (it holds '/' and '+'), so use its hex; a hex
    digest is used as it is."""
    if len(code_sha256) == 64 and all(c in "0123456789abcdef" for c in code_sha256):
        return code_sha256
    try:
        raw = base64.b64decode(code_sha256, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32:
        return raw.hex()
    return hashlib.sha256(code_sha256.encode()).hexdigest()


def copy_key(code_sha256: str, owner: str) -> str:
    """The name of `owner`'s copy of a package: never shared between accounts (isolation review round 12). `owner`
    is an account id (12 digits), or "" for a copy of no account's (tools, tests)."""
    if owner and not (len(owner) == 12 and owner.isascii() and owner.isdigit()):
        raise ValueError(f"not an account id: {owner!r}")
    return f"{owner}-{sha_dirname(code_sha256)}" if owner else sha_dirname(code_sha256)


def _safe_name(name: str) -> str | None:
    """The entry's relative path, or None for the archive root; CodeError if it escapes."""
    if "\x00" in name or name.startswith("/"):
        raise CodeError(detail=f"unsafe entry {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise CodeError(detail=f"unsafe entry {name!r}")
    return "/".join(parts) or None


def _check(archive: zipfile.ZipFile) -> None:
    """Refuse before anything is written: symbolic links, unsafe names, more than MAX_UNZIPPED_BYTES of files, more
    than MAX_DIRECTORIES directories (every parent of an entry and every directory entry, counted once), more than
    MAX_FILES files."""
    total = 0
    tree: _Tree = {}  # the directories seen, by component
    directories = files = 0
    for info in archive.infolist():
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            raise CodeError(detail=f"symbolic link {info.filename!r}")
        rel = _safe_name(info.filename)
        total += info.file_size
        parts = rel.split("/") if rel is not None else []
        if parts and not info.is_dir():
            files += 1
            if files > MAX_FILES:
                raise CodeError(detail=TOO_MANY_FILES)
        node = tree
        for part in parts if info.is_dir() else parts[:-1]:
            child = node.get(part)
            if child is None:
                directories += 1
                if directories > MAX_DIRECTORIES:
                    raise CodeError(detail=TOO_MANY_DIRECTORIES)
                child = node[part] = {}
            node = child
    if total > MAX_UNZIPPED_BYTES:
        raise CodeError(UNZIPPED_TOO_LARGE)


def _extract(archive: zipfile.ZipFile, dest: Path) -> None:
    written = 0
    for info in archive.infolist():
        rel = _safe_name(info.filename)
        if rel is None:
            continue
        target = dest / rel
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, open(target, "wb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > MAX_UNZIPPED_BYTES:  # sizes in the headers can lie
                    raise CodeError(UNZIPPED_TOO_LARGE)
                out.write(chunk)
        mode = (info.external_attr >> 16) & 0o777 if info.create_system == 3 else 0
        os.chmod(target, (mode or 0o644) | 0o644)
    for directory, _, _ in os.walk(dest):
        os.chmod(directory, 0o755)


class CodeStore:
    """Thread-safe: one extraction per sha at a time, later callers reuse the directory while it is referenced."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._root.mkdir(parents=True, exist_ok=True)
        while True:  # a lock file another server's sweep removed before we held it is no lock: take another
            instance = uuid.uuid4().hex
            lock = self._root / f"{instance}.lock"
            self._lock_fd = os.open(lock, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)  # held until this process ends: see `sweep`
            with contextlib.suppress(OSError):
                if os.stat(lock).st_ino == os.fstat(self._lock_fd).st_ino:
                    break
            os.close(self._lock_fd)
        self._dir = self._root / instance
        self._dir.mkdir(mode=0o755)
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._ready: dict[str, Path] = {}
        self._refs: dict[str, int] = {}
        self.sweep()

    @property
    def directory(self) -> Path:
        """Where this store unzips (its packages are ``directory/<account>-<sha-hex>``)."""
        return self._dir

    def acquire(self, code_zip: Path, code_sha256: str, owner: str = "") -> Path:
        """`owner`'s directory holding the unzipped package (unzipping it if needed), referenced until `release`."""
        key = copy_key(code_sha256, owner)
        with self._lock:
            self._refs[key] = self._refs.get(key, 0) + 1
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        try:
            with key_lock:
                ready = self._ready.get(key)
                if ready is None:
                    ready = self._unzip(code_zip, key)
                    self._ready[key] = ready
                return ready
        except BaseException:
            self.release(code_sha256, owner)
            raise

    def ensure(self, code_zip: Path, code_sha256: str) -> Path:
        """The unzipped package, referenced for as long as this store lives (tests, tools)."""
        return self.acquire(code_zip, code_sha256)

    def release(self, code_sha256: str, owner: str = "") -> None:
        """One reference less on `owner`'s copy; the last one deletes it."""
        key = copy_key(code_sha256, owner)
        with self._lock:  # every acquire counts itself first: none is in flight for a key whose count reaches 0
            left = self._refs.get(key, 0) - 1
            if left > 0:
                self._refs[key] = left
                return
            self._refs.pop(key, None)
            self._key_locks.pop(key, None)
            gone = self._ready.pop(key, None)
            trash = _trash(gone) if gone is not None else None  # the name is free before the next acquire
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)

    def sweep(self) -> None:
        """See `sweep`."""
        sweep(self._root, keep=self._dir.name)

    def _unzip(self, code_zip: Path, key: str) -> Path:
        final = self._dir / key
        tmp = self._dir / f".tmp-{key}-{uuid.uuid4().hex}"
        try:
            try:
                with zipfile.ZipFile(code_zip) as archive:
                    _check(archive)
                    tmp.mkdir()
                    _extract(archive, tmp)
            except _UNREADABLE as e:
                raise CodeError(detail=str(e)) from None
            os.rename(tmp, final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return final


def sweep(root: Path, keep: str = "") -> None:
    """Delete under `root` what no live store owns: the directories of stores whose lock is free (their server is
    gone), the older layout's ``<sha-hex>`` directories, temporaries. `keep`: the caller's own instance."""
    if not root.is_dir():
        return
    for entry in list(root.iterdir()):
        if keep and entry.name in (keep, f"{keep}.lock"):
            continue
        if entry.name.endswith(".lock") and entry.is_file():
            _sweep_instance(entry, root / entry.name.removesuffix(".lock"))
        elif entry.is_dir() and not (root / f"{entry.name}.lock").exists():
            _remove(entry)


def _trash(path: Path) -> Path:
    """Rename out of the way (atomic: nobody finds a half-deleted tree under its name)."""
    trash = path.with_name(f".gone-{path.name}-{uuid.uuid4().hex}")
    try:
        os.rename(path, trash)
    except OSError:
        return path
    return trash


def _remove(path: Path) -> None:
    shutil.rmtree(_trash(path), ignore_errors=True)


def _sweep_instance(lock: Path, directory: Path) -> None:
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # its server is alive
            return
        if directory.is_dir():
            _remove(directory)
        with contextlib.suppress(OSError):
            lock.unlink()
    finally:
        os.close(fd)
