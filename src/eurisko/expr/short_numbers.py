"""Constants a fit lands next to: short fractions p/q, multiples p*pi/q and p/(q*pi), and
the same with pi**2 (``k^2 = omega^2/c^2 - pi^2/d^2`` of a wave guide, ``pi^2*E*I/L^2``).

A search fits ``3.333333333331``, ``cos(t - 0.785398163397692)`` or ``0.159154943091895 * x``;
the data say 10/3, pi/4 and 1/(2*pi) to twelve digits, and a reader (or a checker that rounds
constants to three decimals) wants them written so. `nearest_short` finds such a value next to
a fitted constant; `as_sympy` recognises the double it returns, so `to_sympy` can write
``10/3``, ``pi/4`` or ``1/(2*pi)``. Both build each candidate the same way (``p / q``,
``p * math.pi / q``, ``p / (q * math.pi)``, ``p * PI2 / q``, ``p / (q * PI2)``), so a snapped
constant is recognised exactly, and an unsnapped one practically never is.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sympy as sp

MAX_DENOMINATOR = 12
MAX_NUMERATOR = 10**6
PI2 = math.pi * math.pi


def _fraction(v: float, q: int) -> tuple[int, float]:
    p = round(v * q)
    return p, p / q


def _pi_multiple(v: float, q: int) -> tuple[int, float]:
    p = round(v * q / math.pi)
    return p, p * math.pi / q


def _pi_fraction(v: float, q: int) -> tuple[int, float]:
    p = round(v * q * math.pi)
    return p, p / (q * math.pi)


def _pi2_multiple(v: float, q: int) -> tuple[int, float]:
    p = round(v * q / PI2)
    return p, p * PI2 / q


def _pi2_fraction(v: float, q: int) -> tuple[int, float]:
    p = round(v * q * PI2)
    return p, p / (q * PI2)


# tried in this order: a plain fraction before a multiple of pi, pi before pi**2
_MAKERS = ((_fraction, 0), (_pi_multiple, 1), (_pi_fraction, -1), (_pi2_multiple, 2),
           (_pi2_fraction, -2))


def nearest_short(v: float, rtol: float) -> float | None:
    """The double of the shortest p/q, else p*pi/q, p/(q*pi), p*pi^2/q, p/(q*pi^2) (q up to
    12), within ``rtol * |v|`` of ``v``; None when there is none (or ``v`` is 0 or not
    finite)."""
    if not math.isfinite(v) or v == 0.0:
        return None
    for make, _ in _MAKERS:
        for q in range(1, MAX_DENOMINATOR + 1):
            p, value = make(v, q)
            if p != 0 and abs(p) <= MAX_NUMERATOR and abs(value - v) <= rtol * abs(v):
                return value
    return None


def short_candidates(v: float, rtol: float, max_numerator: int = 100,
                     most: int = 2) -> list[float]:
    """Up to ``most`` short numbers (as `nearest_short` builds them, numerators at most
    ``max_numerator``) within ``rtol * |v|`` of ``v``, the shortest first (the fewest digits
    in numerator and denominator: ``pi**2`` before ``31/pi``, ``2*pi`` before ``44/7``): a
    noisy fit lands a few digits off the law's number, and the data decide whether the short
    number will do."""
    if not math.isfinite(v) or v == 0.0:
        return []
    found: dict[float, int] = {}
    for q in range(1, MAX_DENOMINATOR + 1):
        for make, _ in _MAKERS:
            p, value = make(v, q)
            if p != 0 and abs(p) <= max_numerator and abs(value - v) <= rtol * abs(v):
                found.setdefault(value, abs(p) + q)
    return sorted(found, key=lambda x: found[x])[:most]  # stable: the maker order on ties


def as_sympy(v: float) -> sp.Expr | None:
    """``v`` as ``Rational(p, q)``, ``p*pi**k/q`` or ``p/(q*pi**k)`` (k = 1, 2) when it is
    exactly the double `nearest_short` gives for one; None otherwise, and for fractions a
    decimal writes exactly (1/4 is 0.25)."""
    if not math.isfinite(v) or v == 0.0 or v == int(v):
        return None
    import sympy as sp  # here, not at the top: the search imports this module, start-up counts
    for q in range(1, MAX_DENOMINATOR + 1):
        p, value = _fraction(v, q)
        if value == v and abs(p) <= MAX_NUMERATOR:
            r = sp.Rational(p, q)
            d = r.q
            while d % 2 == 0:
                d //= 2
            while d % 5 == 0:
                d //= 5
            return r if d != 1 else None
    for make, pi_power in _MAKERS[1:]:
        for q in range(1, MAX_DENOMINATOR + 1):
            p, value = make(v, q)
            if p != 0 and value == v and abs(p) <= MAX_NUMERATOR:
                return sp.Rational(p, q) * sp.pi**pi_power
    return None
