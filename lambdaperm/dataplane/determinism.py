"""What the embedded backend draws during a journaled unit, made a function of the unit's seed and time, so
that replaying the journal after a restart rebuilds the same identifiers and timestamps
(docs/architecture.md, "Durable data plane").

moto draws its identifiers from `mock_random` (seeded per unit by `journal.Journal.unit`), except:

- S3 multipart upload IDs (`os.urandom` in `moto.s3.models`) and DynamoDB export/import ARNs (`uuid4` in
  `moto.dynamodb.models.table_export` / `table_import`): pointed at `mock_random` here;
- the backend of an (account, region) is created lazily, by whichever call touches it first — a read, an
  authorization looking up a resource policy, Lambda checking a VPC — and an EC2 backend draws its default
  VPC's identifiers then. Its creation draws from a generator seeded with (salt, service, account, region)
  instead, under the execution lock, and restores the running unit's generator afterwards: the default VPC of
  an account and region is the same whenever it is created, so it does not matter which call created it.

moto reads the time through `moto.core.utils.utcnow`/`unix_time` (imported by name), `datetime.now()`
(`import datetime` or `from datetime import datetime`) and `time.time()`. Inside a unit each of these reads
the unit's time (live: the time the unit started; replay: the same recorded time); outside a unit, the clock.
"""

from __future__ import annotations

import datetime as _datetime_module
import hashlib
import sys
import time as _time_module
import types
from typing import Any

from . import journal

_real_datetime = _datetime_module.datetime
_SERVICES = ("moto.s3", "moto.sqs", "moto.sns", "moto.dynamodb", "moto.logs", "moto.ec2", "moto.core")


def _unit_time() -> float | None:
    unit = journal.current()
    return None if unit is None else unit.time


class _DatetimeType(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _real_datetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _real_datetime)


class ClockDatetime(_real_datetime, metaclass=_DatetimeType):
    """`datetime.datetime` whose now()/utcnow() read the running unit's time; everything it makes is a plain
    datetime."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _real_datetime:  # type: ignore[misc]
        return _real_datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: _datetime_module.tzinfo | None = None) -> _real_datetime:  # type: ignore[override]
        t = _unit_time()
        return _real_datetime.now(tz) if t is None else _real_datetime.fromtimestamp(t, tz)

    @classmethod
    def utcnow(cls) -> _real_datetime:  # type: ignore[override]
        t = _unit_time()
        if t is None:
            return _real_datetime.now(_datetime_module.UTC).replace(tzinfo=None)
        return _real_datetime.fromtimestamp(t, _datetime_module.UTC).replace(tzinfo=None)


class _DatetimeModule(types.ModuleType):
    """The `datetime` module as moto's `import datetime` modules see it: `datetime` is `ClockDatetime`."""

    datetime = ClockDatetime

    def __getattr__(self, name: str) -> Any:
        return getattr(_datetime_module, name)


class _TimeModule(types.ModuleType):
    """The `time` module as moto sees it: `time()` reads the running unit's time."""

    @staticmethod
    def time() -> float:
        t = _unit_time()
        return _time_module.time() if t is None else t

    def __getattr__(self, name: str) -> Any:
        return getattr(_time_module, name)


class _OsModule(types.ModuleType):
    """`os` as `moto.s3.models` sees it: `urandom` from moto's seeded generator."""

    @staticmethod
    def urandom(n: int) -> bytes:
        from moto.moto_api._internal import mock_random

        return bytes(mock_random.getrandbits(8) for _ in range(n))

    def __getattr__(self, name: str) -> Any:
        import os

        return getattr(os, name)


def _utcnow() -> _real_datetime:
    return ClockDatetime.utcnow()


_DATETIME = _DatetimeModule("datetime")
_TIME = _TimeModule("time")
_OS = _OsModule("os")
_state: dict[str, Any] = {"utcnow": None, "creation": False}


def install() -> None:
    """Point the loaded moto modules of the served services at the unit's clock and seed (idempotent; run
    after each service's modules are imported)."""
    import moto.core.utils as utils
    from moto.moto_api._internal import mock_random

    original = _state["utcnow"]
    if original is None:
        original = _state["utcnow"] = utils.utcnow
        utils.utcnow = _utcnow  # unix_time() and friends call it by its global name
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(_SERVICES):
            continue
        values = vars(module)
        if values.get("utcnow") is original:
            module.utcnow = _utcnow  # type: ignore[attr-defined]
        if values.get("datetime") is _datetime_module:
            module.datetime = _DATETIME  # type: ignore[attr-defined]
        elif values.get("datetime") is _real_datetime:
            module.datetime = ClockDatetime  # type: ignore[attr-defined]
        if values.get("time") is _time_module:
            module.time = _TIME  # type: ignore[attr-defined]
        if name == "moto.s3.models" and values.get("os") is not _OS:
            module.os = _OS  # type: ignore[attr-defined]
        if name.startswith("moto.dynamodb.models.table_") and "uuid4" in values:
            module.uuid4 = mock_random.uuid4  # type: ignore[attr-defined]
    _seed_backend_creation()


def _seed_backend_creation() -> None:
    """Create each (account, region) backend from a generator seeded with its own name (see the docstring)."""
    if _state["creation"]:
        return
    from moto.core.base_backend import AccountSpecificBackend
    from moto.moto_api._internal import mock_random

    getitem = AccountSpecificBackend.__getitem__

    def created_deterministically(self: Any, region_name: str) -> Any:
        if region_name in self.keys() or (region_name == "global" and "aws" in self.keys()):
            return getitem(self, region_name)
        running = journal.active()
        if running is None:
            return getitem(self, region_name)
        with running.lock:  # nobody else's unit draws in between
            saved = mock_random.getstate()
            material = f"{running.salt}:{self.service_name}:{self.account_id}:{region_name}".encode()
            mock_random.seed(int.from_bytes(hashlib.sha256(material).digest()[:16], "big"))
            try:
                return getitem(self, region_name)
            finally:
                mock_random.setstate(saved)

    AccountSpecificBackend.__getitem__ = created_deterministically  # type: ignore[method-assign]
    _state["creation"] = True
