"""Easier problems from the units: the search's data on dimensionless groups, and the way back.

`reduce_by_units` turns a table with units into one `Reduction` per dimensional analysis worth
trying (at most ``alternatives``): the groups as columns, ``y / scale`` as the target and the
weights under which the squared loss on ``y / scale`` is the loss on ``y``. A formula found on a
reduction comes back with `Reduction.write_back` as a program in the user's variables; the
caller re-fits its constants and scores it on the raw data (here nothing is trusted that was
not measured there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from eurisko.expr.parser import identifiers
from eurisko.expr.program import Program
from eurisko.expr.sympy_bridge import from_sympy, to_sympy
from eurisko.physics.dimensional import DimensionalAnalysis, analyze, scaled_target
from eurisko.physics.units import Unit

__all__ = ["Reduction", "reduce_by_units"]

_SIMPLIFY_OPS = 40  # the root of the square is tried on written-back formulas this small


@dataclass(frozen=True)
class Reduction:
    """One dimensionless version of a problem: search ``y`` = ``target`` on ``X`` = the groups.

    ``weights`` are ``w * scale**2`` (normalised to the sum of the original weights), so that
    the best formula here is the best on the original problem: a weighted mean squared error
    here is the original one times ``loss_factor``.
    """

    analysis: DimensionalAnalysis
    names: tuple[str, ...]  # the groups' column names, identifiers read from the monomials
    X: np.ndarray  # (rows, n_groups)
    target: np.ndarray  # y / scale
    weights: np.ndarray
    loss_factor: float  # a loss here is the loss on the original problem times this

    @property
    def n_groups(self) -> int:
        return self.analysis.n_groups

    def describe(self) -> str:
        """``m/m_0 = f(v/c)``."""
        return str(self.analysis)

    def write_back(self, program: Program, variable_names: Sequence[str],
                   operators: Sequence[str] | None = None,
                   positive: Sequence[str] = ()) -> list[Program]:
        """A formula in the groups (columns ``self.names``) as programs in the user's
        variables: the plain substitution and, for a scale times a root, the root of the
        square (``Bz*mom*sqrt(Bx^2/Bz^2 + ... + 1)`` is ``mom*sqrt(Bx^2 + ... + Bz^2)``) where
        the columns it needs positive (``positive``: positive on every row) are. Both are
        equal on the data, which the caller's scoring confirms. Other SymPy rewrites that
        assume signs (``sqrt(a*b)`` split into ``sqrt(a)*sqrt(b)``) are left out: they are
        not equal over the reals, where a law is read. Empty when the operators cannot
        express the formula (``x**(3/2)`` without ``sqrt`` or ``pow``)."""
        group_syms = [sp.Symbol(n, real=True) for n in self.names]  # as to_sympy makes them
        var_syms = [sp.Symbol(n, real=True) for n in variable_names]
        try:
            f = to_sympy(program, list(self.names))
            expr = sp.powsimp(self.analysis.to_original(f, group_syms, var_syms))
        except (ValueError, TypeError, ZeroDivisionError, NotImplementedError):
            return []
        forms = [expr]
        pos = {s: sp.Symbol(s.name, positive=True) for s in var_syms if s.name in set(positive)}
        roots = any(not e.exp.is_integer for e in expr.atoms(sp.Pow))
        if roots and pos and sp.count_ops(expr) <= _SIMPLIFY_OPS:
            # factor_terms only pulls out common monomials: SymPy's factor can take minutes
            square = sp.factor_terms(sp.expand(expr.xreplace(pos) ** 2))
            if square.is_polynomial(*pos.values()) and not any(
                    not e.exp.is_integer for e in square.atoms(sp.Pow)):
                root = sp.sqrt(square)
                forms.append(root.xreplace({v: k for k, v in pos.items()}))
        out: list[Program] = []
        for form in forms:
            try:
                prog = from_sympy(form, list(variable_names), operators)
            except (ValueError, TypeError, ZeroDivisionError, NotImplementedError):
                continue
            if all(prog.complexity() != q.complexity() or prog.to_dict() != q.to_dict()
                   for q in out):
                out.append(prog)
        return out


def _group_names(analysis: DimensionalAnalysis, taken: Sequence[str]) -> tuple[str, ...]:
    """The groups' column names, read from their monomials (``v/c`` -> ``v_c``)."""
    texts = [sp.sstr(g).replace("**", "") for g in analysis.group_expressions()]
    return tuple(identifiers(texts, taken, prefix="z"))


def reduce_by_units(X: np.ndarray, y: np.ndarray, w: np.ndarray, names: Sequence[str],
                    x_units: Sequence[Unit], y_unit: Unit, y_name: str = "y",
                    alternatives: int = 2) -> tuple[list[Reduction], str]:
    """The dimensionless problems to try, best first, or ``([], reason)`` when the units do
    not balance (the reason names the likely cause)."""
    analyses, why = analyze(list(x_units), y_unit, list(names), y_name=y_name,
                            alternatives=max(1, alternatives))
    if analyses is None:
        return [], why
    out = []
    for a in analyses[:alternatives]:
        Z, s = a.transform(X)
        t, _ = scaled_target(y, s, w)
        # w * s**2 (the loss on y), computed without overflow and normalised to sum(w)
        usable = np.isfinite(s) & (s != 0) & np.isfinite(Z).all(axis=1) & np.isfinite(t)
        if not (usable & (w > 0)).any():
            continue  # the scale is zero or infinite wherever a row counts
        r = np.where(usable, np.abs(s), 0.0)
        w2 = w * (r / r.max()) ** 2
        if w2.sum() <= 0:
            continue
        with np.errstate(over="ignore", divide="ignore"):
            factor = float(w.sum() / (w2.sum() * r.max() ** 2))
        w2 = w2 * (w.sum() / w2.sum())
        t = np.where(usable, t, 0.0)
        Z = np.where(usable[:, None], Z, 0.0)
        out.append(Reduction(a, _group_names(a, names), np.ascontiguousarray(Z, np.float64),
                             t, w2, factor))
    return out, "" if out else "the scale is zero or infinite on every row"
