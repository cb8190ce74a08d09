"""Algebraic generating functions: P(x, A(x)) = 0 with polynomial coefficients, exactly.

With ``A(x) = sum_k a(offset+k) x**k`` and ``P(x, y) = sum_{j=0..D} p_j(x) y**j`` (each p_j of
degree at most dx), the coefficient of x**k in P(x, A) is linear in the unknown coefficients
of the p_j and uses only the first k+1 terms: an exact nullspace on the truncated series, fitted
on the first coefficients and checked on the rest. Catalan: x A² - A + 1 = 0.

Only equations with ``dP/dy(0, a0) != 0`` are kept: then the coefficient of x**k involves a_k
with a non-zero factor, so every check equation tests a new term, and the equation determines
every later term (``extend``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

from eurisko.sequences._linalg import PRIME, Echelon, rank_mod_p

KIND_ALGEBRAIC = "algebraic generating function"
KIND_RATIONAL = "rational generating function"


def _exact(q: Any) -> int | Fraction:
    """An int where the value is whole (keeps the arithmetic on ints), else a Fraction."""
    q = Fraction(q)
    return q.numerator if q.denominator == 1 else q


def powers(a: list[Any], degree: int, mod: int | None = None) -> list[list[Any]]:
    """Truncated series A**0 .. A**degree, each as len(a) coefficients (optionally mod p)."""
    n = len(a)
    pows = [[1] + [0] * (n - 1)]
    for _ in range(degree):
        prev = pows[-1]
        nxt = [sum(prev[m - i] * a[i] for i in range(m + 1)) for m in range(n)]
        pows.append(nxt if mod is None else [v % mod for v in nxt])
    return pows




@dataclass(frozen=True)
class AlgebraicGF:
    """``sum_j p_j(x) A(x)**j = 0``; ``coeffs[j][i]`` is the coefficient of x**i in p_j."""

    coeffs: tuple[tuple[int, ...], ...]
    offset: int
    n_unknowns: int
    n_checked: int
    n_fit: int

    @property
    def degree(self) -> int:
        """Degree in A."""
        return len(self.coeffs) - 1

    @property
    def x_degree(self) -> int:
        return max((len(p) - 1 for p in self.coeffs if any(p)), default=0)

    @property
    def kind(self) -> str:
        return KIND_RATIONAL if self.degree == 1 else KIND_ALGEBRAIC

    def describe(self) -> str:
        return f"{self.kind}, degree {self.degree} in G, {self.x_degree} in x"

    def _dy0(self, a0: Any) -> Any:
        """dP/dy at x = 0, y = a0."""
        return sum(j * self.coeffs[j][0] * a0 ** (j - 1) for j in range(1, self.degree + 1))

    def extend(self, terms: list[Any], k: int) -> list[int | Fraction]:
        """The next k coefficients of the power series root with these first terms."""
        a: list[Any] = [_exact(t) for t in terms]
        D = self.degree
        dy0 = self._dy0(a[0])
        pows = powers(a, D)
        out = []
        for m in range(len(a), len(a) + k):
            # [x^m] of A^j with a_m = 0, for j = 0..D (A^j's own x^m coefficient comes first)
            zero_m: list[Any] = [0] * (D + 1)
            for j in range(1, D + 1):
                prev = pows[j - 1]
                zero_m[j] = sum(prev[m - i] * a[i] for i in range(1, m)) + zero_m[j - 1] * a[0]
            total: Any = 0
            for j, p in enumerate(self.coeffs):
                for i, c in enumerate(p):
                    if c and i <= m:
                        total += c * (zero_m[j] if i == 0 else pows[j][m - i])
            am = _exact(Fraction(-total) / dy0)
            a.append(am)
            pows[0].append(0)
            for j in range(1, D + 1):
                prev = pows[j - 1]
                pows[j].append(sum(prev[m - i] * a[i] for i in range(m + 1)))
            out.append(am)
        return out

    def polynomial(self):
        """P(x, y) as a SymPy expression in x and y (for A, not yet shifted by the offset)."""
        import sympy as sp

        x, y = sp.symbols("x y")
        return sp.Add(*(sp.Poly(list(reversed(p)), x).as_expr() * y ** j
                        for j, p in enumerate(self.coeffs)))


class SeriesPowers:
    """A, A**2, ... truncated, exactly and modulo a prime, computed once for all models."""

    def __init__(self, a: list[int], degree: int):
        self.a = a
        self.degree = degree

    @cached_property
    def exact(self) -> list[list[int]]:
        return powers(self.a, self.degree)

    @cached_property
    def mod(self) -> list[list[int]]:
        return powers([t % PRIME for t in self.a], self.degree, PRIME)


def fit_algebraic(a: list[int], offset: int, degree: int, x_degree: int, min_checks: int,
                  series: SeriesPowers | None = None) -> AlgebraicGF | None:
    """The equation of this degree in A and in x that the series satisfies, or None."""
    D, dx = degree, x_degree
    n_eq = len(a)
    ncols = (D + 1) * (dx + 1)
    max_fit = n_eq - min_checks
    if max_fit < ncols - 1:
        return None
    def row(k: int, pw: list[list[int]]) -> list[int]:
        return [pw[j][k - i] if k >= i else 0 for j in range(D + 1) for i in range(dx + 1)]

    if series is None or series.degree < D or series.a is not a:
        series = SeriesPowers(a, D)
    if rank_mod_p((row(k, series.mod) for k in range(max_fit)), ncols) == ncols:
        return None  # only the zero solution, seen modulo a prime without big integers
    pows = series.exact
    ech = Echelon(ncols)
    used = 0
    while ech.rank < ncols - 1:
        if used == max_fit:
            return None
        ech.add(row(used, pows))
        used += 1
        if ech.rank == ncols:
            return None
    vec = ech.null_vector()
    coeffs = tuple(tuple(vec[j * (dx + 1):(j + 1) * (dx + 1)]) for j in range(D + 1))
    if not any(coeffs[D]):
        return None  # lower degree in A: found (or rejected) by a smaller model
    lead = [c for c in coeffs[D] if c][-1]
    if lead < 0:
        coeffs = tuple(tuple(-c for c in p) for p in coeffs)
    gf = AlgebraicGF(coeffs, offset, ncols - 1, 0, used)
    if gf._dy0(a[0]) == 0:
        return None
    for k in range(used, n_eq):
        if sum(_dot(coeffs, pows, k)) != 0:
            return None
    return AlgebraicGF(coeffs, offset, ncols - 1, n_eq - used, used)


def _dot(coeffs, pows, k):
    for j, p in enumerate(coeffs):
        for i, c in enumerate(p):
            if c and k >= i:
                yield c * pows[j][k - i]
