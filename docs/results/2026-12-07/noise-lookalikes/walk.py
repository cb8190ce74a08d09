"""I.10.7's dimensionless problem, y/m_0 = 1/sqrt(1 - (v/c)^2), at the bench's 1% noise (of
RMS(y)), 750 rows: the walk's seeds and, per output transform, its formulas with no fitted
number (`EnumerationResult.free`) and their losses. The law ties with look-alikes within the
noise (sqrt(1 - x^2) against log(cos(x)) + 1 on 1/t), so no rule on the loss can pick it.

    .venv/bin/python docs/results/2026-12-07/noise-lookalikes/walk.py > docs/results/2026-12-07/noise-lookalikes/out.txt
"""
import numpy as np, sys
from eurisko import _branches
from eurisko.expr.printing import to_string
rng = np.random.default_rng(0)
n = 750
m0 = rng.uniform(1, 5, n); v = rng.uniform(1, 2, n); c = rng.uniform(3, 10, n)
y = m0 / np.sqrt(1 - v**2 / c**2)
y = y + rng.normal(0, 0.01 * np.sqrt(np.mean(y**2)), n)
x = (v / c)[:, None]; t = y / m0; w = m0**2
entry = {}
found, tags, ne, seeds = _branches.walk(x, t, w / w.mean(), None, None, 2.0, entry)
print(entry)
from eurisko.evaluate.reference import eval_program
for p in seeds[-6:]:
    f = eval_program(p, np.ascontiguousarray(x.T))
    print(p.complexity(), "%.3e" % np.average((f - t) ** 2, weights=w), to_string(p, ["x"])[:90])
from eurisko.search.enumerate import enumerate_targets
tr, sk = _branches.output_transforms(t, w / w.mean())
res = enumerate_targets(x, [v for _, v, _ in tr], w / w.mean(), exact_tol=1e-14, constants=_branches.ENUMERATION_CONSTANTS[1], n_sample=32)
for (name, _, inv), r in zip(tr, res):
    print(name)
    for f in r.free: print("   ", f.program.complexity(), "%.4e" % f.loss, to_string(f.program, ["x"]))
