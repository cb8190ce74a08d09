"""``n_jobs=1`` with ``max_evals`` and a seed gives the same search, bit for bit.

The pinned fronts in ``data/pinned_search.json`` were written by the engine before it was split
into a driver and executors; any change to how the driver routes migrants, shares the budget or
orders the islands' random streams shows up here. A deliberate change to the search itself
regenerates them: ``python tests/search/test_reproducible.py --write``.

The compiled kernels may reassociate sums (fast-math), so the last bits depend on the CPU's
vector width: the pinned figures are compared on the CPU that wrote them (recorded in the
file); elsewhere the test compares two runs in this process, which must agree bit for bit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from eurisko.evaluate.base import Dataset
from eurisko.expr.operators import DEFAULT_OPERATORS
from eurisko.expr.printing import to_string
from eurisko.search.engine import run_search
from eurisko.search.island import SearchConfig

PINNED = Path(__file__).parent / "data" / "pinned_search.json"


def _search_front() -> list[list]:
    rng = np.random.default_rng(3)
    X = rng.uniform(1, 3, (120, 2))
    data = Dataset.from_arrays(X, X[:, 0] * X[:, 1] + np.exp(-X[:, 0]), np.ones(120))
    cfg = SearchConfig(operators=DEFAULT_OPERATORS, population_size=30, n_islands=3,
                       steps_per_epoch=2, migration_interval=2)
    state = run_search(data, cfg, seed=11, n_jobs=1, max_evals=6000)
    return [[c, to_string(p), float(loss).hex(), [float(s).hex() for s in sc]]
            for c, (p, loss, sc) in sorted(state.hof.entries.items())] + [[state.n_evals]]


def _regressor_front() -> list[list]:
    from eurisko import SymbolicRegressor

    rng = np.random.default_rng(4)
    X = rng.uniform(1, 3, (100, 2))
    model = SymbolicRegressor(max_evals=5000, time_limit=None, n_jobs=1, random_state=2,
                              population_size=30, n_islands=2, decompose=False)
    model.fit(X, X[:, 0] / X[:, 1] + 0.5 * X[:, 1])
    f = model.pareto_front_
    return [[int(c), str(e), float(v).hex()]
            for c, e, v in zip(f["complexity"], f["equation"], f["loss"], strict=True)]


def _cpu() -> str:
    import llvmlite.binding as llvm

    return llvm.get_host_cpu_name()


def _current() -> dict:
    return {"cpu": _cpu(), "search": _search_front(), "regressor": _regressor_front()}


def test_n_jobs_1_with_max_evals_and_a_seed_is_pinned_bit_for_bit():
    pinned = json.loads(PINNED.read_text())
    now = json.loads(json.dumps(_current()))
    if pinned["cpu"] != now["cpu"]:  # another vector width: the same search, other last bits
        pinned = json.loads(json.dumps(_current()))
    assert now["search"] == pinned["search"]
    assert now["regressor"] == pinned["regressor"]


if __name__ == "__main__" and "--write" in sys.argv:
    PINNED.write_text(json.dumps(_current(), indent=1) + "\n")
