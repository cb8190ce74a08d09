"""fit_constants on the first N programs of a saved population: CPU time per call, and the fits
saved so two versions can be compared (usage: lmcheck.py OUT.npy N CALLS)."""
import os
import pickle
import sys
import time

import numpy as np

from eurisko.bench import load_problem
from eurisko.evaluate.base import Dataset
from eurisko.evaluate.numba_backend import NumbaBackend
from eurisko.expr.program import ProgramBatch
from eurisko.fit import fit_constants

p = load_problem("I.29.16")
X, y = p.sample(1000, seed=1)
data = Dataset.from_arrays(np.asarray(X, float)[:256], y[:256])
st = pickle.load(open(os.environ.get("POP", "pop.pkl"), "rb"))
progs = [q for pop in st["pops"] for q in pop][: int(sys.argv[2])]
rng = np.random.default_rng(0)
progs = [q.with_consts(q.consts * (1 + 0.3 * rng.standard_normal(q.n_consts))) for q in progs]
batch = ProgramBatch.from_programs(progs)
be = NumbaBackend(n_threads=1)
fit_constants(batch, data, be)  # warm
t = time.process_time()
for _ in range(int(sys.argv[3])):
    r = fit_constants(batch, data, be, max_iter=8)
print(f"{(time.process_time() - t) / int(sys.argv[3]) * 1e3:.1f} ms CPU per call")
np.save(sys.argv[1], np.concatenate([r.loss, r.consts, [r.n_evals, r.n_iter]]))
