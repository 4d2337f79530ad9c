"""A real `lambdaperm serve --state DIR` for the reliability campaign: start (wait for /_lambdaperm/health),
`kill -9`, stop; boto3 clients pointed at it; the trail store's request ids; RSS and process count of the server's
process tree read from /proc.

Not a test fixture (tests/e2e/conftest.py is): no structural oracle, so that the campaign measures the server as a
user runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    state: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def client(self, service: str, key: str = "test", secret: str = "test", region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(
                retries={"max_attempts": 1},
                s3={"addressing_style": "path"},
                connect_timeout=10,
                read_timeout=60,
                max_pool_connections=64,
            ),
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_lambdaperm/health", timeout=5) as resp:
                return bool(json.loads(resp.read()))
        except OSError:
            return False

    def kill9(self) -> None:
        """SIGKILL the server (its worker processes, if any, lose their parent as they would in a real crash; they
        are killed too so that they do not pile up across iterations)."""
        children = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill9()
        return int(self.proc.returncode)


def start(state: Path, log_dir: Path, *extra: str, port: int = 0, timeout: float = 120.0) -> Server:
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"server-{port}-{time.time_ns()}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    args = [sys.executable, "-m", "lambdaperm.cli.main", "serve", "--port", str(port), "--state", str(state), *extra]
    traced = os.environ.get("LAMBDAPERM_BENCH_TRACEMALLOC")  # DIR[:SECONDS[:FRAMES]]: see traced_serve.py
    if traced:
        directory, seconds, frames = [*traced.split(":"), "60", "25"][:3]
        args[1:3] = [str(Path(__file__).with_name("traced_serve.py")), directory, seconds, frames]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    server = Server(f"http://127.0.0.1:{port}", state, proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"lambdaperm serve exited ({proc.returncode}): {log.read_text()[-4000:]}")
        if server.healthy():
            return server
        time.sleep(0.05)
    server.kill9()
    raise RuntimeError(f"lambdaperm serve did not become healthy in {timeout} s: {log.read_text()[-4000:]}")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc/*/stat's ppid)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found: list[int] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except OSError:
        return 0


def tree_sample(pid: int) -> tuple[int, int, int]:
    """(RSS of the server process, total RSS of its descendants, number of descendants)."""
    children = descendants(pid)
    return rss_bytes(pid), sum(rss_bytes(c) for c in children), len(children)


def fd_count(pid: int) -> int:
    """Open descriptors of a process (/proc/PID/fd), 0 if it is gone."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def trail_request_ids(state: Path) -> dict[str, str]:
    """requestID → eventName of every record in the trail store (read beside the server: SQLite WAL readers do
    not block the writer)."""
    conn = sqlite3.connect(f"file:{state / 'state.db'}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT event_name, json_extract(record, '$.requestID') FROM trail_events").fetchall()
    finally:
        conn.close()
    return {str(rid): str(name) for name, rid in rows if rid is not None}
