"""Regenerate ``fronts.json``: the Pareto fronts of the ten named Feynman laws, saved for
``tests/expr/test_export.py`` (fitting ten laws in a test would take minutes).

Each law: 500 rows sampled with seed 0 in its published ranges, one short fit
(``time_limit=10``, one process, ``random_state=0``), then every front row saved as a program
(operator names, constants) with its equation, and the model's ``predict`` on 16 fixed rows,
so the test can tell if evaluation has drifted since. The fronts differ from run to run (the
search is timed); any front will do, the test checks the exports against ``predict``.

Usage (from the repository root, about two minutes)::

    python tests/data/feynman_fronts/make_fronts.py
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from eurisko import SymbolicRegressor
from eurisko.atomic import atomic_write_json
from eurisko.bench import load_problem

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def ten_laws() -> tuple[str, ...]:
    """The ten named laws, as benchmarks/feynman_recovery.py lists them."""
    spec = importlib.util.spec_from_file_location(
        "feynman_recovery", ROOT / "benchmarks" / "feynman_recovery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.PROBLEMS)


def main() -> None:
    out = []
    for name in ten_laws():
        problem = load_problem(name)
        X, y = problem.sample(500, seed=0)
        model = SymbolicRegressor(time_limit=10, n_jobs=1, random_state=0).fit(X, y)
        check = X.iloc[:16]
        out.append({
            "name": name,
            "columns": list(problem.variables),
            "variable_names": list(model.variable_names_),
            "ranges": {v: list(map(float, problem.ranges[v])) for v in problem.variables},
            "selected": int(model.best_index_),
            "front": [{"program": p.to_dict(), "equation": eq, "complexity": int(c)}
                      for p, eq, c in zip(model.programs_, model.pareto_front_["equation"],
                                          model.pareto_front_["complexity"], strict=True)],
            "check_X": check.to_numpy().tolist(),
            "check_predict": [model.predict(check, i).tolist()
                              for i in range(len(model.programs_))],
        })
        print(f"{name}: {len(model.programs_)} formulas, selected "
              f"{model.pareto_front_['equation'].iloc[model.best_index_]}", flush=True)
    atomic_write_json(HERE / "fronts.json", {"laws": out, "numpy": np.__version__})


if __name__ == "__main__":
    main()
