"""The threads of asynchronous invocations, shared fairly between accounts (isolation review round 6).

Asynchronous invocations (Invoke ``Event``) and push deliveries (SNS, S3 notifications: `events.deliver`) run on a
pool of ``WORKERS`` threads of their own, not on request threads. One first-come-first-served pool for every account
let one account's waiting ``Event`` invocations (a handler that waits, up to its 900 s timeout) hold every thread, and
every other account's asynchronous invocations and deliveries waited behind them.

Lambda's concurrency is a quota of each account in each Region: one account's invocations never use another's capacity
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html), and an asynchronous event waits in the
function's queue until the function has capacity (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html).
Here an account's jobs (counted on the function's account, as Lambda counts concurrency) run on at most
``PER_ACCOUNT`` threads at once; its further jobs wait in a queue of its own — never lost, never ahead of another
account's — and a free thread takes the next job of the accounts below their share in turn (round robin). So
``WORKERS - PER_ACCOUNT`` threads always remain for the other accounts. Like synchronous invocations
(`invoke_threads`), bounded per account.

Each account's queue is bounded too (isolation review round 8): a queued job holds its payload (an Event invocation's,
up to 256 KB) in the server's memory, and one account invoking a slow function with ``Event`` grew the server without
limit (measured: 2,000 events of 200 KB, about 400 MB), a denial of service of every account. Lambda throttles an
invocation it cannot take with ``TooManyRequestsException`` (429; https://docs.aws.amazon.com/lambda/latest/api/
API_Invoke.html#API_Invoke_Errors) and, for an asynchronous event that cannot be processed, "events might also be
deleted from the queue without being sent to the function"
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html). Here a job is accepted while its
account's queued jobs, each counted as its payload plus ``JOB_OVERHEAD`` bytes, stay within ``QUEUED_BYTES``;
`submit` answers False otherwise (the caller throttles an Invoke, drops a push delivery).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("lambdaperm.lambda")
WORKERS = 8  # threads of asynchronous invocations and push deliveries
PER_ACCOUNT = WORKERS // 2  # one account's jobs running at once
QUEUED_BYTES = 64 << 20  # one account's queued jobs, payloads and overhead together (round 8)
JOB_OVERHEAD = 1 << 10  # what a queued job is counted beyond its payload: 65,536 empty jobs at most per account


class AsyncInvokes:
    """Thread-safe."""

    def __init__(
        self,
        workers: int = WORKERS,
        per_account: int = PER_ACCOUNT,
        name: str = "lambdaperm-async",
        queued_bytes: int = QUEUED_BYTES,
    ) -> None:
        if not 1 <= per_account <= workers:
            raise ValueError("per_account must be from 1 to workers")
        self._workers = workers
        self._per_account = per_account
        self._queued_bytes = queued_bytes
        self._bytes: dict[str, int] = {}  # each account's queued jobs, counted as payload + JOB_OVERHEAD
        self._name = name
        self._queued: dict[str, deque[tuple[Callable[[], Any], int]]] = {}  # each account's jobs waiting for a thread
        self._running: dict[str, int] = {}
        self._ready: deque[str] = deque()  # accounts with a queued job and below their share, in turn
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._cond = threading.Condition()

    def submit(self, account: str, job: Callable[[], Any], size: int = 0) -> bool:
        """Run `job` (holding `size` bytes of payload) on a thread of the pool, counted on `account`; False, and
        nothing queued, when the account's queue would exceed its bound. Ignored once the pool is shut down."""
        cost = max(size, 0) + JOB_OVERHEAD
        with self._cond:
            if self._closed:
                return True
            if self._bytes.get(account, 0) + cost > self._queued_bytes:
                return False
            self._bytes[account] = self._bytes.get(account, 0) + cost
            self._queued.setdefault(account, deque()).append((job, cost))
            self._make_ready(account)
            if len(self._threads) < self._workers:
                thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
            return True

    def _make_ready(self, account: str) -> None:
        if (
            self._queued.get(account)
            and self._running.get(account, 0) < self._per_account
            and account not in self._ready
        ):
            self._ready.append(account)

    def _take(self) -> tuple[str, Callable[[], Any]] | None:
        with self._cond:
            while not self._ready and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            account = self._ready.popleft()
            queue = self._queued[account]
            job, cost = queue.popleft()
            if not queue:
                del self._queued[account]
            self._bytes[account] -= cost
            if not self._bytes[account]:
                del self._bytes[account]
            self._running[account] = self._running.get(account, 0) + 1
            self._make_ready(account)  # to the back of the turn, if it may run another
            if self._ready:
                self._cond.notify()
            return account, job

    def _work(self) -> None:
        while (taken := self._take()) is not None:
            account, job = taken
            try:
                job()
            except Exception:  # an asynchronous invocation has no caller to report to
                log.exception("asynchronous invocation failed")
            finally:
                with self._cond:
                    self._running[account] -= 1
                    if not self._running[account]:
                        del self._running[account]
                    self._make_ready(account)
                    self._cond.notify()

    def running(self, account: str) -> int:
        with self._cond:
            return self._running.get(account, 0)

    def shutdown(self) -> None:
        """Drop the queued jobs; running ones finish on their own (their threads are daemons)."""
        with self._cond:
            self._closed = True
            self._queued.clear()
            self._bytes.clear()
            self._ready.clear()
            self._cond.notify_all()
