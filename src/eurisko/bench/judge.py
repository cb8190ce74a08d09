"""How a benchmark scores one fitted model, the same way for every method (SRBench's rules).

* symbolic solution: `eurisko.bench.check_recovery` on the selected formula against the law
  (constants rounded to 3 decimals or 4 significant digits; ``model - truth`` a constant or
  ``model / truth`` a non-zero constant; the model 0 never counts; a SymPy check that runs past
  its time counts as not recovered);
* accuracy solution: R^2 on the (noise-free) test set above 0.999;
* model size: the number of nodes of the model after SRBench's rounding of its floats and
  ``sympy.simplify`` (``preorder_traversal``: every operator, symbol and number counts once).
  Simplification runs in the checker's worker process under the same time limit; when it runs
  out, the unsimplified model's count is recorded and ``size_simplified`` says so.
"""

from __future__ import annotations

import time
from typing import Any

import sympy as sp

from eurisko.bench import exact
from eurisko.bench.methods import MethodFit, r2_score
from eurisko.bench.problem import Problem, Split

ACCURACY_R2 = 0.999
_SIZE_TARGET = "eurisko.bench.judge:_size_payload"


def node_count(expr: sp.Basic) -> int:
    """Nodes of a SymPy expression tree (SRBench's complexity)."""
    return sum(1 for _ in sp.preorder_traversal(expr))


def _round_srbench(expr: sp.Expr) -> sp.Expr:
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: exact.round_decimals(float(f)) for f in floats})


def _size_payload(payload: dict) -> dict:
    """Worker side: node count of the rounded, simplified model."""
    model = _round_srbench(sp.sympify(payload["model"]))
    return {"size": node_count(sp.simplify(model))}


def model_size(model: sp.Expr, timeout: float | None = 30) -> tuple[int, bool]:
    """``(nodes, simplified)``: size of the rounded, simplified model; the unsimplified size
    and False when simplification fails or runs out of time."""
    rounded = _round_srbench(model)
    if timeout is None:
        try:
            return _size_payload({"model": sp.srepr(model)})["size"], True
        except Exception:  # a failed simplification: count the model as it is
            return node_count(rounded), False
    out = exact._WORKER.call({"model": sp.srepr(model)}, float(timeout), target=_SIZE_TARGET)
    if out is None or "size" not in out:
        return node_count(rounded), False
    return int(out["size"]), True


def judge(fit: MethodFit, problem: Problem, split: Split, *, check_timeout: float = 30,
          positive: bool = False) -> dict[str, Any]:
    """The scores of one fit: exactness, test and training R^2, size, and how long it took."""
    t0 = time.perf_counter()
    r2_test = r2_score(split.y_test, fit.predict(split.X_test))
    r2_train = r2_score(split.y_train, fit.predict(split.X_train))
    if fit.model.has(sp.I, sp.nan, sp.zoo, sp.oo, -sp.oo):  # no real law looks like this
        verdict = exact.RecoveryCheck(False, "model is complex or undefined (I, nan, zoo)")
    else:
        verdict = exact.check_recovery(fit.model, problem.formula, check_timeout,
                                       ranges=problem.ranges, positive=positive)
    size, simplified = model_size(fit.model, check_timeout)
    return {
        "exact": bool(verdict.exact), "exact_reason": verdict.reason,
        "r2_test": r2_test, "r2_train": r2_train,
        "accuracy_solution": bool(r2_test > ACCURACY_R2),
        "size": size, "size_simplified": simplified,
        "model": str(fit.model), "equation": fit.equation, "complexity": fit.complexity,
        "seconds": fit.seconds, "n_evals": fit.n_evals,
        "check_seconds": time.perf_counter() - t0,
        "extra": fit.extra,
    }
