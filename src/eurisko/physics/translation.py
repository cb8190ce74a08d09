"""Differences (and ratios) of columns as columns: the data after a symmetry, and the way back.

When ``f`` depends on ``x_i`` and ``x_j`` only through ``x_j - x_i`` (`translation_symmetry`),
the two columns become one, and a law of d variables becomes one of d - 1 (with units, the
difference keeps its unit, so the dimensional analysis on the translated columns has one
group fewer). `candidate_pairs` says which pairs are worth a test, `translate` makes the new
table (each column with its expression in the user's variables, so translations compose), and
`Translated.write_back` turns a formula found on it into one in the user's variables, for the
caller to re-fit and score on the raw data. A scaling symmetry (``f`` depends on ``x_i`` and
``x_j`` only through ``x_i / x_j``) makes a ratio column the same way (`scale`, `merge`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from eurisko.expr.parser import identifiers
from eurisko.expr.program import Program
from eurisko.expr.sympy_bridge import from_sympy, to_sympy

__all__ = ["Translated", "candidate_pairs", "merge", "scale", "translate"]


def candidate_pairs(X: np.ndarray, units: Sequence[object] | None = None,
                    max_pairs: int = 15) -> list[tuple[int, int]]:
    """Pairs of columns to test for a translation symmetry, at most ``max_pairs``.

    Constant columns (a physical constant's) are left out: shifting them moves nothing the
    data vary. With ``units``, only pairs of equal units: a difference of a length and a time
    is no quantity. Without, every pair, those of most similar spread first (a difference of
    two coordinates pairs columns of one kind, and such columns spread alike), then in column
    order; the cap keeps the tests' cost bounded on wide tables.
    """
    sd = X.std(axis=0)
    live = [c for c in range(X.shape[1]) if sd[c] > 0]
    pairs = [(i, j) for i, j in itertools.combinations(live, 2)
             if units is None or units[i] == units[j]]
    pairs.sort(key=lambda p: abs(math.log(sd[p[0]] / sd[p[1]])))  # stable: column order next
    return pairs[:max(0, max_pairs)]


def disjoint(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pairs in the given order, each kept when it shares no column with one kept before.

    Two accepted symmetries on disjoint pairs hold together (each is an invariance of ``f``);
    overlapping ones combine into a single difference of three columns, which the next round
    of tests on the translated table finds as a pair again."""
    used: set[int] = set()
    out = []
    for i, j in pairs:
        if i not in used and j not in used:
            out.append((i, j))
            used.update((i, j))
    return out


@dataclass(frozen=True)
class Translated:
    """A table whose columns are the user's or differences of them.

    ``expressions[k]`` is column ``k`` in the user's variables (real symbols named as
    ``variable_names``); ``units[k]`` its unit when the caller has units.
    """

    X: np.ndarray
    names: tuple[str, ...]
    expressions: tuple[sp.Expr, ...]
    units: tuple[object, ...] | None
    variable_names: tuple[str, ...]

    @classmethod
    def identity(cls, X: np.ndarray, names: Sequence[str],
                 units: Sequence[object] | None = None) -> Translated:
        """The user's own table: every column is itself."""
        return cls(np.ascontiguousarray(X, dtype=np.float64), tuple(names),
                   tuple(sp.Symbol(n, real=True) for n in names),
                   None if units is None else tuple(units), tuple(names))

    @property
    def differences(self) -> list[str]:
        """The columns that are differences or ratios, as text: ``["x2_x1 = -x1 + x2"]``."""
        return [f"{n} = {sp.sstr(e)}" for n, e in zip(self.names, self.expressions, strict=True)
                if not isinstance(e, sp.Symbol)]

    def write_back(self, program: Program, operators: Sequence[str] | None = None
                   ) -> Program | None:
        """A formula in ``self.names`` as a program in the user's variables (each difference
        column written out), or None when the operators cannot express it."""
        subs = {sp.Symbol(n, real=True): e
                for n, e in zip(self.names, self.expressions, strict=True)}
        try:
            expr = to_sympy(program, list(self.names)).xreplace(subs)
            return from_sympy(expr, list(self.variable_names), operators)
        except (ValueError, TypeError, ZeroDivisionError, NotImplementedError):
            return None

    def expression(self, expr: sp.Expr) -> sp.Expr:
        """A SymPy expression in ``self.names`` written in the user's variables."""
        subs = {sp.Symbol(n, real=True): e
                for n, e in zip(self.names, self.expressions, strict=True)}
        return expr.xreplace({s: subs[s] for s in expr.free_symbols if s in subs})


def translate(table: Translated, pairs: Sequence[tuple[int, int]]) -> Translated:
    """``table`` with each pair ``(i, j)`` (disjoint pairs) merged into ``x_j - x_i``.

    The difference takes the place of ``x_i``, ``x_j`` goes, and the new column is named
    ``<x_j>_<x_i>`` (an identifier the parser reads, none of the other names or the user's).
    """
    return merge(table, pairs, [])


def scale(table: Translated, pairs: Sequence[tuple[int, int]]) -> Translated:
    """``table`` with each pair ``(i, j)`` (disjoint pairs) merged into ``x_i / x_j``: the
    table after a scaling symmetry. The ratio takes the place of ``x_i``, ``x_j`` goes, and
    the new column is named ``<x_i>_<x_j>`` (``v_c`` for ``v/c``)."""
    return merge(table, [], pairs)


def merge(table: Translated, differences: Sequence[tuple[int, int]],
          ratios: Sequence[tuple[int, int]]) -> Translated:
    """`translate` and `scale` at once: ``(i, j)`` in ``differences`` becomes ``x_j - x_i``,
    in ``ratios`` ``x_i / x_j``; a pair that shares a column with one before it (differences
    first) is left out."""
    chosen = disjoint([*differences, *ratios])
    kinds = {p: ("difference" if p in differences else "ratio") for p in chosen}
    if not chosen:
        return table
    merged = {i: j for i, j in chosen}
    dropped = set(merged.values())
    keep = [c for c in range(table.X.shape[1]) if c not in dropped]
    taken = [table.names[c] for c in keep if c not in merged] + list(table.variable_names)
    wanted = [f"{table.names[j]}_{table.names[i]}" if kinds[(i, j)] == "difference"
              else f"{table.names[i]}_{table.names[j]}" for i, j in chosen]
    new_names = identifiers(wanted, taken)
    named = dict(zip([i for i, _ in chosen], new_names, strict=True))
    X = table.X[:, keep].copy()
    names, exprs, units = [], [], []
    for k, c in enumerate(keep):
        if c in merged:
            j = merged[c]
            if kinds[(c, j)] == "difference":
                X[:, k] = table.X[:, j] - table.X[:, c]
                exprs.append(table.expressions[j] - table.expressions[c])
            else:
                with np.errstate(all="ignore"):
                    X[:, k] = table.X[:, c] / table.X[:, j]
                exprs.append(table.expressions[c] / table.expressions[j])
            names.append(named[c])
        else:
            names.append(table.names[c])
            exprs.append(table.expressions[c])
        if table.units is not None:
            units.append(table.units[c])
    return Translated(np.ascontiguousarray(X), tuple(names), tuple(exprs),
                      None if table.units is None else tuple(units), table.variable_names)
