"""Several targets: what does sharing one time limit among the outputs cost?

``SymbolicRegressor.fit(X, Y)`` with a 2-D ``Y`` runs one search per output, one after the
other, and ``time_limit`` is for the whole fit: each output gets an equal share of what the
outputs before it left (an output that stops early on an exact fit hands on its rest). This
script measures that choice on pairs of Feynman laws that share their inputs, each pair one
table ``X`` (the union of the two laws' variables, uniform in their ranges, 1000 rows, no
noise) and two targets:

* ``split``: ``fit(X, Y)`` with ``time_limit=T``, the whole fit (the design);
* ``alone``: each output fitted by itself on the same ``X`` with ``time_limit=T`` each (twice
  the time: what a user would get with one fit per column and no shared budget);
* ``half`` (optional): each output by itself with ``T/2``: the split without the hand-on.

Each output is judged as the recovery bar judges (SRBench's exact rule on the selected formula,
``found``; on any front row, ``any``). Prints the laws recovered per mode and the ratio of
``split`` to ``alone`` in laws and in seconds (same run, same machine).

Usage::

    python benchmarks/several_targets.py --out results/several_targets.json   # ~28 min
    python benchmarks/several_targets.py --time-limit 6 --pairs mass --seeds 0  # smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from eurisko.bench import load_problem
from eurisko.bench.methods import check_front, to_truth_names, warm_up_eurisko
from eurisko.report.front import atomic_write_json

# name: the two laws (their shared variables have the same ranges)
PAIRS = {
    "mass": ("I.13.12", "I.18.4"),     # m1 m2 r1 r2 (+ G): potential energy, centre of mass
    "thermal": ("I.39.22", "III.4.33"),  # T kb (+ n V, h omega): ideal gas, Planck's oscillator
    "charge": ("I.12.11", "I.12.5"),   # Ef (+ q B v theta, q2): Lorentz force, electric force
}
MODES = ("split", "alone", "half")


def pair_data(names: Sequence[str], rows: int, seed: int):
    """``(X, Y, problems)``: one table over the union of the laws' variables, one column of
    ``Y`` per law."""
    problems = [load_problem(n) for n in names]
    ranges: dict[str, tuple[float, float]] = {}
    for p in problems:
        for v in p.variables:
            if v in ranges and tuple(ranges[v]) != tuple(p.ranges[v]):
                raise SystemExit(f"{v} has other ranges in {p.name}; pair laws that agree")
            ranges[v] = tuple(p.ranges[v])
    rng = np.random.default_rng([seed, 41])
    X = pd.DataFrame({v: rng.uniform(*r, rows) for v, r in ranges.items()})
    Y = pd.DataFrame({p.name: np.asarray(p.evaluate(X[list(p.variables)]), dtype=np.float64)
                      for p in problems})
    return X, Y, problems


def verdicts(model, problem, X: pd.DataFrame, output: int | None, timeout: float) -> dict:
    """SRBench's exact verdicts on one output's front."""
    front = model.pareto_front_[output] if output is not None else model.pareto_front_
    best = model.best_index_[output] if output is not None else model.best_index_
    kw = {} if output is None else {"output": output}
    exprs = [to_truth_names(model.sympy(i, real=True, **kw), model.variable_names_,
                            [str(c) for c in X.columns]) for i in range(len(front))]
    v = check_front(exprs, int(best), problem, timeout, positive=False)
    return {"found": bool(v["found"]), "any": bool(v["any"]),
            "equation": str(front["equation"].iloc[int(best)])}


def run_mode(mode: str, X, Y, problems, T: float, seed: int, n_jobs: int,
             timeout: float) -> list[dict]:
    from eurisko import SymbolicRegressor

    make = lambda t: SymbolicRegressor(time_limit=t, random_state=seed,  # noqa: E731
                                       n_jobs=n_jobs)
    out = []
    if mode == "split":
        t0 = time.perf_counter()
        m = make(T).fit(X, Y)
        seconds = time.perf_counter() - t0
        for j, p in enumerate(problems):
            out.append({"problem": p.name, "seconds": float(m.estimators_[j].elapsed_),
                        "fit_seconds": seconds, **verdicts(m, p, X, j, timeout)})
        return out
    for j, p in enumerate(problems):
        t0 = time.perf_counter()
        m = make(T if mode == "alone" else T / 2).fit(X, Y.iloc[:, j])
        out.append({"problem": p.name, "seconds": time.perf_counter() - t0,
                    **verdicts(m, p, X, None, timeout)})
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0,
                    help="T: seconds of the whole split fit, and of each alone fit (60)")
    ap.add_argument("--pairs", nargs="+", choices=sorted(PAIRS), default=list(PAIRS))
    ap.add_argument("--modes", nargs="+", choices=MODES, default=["split", "alone"],
                    help="split first (default: split alone)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--n-jobs", type=int, default=2, help="worker processes per fit (2)")
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--check-timeout", type=float, default=30.0)
    ap.add_argument("--out", help="JSON results, rewritten after each fit")
    args = ap.parse_args(argv)
    if args.modes[0] != "split":
        raise SystemExit("--modes must start with split, the design being measured")
    settings = {"time_limit": args.time_limit, "pairs": {k: PAIRS[k] for k in args.pairs},
                "modes": args.modes, "seeds": args.seeds, "n_jobs": args.n_jobs,
                "rows": args.rows, "python": platform.python_version(),
                "cpus": os.cpu_count(), "machine": platform.platform()}
    print(f"several targets: {len(args.pairs)} pairs x {len(args.seeds)} seeds, modes "
          f"{' '.join(args.modes)}, T={args.time_limit:g}s, n_jobs={args.n_jobs}", flush=True)
    warm_up_eurisko()
    results: list[dict] = []
    try:
        for seed in args.seeds:
            for pair in args.pairs:
                X, Y, problems = pair_data(PAIRS[pair], args.rows, seed)
                for mode in args.modes:
                    for r in run_mode(mode, X, Y, problems, args.time_limit, seed,
                                      args.n_jobs, args.check_timeout):
                        results.append({"pair": pair, "mode": mode, "seed": seed, **r})
                        print(f"  seed {seed} {pair:<8} {mode:<6} {r['problem']:<9} "
                              f"found={'yes' if r['found'] else 'no':<3} "
                              f"any={'yes' if r['any'] else 'no':<3} {r['seconds']:6.1f}s  "
                              f"{r['equation']}", flush=True)
                    if args.out:
                        atomic_write_json(args.out, {"settings": settings, "results": results})
    except KeyboardInterrupt:
        print("interrupted; reporting the fits finished so far", file=sys.stderr)
    print_summary(results, args.modes)
    return 0


def print_summary(results: list[dict], modes: Sequence[str]) -> None:
    print()
    print(f"{'mode':<6} {'found':>7} {'any':>7} {'seconds':>9}   (laws over all pairs and seeds)")
    total = {}
    for mode in modes:
        rs = [r for r in results if r["mode"] == mode]
        seconds = sum(r.get("fit_seconds", r["seconds"]) for r in
                      ({(r["pair"], r["seed"]): r for r in rs}.values() if mode == "split"
                       else rs))
        total[mode] = (sum(r["found"] for r in rs), sum(r["any"] for r in rs), seconds, len(rs))
        f, a, s, n = total[mode]
        print(f"{mode:<6} {f:>3}/{n:<3} {a:>3}/{n:<3} {s:>9.1f}")
    if "split" in total and "alone" in total and total["alone"][3]:
        (fs, _, ss, _), (fa, _, sa, _) = total["split"], total["alone"]
        print(f"split / alone: laws found {fs}/{fa}"
              + (f" = {fs / fa:.2f}" if fa else "") + f", seconds {ss / sa:.2f}")


if __name__ == "__main__":
    sys.exit(main())
