"""Linear recurrences with polynomial coefficients (P-recursive), found from an exact nullspace.

A model of order r and degree d is ``sum_{i=0..r} P_i(n) a(n+i) = 0`` with every ``P_i`` of
degree at most d: (r+1)(d+1) unknown coefficients, one fewer once the scale is fixed. Degree 0
is the C-finite case (constant coefficients: Fibonacci, powers, polynomials). Each usable term
gives one equation; the fit takes the first equations until the coefficients are unique up to
scale and the rest, each bringing in a term the fit never saw, must hold exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from eurisko.sequences._linalg import Echelon, rank_mod_p

KIND_CFINITE = "linear recurrence with constant coefficients"
KIND_PRECURSIVE = "linear recurrence with polynomial coefficients"


def _exact(q: Any) -> int | Fraction:
    """An int where the value is whole (keeps the arithmetic on ints), else a Fraction."""
    q = Fraction(q)
    return q.numerator if q.denominator == 1 else q


def _horner(coeffs: tuple[int, ...], n: int) -> int:
    v = 0
    for c in reversed(coeffs):
        v = v * n + c
    return v


def _tidy(poly):
    """A coefficient as it reads best: factored when it splits into linear factors."""
    import sympy as sp

    factored = sp.factor(poly)
    _, factors = sp.factor_list(poly)
    if all(sp.degree(f, f.free_symbols.pop()) <= 1 for f, _ in factors if f.free_symbols):
        return factored
    return sp.expand(poly)


def n_unknowns(order: int, degree: int) -> int:
    """Free coefficients of a model: all of them but one, which only sets the scale."""
    return (order + 1) * (degree + 1) - 1


@dataclass(frozen=True)
class Recurrence:
    """``sum_i P_i(n) a(n+i) = 0`` for every n from the offset on; ``coeffs[i][j]`` is the
    coefficient of n**j in P_i (primitive integers, leading polynomial with positive lead)."""

    coeffs: tuple[tuple[int, ...], ...]
    offset: int
    n_unknowns: int
    n_checked: int
    n_fit: int

    @property
    def order(self) -> int:
        return len(self.coeffs) - 1

    @property
    def degree(self) -> int:
        return max((len(p) - 1 for p in self.coeffs if any(p)), default=0)

    @property
    def kind(self) -> str:
        return KIND_CFINITE if self.degree == 0 else KIND_PRECURSIVE

    @property
    def leading_vanishes(self) -> bool:
        """Whether P_r(n) = 0 for some n >= offset: then a(n + r) is not given by the rule."""
        lead = self.coeffs[-1]
        top = max(i for i, c in enumerate(lead) if c)
        bound = 1 + max((abs(c) // abs(lead[top]) + 1 for c in lead[:top]), default=0)
        return any(self.poly(len(self.coeffs) - 1, n) == 0
                   for n in range(self.offset, max(self.offset, bound) + 1))

    def poly(self, i: int, n: int) -> int:
        return _horner(self.coeffs[i], n)

    def extend(self, terms: list[Any], k: int) -> list[int | Fraction]:
        """The next k terms after ``terms``; ValueError where the leading coefficient vanishes."""
        a: list[Any] = [_exact(t) for t in terms]
        r = self.order
        out = []
        for m in range(len(a), len(a) + k):
            n = self.offset + m - r
            lead = self.poly(r, n)
            if lead == 0:
                raise ValueError(f"the recurrence cannot give a({self.offset + m}): its leading "
                                 f"coefficient vanishes there")
            s = sum(self.poly(i, n) * a[m - r + i] for i in range(r))
            a.append(_exact(Fraction(-s) / lead))
            out.append(a[-1])
        return out

    def sympy(self):
        """``Eq(P_r(n-r) a(n), -sum P_i(n-r) a(n-r+i))``: the newest term on the left.

        Coefficients are factored where they split into linear factors (``(n - 1)**3``) and
        expanded otherwise.
        """
        import sympy as sp

        n = sp.Symbol("n", integer=True)
        a = sp.Function("a")
        r = self.order
        polys = [sp.Poly(list(reversed(c)), n).as_expr().subs(n, n - r) for c in self.coeffs]
        lead = _tidy(polys[r])
        rest = [_tidy(-p) for p in polys[:r]]
        if lead.is_number:  # constant coefficients: divide through, a(n) = ...
            rest = [_tidy(p / lead) for p in rest]
            lead = sp.Integer(1)
        rhs = sp.Add(*(c * a(n - r + i) for i, c in enumerate(rest)))
        return sp.Eq(lead * a(n), rhs, evaluate=False)

    def describe(self) -> str:
        if self.order == 0:
            return "every term is 0"
        if self.degree == 0:
            return f"{KIND_CFINITE}, order {self.order}"
        return f"{KIND_PRECURSIVE}, order {self.order}, degree {self.degree}"


def fit_recurrence(a: list[int], offset: int, order: int, degree: int, min_checks: int,
                   a_mod: list[int] | None = None) -> Recurrence | None:
    """The recurrence of this order and degree that the terms satisfy, or None.

    The fit uses the fewest leading equations that make the coefficients unique up to scale;
    at least ``min_checks`` later equations, each involving a term the fit did not use and with
    a non-zero leading coefficient (so that it really predicts that term), must then hold.
    ``a_mod``: the terms modulo ``PRIME``, when the caller has them.
    """
    r, d = order, degree
    n_eq = len(a) - r
    ncols = (r + 1) * (d + 1)
    max_fit = n_eq - min_checks
    if max_fit < ncols - 1:
        return None

    def row(k: int, seq: list[int]) -> list[int]:
        n = offset + k
        powers = [n ** j for j in range(d + 1)]
        return [p * seq[k + i] for i in range(r + 1) for p in powers]

    # Most models have only the zero solution; modulo a prime that shows after about
    # ncols equations, with no big integers.
    a_mod = a if a_mod is None else a_mod
    if rank_mod_p((row(k, a_mod) for k in range(max_fit)), ncols) == ncols:
        return None
    ech = Echelon(ncols)
    used = 0
    while ech.rank < ncols - 1:
        if used == max_fit:
            return None  # not determined by the equations we can spare for the fit
        ech.add(row(used, a))
        used += 1
        if ech.rank == ncols:
            return None
    vec = ech.null_vector()
    coeffs = tuple(tuple(vec[i * (d + 1):(i + 1) * (d + 1)]) for i in range(r + 1))
    if not any(coeffs[r]):
        return None  # really a lower-order rule, and one that failed somewhere
    lead = [c for c in coeffs[r] if c][-1]
    if lead < 0:
        coeffs = tuple(tuple(-c for c in p) for p in coeffs)
    rec = Recurrence(coeffs, offset, n_unknowns(r, d), 0, used)
    checked = 0
    for k in range(used, n_eq):
        n = offset + k
        if sum(rec.poly(i, n) * a[k + i] for i in range(r + 1)) != 0:
            return None
        if rec.poly(r, n) != 0:
            checked += 1
    if checked < min_checks:
        return None
    return Recurrence(coeffs, offset, rec.n_unknowns, checked, used)
