"""``python -m netvigil.api serve|report ...``: the two commands without the main CLI (tests, benchmarks)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from netvigil.api.cli import add_report_parser, add_serve_parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m netvigil.api")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    add_serve_parser(commands)
    add_report_parser(commands)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
