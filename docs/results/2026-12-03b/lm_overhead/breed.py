"""CPU time of breeding alone on a saved population (``make`` builds one from six epochs on
I.29.16), with a digest of the children so a change can be checked to breed the same programs.

Usage: ``breed.py make`` then ``breed.py time STEPS``; the population goes to ``$POP``.
"""

import hashlib
import os
import pickle
import random
import sys
import time

import numpy as np

from eurisko.bench import load_problem
from eurisko.evaluate.base import Dataset
from eurisko.expr.operators import DEFAULT_OPERATORS
from eurisko.search.engine import IslandGroup
from eurisko.search.island import Island, SearchConfig
from eurisko.search.mutation import Grammar

POP = os.environ.get("POP", "pop.pkl")
X, y = load_problem("I.29.16").sample(1000, seed=1)
data = Dataset.from_arrays(np.asarray(X, float), y)

if sys.argv[1] == "make":
    cfg = SearchConfig(operators=tuple(DEFAULT_OPERATORS), n_islands=8)
    seeds = np.random.SeedSequence(1).spawn(8)
    g = IslandGroup(cfg, data, list(range(8)), seeds, [None] * 8, float(np.var(y)))
    for _ in range(6):
        g.epoch({}, None)
    with open(POP, "wb") as f:
        pickle.dump({"cfg": cfg, "pops": [isl.programs for isl in g.islands],
                     "losses": [isl.losses for isl in g.islands]}, f)
    print("made", sum(len(i.programs) for i in g.islands))
    sys.exit()

with open(POP, "rb") as f:
    st = pickle.load(f)
cfg = st["cfg"]
gram = Grammar(cfg.operators, data.n_features)
islands = []
for k, (pop, loss) in enumerate(zip(st["pops"], st["losses"], strict=True)):
    isl = Island(cfg, gram, data, None, random.Random(k), 1.0)
    isl.programs = list(pop)
    isl.losses = np.asarray(loss)
    isl.complexities = np.array([q.complexity() for q in pop])
    isl.ages = np.arange(len(pop))
    islands.append(isl)
t = time.process_time()
kids = [c for _ in range(int(sys.argv[2])) for isl in islands for c in isl.breed()]
dt = time.process_time() - t
h = hashlib.sha1()
for q in kids:
    for part in (q.codes, q.args, q.consts):
        h.update(part.tobytes())
print(f"{len(kids)} children, {dt:.3f} s CPU, {1e6 * dt / len(kids):.1f} us/child, "
      f"digest {h.hexdigest()[:16]}")
