"""Symbolic regression for right-hand sides no library holds (sin, exp, division ...).

When sparse regression over the library leaves much more held-out error than the noise
explains, `SymbolicSearch` runs eurisko's `SymbolicRegressor` on (states -> estimated dx_i/dt)
for that equation. Its Pareto front and the sparse answer are then compared on held-out
stretches of the trajectories: the sparse answer stays unless its held-out error is more than a
factor above the best, and then the simplest formula within that factor of the best wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

__all__ = ["SymbolicSearch", "Candidate", "choose_candidate", "expr_size", "snap_constants"]


def expr_size(expr: sp.Expr) -> int:
    """Nodes in the expression tree: a common measure of complexity for every candidate."""
    return sum(1 for _ in sp.preorder_traversal(expr))


@dataclass
class Candidate:
    """One possible right-hand side and its held-out error."""

    expr: sp.Expr
    evaluator: object  # callable X (n, d) -> (n,)
    complexity: int
    val_mse: float
    source: str


def choose_candidate(cands: Sequence[Candidate], target_var: float,
                     tolerance: float = 1.5, floor: float = 1e-10) -> Candidate:
    """The sparse answer if its held-out error is within ``tolerance`` times the best (errors
    below ``floor`` times the target's variance count as equal); otherwise the simplest
    candidate that is. The library's answer is kept when it is as good: it is a plain sum of
    terms, and symbolic regression only replaces what the library could not express."""
    finite = [c for c in cands if np.isfinite(c.val_mse)]
    if not finite:
        return cands[0]
    best = min(c.val_mse for c in finite)
    level = max(best, floor * target_var) * tolerance
    ok = [c for c in finite if c.val_mse <= level]
    sparse = [c for c in ok if c.source == "sparse"]
    return sparse[0] if sparse else min(ok, key=lambda c: (c.complexity, c.val_mse))


@dataclass
class SymbolicSearch:
    """Settings of the symbolic fallback.

    Parameters
    ----------
    time_limit : float, default 10
        Seconds of search per equation that needs it.
    operators : tuple of str
        Operators the formulas may use.
    max_size : int, default 25
        Largest formula, in nodes.
    max_rows : int, default 400
        Samples given to the search (evenly thinned): neighbouring samples of a trajectory
        carry little new information and cost time.
    n_jobs : int, default 1
        Worker processes of the search.
    """

    time_limit: float = 10.0
    operators: tuple[str, ...] = ("add", "sub", "mul", "div", "neg", "square", "sin", "cos",
                                  "exp")
    max_size: int = 25
    max_rows: int = 400
    n_jobs: int = 1

    def candidates(self, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray,
                   y_val: np.ndarray, names: Sequence[str],
                   random_state: int | None = 0) -> list[Candidate]:
        """The Pareto front of a search on the training rows, scored on the held-out rows."""
        from eurisko.evaluate.reference import eval_program
        from eurisko.regressor import SymbolicRegressor

        step = max(1, int(np.ceil(len(y_train) / self.max_rows)))
        sr = SymbolicRegressor(operators=list(self.operators), max_size=self.max_size,
                               time_limit=self.time_limit, n_jobs=self.n_jobs,
                               random_state=random_state)
        import pandas as pd

        sr.fit(pd.DataFrame(X_train[::step], columns=list(names)), y_train[::step])
        out = []
        for i, prog in enumerate(sr.programs_):
            try:
                expr = sr.sympy(i)
            except (ValueError, TypeError, NotImplementedError):
                continue

            def evaluate(X, prog=prog):
                return eval_program(prog, np.ascontiguousarray(np.asarray(X).T))

            with np.errstate(all="ignore"):
                pred = evaluate(X_val)
            mse = float(np.mean((pred - y_val) ** 2)) if np.isfinite(pred).all() else np.inf
            out.append(Candidate(expr, evaluate, expr_size(expr), mse, "symbolic"))
        return out


def snap_constants(expr: sp.Expr, score, tolerance: float = 1.05,
                   floor: float = 0.0) -> sp.Expr:
    """Round the constants of a found formula as far as the held-out error allows.

    Symbolic regression leaves constants such as ``2.00189`` or a stray ``4.5e-6*y/x**2``.
    First every constant is rounded at once, to 0, 1, 2, ... decimals or significant digits,
    and the coarsest rounding that keeps ``score(expr)`` (held-out mean squared error) within
    ``tolerance`` times the current error is kept; then each constant in turn (largest first)
    is tried as 0, as an integer, and rounded to 1 to 4 significant digits. On clean data the true
    values lower the error, so they are found; on noisy data the rounding stops where the
    data can tell the difference. Errors below ``floor`` count as equal (the precision of
    the data: a term that only fits its last digits goes).
    """
    current = score(expr)
    if not np.isfinite(current):
        return expr
    # First all constants together, coarsest first: errors of a found formula's constants
    # often compensate each other, so rounding one alone can look worse than rounding all.
    done = False
    for k in range(5):
        for rule in (lambda v, k=k: round(v, k), lambda v, k=k: float(f"{v:.{k + 1}g}")):
            reps = {f: _number(rule(float(f))) for f in expr.atoms(sp.Float)}
            trial = expr.xreplace(reps)
            err = score(trial)
            if np.isfinite(err) and err <= tolerance * max(current, floor):
                expr, current, done = trial, min(current, err), True
                break
        if done:
            break
    floats = sorted(expr.atoms(sp.Float), key=lambda f: -abs(float(f)))
    for f in floats:
        if f not in expr.atoms(sp.Float):
            continue
        v = float(f)
        options: list[sp.Expr] = [sp.Integer(0), sp.Integer(round(v))]
        options += [sp.Float(float(f"{v:.{k}g}"), 15) for k in (1, 2, 3, 4)]
        for o in options:
            if o == f:
                break
            trial = expr.xreplace({f: o})
            err = score(trial)
            if np.isfinite(err) and err <= tolerance * max(current, floor):
                expr, current = trial, min(current, err)
                break
    return expr


def _number(v: float) -> sp.Expr:
    return sp.Integer(int(v)) if v == int(v) and abs(v) < 1e15 else sp.Float(v, 15)
