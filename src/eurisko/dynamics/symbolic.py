"""Symbolic regression for right-hand sides no library holds (sin, exp, division ...).

When sparse regression over the library leaves much more held-out error than the noise
explains, `SymbolicSearch` runs eurisko's `SymbolicRegressor` on (states -> estimated dx_i/dt)
for that equation. Its Pareto front and the sparse answer are then compared on held-out
stretches of the trajectories: the sparse answer stays unless its held-out error is more than a
factor above the best, and then the simplest formula within that factor of the best wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from eurisko.validation import check_instance, check_int, check_number

__all__ = ["SymbolicSearch", "Candidate", "choose_candidate", "expr_size", "found_terms",
           "product_terms", "simplest_form", "snap_constants"]


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
    max_evals : int, default 200_000
        Formula evaluations per search (Levenberg-Marquardt Jacobians count as evaluations).
        The budget, not the clock, ends the search, so with ``n_jobs=1`` and a fixed seed the
        answer is the same on any machine under any load. 200k (about 5 s on one core) found
        26 of 40 (equation, seed) laws of the Strogatz systems per search, against 22 at 100k
        and 29 at 400k: beyond it one search stalls, fresh restarts pay more
        (docs/results/2026-11-23-ode-strogatz).
    time_limit : float or None, default None
        Optional wall-clock cap in seconds per search, a safety net on top of ``max_evals``
        (a search it cuts short is no longer reproducible).
    operators : tuple of str
        Operators the formulas may use.
    max_size : int, default 25
        Largest formula, in nodes.
    max_rows : int, default 400
        Samples given to the search (evenly thinned): neighbouring samples of a trajectory
        carry little new information and cost time.
    n_jobs : int, default 1
        Worker processes of the search.
    restarts : int, default 3
        Further searches, each from another seed and with the same budget, for an equation
        whose best answer so far still leaves more held-out error than the noise explains
        (a search can stall in a poor region; fresh starts are independent tries). The fronts
        of all searches of an equation are pooled.
    options : dict, optional
        Further parameters of `eurisko.SymbolicRegressor` (``parsimony``, ``population_size``
        ...).
    """

    max_evals: int | None = 200_000
    time_limit: float | None = None
    operators: tuple[str, ...] = ("add", "sub", "mul", "div", "neg", "square", "sin", "cos",
                                  "exp")
    max_size: int = 25
    max_rows: int = 400
    n_jobs: int = 1
    restarts: int = 3
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.max_evals = check_int(self.max_evals, "max_evals", low=1, none_ok=True,
                                   what="formula evaluations")
        self.time_limit = check_number(self.time_limit, "time_limit", low=0, low_open=True,
                                       none_ok=True, what="seconds")
        self.max_size = check_int(self.max_size, "max_size", low=1, what="nodes")
        self.max_rows = check_int(self.max_rows, "max_rows", low=1, what="samples")
        self.restarts = check_int(self.restarts, "restarts", low=0)
        check_instance(self.options, "options", dict, expected="a dict of SymbolicRegressor "
                       "parameters")

    def candidates(self, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray,
                   y_val: np.ndarray, names: Sequence[str],
                   random_state: int | None = 0) -> list[Candidate]:
        """The Pareto front of a search on the training rows, scored on the held-out rows.

        ``last_search_`` then tells how it went: ``n_evals``, ``seconds``, ``stop_reason``.
        """
        from eurisko.evaluate.reference import eval_program
        from eurisko.regressor import SymbolicRegressor

        step = max(1, int(np.ceil(len(y_train) / self.max_rows)))
        sr = SymbolicRegressor(operators=list(self.operators), max_size=self.max_size,
                               max_evals=self.max_evals, time_limit=self.time_limit,
                               n_jobs=self.n_jobs, random_state=random_state,
                               **self.options)
        import pandas as pd

        sr.fit(pd.DataFrame(X_train[::step], columns=list(names)), y_train[::step])
        self.last_search_ = {"n_evals": int(sr.n_evals_), "seconds": float(sr.elapsed_),
                             "stop_reason": str(getattr(sr, "stop_reason_", ""))}
        out = []
        for i, prog in enumerate(sr.programs_):
            try:
                expr = sr.sympy(i, real=True)
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
    is tried as 0, as an integer, as a multiple of pi/2, and rounded to 1 to 4 significant
    digits. On clean data the true
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
        half_turns = round(2 * v / math.pi)  # phases: cos(y + 3.14159) is -cos(y)
        if half_turns and abs(v) >= 1:
            options.append(sp.Integer(half_turns) * sp.pi / 2)
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


def simplest_form(expr: sp.Expr, score, tolerance: float = 1.05, floor: float = 0.0) -> sp.Expr:
    """The formula as found or expanded, constants snapped, whichever is simpler to write.

    A product such as ``0.9*(1.11111 - sin(y)**2)*sin(x)`` has constants that only make sense
    together; expanded, ``sin(x) - 0.9*sin(x)*sin(y)**2``, they snap to short values. Both forms
    go through `snap_constants`; of those whose held-out error stays within ``tolerance`` of
    the lower one, the form whose constants need the fewest significant digits wins, then the
    one with fewer nodes.
    """
    forms = [expr]
    expanded = sp.expand(expr)
    if expanded != expr:
        forms.append(expanded)
    done = []
    for f in forms:
        g = snap_constants(f, score, tolerance, floor)
        err = score(g)
        if np.isfinite(err):
            done.append((g, err))
    if not done:
        return expr
    best = min(err for _, err in done)
    ok = [g for g, err in done if err <= tolerance * max(best, floor)]
    return min(ok, key=lambda g: (_digit_count(g), expr_size(g)))


def _digit_count(expr: sp.Expr) -> int:
    """Significant digits of all the non-integer constants of ``expr``."""
    n = 0
    for f in expr.atoms(sp.Float):
        mantissa = f"{abs(float(f)):.15e}".split("e")[0].replace(".", "").rstrip("0")
        n += max(len(mantissa), 1)
    return n


def found_terms(exprs: Sequence[sp.Expr], syms: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """The non-polynomial parts of found formulas, as candidate library terms.

    Each formula is expanded into a sum; of every summand the factors that are not monomials
    of the states are kept, together (``cos(y)/x`` of ``-cos(y)/x``) and one by one
    (``sin(x)`` and ``sin(y)**2`` of ``-0.9*sin(x)*sin(y)**2``). Polynomials are the library's
    business already; constants go, since the sparse fit chooses its own coefficients.
    """
    out: dict[sp.Expr, None] = {}
    for e in exprs:
        for term in sp.Add.make_args(sp.expand(e)):
            rest = [f for f in sp.Mul.make_args(term)
                    if f.free_symbols and not _is_monomial(f, syms)]
            if not rest:
                continue
            for f in (sp.Mul(*rest), *rest) if len(rest) > 1 else rest:
                out[f] = None
    return list(out)


def product_terms(found: Sequence[sp.Expr], syms: Sequence[sp.Symbol], degree: int,
                  max_terms: int) -> list[sp.Expr]:
    """``found`` terms alone, then times monomials of the states of degree 1 ... ``degree``,
    at most ``max_terms`` (lower degrees first), without repeats."""
    import itertools

    monos = [sp.Integer(1)]
    for k in range(1, degree + 1):
        monos += [sp.Mul(*c) for c in itertools.combinations_with_replacement(syms, k)]
    out: dict[sp.Expr, None] = {}
    for m in monos:
        for f in found:
            if len(out) >= max(0, max_terms):
                return list(out)
            out[m * f] = None
    return list(out)


def _is_monomial(f: sp.Expr, syms: Sequence[sp.Symbol]) -> bool:
    if f in syms:
        return True
    return (isinstance(f, sp.Pow) and f.base in syms and f.exp.is_Integer
            and int(f.exp) > 0)
