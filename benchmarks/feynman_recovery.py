"""Recovery bar: does eurisko, with default settings, find ten Feynman laws exactly?

For each problem: 1000 rows sampled uniformly in the published ranges, no noise, one
``SymbolicRegressor(time_limit=60, n_jobs=2)`` fit, then SRBench's symbolic-solution rule
(`eurisko.bench.is_exact_recovery`) on every row of the Pareto front. The fitting and judging
live in `eurisko.bench.methods` (shared with ``eurisko bench``); this script keeps the fixed
protocol of the ten-law bar (all 1000 rows train, no split) and its table. ``found`` says
whether the *selected* formula is exact; ``any`` whether some row of the front is. The JSON
file given with ``--out`` is rewritten (atomically) after each problem, so a killed run keeps
what it measured.

Usage::

    python benchmarks/feynman_recovery.py --out results/feynman.json     # the full bar, ~11 min
    python benchmarks/feynman_recovery.py --time-limit 5 --problems I.6.2a I.18.4
    python benchmarks/feynman_recovery.py --time-limit 30 --seed 1 --set n_islands=16  # tuning
    python benchmarks/feynman_recovery.py --cluster local --out results/feynman-dask.json
        # the same bar on the Dask executor (a LocalCluster of --n-jobs workers)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Sequence

import numpy as np

from eurisko.bench import load_problem
from eurisko.bench.methods import check_front, run_eurisko, to_truth_names  # noqa: F401
from eurisko.report.front import atomic_write_json

PROBLEMS = ("I.6.2a", "I.10.7", "I.12.11", "I.13.12", "I.18.4", "I.29.16", "I.39.22",
            "I.40.1", "II.6.15b", "III.4.33")


def problem_list(names: Sequence[str] | None) -> list[str]:
    """Names from the command line (space- or comma-separated); the ten by default."""
    if not names:
        return list(PROBLEMS)
    return [n for chunk in names for n in chunk.replace(",", " ").split()]


def parse_settings(items: Sequence[str]) -> dict:
    """``["n_islands=16", "lm_rows=null"]`` -> ``{"n_islands": 16, "lm_rows": None}``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit(f"--set wants KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value  # a bare word: a string
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per fit (60)")
    ap.add_argument("--problems", nargs="+", help=f"Feynman names (default: {' '.join(PROBLEMS)})")
    ap.add_argument("--seed", type=int, default=0, help="data and search seed (0)")
    ap.add_argument("--n-jobs", type=int, default=2, help="worker processes per fit (2)")
    ap.add_argument("--rows", type=int, default=1000, help="rows sampled per problem (1000)")
    ap.add_argument("--cluster", metavar="ADDR",
                    help="run each fit on a Dask cluster: 'local' (a LocalCluster of --n-jobs "
                         "workers) or a scheduler address (default: local processes)")
    ap.add_argument("--out", help="JSON results, rewritten after each problem")
    ap.add_argument("--check-timeout", type=float, default=30.0,
                    help="seconds per exact-recovery check; a timeout counts as not exact (30)")
    ap.add_argument("--positive", action="store_true",
                    help="treat variables as positive in the exact check (SRBench does not)")
    ap.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                    help="SymbolicRegressor settings to override, values as JSON "
                         "(e.g. --set n_islands=16 lm_rows=null); the bar itself uses none")
    args = ap.parse_args(argv)
    params = parse_settings(args.set)
    if args.cluster is not None:
        params["cluster"] = args.cluster

    names = problem_list(args.problems)
    problems = [load_problem(n) for n in names]
    settings = {"time_limit": args.time_limit, "seed": args.seed, "n_jobs": args.n_jobs,
                "cluster": args.cluster,
                "rows": args.rows, "noise": 0.0, "check_timeout": args.check_timeout,
                "positive": args.positive, "params": params, "python": platform.python_version(),
                "cpus": os.cpu_count(), "machine": platform.platform()}
    print(f"feynman recovery: {len(problems)} problems, time_limit={args.time_limit:g}s, "
          f"n_jobs={args.n_jobs}, rows={args.rows}, seed={args.seed}"
          + (f", cluster={args.cluster}" if args.cluster else ""), flush=True)
    results: list[dict] = []
    try:
        for p in problems:
            X, y = p.sample(args.rows, seed=args.seed)
            r = run_eurisko(p, X, y, time_limit=args.time_limit, max_evals=None,
                            seed=args.seed, n_jobs=args.n_jobs,
                            check_timeout=args.check_timeout, positive=args.positive,
                            params=params)
            results.append({"problem": p.name, "truth": str(p.formula), **r})
            print(f"  {p.name:<9} found={'yes' if r['found'] else 'no':<3} "
                  f"any={'yes' if r['any'] else 'no':<3} {r['seconds']:6.1f}s "
                  f"{r['n_evals']:>10d} evals  {r['equation']}", flush=True)
            if args.out:
                atomic_write_json(args.out, {"settings": settings, "results": results})
    except KeyboardInterrupt:
        print("interrupted; reporting the problems finished so far", file=sys.stderr)
    print_table(results, len(problems))
    return 0


def print_table(results: list[dict], total: int) -> None:
    print()
    print(f"{'problem':<9} {'found':<5} {'any':<4} {'seconds':>8} {'n_evals':>11} "
          f"{'r2':>12}  equation")
    for r in results:
        print(f"{r['problem']:<9} {'yes' if r['found'] else 'no':<5} "
              f"{'yes' if r['any'] else 'no':<4} {r['seconds']:8.1f} {r['n_evals']:>11d} "
              f"{r['r2']:12.9f}  {r['equation']}")
    k = sum(r["found"] for r in results)
    j = sum(r["any"] for r in results)
    secs = float(np.sum([r["seconds"] for r in results])) if results else 0.0
    print(f"\nrecovered {k}/{total} (selected formula exact); "
          f"{j}/{total} with an exact formula somewhere on the front; {secs:.0f} s of fitting")


if __name__ == "__main__":
    sys.exit(main())
