"""The state directory's disk reserve: a write is refused before it runs when the state filesystem is low.

Every data-plane write is journaled and every control-plane write stored in the state directory, and every call —
a read too — has its CloudTrail record committed there before it is answered (gateway/trail_writer.py). One
account's authorized writes could fill that filesystem (isolation review round 17): then every call of every
account failed to commit its record, a 500, and a write answered 500 may have been carried out. On AWS one
account's stored data never denies another account's service
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), and a service short of capacity
answers 503 — S3's `SlowDown` ("Please reduce your request rate."), the others' `ServiceUnavailable` — which the
SDKs retry after a back-off (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html,
https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).

So before a call that writes (any operation that is not a read by its name, `recording.is_read_only`) executes, the
free space of the state filesystem (`os.statvfs`, about 2 µs) must hold the reserve plus the request's body;
otherwise the call is refused with that 503 before anything of it runs (its trail record is still written, from
the reserve). Reads and every call's trail record keep working from the reserve. The reserve is max(256 MiB, 5% of
the filesystem), or `LAMBDAPERM_STATE_DISK_RESERVE_MIB` MiB (an operator knob; 0 turns the guard off).

A measurement is reused for one second, less what the writes admitted since then may have taken (their bodies),
and taken again at once while the estimate is within two reserves of the floor: near the floor every write reads
the filesystem itself.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from lambdaperm.protocol import ServiceError

RESERVE_VARIABLE = "LAMBDAPERM_STATE_DISK_RESERVE_MIB"
DEFAULT_MIN_RESERVE = 256 << 20  # bytes
DEFAULT_RESERVE_SHARE = 0.05  # of the filesystem's size
FRESH_SECONDS = 1.0


def configured_reserve(path: Path) -> int:
    """The reserve in bytes: the operator's `LAMBDAPERM_STATE_DISK_RESERVE_MIB`, else max(256 MiB, 5%)."""
    value = os.environ.get(RESERVE_VARIABLE)
    if value is not None:
        if not value.strip().isdigit():
            raise ValueError(f"{RESERVE_VARIABLE} must be a whole number of MiB, not {value!r}")
        return int(value) << 20
    stats = os.statvfs(path)
    return max(DEFAULT_MIN_RESERVE, int(stats.f_blocks * stats.f_frsize * DEFAULT_RESERVE_SHARE))


class StateDisk:
    """The free space of the state filesystem against its reserve."""

    def __init__(self, path: Path, reserve: int | None = None) -> None:
        self.path = path
        self.reserve = configured_reserve(path) if reserve is None else reserve
        self._lock = threading.Lock()
        self._measured = 0  # free bytes at the last measurement
        self._at = float("-inf")  # when (monotonic)
        self._admitted = 0  # body bytes of the writes admitted since

    def _free(self) -> int:
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize  # what an unprivileged writer may use

    def admit(self, size: int) -> bool:
        """Whether a write of `size` body bytes may run: the free space holds it and the reserve."""
        if self.reserve <= 0:
            return True
        with self._lock:
            estimate = self._measured - self._admitted
            if time.monotonic() - self._at > FRESH_SECONDS or estimate - size < 3 * self.reserve:
                self._measured, self._at, self._admitted = self._free(), time.monotonic(), 0
                estimate = self._measured
            if estimate - size < self.reserve:
                return False
            self._admitted += size
            return True


def refusal(service: str) -> ServiceError:
    """The 503 of a write refused for the reserve, as the service answers when short of capacity."""
    if service == "s3":
        return ServiceError("SlowDown", "Please reduce your request rate.", 503, sender_fault=False)
    return ServiceError("ServiceUnavailable", "Service is unable to handle request.", 503, sender_fault=False)
