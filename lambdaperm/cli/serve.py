"""`lambdaperm serve`: the AWS-compatible endpoint — one HTTP endpoint for every service, every call
authenticated (SigV4), authorized by the policy engine and recorded as CloudTrail.

    lambdaperm serve [--host 127.0.0.1] [--port 4566] [--state DIR | --in-memory] [--upstream URL]
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the AWS-compatible endpoint",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 exposes every identity to the network)",
    )
    p.add_argument("--port", type=int, default=4566, help="TCP port to listen on (default 4566)")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--state",
        type=Path,
        default=Path(".lambdaperm"),
        help="state directory (SQLite: identities, functions, the trail; default ./.lambdaperm)",
    )
    where.add_argument(
        "--in-memory", action="store_true", help="keep state in memory only: everything is lost when the server stops"
    )
    p.add_argument(
        "--upstream",
        metavar="URL",
        help="forward authorized data-plane calls (DynamoDB, S3, SQS, SNS, Logs, EC2) to this "
        "AWS-compatible endpoint instead of the embedded backend",
    )
    p.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default warning); debug logs one line per request: principal, IAM "
        "action, resource, decision, status",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.config import HTTP_PROTOCOLS
    from uvicorn.importer import import_from_string

    from lambdaperm.gateway import Server, ServerConfig
    from lambdaperm.gateway.asgi import App
    from lambdaperm.gateway.connection_caps import ConnectionCaps, capped_protocol
    from lambdaperm.gateway.event_loop import uvicorn_loop
    from lambdaperm.gateway.request_heads import bounded_heads
    from lambdaperm.gateway.request_targets import recorded_targets

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:  # bound before anything is started or printed: a port in use is one line, nothing else
        listener = _bind(args.host, args.port)
    except OSError as err:
        print(f"lambdaperm serve: cannot listen on {args.host}:{args.port}: {_reason(err)}", file=sys.stderr)
        return 2
    try:
        config = ServerConfig(
            host=args.host, port=args.port, state_dir=None if args.in_memory else args.state, upstream=args.upstream
        )
        server = Server(config)
    except (ValueError, OSError) as err:
        listener.close()
        print(f"lambdaperm serve: {err}", file=sys.stderr)
        return 2
    from lambdaperm.runtime.endpoint_guard import PortHeldElsewhere, hold_other_family

    try:  # held for the server's life: no other process can answer this endpoint's port on the other family
        guard = hold_other_family(args.host, args.port)
    except PortHeldElsewhere as err:
        listener.close()
        server.close()
        print(f"lambdaperm serve: {err}", file=sys.stderr)
        return 2
    print(f"lambdaperm serving on http://{args.host}:{args.port} (state: {server.db.path})", flush=True)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler that was
    # installed before it: make that a clean exit.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_cleanly)
    # proxy_headers=False: aws:SourceIp is the connection's peer, never a client's own X-Forwarded-For
    # (uvicorn trusts it from 127.0.0.1, i.e. from every local client, unless told not to)
    # a bound per sandbox, per account and in total on the connections the server holds (isolation rounds 11, 14)
    caps = ConnectionCaps.for_this_process()
    uvicorn_config = uvicorn.Config(
        App(server),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        proxy_headers=False,
        loop=uvicorn_loop(),  # not epoll where the sandboxes share the server's uid (its watches): review round 7
        # request heads bounded (isolation round 14); absolute-form targets kept (region/account round 19)
        http=capped_protocol(bounded_heads(recorded_targets(import_from_string(HTTP_PROTOCOLS["auto"]))), caps),
    )
    _linked_server(uvicorn_config, server.lambda_env.links).run(sockets=[listener])
    if guard is not None:
        guard.close()
    return 0


def _linked_server_class() -> type[Any]:
    import uvicorn

    class LinkedServer(uvicorn.Server):
        """uvicorn's server that also serves the sandboxes' links to the endpoint (`gateway/sandbox_links.py`, isolation
        round 13) on its event loop, each connection with the same HTTP protocol as its own listener's."""

        def __init__(self, config: Any, links: Any) -> None:
            super().__init__(config)
            self._links = links

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            loop = asyncio.get_running_loop()
            config = self.config

            def protocol(origin: Any) -> asyncio.Protocol:
                made: asyncio.Protocol = config.http_protocol_class(  # as uvicorn makes its own listener's
                    config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop
                )
                made._lambdaperm_origin = origin  # type: ignore[attr-defined]  # the caps charge the sandbox
                return made

            self._links.attach(loop, protocol)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            self._links.detach()
            await super().shutdown(sockets)

    return LinkedServer


def _linked_server(config: Any, links: Any) -> Any:  # a class made on first use: uvicorn is imported late
    return _linked_server_class()(config, links)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket of `host:port` (uvicorn's own options: SO_REUSEADDR, the backlog it uses)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _reason(err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return "the port is already in use (another lambdaperm serve?); choose another --port"
    if err.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges); choose another --port"
    return err.strerror or str(err)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)
