"""Exact linear algebra for the guessers: homogeneous systems over the rationals, row by row.

Every model (a recurrence, an algebraic equation) is a homogeneous linear system in its unknown
coefficients, one equation per usable term. The guessers feed equations in the order of the terms
and stop as soon as the solution is unique up to scale, so the remaining equations (and the terms
they bring in) were never seen by the fit and can check it. Rows are kept as integer vectors
(fraction-free elimination, divided by their gcd), which is exact and fast for the small systems
(tens of unknowns) these models have; a cheap rank test modulo a large prime rejects most models
before any big-integer work.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Iterable
from fractions import Fraction

PRIME = (1 << 61) - 1  # a Mersenne prime: arithmetic modulo it needs no big integers


def _primitive(v: list[int]) -> list[int]:
    g = math.gcd(*v)
    return [x // g for x in v] if g > 1 else v


class Echelon:
    """Integer rows in echelon form, added one at a time.

    ``add`` reduces a new row against the pivots so far; ``rank`` tells when the system has a
    one-dimensional nullspace (rank = columns - 1) and ``null_vector`` returns it as a primitive
    integer vector.
    """

    def __init__(self, ncols: int):
        self.ncols = ncols
        self.rows: dict[int, list[int]] = {}
        self.pivots: list[int] = []

    @property
    def rank(self) -> int:
        return len(self.pivots)

    def add(self, row: list[int]) -> bool:
        """Add one equation; True when it raised the rank."""
        v = _primitive(list(row)) if any(row) else None
        if v is None:
            return False
        for p in self.pivots:
            if v[p]:
                b = self.rows[p]
                f, g = b[p], v[p]
                h = math.gcd(f, g)
                f, g = f // h, g // h
                v = [f * x - g * y for x, y in zip(v, b, strict=True)]
                if not any(v):
                    return False
                v = _primitive(v)
        lead = next(i for i, x in enumerate(v) if x)
        self.rows[lead] = v
        insort(self.pivots, lead)
        return True

    def null_vector(self) -> list[int]:
        """The nullspace vector (primitive integers) of a system of rank ``ncols - 1``."""
        if self.rank != self.ncols - 1:
            raise ValueError(f"the nullspace is not one-dimensional (rank {self.rank} with "
                             f"{self.ncols} unknowns)")
        free = next(c for c in range(self.ncols) if c not in self.rows)
        x: list[Fraction] = [Fraction(0)] * self.ncols
        x[free] = Fraction(1)
        for p in reversed(self.pivots):
            row = self.rows[p]
            s = sum((row[c] * x[c] for c in range(p + 1, self.ncols) if row[c] and x[c]),
                    Fraction(0))
            x[p] = -s / row[p]
        den = math.lcm(*(q.denominator for q in x))
        ints = [int(q * den) for q in x]
        return _primitive(ints)


def rank_mod_p(rows: Iterable[list[int]], ncols: int, p: int = PRIME) -> int:
    """Rank of an integer matrix modulo ``p``: a lower bound of its rank over the rationals.

    Rows may come from a generator (reduced mod p already or not); it stops reading them once
    the rank is full.
    """
    basis: dict[int, list[int]] = {}
    for row in rows:
        v = [x % p for x in row]
        for c in sorted(basis):
            if v[c]:
                b = basis[c]
                f = v[c]
                v = [(x - f * y) % p for x, y in zip(v, b, strict=True)]
        lead = next((i for i, x in enumerate(v) if x), None)
        if lead is None:
            continue
        inv = pow(v[lead], -1, p)
        basis[lead] = [(x * inv) % p for x in v]
        if len(basis) == ncols:
            break
    return len(basis)
