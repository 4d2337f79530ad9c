"""Test oracle: ``@cloud-copilot/iam-simulate`` driven as a separate node process.

iam-simulate is AGPL-3.0-or-later.  lambdaperm never vendors, commits or ships it: this module installs
it with ``npm install --prefix <cache dir>`` at test time (cache dir from ``$LAMBDAPERM_CACHE`` or
``~/.cache/lambdaperm/iam-simulate``) and talks to it through ``iam_simulate_driver.mjs`` (our own code,
next to this file) over JSON lines on stdin/stdout.  One long-running node process serves every request.

Usage::

    oracle = IamSimulateOracle.shared()        # installs on first use; raises OracleUnavailable
    result = oracle.evaluate(request_json)     # -> OracleResult
    results = oracle.evaluate_many(requests)   # pipelined, for 10,000+ cases

``OracleUnavailable.reason`` is a human-readable skip reason (no node / no npm / install failed ...).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE = "@cloud-copilot/iam-simulate"
# Pinned: the divergence table in tests/policy/test_differential.py was established against this
# version.  Override with LAMBDAPERM_IAM_SIMULATE_VERSION (any npm version range) to try another.
DEFAULT_VERSION_SPEC = "0.1.173"
MIN_NODE_MAJOR = 18
INSTALL_TIMEOUT_S = 300
DRIVER = Path(__file__).with_name("iam_simulate_driver.mjs")


class OracleUnavailable(RuntimeError):
    """The oracle cannot run here; ``reason`` says why (used as the pytest skip reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OracleProtocolError(RuntimeError):
    """The node driver died or answered out of protocol."""


@dataclass(frozen=True)
class OracleResult:
    decision: str | None  # "allowed" | "explicitDeny" | "implicitDeny" | None (error)
    raw: str | None  # iam-simulate's own word: "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"
    error: str | None
    ignored_context_keys: tuple[str, ...] = ()
    layers: Mapping[str, Any] | None = None
    mapping: tuple[str, ...] = field(default=())

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> OracleResult:
        return cls(
            decision=obj.get("decision"),
            raw=obj.get("raw"),
            error=obj.get("error"),
            ignored_context_keys=tuple(obj.get("ignoredContextKeys") or ()),
            layers=obj.get("layers"),
            mapping=tuple(obj.get("mapping") or ()),
        )


def default_cache_dir() -> Path:
    env = os.environ.get("LAMBDAPERM_CACHE")
    if env:
        return Path(env).expanduser() / "iam-simulate"
    return Path.home() / ".cache" / "lambdaperm" / "iam-simulate"


def _version_tuple(text: str) -> tuple[int, ...]:
    out = []
    for part in text.lstrip("v").split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


class IamSimulateOracle:
    """One node process running iam_simulate_driver.mjs against an installed iam-simulate."""

    _shared: IamSimulateOracle | None = None
    _shared_failure: OracleUnavailable | None = None
    _shared_lock = threading.Lock()

    def __init__(self, cache_dir: Path | None = None, version_spec: str | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.version_spec = version_spec or os.environ.get("LAMBDAPERM_IAM_SIMULATE_VERSION", DEFAULT_VERSION_SPEC)
        self.node = shutil.which("node")
        self.npm = shutil.which("npm")
        self._proc: subprocess.Popen[str] | None = None
        self._stderr_file: Any = None
        self._lock = threading.Lock()
        self._next_id = 0
        self.versions: dict[str, Any] = {}

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def shared(cls) -> IamSimulateOracle:
        """A process-wide started oracle (installed and spawned once); raises OracleUnavailable."""
        with cls._shared_lock:
            if cls._shared is not None and cls._shared.alive():
                return cls._shared
            if cls._shared_failure is not None:
                raise cls._shared_failure
            oracle = cls()
            try:
                oracle.start()
            except OracleUnavailable as exc:
                cls._shared_failure = exc
                raise
            cls._shared = oracle
            atexit.register(oracle.close)
            return oracle

    def check_tools(self) -> None:
        if not self.node:
            raise OracleUnavailable("node is not installed (needed to run the iam-simulate oracle)")
        if not self.npm:
            raise OracleUnavailable("npm is not installed (needed to install the iam-simulate oracle)")
        try:
            out = subprocess.run(
                [self.node, "--version"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            raise OracleUnavailable(f"node does not run: {exc}") from exc
        if _version_tuple(out)[0] < MIN_NODE_MAJOR:
            raise OracleUnavailable(f"node {out} is too old for iam-simulate (need >= {MIN_NODE_MAJOR})")

    def installed_version(self) -> str | None:
        pkg = self.cache_dir / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"
        try:
            return str(json.loads(pkg.read_text())["version"])
        except (OSError, ValueError, KeyError):
            return None

    def _spec_is_exact(self) -> bool:
        return all(ch.isdigit() or ch == "." for ch in self.version_spec)

    def ensure_installed(self) -> str:
        """Install the pinned iam-simulate into the cache dir unless it is already there."""
        self.check_tools()
        have = self.installed_version()
        if have is not None and (not self._spec_is_exact() or have == self.version_spec):
            return have
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OracleUnavailable(f"cannot create cache dir {self.cache_dir}: {exc}") from exc
        lock_path = self.cache_dir / ".install.lock"
        with open(lock_path, "w") as lock_file:
            with contextlib.suppress(ImportError, OSError):
                import fcntl

                fcntl.flock(lock_file, fcntl.LOCK_EX)
            have = self.installed_version()
            if have is not None and (not self._spec_is_exact() or have == self.version_spec):
                return have
            pkg_json = self.cache_dir / "package.json"
            if not pkg_json.exists():
                pkg_json.write_text(
                    json.dumps(
                        {
                            "name": "lambdaperm-oracle-cache",
                            "private": True,
                            "description": "Test-time cache for the iam-simulate oracle (not shipped).",
                        },
                        indent=2,
                    )
                    + "\n"
                )
            cmd = [
                str(self.npm),
                "install",
                "--prefix",
                str(self.cache_dir),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefer-offline",
                "--save-exact",
                "--fetch-retries=1",
                "--fetch-retry-mintimeout=2000",
                "--fetch-retry-maxtimeout=10000",
                f"{PACKAGE}@{self.version_spec}",
            ]
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, stdin=subprocess.DEVNULL
                )
            except subprocess.TimeoutExpired as exc:
                raise OracleUnavailable(
                    f"`npm install {PACKAGE}@{self.version_spec}` timed out after {INSTALL_TIMEOUT_S}s (no network?)"
                ) from exc
            except OSError as exc:
                raise OracleUnavailable(f"cannot run npm: {exc}") from exc
            if proc.returncode != 0:
                lines = (proc.stderr or proc.stdout or "").strip().splitlines()
                tail = [ln for ln in lines if " code " in ln or "errno" in ln or "network" in ln][:3] or lines[-3:]
                raise OracleUnavailable(
                    f"`npm install {PACKAGE}@{self.version_spec}` failed (exit {proc.returncode}; "
                    f"no network?): {' | '.join(tail)}"
                )
            have = self.installed_version()
            if have is None:
                raise OracleUnavailable(f"npm install finished but {PACKAGE} is not in {self.cache_dir}")
            return have

    def start(self) -> None:
        if self.alive():
            return
        self.ensure_installed()
        self._stderr_file = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the process
        try:
            self._proc = subprocess.Popen(
                [str(self.node), str(DRIVER), str(self.cache_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr_file,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
        except OSError as exc:
            raise OracleUnavailable(f"cannot start node driver: {exc}") from exc
        assert self._proc.stdout is not None
        hello_line = self._proc.stdout.readline()
        try:
            hello = json.loads(hello_line)
            assert hello.get("hello") is True
        except (ValueError, AssertionError) as exc:
            err = self._stderr_tail()
            self.close()
            raise OracleUnavailable(f"iam-simulate driver failed to start: {hello_line!r} {err}") from exc
        self.versions = {k: v for k, v in hello.items() if k != "hello"}

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                if proc.stdin:
                    proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stdout:
                proc.stdout.close()
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    def __enter__(self) -> IamSimulateOracle:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stderr_tail(self) -> str:
        if self._stderr_file is None:
            return ""
        try:
            self._stderr_file.seek(0)
            return self._stderr_file.read()[-2000:]
        except (OSError, ValueError):
            return ""

    # ------------------------------------------------------------------ requests
    def evaluate(self, request: Mapping[str, Any]) -> OracleResult:
        return self.evaluate_many([request])[0]

    def evaluate_many(self, requests: Sequence[Mapping[str, Any]] | Iterable[Mapping[str, Any]]) -> list[OracleResult]:
        """Send every request down the pipe (from a writer thread) while reading answers in order."""
        if not self.alive():
            self.start()
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        items = list(requests)
        with self._lock:
            first = self._next_id
            self._next_id += len(items)
            write_error: list[BaseException] = []

            def writer() -> None:
                try:
                    for i, req in enumerate(items):
                        proc.stdin.write(json.dumps({"id": first + i, "scenario": req}) + "\n")  # type: ignore[union-attr]
                    proc.stdin.flush()  # type: ignore[union-attr]
                except BaseException as exc:  # pragma: no cover - surfaced below
                    write_error.append(exc)

            thread = threading.Thread(target=writer, name="iam-simulate-writer", daemon=True)
            thread.start()
            results: list[OracleResult] = []
            for i in range(len(items)):
                line = proc.stdout.readline()
                if not line:
                    thread.join(timeout=5)
                    raise OracleProtocolError(
                        f"iam-simulate driver exited (rc={proc.poll()}) after {i} of {len(items)} answers; "
                        f"stderr: {self._stderr_tail()} {write_error}"
                    )
                obj = json.loads(line)
                if obj.get("id") != first + i:
                    raise OracleProtocolError(f"out-of-order answer: expected id {first + i}, got {obj!r}")
                results.append(OracleResult.from_json(obj))
            thread.join()
            if write_error:
                raise OracleProtocolError(f"writing to the driver failed: {write_error[0]!r}")
            return results
