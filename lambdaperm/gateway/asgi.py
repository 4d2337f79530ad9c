"""The ASGI application: reads the HTTP request, runs the (synchronous) pipeline in a worker thread,
writes the response. Requests larger than the limit are refused before they are read in full, and a body is held
only within its caller's budget (`body_budget`, isolation round 16): beyond it, a 503 and the connection closed."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lambdaperm.protocol import HttpRequest, HttpResponse
from lambdaperm.protocol.errors import ServiceError
from lambdaperm.protocol.route import service_of_request
from lambdaperm.protocol.serialize_error import serialize_error

from .body_budget import BodyBudget, Hold
from .connection_caps import TICKET_KEY
from .invoke_threads import REQUEST_THREADS, mark_request_thread
from .pipeline import handle
from .request_targets import origin_form
from .server import Server

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY = 64 * 1024 * 1024  # larger than any API request lambdaperm serves (6 MB invoke payloads, S3 parts)


class App:
    def __init__(self, server: Server, workers: int = REQUEST_THREADS, budget: BodyBudget | None = None) -> None:
        self.server = server
        self.budget = budget if budget is not None else BodyBudget()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambdaperm",
                                       initializer=mark_request_thread)  # invocations hold a bounded share of them

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        hold = self.budget.hold(scope.get(TICKET_KEY))
        try:  # the body's charge is given back on every path: answered, refused, disconnected, failed
            await self._http(scope, receive, send, hold)
        finally:
            hold.release()

    async def _http(self, scope: Scope, receive: Receive, send: Send, hold: Hold) -> None:
        declared = _content_length(scope)
        if declared is not None and not hold.grow(min(declared, MAX_BODY)):  # refused before any of it is read
            await _send(send, _no_room(scope), close=True)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                await _send(send, HttpResponse(413, [("Content-Type", "application/json")],
                                               b'{"message":"Request entity too large"}'))
                return
            if not hold.grow(size):  # a chunked body outgrowing its caller's room
                await _send(send, _no_room(scope), close=True)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        client = scope.get("client") or ("127.0.0.1", 0)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        path, headers = origin_form(scope, headers)  # an absolute-form target names the host (region round 19)
        req = HttpRequest(
            method=scope["method"],
            path=path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers, body=b"".join(chunks), remote_addr=client[0], scheme=scope.get("scheme", "http"),
        )
        chunks.clear()  # the joined body is the one copy held
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(self.pool, handle, self.server, req)
        head = req.method == "HEAD"
        del req  # the body is consumed: its charge is given back before the response is written
        hold.release()
        await _send(send, response, head=head)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.server.start_pollers()
                gc.freeze()  # what start-up built lives as long as the server: out of the collector's scans
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown(wait=True)
                self.server.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _content_length(scope: Scope) -> int | None:
    """The body's declared length (the HTTP parser has checked it is one number), None for a chunked body."""
    for name, value in scope["headers"]:
        if name.lower() == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


def _no_room(scope: Scope) -> HttpResponse:
    """The 503 of a body beyond its caller's budget, in the client's protocol: S3's SlowDown, the others'
    ServiceUnavailable (both retried by the SDKs after a back-off)."""
    req = HttpRequest(
        method=scope["method"],
        path=scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
    )
    try:
        service = service_of_request(req) or ""
    except Exception:  # an unreadable head: the generic answer
        service = ""
    if service == "s3":
        error = ServiceError("SlowDown", "Please reduce your request rate.", 503, sender_fault=False)
    else:
        error = ServiceError("ServiceUnavailable", "Service is unable to handle request.", 503, sender_fault=False)
    return serialize_error(service, error, str(uuid.uuid4()), request=req)


async def _send(send: Send, response: HttpResponse, *, head: bool = False, close: bool = False) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
               if k.lower() not in ("content-length", "transfer-encoding", "connection")]
    if close:  # uvicorn closes the connection once the response is written: the rest of the body is never read
        headers.append((b"connection", b"close"))
    declared = response.header("content-length") if head else None
    # a HEAD reply declares the length of the body a GET would carry (S3 HeadObject's ContentLength)
    length = declared if declared is not None and declared.isdigit() else str(len(response.body))
    headers.append((b"content-length", length.encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body})
