"""One Lambda execution environment: the worker process that imports a handler and calls it.

Started by `lambdaperm.runtime.worker` as ``python -I -S -u``, importing this file from its own directory
(it also runs as a script by path): it imports the standard library only, never the lambdaperm package,
and must start fast. Its behaviour follows AWS's
Python runtime interface client (github.com/aws/aws-lambda-python-runtime-interface-client,
awslambdaric/bootstrap.py, lambda_runtime_marshaller.py, lambda_context.py): the same error types and
messages (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, `Runtime.MalformedHandlerName`,
`Runtime.UserCodeSyntaxError`, `Runtime.MarshalError`, ...), the same error payload
``{"errorMessage", "errorType", "requestId", "stackTrace"}``, the same ``[ERROR]`` log record and the same
root-logger format.

The process starts with the environment the server builds (Lambda's reserved variables, the credentials); the
function's own Environment.Variables arrive in the init frame (``environ``, the complete environment) and are
applied here, inside the sandbox: they must never be the environment of the sandbox's launcher (bwrap, setpriv),
where LD_PRELOAD, GLIBC_TUNABLES and the like would run the function's code on the host.

Wire protocol with the parent, on private copies of the original stdin/stdout pipes (fd 0 becomes
/dev/null; fds 1 and 2 both become the parent's per-worker log file, so the handler's print()/logging and
any child process output land in the function's log): each message is a frame
``FRAME(header_len, body_len) + JSON header + body``.

    parent → worker  {"type": "init", "task_root", "paths", "data_limit", "log_limit", "max_tasks", "environ",
                      "relay"} (once)
    worker → parent  {"type": "ready", "rss"}  or  {"type": "init_error", "error_type", "rss"} + payload
    parent → worker  {"type": "invoke", "id", "arn", "deadline_ms", "client_context", "creds"} + event
    worker → parent  {"type": "result", "error_type", "oversized", "ms", "rss"} + payload
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import resource
import struct
import sys
import threading
import time

try:  # this file's neighbour: the runtime directory is on sys.path while a worker imports this file
    import endpoint_relay
except ImportError:  # imported by the server as lambdaperm.runtime.bootstrap (for FRAME)
    from lambdaperm.runtime import endpoint_relay

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a few ms per cold start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    Handler = Callable[[Any, "LambdaContext"], Any]

FRAME = struct.Struct(">II")
MAX_RESPONSE_BYTES = 6291556  # Lambda's synchronous response limit (6 MiB + 100 bytes)
TASK_ROOT_ALIAS = "/var/task"  # how AWS names the code directory in stack traces
ERROR_LOG_LINE_TERMINATE = "\n"  # Lambda's telemetry sink joins lines with LF into one event (not CR)
ERROR_LOG_IDENT = "\u00a0"  # NO-BREAK SPACE, as awslambdaric indents traceback lines in the log
LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
ORPHAN_CHECK_SECONDS = 2.0

_request_id = ""
_task_root = ""


class Fault(Exception):
    """A runtime-detected failure with Lambda's errorType (awslambdaric's FaultException)."""

    def __init__(self, error_type: str, msg: str, trace: list[str] | None = None) -> None:
        super().__init__(msg)
        self.error_type = error_type
        self.msg = msg
        self.trace = trace


# ---------------------------------------------------------------- framing


def read_exact(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("parent closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> tuple[dict[str, Any], bytes]:
    head_len, body_len = FRAME.unpack(read_exact(fd, FRAME.size))
    data = read_exact(fd, head_len + body_len)
    return json.loads(data[:head_len]), data[head_len:]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_frame(fd: int, header: dict[str, Any], body: bytes = b"") -> None:
    head = json.dumps(header, separators=(",", ":")).encode()
    _write_all(fd, FRAME.pack(len(head), len(body)) + head)
    if body:
        _write_all(fd, body)


# ---------------------------------------------------------------- JSON like awslambdaric's Encoder

# awslambdaric encodes with simplejson: Decimals as raw numbers (NaN as NaN), and ensure_ascii=False only
# on python3.12.
_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") not in {"AWS_Lambda_python3.12"}


class _DecimalSeen(Exception):
    pass


class _RawNumber(float):
    """A Decimal on its way through json's pure-Python encoder: printed as str(Decimal)."""

    text = ""


def _not_serializable(o: object) -> TypeError:
    return TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def _is_decimal(o: object) -> bool:
    """Without importing decimal (10 ms at startup): a Decimal exists only if its module was imported."""
    module = sys.modules.get("decimal")
    return module is not None and isinstance(o, module.Decimal)


def _fast_default(o: object) -> object:
    if _is_decimal(o):
        raise _DecimalSeen
    raise _not_serializable(o)


_FAST = json.JSONEncoder(ensure_ascii=_ENSURE_ASCII, default=_fast_default)


def _decimal_default(o: object) -> object:
    if _is_decimal(o):
        if o.is_nan():  # type: ignore[attr-defined]
            return math.nan
        raw = _RawNumber(0.0)
        raw.text = str(o)
        return raw
    raise _not_serializable(o)


def _floatstr(o: float) -> str:
    if isinstance(o, _RawNumber):
        return o.text
    if o != o:
        return "NaN"
    if o in (math.inf, -math.inf):
        return "Infinity" if o > 0 else "-Infinity"
    return float.__repr__(o)


def to_json(obj: object) -> str:
    try:
        return _FAST.encode(obj)
    except _DecimalSeen:
        encoder = json.encoder
        basestring = encoder.encode_basestring_ascii if _ENSURE_ASCII else encoder.encode_basestring
        chunks = encoder._make_iterencode(  # type: ignore[attr-defined]
            {}, _decimal_default, basestring, None, _floatstr, ": ", ", ", False, False, True
        )(obj, 0)
        return "".join(chunks)


# ---------------------------------------------------------------- errors


def _alias(path: str) -> str:
    root = _task_root + os.sep
    return TASK_ROOT_ALIAS + "/" + path[len(root) :] if _task_root and path.startswith(root) else _lambda_path(path)


def _lambda_path(path: str) -> str:
    """A frame outside the task as Lambda's Python runtime shows it, never the server's install paths: the
    runtime under /var/runtime, the standard library and installed packages under /var/lang/lib/pythonX.Y."""
    lang = f"/var/lang/lib/python{sys.version_info[0]}.{sys.version_info[1]}"
    here = os.path.dirname(os.path.abspath(__file__)) + os.sep
    if path.startswith(here):
        return "/var/runtime/" + path[len(here) :]
    packages = os.sep + "site-packages" + os.sep
    if packages in path:
        return lang + "/site-packages/" + path.split(packages, 1)[1]
    for prefix in (sys.base_prefix, sys.prefix):
        stdlib = os.path.join(prefix, "lib", lang.rsplit("/", 1)[1]) + os.sep
        if path.startswith(stdlib):
            return lang + "/" + path[len(stdlib) :]
    return path


def make_error(message: str, error_type: str, trace: list[str] | None,
               request_id: str | None = None) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": trace or [],
    }


def user_trace(tb: Any) -> list[str]:
    """The traceback without the runtime's own leading frames, code paths shown under /var/task."""
    import traceback  # only on errors: it costs 10 ms at startup

    frames = [(_alias(f.filename), f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, frame in enumerate(frames):
        if "/bootstrap.py" not in frame[0]:
            frames = frames[i:]
            break
    return traceback.format_list(frames)  # type: ignore[arg-type]


def log_error(error: dict[str, Any]) -> None:
    """awslambdaric's text-format error record, as CloudWatch shows it: one event whose lines (joined by
    LF, as its FramedTelemetryLogSink does on Lambda) are indented with NO-BREAK SPACEs."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            for line in element.splitlines() if element else [""]:
                stripped = line.lstrip(" ")
                lines.append(ERROR_LOG_IDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


# ---------------------------------------------------------------- the context object (lambda_context.py)


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class Client:
    __slots__ = ("app_package_name", "app_title", "app_version_code", "app_version_name", "installation_id")

    def __init__(self, data: dict[str, Any]) -> None:
        for field in self.__slots__:
            setattr(self, field, data.get(field))


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, data: dict[str, Any]) -> None:
        self.custom = data.get("custom")
        self.env = data.get("env")
        client = data.get("client")
        self.client = Client(client) if isinstance(client, dict) else client


class LambdaContext:
    def __init__(self, request_id: str, arn: str, deadline_ms: int, client_context: Any) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")  # a str, as on AWS
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = arn
        self.tenant_id = None
        self.client_context = ClientContext(client_context) if isinstance(client_context, dict) else None
        self.identity = CognitoIdentity()
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))


# ---------------------------------------------------------------- init


class _LambdaLoggerHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sys.stdout.write(self.format(record))


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


def setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    handler = _LambdaLoggerHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def load_handler(handler: str) -> Handler:
    """awslambdaric's _get_handler: the same checks, error types and messages."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {e}") from None
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            message = f"Cannot use built-in module {modname} as a handler module"
            raise Fault("Runtime.BuiltInModuleConflict", message)
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError", f"Unable to import module '{modname}': {e}") from None
    except SyntaxError as e:
        trace = [f'  File "{_alias(e.filename or "")}" Line {e.lineno}\n    {e.text}']
        message = f"Syntax error in module '{modname}': {e}"
        raise Fault("Runtime.UserCodeSyntaxError", message, trace) from None
    try:
        return getattr(module, fname)  # type: ignore[no-any-return]
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'") from None


def _exit_when_orphaned() -> None:
    """A worker whose server died (even mid-handler) must not linger: exit once re-parented."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(0)


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def initialize(config: dict[str, Any]) -> Handler:
    global _task_root
    _task_root = config["task_root"]
    environ = config.get("environ")
    if environ is not None:  # the complete environment (also drops the PWD a sandbox's bwrap sets)
        os.environ.clear()
        os.environ.update(environ)
        time.tzset()
    sys.path[:0] = [_task_root]
    sys.path.extend(p for p in config["paths"] if p not in sys.path)
    limit = config.get("data_limit")
    if limit:
        try:  # noqa: SIM105 (contextlib costs an import)
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        except (ValueError, OSError):
            pass
    log_limit = config.get("log_limit")
    if log_limit:  # isolation round 4: fds 1/2 are the server's memfd; RLIMIT_FSIZE bounds what one sandbox puts there
        resource.setrlimit(resource.RLIMIT_FSIZE, (log_limit, log_limit))
    # no core dump, and none can be allowed again: a host whose core_pattern is a pipe (systemd-coredump, apport) would
    # run its helper as root outside the sandbox and write the handler's memory, credentials included, to the host
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    max_tasks = config.get("max_tasks")
    if max_tasks:  # the sandbox's processes and threads, this one included; before any code of the function runs
        resource.setrlimit(resource.RLIMIT_NPROC, (max_tasks, max_tasks))
    relay = config.get("relay")
    if relay:  # the sandbox's network is its own: the endpoint's address on its loopback, relayed to the server
        for failure in endpoint_relay.start(relay["socket"], relay["listen"]):
            print(f"lambdaperm: the endpoint is not reachable at {failure}", file=sys.stderr)
    import site  # with -S the module is imported but not run: only restore exit()/quit()/help()

    site.setquit()
    site.sethelper()
    setup_logging()
    threading.Thread(target=_exit_when_orphaned, name="lambdaperm-orphan-check", daemon=True).start()
    return load_handler(os.environ.get("_HANDLER", ""))


# ---------------------------------------------------------------- invoke


def apply_credentials(creds: list[str]) -> None:
    """Credentials come with every invocation (the caller refreshes them); env is what boto3 reads."""
    env = os.environ
    access_key, secret_key, token = creds
    current = (env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY"),
               env.get("AWS_SESSION_TOKEN", ""))
    if current == (access_key, secret_key, token):
        return
    env["AWS_ACCESS_KEY_ID"] = access_key
    env["AWS_SECRET_ACCESS_KEY"] = secret_key
    if token:
        env["AWS_SESSION_TOKEN"] = token
    else:
        env.pop("AWS_SESSION_TOKEN", None)
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None  # type: ignore[attr-defined]


def handle(request_handler: Handler, header: dict[str, Any], body: bytes) -> tuple[str | None, bytes]:
    """awslambdaric's handle_event_request: returns (errorType or None, payload)."""
    request_id = header["id"]
    try:
        client_context = None
        if header.get("client_context"):
            try:
                client_context = json.loads(header["client_context"])
            except Exception as e:
                message = f"Unable to parse Client Context JSON: {e}"
                raise Fault("Runtime.LambdaContextUnmarshalError", message) from None
        context = LambdaContext(request_id, header["arn"], header["deadline_ms"], client_context)
        try:
            event = json.loads(body)
        except Exception as e:
            raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {e}") from None
        response = request_handler(event, context)
        if isinstance(response, bytes):
            return None, response
        try:
            return None, to_json(response).encode()
        except Exception as e:
            raise Fault("Runtime.MarshalError", f"Unable to marshal response: {e}") from None
    except Fault as e:
        error = make_error(e.msg, e.error_type, e.trace, request_id)
    except Exception as e:
        error = make_error(str(e), type(e).__name__, user_trace(e.__traceback__), request_id)
    log_error(error)
    return error["errorType"], to_json(error).encode()


def main() -> None:
    global _request_id
    proto_in, proto_out = os.dup(0), os.dup(1)  # private, non-inheritable copies of the pipes
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    config, _ = read_frame(proto_in)
    try:
        request_handler = initialize(config)
    except Exception as e:
        if isinstance(e, Fault):
            error = make_error(e.msg, e.error_type, e.trace)
        else:
            error = make_error(str(e), type(e).__name__, user_trace(e.__traceback__))
        log_error(error)
        write_frame(proto_out, {"type": "init_error", "error_type": error["errorType"], "rss": _rss_kb()},
                    to_json(error).encode())
        sys.exit(1)
    write_frame(proto_out, {"type": "ready", "rss": _rss_kb()})
    while True:
        try:
            header, body = read_frame(proto_in)
        except EOFError:
            return
        _request_id = header["id"]
        apply_credentials(header["creds"])
        started = time.perf_counter()
        error_type, payload = handle(request_handler, header, body)
        elapsed = (time.perf_counter() - started) * 1000
        oversized = len(payload) > MAX_RESPONSE_BYTES
        result = {"type": "result", "error_type": error_type, "oversized": oversized, "ms": elapsed,
                  "rss": _rss_kb()}
        write_frame(proto_out, result, b"" if oversized else payload)
        _request_id = ""


if __name__ == "__main__":
    main()
