"""Time `fit_surrogate` on 1000 rows of three Feynman laws and print what it fitted.

Run at two commits to compare: the numbers printed (error, query error, values at three rows)
must agree to the last digit when only the speed changed. Usage (from a checkout)::

    PYTHONPATH=src python docs/results/2026-12-07/surrogate-speed/surrogate.py
"""

import time

import numpy as np

from eurisko.bench import load_problem
from eurisko.physics import fit_surrogate

fit_surrogate(np.random.default_rng(0).uniform(1, 2, (50, 2)), np.arange(50.0))  # imports
for name in ("III.14.14", "I.6.2b", "I.37.4"):
    X, y = load_problem(name).sample(1000, seed=0)
    X, y = np.asarray(X, float), np.asarray(y, float)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        s = fit_surrogate(X, y, random_state=0)
        times.append(time.perf_counter() - t0)
    print(f"{name:<10} {s.description}; error {s.error!r}, query error {s.query_error!r}, "
          f"values {s(X[:3]).tolist()}; seconds (3 fits) "
          + " ".join(f"{t:.2f}" for t in times))
