"""The embedded moto backend, called in-process with the canonical request only.

An authorized call is re-serialized by botocore (`canonical.canonical_request`) and handed straight to
moto's response layer — the same callables moto's own decorator mode uses — with no HTTP framework in
between. moto's reply is parsed by botocore's parser for the operation, so the caller gets an output dict
(re-serialized by lambdaperm's own serializer, and recorded in the trail) or a ServiceError; nothing of
moto's bytes or headers reaches the client. (`reply_parsing` gives the parser its inputs cheaply.)

moto (and Flask, which moto's responses import) are loaded on the first data-plane call, not at start-up.
"""

from __future__ import annotations

import gc
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from botocore.model import OperationModel  # type: ignore[import-untyped]

from lambdaperm.protocol.errors import ServiceError

from .canonical import canonical_request, routing_url
from .canonical_xml import keep_carriage_returns
from .journal import Journal, Unit, answered, taped
from .reply_parsing import ResponseHeaders, parser

log = logging.getLogger("lambdaperm.dataplane")

# moto's backend per botocore service name (they coincide for the services we serve)
SERVED = frozenset({"dynamodb", "sqs", "sns", "logs", "ec2", "s3"})

Dispatch = Callable[[Any, str, Any], tuple[int, Any, Any]]


@dataclass(frozen=True, slots=True)
class BackendResult:
    """A successful call: the HTTP status the backend chose (206 for a range, 204 for a delete…) and the
    operation's output as botocore parses it (no ResponseMetadata)."""

    status: int
    output: dict[str, Any]


class MotoBackend:
    def __init__(self, journal: Journal | None = None) -> None:
        self._routes: dict[str, list[tuple[re.Pattern[str], Dispatch]]] = {}
        self._lock = threading.Lock()
        self.journal = journal  # with --state: every call runs as a journaled unit (journal.py)

    @contextmanager
    def unit(self, service: str, operation: str, params: dict[str, Any], account: str, region: str,
             subscriber: str | None = None) -> Iterator[None]:
        """Run what follows — an `execute` and what lambdaperm does to the backend right after it (the SNS
        confirmation rule, the only such follow-up: SNS only; and the S3 calls whose records lambdaperm writes with
        their journal entry, dataplane/unit_records.py) — as one journaled unit. Without a journal, or for another
        call, nothing: `execute` runs its own unit."""
        if self.journal is None or (service != "sns" and (service, operation) not in _WITH_RECORDS):
            yield
            return
        with self.journal.unit("call", service, operation, params, account, region, subscriber, keep=False) as unit:
            _decide_keep(unit, service, operation, params)
            yield

    def execute(self, model: OperationModel, params: dict[str, Any], account: str, region: str) -> BackendResult:
        """Run one authorized call in `account` and `region`. Raises ServiceError: the backend's AWS error,
        501 NotImplemented for an operation moto does not implement, 500 InternalFailure if it crashes."""
        service = model.service_model.service_name
        try:
            request = canonical_request(model, params, account, region)
            request = keep_carriage_returns(model, request)  # XML: `\r` stays `\r`
        except Exception:  # parse accepted what botocore cannot serialize: a gap in our validation, not a 500
            log.exception("no canonical request for %s:%s", service, model.name)
            raise ServiceError("ValidationError", f"The parameters of {model.name} are not valid.", 400) from None
        status, headers, body = self._journaled_dispatch(service, model.name, request, params, account, region, model)
        response = {
            "status_code": status,
            "headers": ResponseHeaders(_text_headers(headers).items()),
            "body": _bytes(body),
        }
        streamed = _streamed_payload(model)
        try:
            # a streamed payload (GetObject's Body) is handed to the parser as a stream, as botocore's client
            # does: given bytes, botocore decodes them as UTF-8, and a binary object is not text
            readable = {**response, "body": _STREAM_NOT_READ} if streamed and status < 300 else response
            parsed = parser(model.metadata["protocol"]).parse(readable, model.output_shape)
        except Exception:  # the backend answered something that is not the operation's reply
            log.exception("unreadable reply of the embedded backend to %s:%s (%s)", service, model.name, status)
            raise ServiceError(
                "InternalFailure",
                "The request processing has failed because of an unknown error, exception or failure.",
                500,
                sender_fault=False,
            ) from None
        parsed.pop("ResponseMetadata", None)
        if streamed and parsed.get(streamed) is _STREAM_NOT_READ:
            parsed[streamed] = response["body"]  # the bytes exactly as the backend answered them
        if "Error" in parsed and status >= 300:
            raise _error(service, model.name, status, parsed["Error"], response["headers"])
        _operation_fixups(service, model.name, parsed, response["body"])
        return BackendResult(status, parsed)

    def _journaled_dispatch(self, service: str, operation: str, request: Any, params: dict[str, Any], account: str,
                            region: str, model: OperationModel) -> tuple[int, Any, Any]:
        journal = self.journal
        if journal is None:
            return self._dispatch(service, operation, request)
        if (service, operation) == ("sqs", "ReceiveMessage"):
            return self._receive(request, params, account, region, model)
        with journal.unit("call", service, operation, params, account, region, keep=False) as unit:
            _decide_keep(unit, service, operation, params)
            if (service, operation) == ("logs", "CreateExportTask"):  # the export plan it was authorized with
                from . import logs_exports

                plan = taped(logs_exports._PINNED.get)
                with logs_exports.executing(plan):
                    return self._answered(service, operation, request)
            return self._answered(service, operation, request)

    def _receive(self, request: Any, params: dict[str, Any], account: str, region: str,
                 model: OperationModel) -> tuple[int, Any, Any]:
        """SQS ReceiveMessage with a wait: moto waits inside the call (it would hold the execution lock, and
        read the unit's frozen clock forever). The same call is made with WaitTimeSeconds=0, each attempt a
        unit of its own, until a message is received or the wait is over; WaitTimeSeconds changes only how
        long the call waits, never what it reads. An attempt is journaled when it received messages or changed the
        queue without returning one: moved a message to the dead-letter queue (the queue's message count), or
        counted a receive on a message it did not return — moto marks a message past the retention period
        received (its receive count, its visibility) and stops (`_queue_state`; persistence review round 10)."""
        assert self.journal is not None
        wait = _receive_wait(params, account, region)
        if wait is None:  # invalid or unknown: moto answers its error at once
            with self.journal.unit("call", "sqs", "ReceiveMessage", params, account, region):
                return self._answered("sqs", "ReceiveMessage", request)
        attempt = {**params, "WaitTimeSeconds": 0}
        request = canonical_request(model, attempt, account, region)
        request = keep_carriage_returns(model, request)
        deadline = time.monotonic() + wait
        while True:
            with self.journal.unit("call", "sqs", "ReceiveMessage", attempt, account, region) as unit:
                before = _queue_state(params, account, region)
                status, headers, body = self._answered("sqs", "ReceiveMessage", request)
                received = status >= 300 or b"ReceiptHandle" in _bytes(body)
                unit.keep = received or _queue_state(params, account, region) != before
            if received or time.monotonic() >= deadline:
                return status, headers, body
            time.sleep(0.02)

    def _answered(self, service: str, operation: str, request: Any) -> tuple[int, Any, Any]:
        """`_dispatch` inside a unit: the status the backend answered is the unit's outcome, kept with its journal
        entry and checked when it is replayed (`journal.answered`; persistence review round 13)."""
        try:
            status, headers, body = self._dispatch(service, operation, request)
        except ServiceError as err:
            answered(err.status)
            raise
        answered(status)
        return status, headers, body

    def _dispatch(self, service: str, operation: str, request: Any) -> tuple[int, Any, Any]:
        from moto.core.exceptions import HTTPException

        url = routing_url(request.url)  # a path cannot be taken for a host (canonical.routing_url)
        method = next((method for pattern, method in self._routes_for(service) if pattern.match(url)), None)
        if method is None:
            raise _not_implemented(service, operation)
        try:
            return method(request, request.url, request.headers)
        except HTTPException as exc:  # moto's AWS errors
            return exc.code, exc.get_headers(), exc.get_body()
        except NotImplementedError:
            raise _not_implemented(service, operation) from None
        except Exception:  # a crash of the backend is ours to report, never the client's fault
            log.exception("the embedded backend failed on %s:%s", service, operation)
            raise ServiceError(
                "InternalFailure",
                "The request processing has failed because of an unknown error, exception or failure.",
                500,
                sender_fault=False,
            ) from None

    def load(self, service: str) -> None:
        """Import moto's backend of `service` (and lambdaperm's changes to it) now rather than at its first call."""
        self._routes_for(service)

    def _routes_for(self, service: str) -> list[tuple[re.Pattern[str], Dispatch]]:
        routes = self._routes.get(service)
        if routes is None:
            with self._lock:
                routes = self._routes.get(service) or _load_routes(service)
                self._routes[service] = routes
        return routes


def _load_routes(service: str) -> list[tuple[re.Pattern[str], Dispatch]]:
    """moto's URL table of a service: (URL pattern, response callable), as its decorator mode uses it."""
    if service not in SERVED:
        raise ServiceError("NotImplemented", f"lambdaperm's data plane does not serve {service}", 501)
    import moto.backends as backends
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.base_backend import BackendDict

    from . import determinism, dynamodb_export_reads, dynamodb_policies, s3_public_policies, s3_restore_status
    from .fresh_side_tables import install as side_tables_die_with_their_resource
    from .fresh_tags import install as tags_die_with_their_resource
    from .s3_policy_off import leave_bucket_policies_to_lambdaperm
    from .sns_lambda import leave_lambda_delivery_to_lambdaperm
    from .sns_retention import forget_published_messages
    from .sns_subscription_owners import install as list_the_requesters_subscriptions
    from .sqs_attributes import keep_queue_policies
    from .untracked_models import stop_tracking_model_instances

    stop_tracking_model_instances()  # moto keeps no list of every model instance it ever made (untracked_models)
    leave_lambda_delivery_to_lambdaperm()
    leave_bucket_policies_to_lambdaperm()  # lambdaperm decided the call, bucket policy included
    keep_queue_policies()  # an update that does not name the policy keeps it (sqs_attributes)
    forget_published_messages()  # moto keeps no copy of every published message (sns_retention)
    tags_die_with_their_resource(service)  # S3 object and log group tags (fresh_tags)
    side_tables_die_with_their_resource(service)  # DynamoDB resource policies, Logs metric filters
    if service == "s3":
        s3_public_policies.install()  # every new bucket starts with Block Public Access on
        s3_restore_status.install()  # a restore completes in its RestoreObject unit, not in a later read
    if service == "sns":  # ListSubscriptions: the requester's, in any account's topic (sns_subscription_owners)
        list_the_requesters_subscriptions()
    if service == "dynamodb":  # PutResourcePolicy's ExpectedRevisionId without a policy (dynamodb_policies)
        dynamodb_policies.install()
        dynamodb_export_reads.install()  # ListExports / DescribeExport: installed before any replay, not lazily
    backend_dict = backends.get_backend(service)  # type: ignore[call-overload]
    memoize_pure_moto_functions()  # after the service's modules are imported
    if isinstance(backend_dict, BackendDict):
        regions = backend_dict[DEFAULT_ACCOUNT_ID]
        backend = regions["us-east-1"] if "us-east-1" in regions.regions else regions["aws"]
    else:
        backend = backend_dict["global"]
    determinism.install()  # the backend's clocks and identifiers follow the journal's units
    routes = [(re.compile(url), method) for url, method in backend.urls.items()]
    # moto's modules and the botocore service models it loaded live as long as the server: frozen out of
    # the cyclic collector's scans (a full collection would otherwise walk them all, ~200,000 objects)
    gc.freeze()
    return routes


_MEMOIZED = False
_CAMEL: Any = None  # the memoized camelcase_to_underscores


def memoize_pure_moto_functions() -> None:
    """Replace three of moto's helpers, on every request's path, by memoized versions of themselves.
    Each is a pure function of its arguments, so a memo returns exactly what the call would; the memo
    only skips recomputing it. Idempotent; called after each service's backend is loaded (its modules
    imported), so that every module that imported a helper by name uses the memo.

    - `method_names_from_class(cls)`: `inspect.getmembers(cls, inspect.isfunction)` on the response class,
      run by `BaseResponse.call_action` on every call (~80 µs). A class's functions are fixed once its
      module is imported: moto defines its response classes statically and neither moto nor lambdaperm
      adds or removes methods of a response class afterwards (`sns_lambda` patches a *model* class, before
      any call). Each call still gets its own list (a copy of the memo), as before.
    - `camelcase_to_underscores(name)`: a string transformation (action and attribute names; SQS runs it
      for every queue attribute on every SendMessage). Bounded memo: names are drawn from service models.
    - `utcfromtimestamp(value)`: `datetime.fromtimestamp(value, UTC)` made naive; `unix_time` calls it with
      0 (the epoch) for every timestamp it computes — SQS's SendMessage several times per queued message.
      datetimes are immutable, so sharing the result is safe.
    """
    global _MEMOIZED, _CAMEL
    import moto.core.responses as responses
    import moto.core.utils as utils

    if _CAMEL is None:
        _CAMEL = lru_cache(maxsize=4096)(utils.camelcase_to_underscores)
    for module in _modules_using(_CAMEL.__wrapped__):  # moto's own function, wherever it was imported
        module.camelcase_to_underscores = _CAMEL
    if _MEMOIZED:
        return
    names_of = utils.method_names_from_class
    by_class: dict[object, tuple[str, ...]] = {}

    def method_names_from_class(clazz: object) -> list[str]:
        names = by_class.get(clazz)
        if names is None:
            names = by_class[clazz] = tuple(names_of(clazz))
        return list(names)

    for module in (responses, utils):
        setattr(module, "method_names_from_class", method_names_from_class)  # noqa: B010
    utils.utcfromtimestamp = lru_cache(maxsize=64)(utils.utcfromtimestamp)
    _MEMOIZED = True


def _modules_using(function: Callable[..., Any]) -> list[Any]:
    """The loaded moto modules that imported `function` by name (`from moto.core.utils import ...`)."""
    import sys

    return [
        m
        for name, m in list(sys.modules.items())
        if name.startswith("moto.") and m is not None and getattr(m, function.__name__, None) is function
    ]


# operations that read only (by name; reviewed for the six served services). Every other executed call is
# journaled — a write, or a "read" that changes something (SQS ReceiveMessage; an S3 call to a bucket with
# server access logging, which writes a log object)
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Query", "Scan", "BatchGet", "TransactGet", "FilterLogEvents",
                  "TestMetricFilter", "CheckIfPhoneNumberIsOptedOut")
_NOT_READS = frozenset({("logs", "GetLogEvents")})  # reads, but listed in case moto ever changes them: none


# calls after which lambdaperm writes records about the backend, in the call's unit (persistence review round 8)
_WITH_RECORDS = frozenset({("s3", "CreateBucket"), ("s3", "PutBucketNotificationConfiguration")})


def _decide_keep(unit: Unit, service: str, operation: str, params: dict[str, Any]) -> None:
    """Whether the running unit is journaled, read under the execution lock the unit holds: what the decision reads
    (an S3 bucket's access logging) cannot change between the decision and the call's execution — a read decided
    "not logged" before the lock, executed after a PutBucketLogging enabled logging, wrote a log object its
    unjournaled unit lost at a restart (persistence review round 11). A call inside an enclosing unit marks that
    unit kept when it changes state, and never unmarks it."""
    if _changes_state(service, operation, params):
        unit.keep = True


def _changes_state(service: str, operation: str, params: dict[str, Any]) -> bool:
    if not operation.startswith(_READ_PREFIXES) or (service, operation) in _NOT_READS:
        return True
    if service == "s3" and isinstance(params.get("Bucket"), str):
        return _logged(str(params["Bucket"]))
    return False


def _logged(bucket: str) -> bool:
    """Whether moto writes an access log object for a request to this bucket."""
    from moto.s3.models import s3_backends

    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return False
    found = s3_backends[owner[1]][owner[0]].buckets.get(bucket)
    return bool(found is not None and found.logging)


def _queue(params: dict[str, Any], account: str, region: str) -> Any:
    from moto.sqs.models import sqs_backends

    name = str(params.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
    try:
        return sqs_backends[account][region].get_queue(name)
    except Exception:  # no such queue: moto answers the call's error
        return None


def _receive_wait(params: dict[str, Any], account: str, region: str) -> int | None:
    """The seconds a ReceiveMessage waits (its WaitTimeSeconds, else the queue's ReceiveMessageWaitTimeSeconds);
    None when moto would refuse the value or the queue does not exist."""
    wait = params.get("WaitTimeSeconds")
    if wait is None:
        queue = _queue(params, account, region)
        if queue is None:
            return None
        wait = queue.receive_message_wait_time_seconds
    try:
        seconds = int(wait)
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds <= 20 else None


def _queue_state(params: dict[str, Any], account: str, region: str) -> tuple[int, int]:
    """What a ReceiveMessage attempt can change in its queue: the messages it holds (a move to the dead-letter
    queue) and the receives counted on them (each `mark_received` counts one, with the message's visibility and
    receipt handle)."""
    queue = _queue(params, account, region)
    if queue is None:
        return -1, 0
    return len(queue._messages), sum(message.approximate_receive_count for message in queue._messages)


def _text_headers(headers: Any) -> dict[str, str]:
    items: Iterable[tuple[Any, Any]] = headers.items() if hasattr(headers, "items") else headers or []
    return {str(k): v.decode("latin-1") if isinstance(v, bytes) else str(v) for k, v in items}


_STREAM_NOT_READ = object()  # stands for a streamed payload while botocore parses the rest of the reply


def _streamed_payload(model: OperationModel) -> str | None:
    """The output member carrying a streamed payload (S3 GetObject's `Body`), if the operation has one."""
    if not model.has_streaming_output or model.output_shape is None:
        return None
    payload = model.output_shape.serialization.get("payload")
    return payload if isinstance(payload, str) else None


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    return b"".join(chunk if isinstance(chunk, bytes) else str(chunk).encode("utf-8") for chunk in body)


def _error(service: str, operation: str, status: int, error: dict[str, Any], headers: Any) -> ServiceError:
    code = str(error.get("Code") or f"HTTP{status}")
    if service == "sqs" and error.get("QueryErrorCode"):
        code = str(error["QueryErrorCode"])  # the modelled name; the serializer adds the legacy code
    message = str(error.get("Message") or "")
    fields = {k: v for k, v in error.items() if k not in ("Code", "Message", "QueryErrorCode", "Type")}
    if status >= 500:
        log.error("the embedded backend answered %s %s on %s:%s: %s", status, code, service, operation, message)
    return ServiceError(code, message, status, sender_fault=status < 500, fields=fields)


def _not_implemented(service: str, operation: str) -> ServiceError:
    return ServiceError(
        "NotImplemented",
        f"{service}:{operation} is not implemented by the embedded moto backend",
        501,
        sender_fault=False,
    )


def _operation_fixups(service: str, operation: str, parsed: dict[str, Any], body: bytes) -> None:
    """What botocore's parser leaves to an event handler: GetBucketLocation's bare root element."""
    if (service, operation) == ("s3", "GetBucketLocation"):
        match = re.search(rb"<LocationConstraint[^>]*>([^<]*)</LocationConstraint>", body)
        parsed["LocationConstraint"] = match.group(1).decode() if match and match.group(1) else None
