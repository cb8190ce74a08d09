"""``eurisko constant``: closed forms and continued fractions of a number, verified to every digit.

    eurisko constant 2.71828182845904523536028747135266249775724709369995
    eurisko constant --expr "zeta(3)" --digits 300 --search pcf
    eurisko constant 0.596347362323194074341078499369279376074 --latex

The number is given as its digits (taken to be correct in every digit written) or as an
expression computed to ``--digits`` digits. An answer is shown only when it reproduces all the
digits known and is far simpler than that many digits could encode by chance.

Exit codes: 0 when the search ran to its end (also when it found nothing, which it says); 130
when Ctrl-C stopped it early (what was verified by then is shown); 2 for a bad number,
expression or options (one line ``error: ...`` on stderr).
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from eurisko.cli._common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    PLAIN_PROGRESS_EVERY,
    make_console,
    number_option,
)

EXAMPLES = """\
examples:
  eurisko constant 2.71828182845904523536028747135266249775724709369995
  eurisko constant 1.6449340668482264364724151666460251892189499012067984377 --latex
  eurisko constant --expr "zeta(3)" --digits 300 --search pcf
  eurisko constant --expr "log(2)" --search pcf --family general --a-degree 1 --b-degree 2
  eurisko constant 0.5963473623231940743410784993692793760741778601525487815734849 --search all

--search identify (default): integer relations with known constants (PSLQ), algebraic numbers,
  Möbius transforms, products of powers, logs of algebraic numbers.
--search pcf: polynomial continued fractions a(0) + b(1)/(a(1) + b(2)/(a(2) + ...)) equal to
  (a + b x)/(c + d x), from a box of coefficients (--family, --a-degree, --b-degree, --bound).
--search cf: signed continued fractions whose quotients follow a linear recurrence (ESMA).
A number given as digits is taken to be correct in every digit written; an answer is claimed only
if it reproduces all of them and is far simpler than that many digits could encode by chance.
Expressions (--expr) may use numbers, + - * / ^ and names such as pi, e, EulerGamma, Catalan,
sqrt, exp, log, sin, cos, tan, gamma, zeta, polylog, E1.
"""


def register(subparsers: Any) -> None:
    """Add the ``constant`` sub-command to ``subparsers`` (argparse sub-parsers)."""
    p = subparsers.add_parser(
        "constant", help="find closed forms and continued fractions of a number",
        description="What closed form has this number? Search integer relations with known "
                    "constants, algebraic numbers and continued fractions; every answer is "
                    "verified to all the digits known.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("number", nargs="?",
                   help="the digits of the number, e.g. 2.718281828459045235360287471352")
    p.add_argument("--expr", metavar="EXPR",
                   help="a constant given as an expression instead, e.g. 'zeta(3)' "
                        "(computed to --digits digits, verified at 1.5x as many)")
    p.add_argument("--digits", type=number_option(int, "--digits"), metavar="N",
                   help="digits to compute --expr to (default 60)")
    p.add_argument("--search", choices=("identify", "pcf", "cf", "all"), default="identify",
                   help="what to look for (default identify)")
    p.add_argument("--time-limit", type=number_option(float, "--time-limit"), metavar="SECONDS",
                   help="seconds at most (default 60); what was verified by then is shown")
    p.add_argument("--latex", action="store_true", help="also print each answer in LaTeX")
    p.add_argument("--max-results", type=number_option(int, "--max-results"), default=5,
                   metavar="K", help="answers shown per search (default 5)")
    p.add_argument("--margin", type=float, default=10.0, metavar="DIGITS",
                   help="a claim's complexity must stay this many digits below the digits "
                        "known (default 10)")
    g = p.add_argument_group("continued fractions (--search pcf / all)")
    g.add_argument("--family", choices=("auto", "general", "symmetric"), default="auto",
                   help="coefficient space: auto (several small boxes, ~140,000 fractions), "
                        "general (a, b of given degrees) or symmetric (Apéry-like)")
    g.add_argument("--a-degree", type=int, metavar="D", help="degree of a(n)")
    g.add_argument("--b-degree", type=int, metavar="D", help="degree of b(n) (general only)")
    g.add_argument("--bound", type=int, metavar="R", help="coefficients in [-R, R]")
    g.add_argument("--mobius-bound", type=int, default=6, metavar="M",
                   help="transforms (a + b x)/(c + d x) with |a|,|b|,|c|,|d| <= M (default 6)")
    p.set_defaults(func=cmd_constant)


class _ProgressView:
    """Progress of a constant search: a rich status line on a terminal, plain lines otherwise."""

    def __init__(self, console) -> None:
        self.console = console
        self.live = console.is_terminal
        self._status = None
        self._last = time.monotonic()  # plain lines only once a search has run a while

    def __enter__(self) -> _ProgressView:
        if self.live:
            self._status = self.console.status("starting...")
            self._status.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
            self._status = None

    def __call__(self, p) -> None:
        best = f"  best: {p.best}" if p.best else ""
        share = f" {100 * p.done / p.total:3.0f}%" if p.total else ""
        line = f"{p.elapsed:6.1f}s  {p.stage}{share}  found {p.found}{best}"
        if self._status is not None:
            self._status.update(line + "   (Ctrl-C stops and keeps what was found)")
        elif not p.finished and time.monotonic() - self._last >= PLAIN_PROGRESS_EVERY:
            self._last = time.monotonic()
            print(f"progress: {line}", flush=True)


def cmd_constant(args: argparse.Namespace) -> int:
    """Run ``eurisko constant``; returns the exit code (2 on bad input via ValueError)."""
    if (args.number is None) == (args.expr is None):
        raise ValueError("give the number's digits or --expr EXPR (one of them); e.g. "
                         "`eurisko constant 2.718281828459045235360287471352` or "
                         "`eurisko constant --expr \"zeta(3)\"`")
    if args.number is not None and args.digits is not None:
        raise ValueError("--digits only applies to --expr; a number is used with the digits "
                         "written (cut it to use fewer)")
    if args.search == "identify" and (args.a_degree is not None or args.b_degree is not None
                                      or args.bound is not None or args.family != "auto"):
        raise ValueError("--family, --a-degree, --b-degree and --bound need --search pcf or all")
    if not math.isfinite(args.margin) or args.margin < 0:
        raise ValueError("--margin must be a non-negative number of digits")

    from eurisko.constants import find_continued_fractions, identify, parse_constant

    x: Any = args.number if args.expr is None else parse_constant(args.expr)
    console = make_console()
    limit = args.time_limit if args.time_limit is not None else 60.0
    started = time.monotonic()
    shown = args.expr if args.expr is not None else args.number
    outcomes = []
    interrupted = False
    with _ProgressView(console) as view:
        if args.search in ("identify", "all"):
            res = identify(x, digits=args.digits, time_limit=limit, margin=args.margin,
                           max_results=args.max_results, progress=view)
            outcomes.append(("closed forms", res))
            interrupted = res.interrupted
        if args.search in ("pcf", "cf", "all") and not interrupted:
            left = max(1.0, limit - (time.monotonic() - started))
            res = find_continued_fractions(
                x, digits=args.digits, search="all" if args.search == "all" else args.search,
                family=args.family, a_degree=args.a_degree, b_degree=args.b_degree,
                coeff_bound=args.bound, mobius_bound=args.mobius_bound, time_limit=left,
                margin=args.margin, max_results=args.max_results, progress=view)
            outcomes.append(("continued fractions", res))
            interrupted = res.interrupted
    first = outcomes[0][1]
    what = (f"{first.stats.get('digits_known', first.digits)} digits known"
            if args.expr is None else
            f"computed to {args.digits or 60} digits, verified at "
            f"{first.stats.get('digits_known', first.digits)}")
    console.print(f"constant: {shown}  ({what})", markup=False, soft_wrap=True)
    for title, res in outcomes:
        _print_results(console, title, res, args.latex, args.expr is None)
    if interrupted:
        console.print("interrupted: keeping what was found", style="yellow")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _print_results(console, title: str, res, latex: bool, digits_input: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from eurisko.constants import ContinuedFraction

    st = res.stats
    stopped = "  (time limit reached: the search was cut short)" if res.timed_out else ""
    if not res:
        console.print(f"{title}: none found{stopped}", style="bold", markup=False)
        console.print("  " + _searched(title, st), markup=False, soft_wrap=True)
        return
    table = Table(title=f"{title} (simplest first){stopped}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("formula" if title == "closed forms" else "value = continued fraction")
    table.add_column("kind")
    table.add_column("digits verified", justify="right")
    table.add_column("complexity", justify="right")
    for i, r in enumerate(res, 1):
        text = str(r.formula)
        if isinstance(r, ContinuedFraction):
            text = f"{r.formula} = {'PCF' if r.kind == 'pcf' else 'CF'}[{r.describe()}]"
        table.add_row(str(i), Text(text), r.kind, str(r.digits_verified),
                      f"{r.complexity:.1f}")
    console.print(table)
    if digits_input and title != "closed forms":
        console.print("  (x is the number given)", style="dim")
    if latex:
        for i, r in enumerate(res, 1):
            console.print(f"latex {i}: {r.latex()}", markup=False, soft_wrap=True,
                          highlight=False)
    console.print("  " + _searched(title, st), style="dim", markup=False, soft_wrap=True)


def _searched(title: str, st: dict) -> str:
    if title == "closed forms":
        return (f"searched: {', '.join(st.get('stages', []))}; {st.get('pslq_runs', 0)} PSLQ "
                f"runs with {st.get('digits_searched', '?')} digits; a claim must reproduce all "
                f"{st.get('digits_known', '?')} digits known with complexity <= "
                f"{st.get('claim_budget_digits', '?')} digits; {st.get('rejected_unverified', 0)}"
                " relation(s) failed the check at full precision; "
                f"{st.get('elapsed', 0):.1f} s")
    parts = []
    if "cf_transforms" in st:
        parts.append(f"{st['cf_transforms']} Möbius transforms x {st['cf_sign_patterns']} "
                     "sign patterns (signed continued fractions, Berlekamp-Massey)")
    if "pcf_space" in st:
        parts.append(f"{st['pcf_space']:,} polynomial continued fractions "
                     f"({'; '.join(st.get('pcf_spaces', []))}), {st.get('pcf_converged', 0):,} "
                     f"converged, matched against {st.get('mobius_table', 0):,} Möbius "
                     f"transforms; {st.get('pcf_matches', 0)} match(es), "
                     f"{st.get('pcf_unverified', 0)} not verified")
    return "searched: " + "; ".join(parts) + f"; {st.get('elapsed', 0):.1f} s"
