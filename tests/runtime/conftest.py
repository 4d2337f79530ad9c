"""Fixtures for the runtime tests: real worker processes, functions built from source text."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import textwrap
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lambdaperm.runtime import Credentials, FunctionSpec, InvokeResult, Runtime
from tests.runtime.gate import LINKS

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENDPOINT = "http://127.0.0.1:4566"
CREDS = Credentials("ASIATESTACCESSKEY001", "test-secret-1", "test-token-1")


def zip_bytes(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, textwrap.dedent(text))
    return buf.getvalue()


class Functions:
    """Builds FunctionSpecs whose code is a zip written under tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def spec(self, files: dict[str, str], *, name: str = "fn", handler: str = "app.handler",
             **overrides: Any) -> FunctionSpec:
        data = zip_bytes(files)
        sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
        path = self.root / f"{uuid.uuid4().hex}.zip"
        path.write_bytes(data)
        version = overrides.pop("version", "$LATEST")
        spec = FunctionSpec(
            function_name=name, function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:{version}",
            version=version, handler=handler, runtime="python3.11", code_zip=path, code_sha256=sha,
            environment={}, timeout=3, memory_size=128, region=REGION, account=ACCOUNT,
            log_group=f"/aws/lambda/{name}",
        )
        return replace(spec, **overrides)


@pytest.fixture
def functions(tmp_path: Path) -> Functions:
    (tmp_path / "zips").mkdir()
    return Functions(tmp_path / "zips")


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(tmp_path / "work", ENDPOINT, max_workers_per_function=4, links=LINKS)
    yield rt
    rt.shutdown()


def invoke(rt: Runtime, spec: FunctionSpec, payload: bytes = b"{}", creds: Credentials = CREDS,
           **kwargs: Any) -> InvokeResult:
    return rt.invoke(spec, payload, creds, request_id=kwargs.pop("request_id", str(uuid.uuid4())), **kwargs)


# A handler's own view of its process: ``os.getpid()`` is its pid in its sandbox's PID namespace (the same
# number in every sandbox), so a handler reports both and the test resolves the host's pid with `host_pid`.
WHOAMI = "{'pid': os.getpid(), 'ns': os.readlink('/proc/self/ns/pid')}"


def host_pid(body: dict[str, Any] | list[Any]) -> int:
    """The host's pid of the live process a handler described with WHOAMI (or as ``[pid, ns]``)."""
    if isinstance(body, list):
        body = {"pid": body[0], "ns": body[1]}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != body["ns"]:
                continue
            with open(f"/proc/{entry}/status") as f:
                nspid = next(line.split()[1:] for line in f if line.startswith("NSpid:"))
        except (OSError, StopIteration):
            continue
        if int(nspid[-1]) == body["pid"]:
            return int(entry)
    raise LookupError(f"no live process is {body}")


def process_tree(root: int) -> set[int]:
    """`root` and its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(") ", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += children.get(pid, [])
    return tree


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone before the open, or between the open and the read
        return False
