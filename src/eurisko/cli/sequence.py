"""``eurisko sequence``: the rule behind an integer sequence, from the command line.

    eurisko sequence 1 1 2 5 14 42 132 429 1430 4862 16796
    eurisko sequence 1,2,6,24,120,720,5040,40320,362880 --offset 1 --extend 5 --latex

Prints each rule found (recurrence, closed form, generating function) and the terms it
predicts next. Exit codes: 0 when the search ran (also when it found nothing, which it says),
2 for bad terms or options (one line ``error: ...`` on stderr).
"""

from __future__ import annotations

import argparse
from typing import Any

from eurisko.cli._common import EXIT_OK, number_option

DEFAULT_TIME_LIMIT = 10.0
DEFAULT_EXTEND = 10
SHOWN_TERMS = 8  # the input echo shows this many terms at each end


def register(subparsers: Any) -> None:
    """Add the ``sequence`` sub-command to ``subparsers`` (argparse sub-parsers)."""
    p = subparsers.add_parser(
        "sequence", help="find the rule (recurrence, closed form, generating function) of an "
                         "integer sequence",
        description="Guess linear recurrences with constant or polynomial coefficients, closed "
                    "forms and rational or algebraic generating functions for an integer "
                    "sequence. Each rule is fitted on the first terms and must predict at least "
                    "5 terms it did not see; the simplest rules come first.",
        epilog="Example: eurisko sequence 1 1 2 5 14 42 132 429 1430 4862 16796\n"
               "         eurisko sequence 1,2,6,24,120,720,5040,40320,362880 --offset 1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("terms", nargs="+", metavar="TERM",
                   help="the terms, as integers separated by spaces or commas (at least 8)")
    p.add_argument("--offset", type=int, default=0, metavar="N",
                   help="index n of the first term (default 0: the first term is a(0))")
    p.add_argument("--extend", type=number_option(int, "--extend", 0, strict=False),
                   default=DEFAULT_EXTEND,
                   metavar="K", help=f"print the next K terms each rule predicts (default "
                                     f"{DEFAULT_EXTEND}; 0 for none)")
    p.add_argument("--latex", action="store_true", help="print the formulas as LaTeX")
    p.add_argument("--time-limit", type=number_option(float, "--time-limit"),
                   default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                   help=f"seconds of search at most (default {DEFAULT_TIME_LIMIT:g})")
    p.set_defaults(func=cmd_sequence)


def _echo(terms: list[int]) -> str:
    if len(terms) <= 2 * SHOWN_TERMS:
        return ", ".join(map(str, terms))
    return (", ".join(map(str, terms[:SHOWN_TERMS])) + ", ..., "
            + ", ".join(map(str, terms[-2:])))


def cmd_sequence(args: argparse.Namespace) -> int:
    """Run the guessers on the terms and print what they found; returns the exit code."""
    from eurisko.sequences import guess, parse_terms

    terms = parse_terms(args.terms)
    found = guess(terms, offset=args.offset, time_limit=args.time_limit)
    last = args.offset + len(terms) - 1
    print(f"{len(terms)} terms a({args.offset}) .. a({last}) (the first is a({args.offset}); "
          f"set --offset to change): {_echo(terms)}")
    if not found:
        print(found.reason)
        return EXIT_OK
    for i, g in enumerate(found, 1):
        print(f"{i}. {g.summary()}")
        for label, text in g.views(latex=args.latex):
            print(f"  {label + ':':<21}{text}")
        if args.extend:
            try:
                more = g.extend(args.extend)
            except ValueError as exc:  # a recurrence whose leading coefficient vanishes ahead
                print(f"  {'next terms:':<21}cannot extend: {exc}")
            else:
                print(f"  {f'next {args.extend} terms:':<21}{', '.join(map(str, more))}")
    if found.reason:
        print(found.reason)
    return EXIT_OK
