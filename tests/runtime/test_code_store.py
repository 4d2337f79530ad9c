"""Deployment packages: unzipped once per sha, unsafe archives refused with AWS's message."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambdaperm.runtime import UNZIP_MESSAGE, CodeError, Runtime
from lambdaperm.runtime import code_store as code_store_module
from lambdaperm.runtime.code_store import CodeStore, sha_dirname
from tests.runtime.conftest import Functions, invoke


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    path.write_bytes(buf.getvalue())
    return path


def _sha(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


ESCAPING = ["../evil.py", "a/../../evil.py", "/tmp/evil.py", "ok/..", "./a/./../../evil.py"]


@pytest.mark.parametrize("name", ESCAPING)
def test_entries_escaping_the_directory_are_refused(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "bad.zip", [("app.py", b"x = 1\n"), (name, b"boom")])
    store = CodeStore(tmp_path / "code")
    with pytest.raises(CodeError) as err:
        store.ensure(archive, _sha(archive))
    assert err.value.message == UNZIP_MESSAGE
    assert not (tmp_path / "evil.py").exists() and not Path("/tmp/evil.py").exists()
    assert not any((tmp_path / "code").glob("*/app.py"))  # nothing half-extracted is kept


def test_symlinks_are_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = _zip(tmp_path / "link.zip", [("app.py", b""), (link, b"/etc/passwd")])
    with pytest.raises(CodeError):
        CodeStore(tmp_path / "code").ensure(archive, _sha(archive))


def test_not_a_zip_and_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(CodeError) as err:
        CodeStore(tmp_path / "code").ensure(junk, _sha(junk))
    assert str(err.value).startswith(UNZIP_MESSAGE)
    monkeypatch.setattr(code_store_module, "MAX_UNZIPPED_BYTES", 1000)
    big = _zip(tmp_path / "big.zip", [("app.py", b"#" * 1500)])
    with pytest.raises(CodeError) as too_large:
        CodeStore(tmp_path / "code").ensure(big, _sha(big))
    assert too_large.value.message == "Unzipped size must be smaller than 262144000 bytes"


def test_unzipped_once_per_sha(tmp_path: Path) -> None:
    script = zipfile.ZipInfo("bin/tool")
    script.create_system = 3
    script.external_attr = 0o755 << 16
    archive = _zip(tmp_path / "ok.zip", [("app.py", b"x = 1\n"), ("pkg/", b""), (script, b"#!/bin/sh\n")])
    sha = _sha(archive)
    store = CodeStore(tmp_path / "code")
    with ThreadPoolExecutor(8) as pool:
        dirs = set(pool.map(lambda _: store.acquire(archive, sha), range(16)))
    assert dirs == {store.directory / hashlib.sha256(archive.read_bytes()).hexdigest()}
    code_dir = dirs.pop()
    assert (code_dir / "app.py").read_text() == "x = 1\n" and (code_dir / "pkg").is_dir()
    assert (code_dir / "bin/tool").stat().st_mode & 0o777 == 0o755
    assert sorted(p.name for p in store.directory.iterdir()) == [code_dir.name]  # no temporaries left
    for _ in range(15):
        store.release(sha)
    assert code_dir.is_dir()  # one reference left
    store.release(sha)
    assert not code_dir.exists() and list(store.directory.iterdir()) == []  # the last reference deletes it
    again = store.acquire(archive, sha)  # and a later use unzips it again
    assert (again / "app.py").read_text() == "x = 1\n"


def test_a_store_never_deletes_a_live_stores_copies_and_sweeps_dead_ones(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "ok.zip", [("app.py", b"x = 1\n")])
    first = CodeStore(tmp_path / "code")
    kept = first.acquire(archive, _sha(archive))
    stale = tmp_path / "code" / ("ab" * 32)  # the older layout: code/<sha-hex>
    stale.mkdir()
    second = CodeStore(tmp_path / "code")  # its start-up sweep: the first store is alive
    assert kept.is_dir() and not stale.exists()
    assert second.acquire(archive, _sha(archive)) != kept  # each server its own copy
    dead = tmp_path / "code" / "0123"
    dead.mkdir()
    (tmp_path / "code" / "0123.lock").write_bytes(b"")  # nobody holds it: its server is gone
    CodeStore(tmp_path / "code")
    assert not dead.exists() and kept.is_dir()


def test_sha_dirname() -> None:
    digest = hashlib.sha256(b"code").digest()
    assert sha_dirname(base64.b64encode(digest).decode()) == digest.hex()
    assert sha_dirname(digest.hex()) == digest.hex()
    assert sha_dirname("not/base64+!") == hashlib.sha256(b"not/base64+!").hexdigest()


def test_runtime_raises_code_error(runtime: Runtime, functions: Functions) -> None:
    spec = functions.spec({"app.py": "def handler(e, c):\n    return 1\n"})
    spec.code_zip.write_bytes(b"garbage")
    with pytest.raises(CodeError):
        invoke(runtime, spec)
