"""The server's event loop where its uid is the sandboxes' uid: poll(2), not epoll (isolation review round 7).

An unprivileged server's sandboxes run as the server's own uid (bwrap's user namespace maps it), and epoll watches are
counted per user across the host, not per user namespace (``fs.epoll.max_user_watches``, about 4 % of low memory over
a watch's cost; epoll(7): https://man7.org/linux/man-pages/man7/epoll.7.html). A handler that added them all (eventfds
registered in many epoll instances) left none for the server: uvicorn's default loop (uvloop, libuv) registers every
accepted connection with ``epoll_ctl`` and libuv aborts the process when that fails, so every account lost the
endpoint. On AWS one function's code cannot deny the service to other accounts: each execution environment is
isolated (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).

poll(2) holds no kernel object between calls: nothing a sandbox exhausts can refuse the server a connection. It costs
a scan of the loop's descriptors per wake-up (a few dozen connections here). As root the sandboxes have uids of their
own (`runtime.sandbox_uids`) and the server keeps uvicorn's default loop.
"""

from __future__ import annotations

import asyncio
import os
import selectors

AUTO = "auto"  # uvicorn's default: uvloop when installed


def poll_event_loop() -> asyncio.AbstractEventLoop:
    """An asyncio loop on poll(2) (uvicorn calls it as its loop factory)."""
    return asyncio.SelectorEventLoop(selectors.PollSelector())


def uvicorn_loop() -> str:
    """uvicorn's ``loop`` setting: the poll loop unless the server is root (see the module's docstring)."""
    if os.geteuid() == 0 or not hasattr(selectors, "PollSelector"):
        return AUTO
    return f"{__name__}:{poll_event_loop.__name__}"
