"""Model selection on few noisy rows: the front of each fit read by every rule, side by side.

Each classic problem is split as the benchmark suite splits it (its training spec, 20 points for
most; a fresh test draw) with Gaussian noise of ``--noise`` x RMS(y) on the training target,
fitted once by `SymbolicRegressor`, and its Pareto front read by each `model_selection` rule
(``eurisko.search.select_index``): the same fronts, so the rules differ only in the row they
pick. For each rule it prints the median size of the selected formula and how many reach test
R^2 > 0.999 (SRBench's accuracy bar), and the ratio of each to ``"best"`` (PySR's rule) measured
on the same fronts.

The default problems are the 20-point Livermore, Constant and Koza problems the selection rule
was chosen on; the Nguyen set (`eurisko bench nguyen --noise 0.01`) is the check, not the
design set.

Usage::

    python benchmarks/small_noisy_selection.py                       # design set, 20 s a fit
    python benchmarks/small_noisy_selection.py --time-limit 60 --out docs/results/DIR
    python benchmarks/small_noisy_selection.py --problems Nguyen-1 Nguyen-5 --time-limit 5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from eurisko.atomic import atomic_write_bytes
from eurisko.bench.classic import load_classic
from eurisko.regressor import SymbolicRegressor
from eurisko.search.front import MODEL_SELECTIONS, select_index

DESIGN = ("Livermore-2", "Livermore-3", "Livermore-5", "Livermore-6", "Livermore-7",
          "Livermore-13", "Livermore-14", "Livermore-17", "Livermore-19", "Livermore-21",
          "Constant-1", "Constant-3", "Constant-6", "Constant-8", "Koza-2", "Koza-3")
RULES = tuple(r for r in MODEL_SELECTIONS if r != "auto")


def fit_front(name: str, noise: float, seed: int, time_limit: float) -> dict:
    """One fit; every front row with its training loss, complexity and test R^2."""
    problem = {p.name: p for p in load_classic()}[name]
    split = problem.split(seed=seed, noise=noise)
    model = SymbolicRegressor(time_limit=time_limit, n_jobs=1, random_state=seed,
                              model_selection="best")
    model.fit(split.X_train, split.y_train)
    y_test = split.y_test
    rows = []
    for i in range(len(model.pareto_front_)):
        with np.errstate(all="ignore"):
            pred = model.predict(split.X_test, i)
            r2 = (1 - np.mean((pred - y_test) ** 2) / np.var(y_test)
                  if np.all(np.isfinite(pred)) else -np.inf)
        rows.append({"complexity": int(model.pareto_front_["complexity"].iloc[i]),
                     "loss": float(model.pareto_front_["loss"].iloc[i]),
                     "equation": str(model.pareto_front_["equation"].iloc[i]),
                     "test_r2": float(r2)})
    return {"problem": name, "n_rows": len(split.y_train), "y_var": float(model.y_var_),
            "n_symbols": model._n_symbols(),
            "noise": noise, "seed": seed, "front": rows}


def picked(record: dict, rule: str) -> dict:
    front = record["front"]
    i = select_index(np.array([r["loss"] for r in front]),
                     np.array([r["complexity"] for r in front]), record["y_var"], rule,
                     record["n_rows"], record["n_symbols"])
    return front[i]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="+", default=list(DESIGN), metavar="NAME")
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=20.0, metavar="SECONDS")
    ap.add_argument("--out", metavar="DIR", help="write fronts.jsonl and summary.json here")
    args = ap.parse_args(argv)
    records = []
    for name in args.problems:
        t0 = time.perf_counter()
        rec = fit_front(name, args.noise, args.seed, args.time_limit)
        records.append(rec)
        best, bic, mdl = picked(rec, "best"), picked(rec, "bic"), picked(rec, "mdl")
        print(f"{name:14s} {time.perf_counter() - t0:5.1f}s  best: size {best['complexity']:3d}"
              f" R2 {best['test_r2']:.5f}   bic: size {bic['complexity']:3d}"
              f" R2 {bic['test_r2']:.5f}   mdl: size {mdl['complexity']:3d}"
              f" R2 {mdl['test_r2']:.5f}", flush=True)
    summary = {}
    for rule in RULES:
        chosen = [picked(r, rule) for r in records]
        summary[rule] = {"median_size": float(np.median([c["complexity"] for c in chosen])),
                         "r2_above_0.999": int(sum(c["test_r2"] > 0.999 for c in chosen)),
                         "runs": len(chosen)}
    base = summary["best"]
    print(f"\n{'rule':10s} {'median size':>12s} {'R2>0.999':>9s}  size/best  rate/best")
    for rule, s in summary.items():
        rate = s["r2_above_0.999"] / max(base["r2_above_0.999"], 1)
        print(f"{rule:10s} {s['median_size']:12.1f} {s['r2_above_0.999']:5d}/{s['runs']:<3d}"
              f"  {s['median_size'] / base['median_size']:9.2f}  {rate:9.2f}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out / "fronts.jsonl",
                           "".join(json.dumps(r) + "\n" for r in records).encode())
        atomic_write_bytes(out / "summary.json",
                           json.dumps({"args": vars(args), "summary": summary},
                                      indent=1).encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
