"""The gateway: ONE ordered pipeline for every request —
route → authenticate → parse → authorize → dispatch | forward → record → serialize."""

from .server import Server, ServerConfig

__all__ = ["Server", "ServerConfig"]
