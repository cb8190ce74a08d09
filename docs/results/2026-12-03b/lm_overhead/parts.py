"""CPU time per part of a single-process search, by wrapping the parts (process_time, so the
figures hold on a shared machine). Usage: ``parts.py PROBLEM MAX_EVALS``."""

import collections
import sys
import time

import eurisko.fit.lm as lm
import eurisko.search.engine as engine
import eurisko.search.island as island
from eurisko import SymbolicRegressor
from eurisko.bench import load_problem
from eurisko.evaluate.numba_backend import NumbaBackend

acc: collections.Counter = collections.Counter()
calls: collections.Counter = collections.Counter()


def wrap(obj, name, label):
    f = getattr(obj, name)

    def timed(*a, **k):
        t = time.process_time()
        try:
            return f(*a, **k)
        finally:
            acc[label] += time.process_time() - t
            calls[label] += 1

    setattr(obj, name, timed)


wrap(island.Island, "breed", "breed")
wrap(island.Island, "absorb", "absorb")
wrap(island, "evaluate_batch", "evaluate_batch")
engine.evaluate_batch = island.evaluate_batch
wrap(island, "fit_constants", "fit_constants")
for nm in ("_subset", "normal_equations", "damped_steps", "propose_steps", "judge_steps"):
    if hasattr(lm, nm):
        wrap(lm, nm, "lm." + nm)
wrap(NumbaBackend, "losses", "backend.losses")
wrap(NumbaBackend, "jacobian", "backend.jacobian")

X, y = load_problem(sys.argv[1]).sample(1000, seed=1)
kw = dict(time_limit=None, max_evals=int(sys.argv[2]), n_jobs=1, random_state=1,
          exact_fit_tol=None)
SymbolicRegressor(**kw).fit(X.iloc[:50], y[:50])  # load the compiled kernels first
acc.clear()
calls.clear()
m = SymbolicRegressor(**kw)
t = time.process_time()
m.fit(X, y)
tot = time.process_time() - t
print(m.pareto_front_[["complexity", "loss"]].tail(3).to_string())
print(f"total {tot:.2f} s CPU, {m.n_evals_} evals, {m.n_evals_ / tot:.0f} evals/s CPU")
for k, v in acc.most_common():
    print(f"  {k:<22} {v:7.2f} s {100 * v / tot:5.1f}%  {calls[k]} calls")
