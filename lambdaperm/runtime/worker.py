"""One worker process (a warm Lambda execution environment) seen from the server.

The process is ``python -I -S -u -c <import bootstrap.py>``, started inside its sandbox when the runtime
has one (see `isolation`: then the pid the server holds is the sandbox's, and killing its process group
ends the whole PID namespace). Isolated mode (no PYTHON* variables, no user site, no script directory on
sys.path), no ``site`` processing (see environment.library_paths), unbuffered
stdio; plus ``-B`` when the server itself doesn't write bytecode (PYTHONDONTWRITEBYTECODE, which -I hides).
Its cwd is the code directory, its environment is built by `environment.worker_environment`, it gets no
file descriptor but its two pipes and the log file (``close_fds``), and it leads its own process group so
that a kill also ends the processes its handler started.

Output: the worker's fds 1 and 2 share one ``O_APPEND`` memfd of the parent's; the parent reads
what was appended since the last look (`take_output`), so no reader thread is needed and a killed worker's
last words are kept. Messages are frames on the pipes (see bootstrap.py), read against a deadline with
poll(2): a timeout is exact to the millisecond and needs no timer thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lambdaperm.runtime import bootstrap
from lambdaperm.runtime.errors import WorkerStartError

BOOTSTRAP = Path(bootstrap.__file__).resolve()
FRAME = bootstrap.FRAME
INTERPRETER_FLAGS = ("-I", "-S", "-u", *(("-B",) if sys.flags.dont_write_bytecode else ()))
PIPE_SIZE = 1 << 20
LOG_CAPTURE_LIMIT = 8 << 20  # keep at most the last 8 MiB of one invocation's output
MAX_FRAME_BODY = bootstrap.MAX_RESPONSE_BYTES + (1 << 20)
MAX_FRAME_HEAD = 64 << 10  # the bootstrap's headers are a few hundred bytes
# The fields the server reads from a worker's header, and their types. The handler can write to the pipe (it
# runs in the same process as the bootstrap): a frame that does not fit is the runtime breaking its protocol.
HEADER_FIELDS: dict[str, tuple[type, ...]] = {"type": (str,), "error_type": (str, type(None)),
                                              "oversized": (bool,), "ms": (int, float), "rss": (int,)}
TRUNCATE_AT = 16 << 20  # recycle the log file between invocations once it holds this much
EXIT_WAIT_SECONDS = 5.0

ReplyKind = Literal["message", "timeout", "exit"]


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    header: dict[str, Any] = field(default_factory=dict)
    body: bytes = b""
    returncode: int | None = None


def worker_command(runtime_dir: str) -> list[str]:
    """The worker's command line, with the bootstrap's directory as the worker sees it: import the
    bootstrap (from its cached .pyc: running the file as a script would recompile it, 5 ms per cold
    start), then take it off sys.path and sys.modules (with its neighbour `endpoint_relay`) so a handler's own
    "bootstrap" module is its own."""
    stub = (f"import sys; sys.path.insert(0, {runtime_dir!r}); import bootstrap; del sys.path[0]; "
            "del sys.modules['bootstrap'], sys.modules['endpoint_relay']; bootstrap.main()")
    return [sys.executable, *INTERPRETER_FLAGS, "-c", stub]


def _header(raw: bytes) -> dict[str, Any] | None:
    """A worker's frame header, or None unless it is a JSON object whose known fields have their types."""
    try:
        header = json.loads(raw)
    except ValueError:  # also invalid UTF-8
        return None
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        return None
    for name, types in HEADER_FIELDS.items():
        value = header.get(name)
        if name in header and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            return None
    return header


def _parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b") ", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def signal_status(status: int) -> int:
    """bwrap exits with 128 + N when its command was killed by signal N: the status as Popen tells a
    signal (-N). (An exit(129…) of the handler itself reads as a signal too: bwrap does not tell them apart.)"""
    if 128 < status < 128 + signal.NSIG:
        return 128 - status
    return status


class Worker:
    """Not thread-safe: one owner at a time (the pool guarantees it); `kill` may come from anywhere."""

    def __init__(self, proc: subprocess.Popen[bytes], log_fd: int, log_stream_name: str,
                 sandbox_info: int | None = None, on_close: Callable[[], None] | None = None) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self._proc = proc
        self._in = proc.stdin.fileno()
        self._out = proc.stdout.fileno()
        self._log = log_fd
        self._log_offset = 0
        self._poll = select.poll()
        self._poll.register(self._out, select.POLLIN | select.POLLHUP | select.POLLERR)
        self.log_stream_name = log_stream_name
        self.rss_kb = 0
        self.idle_since = time.monotonic()
        self.closed = False
        self._sandboxed = sandbox_info is not None
        self._info_fd = sandbox_info
        self._info = b""
        self._init_pid: int | None = None  # the host pid of the sandbox's init (PID 1 of its namespace)
        self._on_close = on_close  # what the worker held (its uid, its code) is given back once it is reaped

    @property
    def pid(self) -> int:
        return self._proc.pid

    @classmethod
    def spawn(cls, command: list[str], *, env: dict[str, str], cwd: Path, log_stream_name: str,
              sandbox_info: tuple[int, int] | None = None, on_close: Callable[[], None] | None = None) -> Worker:
        """Start `command` as the leader of a new session. `sandbox_info`: the (read, write) ends of the
        pipe whose write end a sandboxing `command` writes its info to (see `isolation.Sandbox.command`).
        `on_close` runs once the worker has been reaped by `close` (not when it cannot be started: the caller
        still holds what it gave)."""
        try:  # anonymous memory: nothing on disk, and its /proc/self/fd link names no directory
            log_fd = os.memfd_create("lambda-log", os.MFD_CLOEXEC)
            fcntl.fcntl(log_fd, fcntl.F_SETFL, fcntl.fcntl(log_fd, fcntl.F_GETFL) | os.O_APPEND)
        except OSError as e:
            for fd in sandbox_info or ():
                os.close(fd)
            raise WorkerStartError(f"cannot create the worker's log file: {e}") from e
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_fd,
                cwd=cwd, env=env, close_fds=True, start_new_session=True,
                pass_fds=(sandbox_info[1],) if sandbox_info else (),
            )
        except OSError as e:
            os.close(log_fd)
            if sandbox_info:
                os.close(sandbox_info[0])
            raise WorkerStartError(f"cannot start the worker process: {e}") from e
        finally:
            if sandbox_info:
                os.close(sandbox_info[1])
        assert proc.stdin is not None and proc.stdout is not None
        for pipe in (proc.stdin.fileno(), proc.stdout.fileno()):
            with contextlib.suppress(OSError, AttributeError):
                fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        os.set_blocking(proc.stdout.fileno(), False)
        return cls(proc, log_fd, log_stream_name, sandbox_info[0] if sandbox_info else None, on_close)

    # ------------------------------------------------------------ messages

    def request(self, header: dict[str, Any], body: bytes, deadline: float) -> Reply:
        """Send one frame and wait for the answer until `deadline` (time.monotonic())."""
        head = json.dumps(header, separators=(",", ":")).encode()
        try:
            self._write(FRAME.pack(len(head), len(body)) + head)
            if body:
                self._write(body)
        except (BrokenPipeError, ConnectionResetError):
            return Reply("exit", returncode=self._wait_exit())
        return self.receive(deadline)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._in, view) :]

    def receive(self, deadline: float) -> Reply:
        buf = bytearray()
        need = FRAME.size
        head_len = -1
        while True:
            while len(buf) < need:
                remaining_ms = (deadline - time.monotonic()) * 1000
                if remaining_ms <= 0 or not self._poll.poll(max(1, int(remaining_ms + 0.999))):
                    if time.monotonic() >= deadline:
                        return Reply("timeout")
                    continue
                try:
                    chunk = os.read(self._out, need - len(buf))
                except BlockingIOError:
                    continue
                if not chunk:
                    return Reply("exit", returncode=self._wait_exit())
                buf += chunk
            if head_len >= 0:
                break
            head_len, body_len = FRAME.unpack_from(buf)
            if head_len > MAX_FRAME_HEAD or body_len > MAX_FRAME_BODY:  # not our bootstrap talking: a crash
                return self.broken_protocol()
            need = FRAME.size + head_len + body_len
        header = _header(bytes(buf[FRAME.size : FRAME.size + head_len]))
        if header is None:
            return self.broken_protocol()
        self.rss_kb = header.get("rss", self.rss_kb)
        return Reply("message", header, bytes(buf[FRAME.size + head_len :]))

    def broken_protocol(self) -> Reply:
        """A frame the bootstrap cannot have written (the handler wrote to the pipe): the runtime is ended,
        as a runtime breaking the Runtime API would be, and nothing more of it is read."""
        self.kill()
        return Reply("exit", returncode=self._wait_exit())

    # ------------------------------------------------------------ output

    def take_output(self) -> str:
        """What the process wrote to stdout/stderr since the last call."""
        size = os.fstat(self._log).st_size
        start = max(self._log_offset, size - LOG_CAPTURE_LIMIT)
        data = os.pread(self._log, size - start, start) if size > start else b""
        self._log_offset = size
        if size >= TRUNCATE_AT:
            os.ftruncate(self._log, 0)
            self._log_offset = 0
        return data.decode("utf-8", errors="replace")

    # ------------------------------------------------------------ lifetime

    def _wait_exit(self) -> int | None:
        try:
            status = self._proc.wait(EXIT_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            status = self._proc.wait()
        return signal_status(status) if self._sandboxed else status

    def _sandbox_init_pid(self) -> int | None:
        """The host pid of the sandbox's init, once bwrap has told it (it does before the worker starts)."""
        if self._init_pid is None and self._info_fd is not None:
            with contextlib.suppress(OSError):
                if select.select([self._info_fd], [], [], 0)[0]:
                    self._info += os.read(self._info_fd, 4096)
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self._init_pid = int(json.loads(self._info)["child-pid"])
        return self._init_pid

    def kill(self) -> None:
        """SIGKILL the worker and its process group (in a sandbox: its init, whose death ends every process
        of its PID namespace before bwrap, its parent, can exit). Safe from any thread."""
        if self._proc.returncode is not None:  # reaped: its pid may belong to someone else by now
            return
        init = self._sandbox_init_pid()
        if init is not None and _parent_of(init) == self._proc.pid:  # still bwrap's child: not a reused pid
            # Not bwrap itself: it exits once its init is gone, so reaping bwrap means the sandbox is empty.
            try:
                os.kill(init, signal.SIGKILL)
                return
            except (ProcessLookupError, PermissionError):
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()

    def close(self) -> None:
        """Kill, reap and release the descriptors (owner only)."""
        if self.closed:
            return
        self.closed = True
        self.kill()
        try:
            self._proc.wait(EXIT_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(EXIT_WAIT_SECONDS)
        if self._on_close is not None and self._proc.returncode is not None:  # reaped: its sandbox is empty
            self._on_close()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(OSError):
            os.close(self._log)
        if self._info_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._info_fd)
