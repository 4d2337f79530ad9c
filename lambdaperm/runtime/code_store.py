"""Deployment packages unzipped once per CodeSha256, under ``<work_dir>/code/<sha-hex>/``.

A package is refused (CodeError, which the caller answers with InvalidParameterValueException "Could not
unzip uploaded file. Please check your file, then try to upload again.") when it is not a zip, or when an
entry would land outside the directory: an absolute path, a ``..`` component, a NUL byte, or a symbolic
link. Unzipped, a package may hold at most 262,144,000 bytes (Lambda's 250 MB quota,
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).

Extraction goes to a private temporary directory that is renamed into place, so a half-written tree is
never used, and two servers sharing a work_dir can't corrupt each other.

Files are readable by all (``0644`` or more, executable bits kept) and directories ``0755``: a sandboxed
worker may run as another uid than the server (see `isolation`), and reads its code through a read-only
mount, so no worker can change any stored code.
"""

from __future__ import annotations

import base64
import binascii
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


def _safe_name(name: str) -> str | None:
    """The entry's relative path, or None for the archive root; CodeError if it escapes."""
    if "\x00" in name or name.startswith("/"):
        raise CodeError(detail=f"unsafe entry {name!r}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise CodeError(detail=f"unsafe entry {name!r}")
    return "/".join(parts) or None


def _check(archive: zipfile.ZipFile) -> None:
    total = 0
    for info in archive.infolist():
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_ISLNK(mode):
            raise CodeError(detail=f"symbolic link {info.filename!r}")
        _safe_name(info.filename)
        total += info.file_size
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
    """Thread-safe: one extraction per sha at a time, later callers reuse the directory."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._ready: dict[str, Path] = {}

    def ensure(self, code_zip: Path, code_sha256: str) -> Path:
        """The directory holding the unzipped package (unzipping it the first time)."""
        key = sha_dirname(code_sha256)
        ready = self._ready.get(key)
        if ready is not None:
            return ready
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            ready = self._ready.get(key)
            if ready is None:
                ready = self._unzip(code_zip, key)
                self._ready[key] = ready
            return ready

    def _unzip(self, code_zip: Path, key: str) -> Path:
        final = self._root / key
        if final.is_dir():
            return final
        self._root.mkdir(parents=True, exist_ok=True)
        tmp = self._root / f".tmp-{key}-{uuid.uuid4().hex}"
        try:
            try:
                with zipfile.ZipFile(code_zip) as archive:
                    _check(archive)
                    tmp.mkdir()
                    _extract(archive, tmp)
            except _UNREADABLE as e:
                raise CodeError(detail=str(e)) from None
            try:
                os.rename(tmp, final)
            except OSError:
                if not final.is_dir():  # lost a race to another process: theirs is as good as ours
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return final

