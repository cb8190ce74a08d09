"""eurisko against Operon on the ten Feynman laws, with the same evaluation budget and operators.

Both get the same data (1000 uniform rows, no noise), the same budget of formula evaluations
(``--max-evals``; Operon counts residual and Jacobian evaluations, eurisko counts formula
evaluations with LM Jacobians included), the same operators (eurisko's defaults ``add sub mul
div neg square sqrt exp log sin cos``; Operon has no ``neg``, which ``sub`` and constants stand
in for) and two threads each. Each keeps its own way of fitting constants: eurisko's defaults,
and Operon's Levenberg-Marquardt local search (``--operon-local-iters``) with linear scaling,
NSGA-II on (r2, length) and minimum-description-length model selection, as SRBench runs it
(sigma for the MDL from a random forest's training error, computed outside the timed fit).

Every row of both Pareto fronts is converted to SymPy and judged with the same rule
(`eurisko.bench.is_exact_recovery`, SRBench's symbolic solution): ``found`` is the selected
formula, ``any`` some formula of the front. ``--time-limit`` is only a safety cap. The runners
live in `eurisko.bench.methods` (shared with ``eurisko bench``, which compares the methods on
whole suites under one time budget instead).

Usage::

    python benchmarks/vs_operon.py --max-evals 500000 --out results/vs_operon.json
    python benchmarks/vs_operon.py --max-evals 20000 --problems I.6.2a I.18.4
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence

from feynman_recovery import PROBLEMS, problem_list

from eurisko.bench import load_problem
from eurisko.bench.methods import (  # noqa: F401 - re-exported for older imports
    OPERON_SYMBOL,
    check_front,
    operon_symbols,
    rf_sigma,
    run_eurisko,
    run_operon,
)
from eurisko.expr.operators import DEFAULT_OPERATORS
from eurisko.report.front import atomic_write_json


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-evals", type=int, default=500_000,
                    help="evaluation budget for each method (500000)")
    ap.add_argument("--problems", nargs="+", help=f"Feynman names (default: {' '.join(PROBLEMS)})")
    ap.add_argument("--seed", type=int, default=0, help="data and search seed (0)")
    ap.add_argument("--time-limit", type=float, default=600.0,
                    help="safety cap in seconds per fit (600)")
    ap.add_argument("--threads", type=int, default=2, help="threads/processes each (2)")
    ap.add_argument("--rows", type=int, default=1000, help="rows sampled per problem (1000)")
    ap.add_argument("--operon-local-iters", type=int, default=5,
                    help="Operon's Levenberg-Marquardt iterations per local search (5)")
    ap.add_argument("--operon-objectives", default="r2,length",
                    help="Operon objectives, comma-separated (r2,length)")
    ap.add_argument("--out", help="JSON results, rewritten after each problem")
    ap.add_argument("--check-timeout", type=float, default=30.0,
                    help="seconds per exact-recovery check; a timeout counts as not exact (30)")
    ap.add_argument("--positive", action="store_true",
                    help="treat variables as positive in the exact check (SRBench does not)")
    args = ap.parse_args(argv)

    try:
        import pyoperon  # noqa: F401
    except ImportError:
        print("pyoperon is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    problems = [load_problem(n) for n in problem_list(args.problems)]
    objectives = [o.strip() for o in args.operon_objectives.split(",") if o.strip()]
    settings = {"max_evals": args.max_evals, "time_limit": args.time_limit, "seed": args.seed,
                "threads": args.threads, "rows": args.rows, "noise": 0.0,
                "operators": list(DEFAULT_OPERATORS), "operon_symbols": operon_symbols(),
                "operon_local_iters": args.operon_local_iters, "operon_objectives": objectives,
                "check_timeout": args.check_timeout, "positive": args.positive,
                "python": platform.python_version(), "cpus": os.cpu_count(),
                "machine": platform.platform()}
    print(f"eurisko vs Operon: {len(problems)} problems, max_evals={args.max_evals}, "
          f"threads={args.threads}, rows={args.rows}, seed={args.seed}", flush=True)
    results: list[dict] = []
    try:
        for p in problems:
            X, y = p.sample(args.rows, seed=args.seed)
            e = run_eurisko(p, X, y, time_limit=args.time_limit, max_evals=args.max_evals,
                            seed=args.seed, n_jobs=args.threads,
                            check_timeout=args.check_timeout, positive=args.positive,
                            stop_at_first=True)
            o = run_operon(p, X, y, max_evals=args.max_evals, time_limit=args.time_limit,
                           seed=args.seed, n_threads=args.threads,
                           local_iters=args.operon_local_iters, objectives=objectives,
                           check_timeout=args.check_timeout, positive=args.positive)
            results.append({"problem": p.name, "truth": str(p.formula),
                            "eurisko": e, "operon": o})
            print(f"  {p.name:<9} eurisko {_yn(e['found'])}/{_yn(e['any'])} "
                  f"{e['seconds']:6.1f}s {e['n_evals']:>9d} evals | operon "
                  f"{_yn(o['found'])}/{_yn(o['any'])} {o['seconds']:6.1f}s "
                  f"{o['n_evals']:>9d} evals", flush=True)
            if args.out:
                atomic_write_json(args.out, {"settings": settings, "results": results})
    except KeyboardInterrupt:
        print("interrupted; reporting the problems finished so far", file=sys.stderr)
    print_table(results, len(problems))
    return 0


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"


def print_table(results: list[dict], total: int) -> None:
    print()
    print(f"{'':<9} | {'eurisko':^40} | {'operon':^40}")
    head = f"{'found':<5} {'any':<4} {'seconds':>8} {'n_evals':>10} {'r2':>9}"
    print(f"{'problem':<9} | {head} | {head}")
    for r in results:
        cells = []
        for side in ("eurisko", "operon"):
            s = r[side]
            cells.append(f"{_yn(s['found']):<5} {_yn(s['any']):<4} {s['seconds']:8.1f} "
                         f"{s['n_evals']:>10d} {s['r2']:9.6f}")
        print(f"{r['problem']:<9} | {cells[0]} | {cells[1]}")
    for side in ("eurisko", "operon"):
        found = sum(r[side]["found"] for r in results)
        anyf = sum(r[side]["any"] for r in results)
        secs = sum(r[side]["seconds"] for r in results)
        evals = sum(r[side]["n_evals"] for r in results)
        print(f"{side:<8} found {found}/{total}, on the front {anyf}/{total}, "
              f"{secs:.0f} s, {evals} evaluations")
    if results:
        ratio = (sum(r["eurisko"]["seconds"] for r in results)
                 / max(1e-9, sum(r["operon"]["seconds"] for r in results)))
        print(f"time ratio eurisko/operon: {ratio:.2f}")
    for r in results:
        print(f"  {r['problem']:<9} eurisko: {r['eurisko']['equation']}")
        print(f"  {'':<9} operon:  {r['operon']['equation']}")


if __name__ == "__main__":
    sys.exit(main())
