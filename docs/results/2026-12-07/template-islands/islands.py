"""Islands per worker for a template search, on twelve template laws not in the template bar.

The laws are Feynman laws whose outer form a user would know, each with the template they
would write (holes over the variables the law puts there). For each law and seed: 1000 rows
sampled as the template bar samples them, one template fit per islands-per-worker setting
(``n_islands = k * n_jobs``), each stopping at a fit to rounding (``loss_threshold`` = 1e-12
var(y)) or at the cap; the time to that fit (the cap when missed) and whether it came.

Usage (from the repository root; the output next to this file was made so)::

    python docs/results/2026-12-07/template-islands/islands.py --per-worker 2 4 8 \
        > docs/results/2026-12-07/template-islands/islands.txt
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from eurisko.bench import load_problem
from eurisko.bench.methods import warm_up_eurisko
from eurisko.regressor import SymbolicRegressor

LAWS = {
    "I.40.1": "f(n_0) * exp(h(g, m, x, T, kb))",
    "III.4.33": "f(h, omega) / (exp(g(h, omega, T, kb)) - 1)",
    "I.41.16": "f(h, omega, c) / (exp(g(h, omega, T, kb)) - 1)",
    "I.6.2": "f(sigma) * exp(g(theta, sigma))",
    "III.17.37": "f(alpha, beta) * cos(theta) + g(beta)",
    "II.6.15b": "f(p_d, epsilon, r) * sin(g(theta)) * cos(h(theta))",
    "I.30.3": "f(Int_0) * sin(g(n, theta))^2 / sin(h(theta))^2",
    "I.10.7": "f(m_0) / sqrt(1 - g(v, c))",
    "II.13.34": "f(rho_c_0, v) / sqrt(1 - g(v, c))",
    "I.12.11": "f(q, Ef) + g(q, B, v) * sin(theta)",
    "I.29.16": "sqrt(f(x1, x2) + g(x1, x2) * cos(h(theta1, theta2)))",
    "II.35.18": "f(n_0) / (exp(g(B, mom, T, kb)) + exp(h(B, mom, T, kb)))",
}


def fit(name: str, seed: int, n_islands: int, cap: float, n_jobs: int) -> tuple[float, bool]:
    X, y = load_problem(name).sample(1000, seed=seed)
    m = SymbolicRegressor(template=LAWS[name], n_islands=n_islands, n_jobs=n_jobs,
                          time_limit=cap, random_state=seed,
                          loss_threshold=1e-12 * float(np.var(y)))
    t0 = time.perf_counter()
    m.fit(X, y)
    found = m.stop_reason_ == "loss threshold"
    return (time.perf_counter() - t0 if found else cap), found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-worker", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args()
    warm_up_eurisko()
    fit("I.10.7", 99, 4, 5.0, args.n_jobs)  # the worker processes started before any timing
    print(f"cap {args.time_limit:g} s, seeds {args.seeds}, n_jobs {args.n_jobs}; per law the "
          "median time to a fit to rounding (the cap when missed) and the fits found")
    print(f"{'law':<10}" + "".join(f"{f'{k}/worker':>16}" for k in args.per_worker))
    totals = {k: [0, 0] for k in args.per_worker}
    for name in LAWS:
        cells = []
        for k in args.per_worker:
            runs = [fit(name, s, k * args.n_jobs, args.time_limit, args.n_jobs)
                    for s in args.seeds]
            n = sum(f for _, f in runs)
            totals[k][0] += n
            totals[k][1] += len(runs)
            cells.append(f"{statistics.median(t for t, _ in runs):7.2f} s {n}/{len(runs)}")
        print(f"{name:<10}" + "".join(f"{c:>16}" for c in cells), flush=True)
    print(f"{'found':<10}" + "".join(f"{f'{a}/{b}':>16}" for a, b in totals.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
