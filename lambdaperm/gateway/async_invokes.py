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
(`invoke_threads`), bounded per account; unlike them, nothing is refused: an event is queued, as Lambda queues it.
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


class AsyncInvokes:
    """Thread-safe."""

    def __init__(self, workers: int = WORKERS, per_account: int = PER_ACCOUNT, name: str = "lambdaperm-async") -> None:
        if not 1 <= per_account <= workers:
            raise ValueError("per_account must be from 1 to workers")
        self._workers = workers
        self._per_account = per_account
        self._name = name
        self._queued: dict[str, deque[Callable[[], Any]]] = {}  # each account's jobs waiting for a thread
        self._running: dict[str, int] = {}
        self._ready: deque[str] = deque()  # accounts with a queued job and below their share, in turn
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._cond = threading.Condition()

    def submit(self, account: str, job: Callable[[], Any]) -> None:
        """Run `job` on a thread of the pool, counted on `account`; ignored once the pool is shut down."""
        with self._cond:
            if self._closed:
                return
            self._queued.setdefault(account, deque()).append(job)
            self._make_ready(account)
            if len(self._threads) < self._workers:
                thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

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
            job = queue.popleft()
            if not queue:
                del self._queued[account]
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
            self._ready.clear()
            self._cond.notify_all()
