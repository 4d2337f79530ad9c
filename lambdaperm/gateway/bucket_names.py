"""S3 bucket names are global: a call on a bucket holds its name from authorization to execution.

Between the authorization of a call on bucket `b` (decided with b's owner as the resource account and b's
policy) and its execution, another request could delete `b` and another account re-create the name; the
call would then act on a bucket nobody authorized it for. So every S3 call naming a bucket holds the
name shared for its whole life (authorize → execute), and CreateBucket / DeleteBucket hold it exclusively:
a bucket cannot change hands while a call on it is between its two halves. Calls on different buckets
never wait for each other beyond a striped lock's chance collision.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_LIFECYCLE = frozenset({"CreateBucket", "DeleteBucket"})
_STRIPES = 64


class _SharedExclusive:
    """A readers–writer lock (writers preferred, so a delete is not starved by a stream of reads)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


_LOCKS = [_SharedExclusive() for _ in range(_STRIPES)]


@contextmanager
def held(service: str, operation: str, params: dict[str, Any] | None) -> Iterator[None]:
    """Hold the bucket name of an S3 call (exclusively for CreateBucket/DeleteBucket) while it runs."""
    bucket = params.get("Bucket") if service == "s3" and params is not None else None
    if not isinstance(bucket, str):
        yield
        return
    lock = _LOCKS[zlib.crc32(bucket.encode("utf-8", "surrogatepass")) % _STRIPES]
    with lock.exclusive() if operation in _LIFECYCLE else lock.shared():
        yield
