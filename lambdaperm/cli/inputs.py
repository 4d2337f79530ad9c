"""Reading JSON input files for the subcommands, with clear errors (exit status 2)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """A file that cannot be read or is not JSON; the message says which and where."""


def read_text(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot be read: {err}") from None


def read_json(path: str) -> object:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: line {err.lineno}, column {err.colno}: invalid JSON: {err.msg}") from None
    except RecursionError:
        raise InputError(f"{path}: the JSON nests too deeply") from None
