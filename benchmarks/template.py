"""Template bar: does a user's fixed outer form find a law in less than half the time?

Three Feynman laws whose outer form a user would know and write as a template (PySR's
template expressions; ``SymbolicRegressor(template=...)``):

- I.6.2b, a Gaussian: ``f(sigma) * exp(g(sigma, theta, theta1))``;
- I.37.4, interference: ``f(I1, I2) + g(I1, I2) * cos(delta)``;
- III.14.14, a diode: ``f(I_0) * (exp(g(q, Volt, kb, T)) - 1)``.

For each law and seed: 1000 rows sampled uniformly in the published ranges, no noise; one fit
with eurisko's defaults (the free search) and one with the template, each stopping as soon as a
formula fits to rounding (``loss_threshold`` = 1e-12 var(y)) or at the cap (``--time-limit``).
A fit *recovers* the law when its selected formula passes SRBench's symbolic-solution rule
(`eurisko.bench.is_exact_recovery`, as the recovery bar judges); its time to recovery is the
wall time of ``fit`` (the cap, censored, when it does not recover). Per law: the median over
the seeds of each, their ratio (template / free) and the bar: ratio < 0.5 on every law.

``--out`` rewrites a JSON file after each fit (and ``.txt`` with the table at the end); run
again with the same ``--out`` and the fits already there are not redone.

Usage::

    python benchmarks/template.py --out docs/results/template.json     # the bar, <= ~20 min
    python benchmarks/template.py --seeds 0 --time-limit 20            # smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eurisko.bench import load_problem
from eurisko.bench.methods import run_eurisko
from eurisko.report.front import atomic_write_json

LAWS = {
    "I.6.2b": "f(sigma) * exp(g(sigma, theta, theta1))",
    "I.37.4": "f(I1, I2) + g(I1, I2) * cos(delta)",
    "III.14.14": "f(I_0) * (exp(g(q, Volt, kb, T)) - 1)",
}
EXACT = 1e-12  # loss_threshold, as a share of var(y): the fit stops once a formula fits so
BAR = 0.5


def fit_one(name: str, method: str, seed: int, args: argparse.Namespace) -> dict:
    p = load_problem(name)
    X, y = p.sample(args.rows, seed=seed)
    params = {"loss_threshold": EXACT * float(np.var(y))}
    if method == "template":
        params["template"] = LAWS[name]
    r = run_eurisko(p, X, y, time_limit=args.time_limit, max_evals=None, seed=seed,
                    n_jobs=args.n_jobs, check_timeout=args.check_timeout, positive=False,
                    params=params)
    t = r["seconds"] if r["found"] else float("inf")
    return {"problem": name, "method": method, "seed": seed, "time_to_recovery": t,
            "template": params.get("template"), **r}


def summary(results: list[dict], seeds: Sequence[int], cap: float) -> tuple[list[dict], bool]:
    """Per law: the median time to recovery of each method (a miss counts as the cap), the
    ratio and whether it is under the bar."""
    rows, ok = [], True
    for name in LAWS:
        med = {}
        for method in ("free", "template"):
            ts = [min(r["time_to_recovery"], cap) for r in results
                  if r["problem"] == name and r["method"] == method and r["seed"] in seeds]
            med[method] = (statistics.median(ts) if ts else None, len(ts),
                           sum(r["found"] for r in results if r["problem"] == name
                               and r["method"] == method and r["seed"] in seeds))
        if med["free"][0] is None or med["template"][0] is None:
            ok = False
            rows.append({"problem": name, "free": med["free"], "template": med["template"],
                         "ratio": None, "pass": False})
            continue
        ratio = med["template"][0] / med["free"][0] if med["free"][0] > 0 else float("inf")
        passed = ratio < BAR and med["template"][2] * 2 > med["template"][1]
        ok &= passed
        rows.append({"problem": name, "free": med["free"], "template": med["template"],
                     "ratio": ratio, "pass": passed})
    return rows, ok


def table(rows: list[dict], ok: bool, cap: float) -> str:
    lines = [f"{'law':<10} {'free s':>8} {'found':>6} {'template s':>11} {'found':>6} "
             f"{'ratio':>7}  bar (< {BAR})  template"]
    for r in rows:
        f, t = r["free"], r["template"]
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        fs = "-" if f[0] is None else f"{f[0]:.1f}"
        ts = "-" if t[0] is None else f"{t[0]:.1f}"
        lines.append(f"{r['problem']:<10} {fs:>8} {f[2]}/{f[1]:<4} {ts:>11} {t[2]}/{t[1]:<4} "
                     f"{ratio:>7}  {'PASS' if r['pass'] else 'FAIL':<12} {LAWS[r['problem']]}")
    lines.append(f"median time to recovery over the seeds (a miss counts as the cap, {cap:g} s); "
                 f"bar: {'PASS' if ok else 'FAIL'} (template < {BAR} x free on every law)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0, help="cap per fit, seconds (60)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                    help="data and search seeds (0 1 2)")
    ap.add_argument("--laws", nargs="+", choices=sorted(LAWS), help="default: all three")
    ap.add_argument("--n-jobs", type=int, default=2, help="worker processes per fit (2)")
    ap.add_argument("--rows", type=int, default=1000, help="rows sampled per law (1000)")
    ap.add_argument("--check-timeout", type=float, default=30.0,
                    help="seconds per exact-recovery check (30)")
    ap.add_argument("--out", help="JSON results, rewritten after each fit (and a .txt table)")
    args = ap.parse_args(argv)
    laws = args.laws or list(LAWS)
    settings = {"time_limit": args.time_limit, "seeds": args.seeds, "n_jobs": args.n_jobs,
                "rows": args.rows, "exact_share": EXACT, "bar": BAR, "laws": LAWS,
                "python": platform.python_version(), "cpus": os.cpu_count(),
                "machine": platform.platform()}
    results: list[dict] = []
    if args.out and Path(args.out).is_file():
        old = json.loads(Path(args.out).read_text())
        same = {k: old.get("settings", {}).get(k) for k in ("time_limit", "n_jobs", "rows")}
        if same != {k: settings[k] for k in same}:
            raise SystemExit(f"{args.out} holds a run with other settings ({same}); give "
                             "another --out")
        results = old.get("results", [])
    done = {(r["problem"], r["method"], r["seed"]) for r in results}
    print(f"template bar: {len(laws)} laws x {len(args.seeds)} seeds x free/template, cap "
          f"{args.time_limit:g}s, n_jobs={args.n_jobs}, rows={args.rows}"
          + (f"; {len(done)} fits already in {args.out}" if done else ""), flush=True)
    t0 = time.perf_counter()
    try:
        for name in laws:
            for seed in args.seeds:
                for method in ("free", "template"):
                    if (name, method, seed) in done:
                        continue
                    r = fit_one(name, method, seed, args)
                    results.append(r)
                    print(f"  {name:<9} {method:<8} seed {seed}  "
                          f"{'found' if r['found'] else 'miss ':<5} {r['seconds']:6.1f}s "
                          f"{r['n_evals']:>9d} evals  {r['equation']}", flush=True)
                    if args.out:
                        atomic_write_json(args.out, {"settings": settings, "results": results})
    except KeyboardInterrupt:
        print("interrupted; the summary of the fits finished so far", file=sys.stderr)
    rows, ok = summary(results, args.seeds, args.time_limit)
    rows = [r for r in rows if r["problem"] in laws]
    ok = all(r["pass"] for r in rows)
    text = table(rows, ok, args.time_limit)
    print()
    print(text)
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.out:
        atomic_write_json(args.out, {"settings": settings, "results": results,
                                     "summary": rows, "pass": ok})
        Path(args.out).with_suffix(".txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
