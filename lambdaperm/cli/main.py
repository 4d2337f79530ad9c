"""Entry point of the `lambdaperm` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lambdaperm import __version__

from . import demo, serve, simulate, trail, upstream_check, validate

SUBCOMMANDS = (serve, demo, simulate, validate, trail, upstream_check)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambdaperm", description="A local, offline AWS Lambda permission system."
    )
    parser.add_argument("--version", action="version", version=f"lambdaperm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
