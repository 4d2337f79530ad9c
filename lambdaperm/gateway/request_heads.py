"""A bound on the size of a request head — its request line and headers (isolation review round 14).

AWS's rule: one function's code cannot deny the service to other accounts
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), and AWS's HTTP front ends refuse an
oversized request head: S3 answers 400 `RequestHeaderSectionTooLarge` (https://docs.aws.amazon.com/AmazonS3/latest/API/
ErrorResponses.html), API Gateway and function URLs take at most 10 KB of request line and headers
(https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).

Why: uvicorn's httptools protocol sets no bound on a request head (its `h11_max_incomplete_event_size` applies to h11
only) and the parser keeps an unfinished header value, so a connection that sends a request line and then one header
value that never ends grows the server's one process by every byte it sends: within one sandbox's cap of 64
connections a handler grew the server by 1,114 MiB in about 30 s, and kept up it takes the host's memory and every
account's service with it.

How: while a request's head is incomplete every read of the connection is counted, and a head completed is measured
(its request target and headers); beyond `LIMIT` bytes the server answers S3's 400 `RequestHeaderSectionTooLarge`
(the only AWS error for this; the client's protocol is unknown before its head is read), the request never reaches
the application, and the connection is closed. A client that pipelines may see the tail of its previous request's
body counted with the next head (one read at most).
"""

from __future__ import annotations

import asyncio
import logging

LIMIT = 64 * 1024  # bytes of one request's line and headers: 8 times S3's 8 KB, 4 times h11's default bound

_REFUSAL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>RequestHeaderSectionTooLarge</Code>'
    b"<Message>Your request header section exceeds the maximum allowed size.</Message></Error>"
)
_RESPONSE = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/xml\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(_REFUSAL)).encode() + b"\r\n\r\n" + _REFUSAL
)

log = logging.getLogger("lambdaperm.connections")


def bounded_heads(base: type[asyncio.Protocol], limit: int = LIMIT) -> type[asyncio.Protocol]:
    """`base` (uvicorn's httptools protocol class) refusing a request head beyond `limit` bytes. A class without the
    parser's head callbacks (uvicorn's h11 protocol, which bounds heads itself) is returned unchanged."""
    needed = ("on_message_begin", "on_headers_complete", "on_body", "on_message_complete", "data_received")
    if not all(hasattr(base, name) for name in needed):
        return base

    class BoundedHeads(base):  # type: ignore[valid-type,misc]
        _lambdaperm_head: int | None = 0  # bytes received while the current head was incomplete; None once complete
        _lambdaperm_refused = False

        def on_message_begin(self) -> None:
            self._lambdaperm_head = 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._lambdaperm_head = None
            # a head received whole in one read: its exact size, from what uvicorn kept of it
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > limit:
                self._lambdaperm_refuse()
                return
            super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._lambdaperm_refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self._lambdaperm_refused:
                super().on_message_complete()

        def data_received(self, data: bytes) -> None:
            if self._lambdaperm_refused:
                return
            super().data_received(data)
            if not self._lambdaperm_refused and self._lambdaperm_head is not None:
                # a head still incomplete: the whole read is counted (at most one read of the previous request's
                # body counted with it, when a client pipelines)
                self._lambdaperm_head += len(data)
                if self._lambdaperm_head > limit:
                    self._lambdaperm_refuse()

        def _lambdaperm_refuse(self) -> None:
            self._lambdaperm_refused = True
            log.warning("request head beyond %d bytes refused (RequestHeaderSectionTooLarge)", limit)
            transport = getattr(self, "transport", None)
            if transport is not None:
                transport.write(_RESPONSE)
                transport.close()

    BoundedHeads.__name__ = BoundedHeads.__qualname__ = f"BoundedHeads{base.__name__}"
    return BoundedHeads
