"""Each sandbox's one way out of its network namespace: a Unix socket of its own to the server (isolation round 13).

AWS's rule: each execution environment has a network of its own — it reaches the service endpoints, never another
account's environment on a local address; its loopback is its own
(https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/lambda-isolation-technologies.html).

How: every sandbox is a network namespace of its own (bwrap ``--unshare-net``: only its own loopback), so another
sandbox's 127.0.0.1 listeners and abstract Unix sockets (per network namespace on Linux) are out of its reach. The
runtime makes, for each sandbox, a directory under its work directory holding one listening ``SOCK_SEQPACKET`` Unix
socket (`SandboxLink`), bound read-only into that sandbox only at `INNER_DIR` and connectable by the sandbox's uid
only. Inside, the bootstrap listens on the endpoint's address (`relay_plan`: the host and port of AWS_ENDPOINT_URL, so
boto3 in the handler works unchanged) and passes each connection it accepts — the TCP socket itself, as a descriptor
(SCM_RIGHTS) — over that Unix socket (`endpoint_relay`). The server (`EndpointLinks`, served by the gateway) then
serves the TCP connection exactly as one accepted on its own listener: the same HTTP handling, the same peer address
(the sandbox's loopback, so aws:SourceIp is 127.0.0.1 as before), no bytes copied by a relay. Which sandbox, and so
which account, a connection comes from is the socket it arrived on (`Origin`): the gateway's connection caps are
charged by it (`gateway/connection_caps.py`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

INNER_DIR = "/run/lambdaperm"  # where a sandbox sees its link's directory
SOCKET_NAME = "endpoint"
INNER_SOCKET = f"{INNER_DIR}/{SOCKET_NAME}"
BACKLOG = 16


@dataclass(frozen=True)
class Origin:
    """The sandbox a link serves: `sandbox` names it in the server's log (``uid N`` as root), `account` is the account
    whose function it runs."""

    sandbox: str
    account: str


class EndpointLinks(Protocol):
    """What serves the sandboxes' links (the gateway's event loop): `serve` takes a listening link socket and answers
    a function that stops serving it. Thread-safe."""

    def serve(self, listener: socket.socket, origin: Origin) -> Callable[[], None]: ...


class SandboxLink:
    """One sandbox's directory and listening socket. `uid`: the only uid (besides the server's) that may connect (a
    root server's sandbox uid); None for an unprivileged server, whose sandboxes run as its own uid."""

    def __init__(self, base: Path, origin: Origin, links: EndpointLinks | None, uid: int | None = None) -> None:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory = base / secrets.token_hex(8)
        self.directory.mkdir(mode=0o755)  # 0755: a root server's sandbox uid traverses it; nothing in it is writable
        self._stop: Callable[[], None] | None = None
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            where = os.open(self.directory, os.O_PATH)  # a short path: sun_path holds 108 bytes, the state dir may not
            try:
                listener.bind(f"/proc/self/fd/{where}/{SOCKET_NAME}")
            finally:
                os.close(where)
            path = self.directory / SOCKET_NAME
            if uid is not None:
                os.chown(path, uid, uid)
            os.chmod(path, 0o600)
            listener.listen(BACKLOG)
            listener.setblocking(False)
        except BaseException:
            listener.close()
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        if links is None:  # nothing serves it (a runtime without a server): the sandbox's calls to the endpoint fail
            listener.close()
        else:
            self._stop = links.serve(listener, origin)

    def close(self) -> None:
        if self._stop is not None:
            stop, self._stop = self._stop, None
            with contextlib.suppress(Exception):
                stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def relay_plan(endpoint_url: str) -> tuple[str, list[tuple[str, int]]]:
    """The AWS_ENDPOINT_URL a sandbox is given and the addresses its relay listens on. A loopback or wildcard address
    of the endpoint (127.0.0.1, ::1, 0.0.0.0, localhost) is kept, plus the loopback of the other family (a function
    URL's ``….localhost`` name may resolve to either); any other host (an address of the host's network, which the
    sandbox's namespace does not have) becomes 127.0.0.1 at the same port."""
    parts = urlsplit(endpoint_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or (address is not None and (address.is_loopback or address.is_unspecified)):
        inner_url = endpoint_url
    else:
        host = "127.0.0.1"
        netloc = f"{host}:{port}"
        inner_url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    hosts = [host] if host != "localhost" else []
    hosts += [h for h in ("127.0.0.1", "::1") if h not in hosts]
    if host in ("0.0.0.0", "::"):
        hosts = [host, "::1" if host == "0.0.0.0" else "127.0.0.1"]
    return inner_url, [(h, port) for h in hosts]
