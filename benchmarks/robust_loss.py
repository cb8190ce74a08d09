"""Robust-loss bar: with 5% gross outliers, does a robust loss recover more Feynman laws?

The ten laws of the recovery bar (`feynman_recovery.PROBLEMS`), 1000 rows sampled as there
(no noise), then 5% of the training targets, drawn at random, replaced by ten times their value.
Each law is fitted once per loss (``loss="l2"``, ``"huber"``, ``"l1"``; default loss scale)
with the same time limit and seed, and judged as the recovery bar judges (SRBench's exact rule
on the selected formula, `eurisko.bench.methods.run_eurisko`): the law, not the outliers, is the
truth. Prints the laws recovered per loss and each robust loss's gain over l2 (target: robust
>= l2 + 3). ``--out`` rewrites a JSON file after each fit, so a killed run keeps what it has.

Usage::

    python benchmarks/robust_loss.py --out results/robust_loss.json   # the bar: 30 fits, ~33 min
    python benchmarks/robust_loss.py --time-limit 10 --problems I.6.2a I.12.11   # smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence

import numpy as np

from eurisko.bench import load_problem
from eurisko.bench.methods import run_eurisko
from eurisko.report.front import atomic_write_json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from feynman_recovery import PROBLEMS, parse_settings, problem_list  # noqa: E402

LOSSES = ("l2", "huber", "l1")
OUTLIER_SHARE = 0.05
OUTLIER_FACTOR = 10.0


def with_outliers(y: np.ndarray, seed: int, share: float = OUTLIER_SHARE,
                  factor: float = OUTLIER_FACTOR) -> tuple[np.ndarray, np.ndarray]:
    """``y`` with ``share`` of its entries (drawn with ``seed``) multiplied by ``factor``,
    and the rows drawn."""
    rng = np.random.default_rng([seed, 17])
    rows = np.sort(rng.choice(len(y), size=max(1, round(share * len(y))), replace=False))
    out = np.array(y, dtype=np.float64, copy=True)
    out[rows] *= factor
    return out, rows


def warm_up(losses: Sequence[str]) -> None:
    """Load the kernels of every loss once, so that no timed fit pays for compiling them."""
    from eurisko.regressor import SymbolicRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (64, 2))
    for loss in losses:
        SymbolicRegressor(loss=loss, time_limit=None, max_evals=2000, n_jobs=1,
                          random_state=0).fit(X, X[:, 0] * np.sin(X[:, 1]))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per fit (60)")
    ap.add_argument("--problems", nargs="+", help=f"Feynman names (default: {' '.join(PROBLEMS)})")
    ap.add_argument("--losses", nargs="+", default=list(LOSSES),
                    help=f"losses to compare, l2 first (default: {' '.join(LOSSES)})")
    ap.add_argument("--seed", type=int, default=0, help="data, outlier and search seed (0)")
    ap.add_argument("--n-jobs", type=int, default=2, help="worker processes per fit (2)")
    ap.add_argument("--rows", type=int, default=1000, help="rows sampled per problem (1000)")
    ap.add_argument("--out", help="JSON results, rewritten after each fit")
    ap.add_argument("--check-timeout", type=float, default=30.0,
                    help="seconds per exact-recovery check; a timeout counts as not exact (30)")
    ap.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                    help="further SymbolicRegressor settings, values as JSON")
    args = ap.parse_args(argv)
    if args.losses[0] != "l2":
        raise SystemExit("--losses must start with l2, the baseline")
    params = parse_settings(args.set)
    names = problem_list(args.problems)
    settings = {"time_limit": args.time_limit, "seed": args.seed, "n_jobs": args.n_jobs,
                "rows": args.rows, "outlier_share": OUTLIER_SHARE,
                "outlier_factor": OUTLIER_FACTOR, "losses": args.losses, "params": params,
                "python": platform.python_version(), "cpus": os.cpu_count(),
                "machine": platform.platform()}
    print(f"robust loss: {len(names)} problems x {len(args.losses)} losses, "
          f"time_limit={args.time_limit:g}s, n_jobs={args.n_jobs}, rows={args.rows}, "
          f"{OUTLIER_SHARE:.0%} outliers x{OUTLIER_FACTOR:g}, seed={args.seed}", flush=True)
    warm_up(args.losses)
    results: list[dict] = []
    try:
        for name in names:
            p = load_problem(name)
            X, y = p.sample(args.rows, seed=args.seed)
            yo, rows = with_outliers(np.asarray(y), args.seed)
            for loss in args.losses:
                r = run_eurisko(p, X, yo, time_limit=args.time_limit, max_evals=None,
                                seed=args.seed, n_jobs=args.n_jobs,
                                check_timeout=args.check_timeout, positive=False,
                                params={**params, "loss": loss})
                results.append({"problem": p.name, "loss": loss, "truth": str(p.formula),
                                "outlier_rows": rows.tolist(), **r})
                print(f"  {p.name:<9} {loss:<7} found={'yes' if r['found'] else 'no':<3} "
                      f"any={'yes' if r['any'] else 'no':<3} {r['seconds']:6.1f}s "
                      f"{r['n_evals']:>10d} evals  {r['equation']}", flush=True)
                if args.out:
                    atomic_write_json(args.out, {"settings": settings, "results": results})
    except KeyboardInterrupt:
        print("interrupted; reporting the fits finished so far", file=sys.stderr)
    print_table(results, names, args.losses)
    return 0


def print_table(results: list[dict], names: Sequence[str], losses: Sequence[str]) -> None:
    found = {(r["problem"], r["loss"]): r["found"] for r in results}
    print()
    print(f"{'problem':<9} " + " ".join(f"{lo:>7}" for lo in losses))
    for n in names:
        cells = [found.get((n, lo)) for lo in losses]
        print(f"{n:<9} " + " ".join(f"{'-' if c is None else 'yes' if c else 'no':>7}"
                                     for c in cells))
    counts = {lo: sum(bool(found.get((n, lo))) for n in names) for lo in losses}
    print()
    for lo in losses:
        print(f"recovered with {lo:<7}: {counts[lo]}/{len(names)}")
    base = counts[losses[0]]
    for lo in losses[1:]:
        print(f"{lo} - {losses[0]}: {counts[lo] - base:+d} laws (target: >= +3)")


if __name__ == "__main__":
    sys.exit(main())
