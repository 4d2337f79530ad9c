"""Isolation review, round 9: a function author of one account attacks, through its own deployment packages and
invocations, the server's shared resources, with real boto3 against a real `lambdaperm serve` (docs/security.md,
"Runtime isolation"; issue 7, class 8).

Threat model: handler code — and the package that carries it — is untrusted with respect to every other account and
to the server. Each test is one attack and asserts the outcome the server promises in AWS's terms.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaperm.runtime.code_store import MAX_DIRECTORIES, MAX_FILES
from tests.e2e.conftest import Endpoint
from tests.e2e.lambda_helpers import make_role, payload
from tests.security.test_isolation_round6 import (
    MEMORY_NOT_BOUNDED,
    MEMORY_SIZE_MB,
    SANDBOX_LIMIT_MB,
    STOP_MB,
    _memory_enforced,
    _out_of_memory,
)
from tests.security.test_runtime_limits import SANDBOX_MODES, _deploy, _server, sandboxed_server

ATTACKER = "000000000000"
REGION = "us-east-1"
HANDLER = "def handler(event, context):\n    return {'ran': True}\n"
DEPTH = 100  # directories per chain: deep enough to amplify, shallow enough that the unfixed server unzips quickly


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lambdaperm-iso9-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Endpoint]:
    with _server(home=home, state=home / "state") as endpoint:
        assert endpoint.health()["isolation"]["available"] is True
        yield endpoint


def _package(chains: int, *, as_files: bool) -> bytes:
    """app.py, then `chains` chains of DEPTH nested directories: each chain one zip entry (a directory entry, or a
    file at the bottom of the chain), about 2 x (DEPTH x 2 + 50) bytes of archive for DEPTH directories on disk."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", HANDLER)
        for i in range(chains):
            chain = f"c{i}/" + "d/" * DEPTH
            archive.writestr(chain + "f" if as_files else chain, b"")
    return buf.getvalue()


def _directories(root: Path) -> int:
    return sum(len(dirs) for _, dirs, _ in os.walk(root))


@pytest.mark.parametrize("as_files", [False, True], ids=["directory-entries", "files-at-the-bottom"])
def test_a_package_of_nested_directories_cannot_fill_the_servers_disk(
    server: Endpoint, home: Path, as_files: bool
) -> None:
    """Attack: a deployment package whose entries are chains of nested directories. The unzipped-size quota (250 MB,
    262,144,000 bytes: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html) counted the files'
    bytes only; a directory costs the host a 4 KiB block and an inode and counted nothing. Measured before the fix
    (Linux 6.18, ext4): a 258 KB zip (70 chains of 900) unzipped at the function's first Invoke into 63,070
    directories, 247 MB of the disk every account and the state database share, in 43 s of one request thread; a
    50 MB zip (Lambda's direct-upload quota) would make about 10 million (40 GB, most of this host's 16.7 M inodes),
    and every warm function keeps its copy. Secure outcome: a package implying more than MAX_DIRECTORIES directories
    is refused as a package Lambda cannot unzip — Invoke answers InvalidZipFileException (502, Type User,
    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors) before anything is written.
    Positive control: the same shape below the bound runs."""
    lam = server.client("lambda", key=ATTACKER, region=REGION)
    role = make_role(server.client("iam", key=ATTACKER), f"nest-{as_files}-role")
    chains = MAX_DIRECTORIES // DEPTH + 1  # one chain more than the bound allows
    for name, count in ((f"nest-ok-{as_files}", 10), (f"nest-bomb-{as_files}", chains)):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _package(count, as_files=as_files)},
            Timeout=30,
        )
    assert payload(lam.invoke(FunctionName=f"nest-ok-{as_files}")) == {"ran": True}  # positive control
    started = time.monotonic()
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName=f"nest-bomb-{as_files}")
    error = refused.value.response
    assert error["Error"]["Code"] == "InvalidZipFileException", error
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 502, error
    assert time.monotonic() - started < 20, "the refusal came after the package was unzipped"
    code_root = home / "state" / "code"
    assert _directories(code_root) < MAX_DIRECTORIES // 2, "the refused package left its directories on the disk"


def _files_package(count: int) -> bytes:
    """app.py and `count` empty files in one directory: about 100 bytes of archive per inode on the host."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", HANDLER)
        for i in range(count):
            archive.writestr(f"e/{i:x}", b"")
    return buf.getvalue()


def test_a_package_of_empty_files_cannot_hold_the_servers_inodes_and_threads(server: Endpoint, home: Path) -> None:
    """Attack: a deployment package of empty files — 0 bytes against the 250 MB unzipped quota
    (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), an inode each on the disk every account
    and the state database share. Measured before the fix (this host, 2 shared cores): a 51 MB zip of 600,000 empty
    files (under the 50 MB direct-upload quota) took 164 s of the server's thread to unzip at the first Invoke (outside
    the function's timeout), 362 MB of its memory and 600,000 inodes, kept while the function is warm and redone at
    every cold start. Secure outcome: a package of more than MAX_FILES files is refused before anything is written —
    Invoke answers InvalidZipFileException (502, https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors).
    Positive control: 1,000 empty files run."""
    lam = server.client("lambda", key=ATTACKER, region=REGION)
    role = make_role(server.client("iam", key=ATTACKER), "empties-role")
    for name, count in (("empties-ok", 1000), ("empties-bomb", MAX_FILES + 1)):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _files_package(count)},
            Timeout=30,
        )
    assert payload(lam.invoke(FunctionName="empties-ok")) == {"ran": True}  # positive control
    started = time.monotonic()
    with pytest.raises(ClientError) as refused:
        lam.invoke(FunctionName="empties-bomb")
    error = refused.value.response
    assert error["Error"]["Code"] == "InvalidZipFileException", error
    assert time.monotonic() - started < 20, "the refusal came after the package was unzipped"
    files = sum(len(names) for _, _, names in os.walk(home / "state" / "code"))
    assert files < MAX_FILES // 2, "the refused package left its files on the disk"


@pytest.fixture(scope="module", params=SANDBOX_MODES)
def sandboxed(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    yield from sandboxed_server(request)


SHM = """
import errno, os

def _create(path):
    try:
        with open(path, "wb") as f:
            f.write(b"x" * 4096)
        os.unlink(path)
        return "created"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))

def handler(event, context):
    shm = _create("/dev/shm/hoard")
    try:
        os.chmod("/dev/shm", 0o1777)
        chmod = "changed"
    except OSError as e:
        chmod = errno.errorcode.get(e.errno, str(e.errno))
    with open("/dev/null", "wb") as null:
        null.write(b"x")
    return {"shm": shm, "chmod": chmod, "retry": _create("/dev/shm/hoard"), "tmp": _create("/tmp/file")}
"""


def test_a_handler_cannot_hold_memory_in_dev_shm(sandboxed: Endpoint) -> None:
    """Attack: a handler writes files in /dev/shm — bwrap's `--dev` tmpfs, unsized (half the host's RAM) and, in an
    unprivileged server's sandbox, owned by the handler's own (mapped) uid — to hold host memory its RLIMIT_DATA does
    not count (isolation round 6 measured 1.5 GiB from a 128 MB function; strict xfail without a memory cgroup). AWS
    rule: a Lambda execution environment has no /dev/shm to write (multiprocessing's semaphores fail there with
    ENOSYS); a function's writable storage is /tmp, bounded by its ephemeral storage
    (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html). Secure outcome, both modes:
    creating a file in /dev/shm fails, and so does making /dev/shm writable; /tmp and /dev/null still work (positive
    controls). As root it held before (the sandbox's /dev is root's); unprivileged it did not."""
    lam = _deploy(sandboxed, ATTACKER, "shm", SHM)
    result: Any = payload(lam.invoke(FunctionName="shm"))
    assert result["tmp"] == "created", result  # positive control: the function's own storage
    assert result["shm"] != "created" and result["retry"] != "created", result
    assert result["chmod"] != "changed" or result["retry"] != "created", result


SYSV = f"""
import ctypes, ctypes.util, os

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
IPC_CREAT, IPC_PRIVATE, IPC_RMID = 0o1000, 0, 0
CHUNK = 64 << 20
STOP = {STOP_MB} << 20

def handler(event, context):
    held, ids, error = 0, [], None
    try:
        while held < STOP:
            shmid = libc.shmget(IPC_PRIVATE, CHUNK, IPC_CREAT | 0o600)
            if shmid < 0:
                raise OSError(ctypes.get_errno(), "shmget")
            ids.append(shmid)
            addr = libc.shmat(shmid, None, 0)
            if addr in (None, ctypes.c_void_p(-1).value):
                raise OSError(ctypes.get_errno(), "shmat")
            ctypes.memset(addr, 120, CHUNK)  # the pages exist now
            libc.shmdt(addr)  # detached: the segment keeps them, outside every address space (RLIMIT_AS)
            held += CHUNK
    except OSError as e:
        error = str(e)
    finally:
        for shmid in ids:
            libc.shmctl(shmid, IPC_RMID, None)
    return {{"held_mb": held >> 20, "error": error}}
"""


def test_a_handler_cannot_hold_host_memory_in_detached_sysv_segments(
    sandboxed: Endpoint, request: pytest.FixtureRequest
) -> None:
    """Attack (round 6's open xfail, a route it did not name): a handler creates SysV shared memory segments in its
    sandbox's IPC namespace (whose shmmax/shmall are the kernel's defaults, effectively unbounded), touches them and
    detaches them. The pages stay in the kernel, in no process's address space, so no rlimit counts them: not
    RLIMIT_DATA, not RLIMIT_AS (which would bound shared mappings while attached), not RLIMIT_FSIZE; there is no file
    for a sized tmpfs and no memfd_create for a seccomp filter to refuse. AWS rule: a function's memory is its
    MemorySize (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). Secure outcome: the sandbox is
    killed as AWS ends a function over its memory (Runtime.OutOfMemory), or holds at most MemorySize + the margin.
    Holds where the server has a memory cgroup per sandbox (the kernel charges shm pages to the cgroup of the process
    that touched them); strict xfail where it has none (the unprivileged server here): why round 6's xfail cannot be
    closed route by route."""
    if not _memory_enforced(sandboxed):
        request.applymarker(pytest.mark.xfail(strict=True, reason=MEMORY_NOT_BOUNDED))
    lam = _deploy(sandboxed, ATTACKER, "sysv", SYSV, MemorySize=MEMORY_SIZE_MB)
    result = payload(lam.invoke(FunctionName="sysv"))
    if _out_of_memory(result):
        return
    assert isinstance(result, dict) and "held_mb" in result, result  # the handler ran (positive control)
    assert result["held_mb"] <= SANDBOX_LIMIT_MB, f"the handler held {result} of host memory"
