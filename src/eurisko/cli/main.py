"""The ``eurisko`` command: its parser, with one sub-command per module, and `main`.

    eurisko COMMAND [options]          fit, demo, ode, constant, sequence, bench
    eurisko --version

Exit codes: 0 done; 130 stopped by Ctrl-C (results kept); 2 for a problem with the input or the
options; 1 when the work itself failed. Problems print as one line ``error: ...`` on stderr, no
traceback (``EURISKO_TRACEBACK=1`` shows one); ``eurisko`` alone prints the help and exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from eurisko.cli import bench, constant, demo, fit, ode, sequence
from eurisko.cli._common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, Parser, UsageError
from eurisko.version import __version__

# In the order `eurisko --help` lists them. Each module's ``register(subparsers)`` adds its
# sub-command and imports nothing heavy, so that the help comes up quickly.
COMMANDS = (fit, demo, sequence, constant, ode, bench)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``eurisko`` command, with every sub-command."""
    parser = Parser(prog="eurisko",
                    description="Discover the mathematical laws hidden in data.",
                    epilog="Exit codes: 0 done, 130 stopped by Ctrl-C (results kept), "
                           "2 bad input or options, 1 the search failed.")
    parser.add_argument("--version", action="version", version=f"eurisko {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    args.argv = argv
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, FileNotFoundError) as exc:
        # The library's validation errors read like advice; show them as one line. (A
        # TypeError can only be a bug here, since the command line passes the types: let it show.)
        if os.environ.get("EURISKO_TRACEBACK"):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeError as exc:  # e.g. a search that found no finite formula
        if os.environ.get("EURISKO_TRACEBACK"):
            raise
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
