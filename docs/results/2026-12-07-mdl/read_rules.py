"""The fronts of small_noisy_selection.py (20 s a fit, noise 0.01, seed 0, at 5947790) read by
`select_index` under each rule, and by a variant with half MDL's code length (``log K`` per
unit, computed here): median complexity and test R^2 > 0.999 per set.

    python docs/results/2026-12-07-mdl/read_rules.py
"""
import json
from pathlib import Path

import numpy as np

from eurisko.bench.classic import load_classic
from eurisko.expr.operators import DEFAULT_OPERATORS
from eurisko.search.front import select_index

here = Path(__file__).parent
n_vars = {p.name: len(p.variables) for p in load_classic()}
for name in ("design", "nguyen"):
    recs = [json.loads(line) for line in open(here / f"{name}-fronts.jsonl")]
    for rule in ("best", "bic", "mdl"):
        chosen = []
        for r in recs:
            front = r["front"]
            n_symbols = len(DEFAULT_OPERATORS) + n_vars[r["problem"]] + 1
            i = select_index(np.array([e["loss"] for e in front]),
                             np.array([e["complexity"] for e in front]), r["y_var"], rule,
                             r["n_rows"], n_symbols)
            chosen.append(front[i])
        print(f"{name:7s} {rule:9s} median complexity {np.median([c['complexity'] for c in chosen]):5.1f}"
              f"  test R2 > 0.999: {sum(c['test_r2'] > 0.999 for c in chosen)}/{len(chosen)}")
    chosen = []
    for r in recs:  # BIC plus log(K) per unit: half the code length
        front = r["front"]
        n, k = r["n_rows"], len(DEFAULT_OPERATORS) + n_vars[r["problem"]] + 1
        crit = [n * np.log(max(e["loss"] / r["y_var"], 1e-14)) + e["complexity"] * np.log(n * k)
                for e in front]
        chosen.append(front[int(np.argmin(crit))])
    print(f"{name:7s} {'half-mdl':9s} median complexity "
          f"{np.median([c['complexity'] for c in chosen]):5.1f}"
          f"  test R2 > 0.999: {sum(c['test_r2'] > 0.999 for c in chosen)}/{len(chosen)}")
