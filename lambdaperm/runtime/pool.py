"""The warm workers of one (function ARN, code sha, configuration): at most `cap` of them, busy or idle.

An invoke takes an idle worker (the most recently used: the warmest), or a free slot to start one (a cold
start), or waits. A retired pool (function evicted, configuration changed, runtime shut down) hands out
nothing more; its idle workers are closed at once and its busy ones when they come back, so invocations
in flight finish on the code they started with, as on AWS.
"""

from __future__ import annotations

import threading
import time

from lambdaperm.runtime.worker import Worker


class PoolRetired(Exception):
    """The pool was retired while the caller waited: look the pool up again."""


class WorkerPool:
    def __init__(self, function_arn: str, cap: int) -> None:
        self.function_arn = function_arn
        self._cap = cap
        self._cond = threading.Condition()
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._slots = 0  # workers alive or being started
        self.retired = False
        self._killing = False  # shut down: busy workers are killed, not waited for

    def acquire(self) -> Worker | None:
        """An idle worker, or None: a slot is reserved and the caller starts the worker (then `adopt`)."""
        with self._cond:
            while True:
                if self.retired:
                    raise PoolRetired
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker
                if self._slots < self._cap:
                    self._slots += 1
                    return None
                self._cond.wait()

    def adopt(self, worker: Worker) -> None:
        """A worker started in a reserved slot is now busy (so shutdown can kill it)."""
        with self._cond:
            self._busy.add(worker)
            if self._killing:
                worker.kill()

    def release(self, worker: Worker | None, reusable: bool) -> None:
        """Give back a worker (or an unused slot). Not reusable, or a retired pool: it is closed."""
        with self._cond:
            if worker is not None:
                self._busy.discard(worker)
            keep = worker is not None and reusable and not self.retired
            if keep and worker is not None:
                worker.idle_since = time.monotonic()
                self._idle.append(worker)
            else:
                self._slots -= 1
            self._cond.notify()
        if not keep and worker is not None:
            worker.close()

    def retire(self, *, kill_busy: bool = False) -> None:
        with self._cond:
            self.retired = True
            self._killing = self._killing or kill_busy
            idle, self._idle = self._idle, []
            self._slots -= len(idle)
            busy = list(self._busy)
            self._cond.notify_all()
        for worker in idle:
            worker.close()
        if kill_busy:
            for worker in busy:
                worker.kill()

    def reap(self, idle_since_before: float) -> bool:
        """Close workers idle since before the given monotonic time. True if the pool is now unused and
        has been retired (the caller forgets it; a thread about to acquire gets PoolRetired and retries)."""
        with self._cond:
            stale = [w for w in self._idle if w.idle_since < idle_since_before]
            self._idle = [w for w in self._idle if w.idle_since >= idle_since_before]
            self._slots -= len(stale)
            if self._slots == 0:
                self.retired = True
            self._cond.notify_all()
            forget = self.retired and self._slots == 0
        for worker in stale:
            worker.close()
        return forget

    def oldest_idle(self) -> float | None:
        """When the least recently used idle worker became idle (monotonic), or None."""
        with self._cond:
            return min((w.idle_since for w in self._idle), default=None)

    def pids(self) -> list[int]:
        with self._cond:
            return [w.pid for w in (*self._idle, *self._busy)]
