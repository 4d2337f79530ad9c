"""The ASGI application: reads the HTTP request, runs the (synchronous) pipeline in a worker thread,
writes the response. Requests larger than the limit are refused before they are read in full."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lambdaperm.protocol import HttpRequest, HttpResponse

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
    def __init__(self, server: Server, workers: int = REQUEST_THREADS) -> None:
        self.server = server
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lambdaperm",
                                       initializer=mark_request_thread)  # invocations hold a bounded share of them

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
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
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(self.pool, handle, self.server, req)
        await _send(send, response, head=req.method == "HEAD")

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


async def _send(send: Send, response: HttpResponse, *, head: bool = False) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers
               if k.lower() not in ("content-length", "transfer-encoding", "connection")]
    declared = response.header("content-length") if head else None
    # a HEAD reply declares the length of the body a GET would carry (S3 HeadObject's ContentLength)
    length = declared if declared is not None and declared.isdigit() else str(len(response.body))
    headers.append((b"content-length", length.encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else response.body})
