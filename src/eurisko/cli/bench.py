"""``eurisko bench``: run a benchmark suite and report on it, from the command line.

    eurisko bench feynman --noise 0 0.01 --time-limit 60 --seeds 3 \\
        --methods eurisko pyoperon gplearn --out bench/feynman
    eurisko bench classic:nguyen --time-limit 10            # a subset; also `nguyen`
    eurisko bench feynman I.6.2a I.18.4 --time-limit 10     # chosen problems
    eurisko bench report bench/feynman                      # tables + plots (HTML, PNG)
    eurisko bench list [SUITE]                              # suites, families, problems

A run appends one line per finished (problem, method, noise, seed) to ``OUT/results.jsonl``
and skips the runs already there, so the same command resumes a killed benchmark; at the end
(also after Ctrl-C) it writes the report into OUT.

Exit codes: 0 when every run was done; 130 after Ctrl-C (what finished is kept); 2 for bad
options (one line ``error: ...`` on stderr).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from eurisko.cli._common import EXIT_INTERRUPTED, EXIT_OK, number_option

DEFAULT_METHODS = ("eurisko",)
DEFAULT_TIME_LIMIT = 60.0


def _noise(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--noise takes levels such as 0 0.01, got "
                                         f"{text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"noise levels must be >= 0, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add the ``bench`` sub-command to ``subparsers`` (argparse sub-parsers)."""
    p = subparsers.add_parser(
        "bench", help="run a benchmark suite (feynman, strogatz, classic) against peers, "
                      "or report on a finished one",
        description="Run every (problem, method, noise level, seed) of a benchmark suite with "
                    "the same time budget per method, judge each run by SRBench's rules (exact "
                    "symbolic recovery, test R^2 > 0.999, model size) and save the results as "
                    "they finish, so the same command resumes. `eurisko bench report DIR` "
                    "turns saved results into tables and plots.",
        epilog="Examples:\n"
               "  eurisko bench feynman --noise 0 0.01 --time-limit 60 --seeds 3 \\\n"
               "      --methods eurisko pyoperon gplearn --out bench/feynman\n"
               "  eurisko bench report bench/feynman\n"
               "  eurisko bench nguyen --time-limit 10 --methods eurisko gplearn\n"
               "  eurisko bench list classic",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suite", metavar="SUITE",
                   help="feynman, strogatz, classic, SUITE:FAMILY (classic:nguyen, "
                        "strogatz:lv, feynman:III), a classic family (nguyen, korns, ...); "
                        "or `report` followed by a results folder; or `list`")
    p.add_argument("names", nargs="*", metavar="PROBLEM",
                   help="only these problems or families of the suite (for `report`: the "
                        "folder; for `list`: a suite)")
    p.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS), metavar="METHOD",
                   help="eurisko, pyoperon, gplearn (default: eurisko); a peer that is not "
                        "installed is reported and skipped")
    p.add_argument("--noise", nargs="+", type=_noise, default=[0.0], metavar="LEVEL",
                   help="noise levels: std of the Gaussian noise on the training target as a "
                        "fraction of RMS(y_train) (default: 0)")
    p.add_argument("--seeds", type=number_option(int, "--seeds"), default=1, metavar="N",
                   help="seeds 0 .. N-1 for each problem (default 1)")
    p.add_argument("--time-limit", type=number_option(float, "--time-limit"),
                   default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                   help=f"wall time of each fit, for every method (default "
                        f"{DEFAULT_TIME_LIMIT:g})")
    p.add_argument("--out", metavar="DIR",
                   help="results folder (default bench/SUITE); for `report`: where to write "
                        "the report (default: the results folder)")
    p.add_argument("--jobs", type=number_option(int, "--jobs"), metavar="N",
                   help="runs at once, each in its own process (default: cores / --threads)")
    p.add_argument("--cluster", metavar="ADDR",
                   help="send the runs to a Dask cluster as tasks: 'local' (a LocalCluster of "
                        "--jobs workers) or a scheduler address such as tcp://host:8786; "
                        "results are appended as they arrive (pip install 'eurisko[dask]')")
    p.add_argument("--threads", type=number_option(int, "--threads"), default=1, metavar="N",
                   help="threads or processes each run may use (default 1)")
    p.add_argument("--rows", type=number_option(int, "--rows"), metavar="N",
                   help="rows per problem before the 75/25 split (default: 1000 for feynman, "
                        "the simulated 400 for strogatz; classic problems use their specs)")
    p.add_argument("--max-evals", type=number_option(int, "--max-evals"), metavar="N",
                   help="also stop each fit after N formula evaluations")
    p.add_argument("--check-timeout", type=number_option(float, "--check-timeout"), default=30.0,
                   metavar="SECONDS",
                   help="seconds for each SymPy check; past it a run counts as not recovered "
                        "(default 30)")
    p.add_argument("--positive", action="store_true",
                   help="treat variables as positive in the exact check (SRBench does not)")
    p.add_argument("--units", action="store_true",
                   help="give eurisko the units of each problem's columns (Feynman: PMLB's "
                        "metadata), so it tries the dimensionless form first; peers take none")
    p.add_argument("--retry-errors", action="store_true",
                   help="run again the runs that failed with an error")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (one line per finished run is still printed)")
    p.add_argument("--no-report", action="store_true",
                   help="do not write the report at the end of the run")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    """Dispatch ``bench SUITE``, ``bench report DIR`` and ``bench list``."""
    if args.suite == "report":
        if len(args.names) != 1:
            raise ValueError("usage: eurisko bench report DIR (the folder given as --out to "
                             "the run)")
        return _report(args.names[0], args.out)
    if args.suite == "list":
        return _list(args.names)
    return _run(args)


def _default_out(suite: str) -> str:
    return os.path.join("bench", re.sub(r"[^A-Za-z0-9._-]+", "-", suite).strip("-") or "suite")


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from eurisko.bench.methods import get_method
    from eurisko.bench.run import format_record, run_suite
    from eurisko.bench.suite import load_suite

    methods = list(dict.fromkeys(get_method(m).name for m in args.methods))  # names checked
    suite = load_suite(args.suite, args.names or None)
    out = args.out or _default_out(args.suite)
    progress = not args.no_progress and Console(stderr=True).is_terminal
    n_runs = len(suite) * len(methods) * len(set(args.noise)) * args.seeds
    print(f"{suite.name}: {len(suite)} problems x {len(methods)} method(s) x "
          f"{len(set(args.noise))} noise level(s) x {args.seeds} seed(s) = {n_runs} runs of "
          f"{args.time_limit:g} s; results in {out}", file=sys.stderr, flush=True)

    def on_record(rec: dict) -> None:
        if not progress:  # the progress bar prints its own lines
            print(format_record(rec), flush=True)

    results = run_suite(suite, methods=methods, noise=args.noise, seeds=args.seeds,
                        time_limit=args.time_limit, out=out, jobs=args.jobs,
                        threads=args.threads, rows=args.rows, check_timeout=args.check_timeout,
                        positive=args.positive, max_evals=args.max_evals,
                        retry_errors=args.retry_errors, progress=progress, units=args.units,
                        on_record=on_record, cluster=args.cluster)
    if not progress:
        for name, why in results.skipped_methods.items():
            print(f"skipped {name}: {why}", file=sys.stderr)
    if results.n_resumed and not progress:
        print(f"{results.n_resumed} runs were already in {out} and were not run again",
              file=sys.stderr)
    if results.interrupted:
        print(f"interrupted: {results.n_new} new runs saved in {out}; run the same command "
              "to go on", file=sys.stderr)
    if not args.no_report and results.records:
        _report(out, None)
    return EXIT_INTERRUPTED if results.interrupted else EXIT_OK


def _report(folder: str, out: str | None) -> int:
    from rich.console import Console

    from eurisko.report.bench import (
        load_bench,
        summary_rich_table,
        summary_table,
        write_bench_report,
    )

    paths = write_bench_report(folder, out)
    df, _ = load_bench(folder)
    console = Console()
    if not console.is_terminal:  # a log file: do not squeeze the table into 80 columns
        console = Console(width=140)
    console.print(summary_rich_table(summary_table(df), title=f"benchmark: {folder}"))
    print(f"report: {paths['html']}")
    print(f"plots:  {paths['recovery']}  {paths['r2_size']}")
    print(f"tables: {paths['summary']}  {paths['problems']}")
    return EXIT_OK


def _list(names: list[str]) -> int:
    from eurisko.bench.suite import SUITES, load_suite

    if not names:
        for s in SUITES:
            suite = load_suite(s)
            families = list(dict.fromkeys(p.family for p in suite))
            print(f"{s:<9} {len(suite):>3} problems; families: {', '.join(families)}")
        return EXIT_OK
    for spec in names:
        for p in load_suite(spec):
            print(f"{p.name:<22} {p.family:<14} {p.formula}")
    return EXIT_OK
