"""Wrap moto's backend classes so that every call made inside a frame (`touches.recording`) records the
resources it touches (`moto_map`). Outside a frame a wrapper only checks a context variable.

What is wrapped:
- every public method of DynamoDBBackend, S3Backend, SQSBackend, SNSBackend, LogsBackend and EC2Backend
  (arguments → resources before the call, so a call that fails still counts; the result after it);
- the places where moto acts on a resource without a backend method naming it: an S3 bucket's key store
  (every read or write of a key is a touch of that object), DynamoDB `Table.put_item`/`delete_item`, and
  the tables PartiQL actually reads (moto hands every table's items to the statement parser; the oracle
  records the ones the parser looks up, which is moto's reading of the statement);
- moto's push deliveries (SNS `Subscription.publish`; S3 notifications' `_send_sqs_message`,
  `_send_sns_message`, `_invoke_awslambda`, `_send_event_bridge_message`, which the test event of a new
  configuration uses too): touches made inside are marked as a delivery, not an act of the caller.

A key an S3 listing (`list_objects`, `list_objects_v2`, `list_object_versions` …) reads is recorded as a
read of its bucket: listing reads the bucket's index, which s3:ListBucket on the bucket authorizes.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from . import moto_map
from .touches import LIST, READ, WRITE, current, delivering, paused

BACKENDS = {
    "dynamodb": ("moto.dynamodb.models", "DynamoDBBackend"),
    "s3": ("moto.s3.models", "S3Backend"),
    "sqs": ("moto.sqs.models", "SQSBackend"),
    "sns": ("moto.sns.models", "SNSBackend"),
    "logs": ("moto.logs.models", "LogsBackend"),
    "ec2": ("moto.ec2.models", "EC2Backend"),
}

_lock = threading.Lock()
_installed: set[str] = set()


def install(services: Iterable[str] | None = None) -> None:
    """Instrument moto's backends of `services` (all by default), and of every other served service whose
    models moto has already imported (SNS imports SQS's, to deliver). Idempotent; imports only what it
    instruments, so that a server pays for the services it uses."""
    wanted = set(BACKENDS) if services is None else set(services)
    with _lock:
        for service, (module, _) in BACKENDS.items():
            if service not in _installed and (service in wanted or module in sys.modules):
                _install(service)
                _installed.add(service)


def _install(service: str) -> None:
    from moto.core.base_backend import BaseBackend

    base = set(dir(BaseBackend))
    module, name = BACKENDS[service]
    cls = getattr(importlib.import_module(module), name)
    cls.__init__ = _unrecorded(cls.__init__)
    for attr in dir(cls):
        if attr.startswith("_") or attr in base:
            continue
        static = inspect.getattr_static(cls, attr)
        if inspect.isfunction(static) and not getattr(static, "_structural", False):
            setattr(cls, attr, _backend_method(service, cls.__name__, attr, static))
    _MODELS.get(service, lambda: None)()


def _unrecorded(init: Callable[..., Any]) -> Callable[..., Any]:
    """A backend built during a request (moto builds one per account and region on first use, with the
    region's default VPC, subnets, security groups …) sets itself up: that is not the request's doing."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        with paused():
            init(self, *args, **kwargs)

    return wrapper


def _backend_method(service: str, owner: str, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(func)
    mode = moto_map.method_mode(name)

    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = current()
        if frame is None:
            return func(self, *args, **kwargs)
        try:
            bound = signature.bind(self, *args, **kwargs).arguments
        except TypeError:
            return func(self, *args, **kwargs)
        arguments = {k: v for k, v in bound.items() if k != "self"}
        if isinstance(arguments.get("kwargs"), dict):
            arguments.update({k: v for k, v in arguments.pop("kwargs").items() if k not in arguments})
        if frame.depth == 0:
            frame.calls += 1
            frame.methods.append(f"{owner}.{name}")
        side = _service_side(frame, service, name)
        with delivering(side) if side is not None else _nothing():
            frame.depth += 1
            frame.stack.append((service, name, self))
            try:
                before = frame.count
                resolved = moto_map.arg_touches(service, self, name, arguments)
                for r in resolved:
                    frame.add(r.arn, r.mode, r.account, r.region, f"{owner}.{name}({r.arg})", r.source)
                if not resolved and mode == READ:
                    account, region = str(self.account_id), str(self.region_name)
                    frame.add(moto_map.scope_arn(service, account, region), LIST, account, region, f"{owner}.{name}()")
                result = func(self, *args, **kwargs)
                for r in moto_map.result_touches(name, result):
                    frame.add(r.arn, r.mode, r.account, r.region, f"{owner}.{name}({r.arg})")
                if frame.count == before and mode == WRITE and name not in _NO_RESOURCE.get(service, ()):
                    frame.errors.append(
                        f"{owner}.{name} returned without a touch: the oracle cannot tell what it "
                        "changed (map it in tests/structural/moto_map.py)"
                    )
                return result
            finally:
                frame.depth -= 1
                frame.stack.pop()

    wrapper._structural = True  # type: ignore[attr-defined]
    return wrapper


# backend methods named like writes that change nothing (no-op hooks of moto's response layer)
_NO_RESOURCE = {
    "dynamodb": {"batch_write_item"},
    "sns": {"confirm_subscription"},
}

# backend calls that the service makes on its own behalf, not the caller's
_SERVICE_SIDE = {("s3", "log_incoming_request"): "s3 server access logging"}
# (service of the inner call, service and method of an enclosing call): the service's own access
_SERVICE_SIDE_NESTED = {("sqs", "sns", "subscribe"): "sns subscription endpoint check"}


def _service_side(frame: Any, service: str, name: str) -> str | None:
    if (service, name) in _SERVICE_SIDE:
        return _SERVICE_SIDE[(service, name)]
    for outer_service, outer_name, _ in frame.stack:
        label = _SERVICE_SIDE_NESTED.get((service, outer_service, outer_name))
        if label is not None:
            return label
    return None


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _dynamodb_models() -> None:
    from moto.dynamodb.models.table import Table
    from py_partiql_parser import DynamoDBStatementParser

    for name in ("put_item", "delete_item"):
        setattr(Table, name, _table_write(name, getattr(Table, name)))
    DynamoDBStatementParser.__init__ = _partiql_parser(DynamoDBStatementParser.__init__)  # type: ignore[method-assign]


def _s3_models() -> None:
    from moto.s3 import notifications
    from moto.s3.models import FakeBucket, s3_backends
    from moto.s3.utils import _VersionedKeyStore

    _wrap_key_store(FakeBucket, _VersionedKeyStore)
    for account in list(s3_backends):  # buckets made before the instrumentation
        for partition in list(s3_backends[account]):
            for bucket in list(s3_backends[account][partition].buckets.values()):
                bucket.keys._structural_bucket = bucket.name
    for name in ("_send_sqs_message", "_send_sns_message", "_invoke_awslambda", "_send_event_bridge_message"):
        setattr(notifications, name, _delivery_function(getattr(notifications, name), "s3 event notification"))


def _sns_models() -> None:
    from moto.sns.models import Subscription

    Subscription.publish = _delivery(Subscription.publish, lambda sub: f"sns:{sub.topic.arn}")  # type: ignore[method-assign]


_MODELS: dict[str, Callable[[], None]] = {"dynamodb": _dynamodb_models, "s3": _s3_models, "sns": _sns_models}


def _table_write(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = current()
        if frame is not None:
            frame.depth += 1
            try:
                frame.add(str(self.table_arn), WRITE, str(self.account_id), str(self.region_name), f"Table.{name}")
            finally:
                frame.depth -= 1
        return func(self, *args, **kwargs)

    return wrapper


class _ReadTables(dict):  # type: ignore[type-arg]
    """PartiQL's source data: every table's items, recording the tables the statement looks up."""

    def __init__(self, data: dict[str, Any], tables: dict[str, tuple[str, str, str]]) -> None:
        super().__init__(data)
        self._tables = tables

    def _seen(self, key: Any) -> None:
        frame = current()
        table = str(key).split(".", 1)[0]
        if frame is not None and table in self._tables:
            arn, account, region = self._tables[table]
            frame.depth += 1
            try:
                frame.add(arn, READ, account, region, "partiql.query(source_data)")
            finally:
                frame.depth -= 1

    def __getitem__(self, key: Any) -> Any:
        self._seen(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._seen(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._seen(key)
        return super().__contains__(key)


def _partiql_parser(init: Callable[..., Any]) -> Callable[..., Any]:
    """The statement parser copies every table's items into `documents`: record the tables it looks up."""

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        frame = current()
        backend = None if frame is None else next((b for svc, _, b in reversed(frame.stack) if svc == "dynamodb"), None)
        if backend is not None:
            tables = {
                name: (str(t.table_arn), str(t.account_id), str(t.region_name)) for name, t in backend.tables.items()
            }
            self.documents = _ReadTables(self.documents, tables)

    return wrapper


def _wrap_key_store(bucket_cls: type, store_cls: type) -> None:
    """Each bucket's key store knows its bucket; reading or writing a key there touches the object."""
    init = bucket_cls.__init__

    @functools.wraps(init)
    def bucket_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.keys._structural_bucket = self.name

    bucket_cls.__init__ = bucket_init  # type: ignore[method-assign]
    for name, mode in (
        ("__getitem__", READ),
        ("get", READ),
        ("getlist", READ),
        ("__contains__", READ),
        ("__setitem__", WRITE),
        ("setlist", WRITE),
        ("pop", WRITE),
        ("__delitem__", WRITE),
    ):
        func = getattr(store_cls, name)
        setattr(store_cls, name, _key_store_method(name, mode, func))


def _key_store_method(name: str, mode: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(self: Any, key: Any, *args: Any, **kwargs: Any) -> Any:
        frame = current()
        bucket = getattr(self, "_structural_bucket", None)
        if frame is not None and isinstance(bucket, str) and isinstance(key, str):
            owner, region = moto_map.bucket_place(bucket)
            arn = f"arn:aws:s3:::{bucket}/{key}"
            if mode == READ and any(svc == "s3" and m.startswith("list_") for svc, m, _ in frame.stack):
                arn = f"arn:aws:s3:::{bucket}"  # the keys a listing reads are the bucket's index
            frame.depth += 1
            try:
                frame.add(arn, mode, owner, region, f"FakeBucket.keys.{name}")
            finally:
                frame.depth -= 1
        return func(self, key, *args, **kwargs)

    return wrapper


def _delivery(func: Callable[..., Any], source: Callable[[Any], str]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if current() is None:
            return func(self, *args, **kwargs)
        with delivering(source(self)):
            return func(self, *args, **kwargs)

    return wrapper


def _delivery_function(func: Callable[..., Any], source: str) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current() is None:
            return func(*args, **kwargs)
        with delivering(source):
            return func(*args, **kwargs)

    return wrapper
