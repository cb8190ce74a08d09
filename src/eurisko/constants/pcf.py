"""Polynomial continued fractions: a search over a box of coefficients, met in the middle.

A polynomial continued fraction (PCF) is a(0) + b(1)/(a(1) + b(2)/(a(2) + ...)) with a and b
polynomials in n with integer coefficients. Apéry's 6/ζ(3) has a(n) = 34n³ + 51n² + 27n + 5 and
b(n) = -n⁶; Euler's 4/π has a(n) = 2n + 1, b(n) = n².

The search (in the spirit of the Ramanujan Machine's meet-in-the-middle, Raayoni et al., Nature
2021) enumerates every PCF of a family with coefficients in a box, evaluates them all at once in
float64 with numpy (a few hundred terms, forward recurrence with rescaling, keeping those that
have converged to ~12 digits), and looks each value up in a sorted table of Möbius transforms
(a + b·x)/(c + d·x) of the target with small integers a, b, c, d. Every match is then evaluated
again at high precision and compared with the target computed at more digits than the search
used; only matches that reproduce every known digit are reported.

Families:

- ``general``: a of degree ``a_degree``, b of degree ``b_degree``, every coefficient in
  [-bound, bound] (a's leading coefficient positive: negating a negates the value).
- ``symmetric`` (Apéry-like, "balanced" degrees deg b = 2 deg a, where geometric convergence and
  many famous constants live): a(n) = (2n+1)^(d mod 2) · sum_k u_k (n(n+1))^k, so that
  a(-1-n) = ±a(n), and b(n) = c·n^(2d); u_k and c in [-bound, bound]. Degree 3 holds Apéry's ζ(3)
  fraction, degree 2 his ζ(2) one, degree 1 Euler's 4/π.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from eurisko.constants._numbers import Target
from eurisko.constants.results import Clock, ContinuedFraction, coefficient_digits
from eurisko.validation import check_choice, check_int

FLOAT_DEPTH = 256  # terms of the float evaluation
FLOAT_CHECK = 192  # converged: the values at FLOAT_CHECK and FLOAT_DEPTH terms agree
FLOAT_AGREE = 1e-11
MATCH_TOL = 1e-10
CHUNK = 1 << 15
MAX_TERMS = 40_000  # high-precision evaluation gives up beyond this many terms
_N = sympy.Symbol("n")


@dataclass(frozen=True)
class PCFSpace:
    """A box of PCFs: ``family`` "general" or "symmetric", degrees, coefficient bound."""

    family: str
    a_degree: int
    b_degree: int
    bound: int

    def __post_init__(self) -> None:
        check_choice(self.family, "family", ("general", "symmetric"))
        check_int(self.a_degree, "a_degree", low=0)
        check_int(self.b_degree, "b_degree", low=0)
        check_int(self.bound, "bound", low=1, hint="bound is the largest |coefficient|")
        if self.family == "symmetric" and (self.a_degree < 1 or
                                           self.b_degree != 2 * self.a_degree):
            raise ValueError("the symmetric family needs a_degree >= 1 and b_degree = "
                             "2 * a_degree")

    def __str__(self) -> str:
        return (f"{self.family} deg a={self.a_degree}, deg b={self.b_degree}, "
                f"|coefficients| <= {self.bound}")

    def _a_params(self) -> np.ndarray:
        r = range(-self.bound, self.bound + 1)
        k = self.a_degree + 1 if self.family == "general" else self.a_degree // 2 + 1
        rows = np.array(list(itertools.product(r, repeat=k)), dtype=np.int64)
        nz = rows != 0
        top = np.where(nz.any(axis=1), k - 1 - np.argmax(nz[:, ::-1], axis=1), -1)
        keep = top >= 0
        keep &= rows[np.arange(len(rows)), np.maximum(top, 0)] > 0
        return rows[keep]

    def _b_params(self) -> np.ndarray:
        r = range(-self.bound, self.bound + 1)
        if self.family == "symmetric":
            return np.array([[c] for c in r if c], dtype=np.int64)
        rows = np.array(list(itertools.product(r, repeat=self.b_degree + 1)), dtype=np.int64)
        rows = rows[(rows != 0).any(axis=1)]
        # b(n) = 0 at a positive integer n ends the fraction: a rational, skip it.
        n = np.arange(1, FLOAT_DEPTH + 1, dtype=np.float64)
        vals = rows.astype(np.float64) @ (n[None, :] ** np.arange(self.b_degree + 1)[:, None])
        return rows[~(vals == 0).any(axis=1)]

    def a_coeffs(self, params: np.ndarray) -> np.ndarray:
        """Ascending coefficients of a(n) for rows of a-parameters."""
        if self.family == "general":
            return params
        d = self.a_degree
        out = np.zeros((len(params), d + 1), dtype=np.int64)
        nn1 = np.array([0, 1, 1])  # n(n+1) = n + n², ascending
        for k in range(params.shape[1]):
            base = np.array([1])
            for _ in range(k):
                base = np.convolve(base, nn1)
            if d % 2:
                base = np.convolve(base, np.array([1, 2]))  # (2n+1)
            out[:, :len(base)] += params[:, k:k + 1] * base[None, :]
        return out

    def b_coeffs(self, params: np.ndarray) -> np.ndarray:
        if self.family == "general":
            return params
        out = np.zeros((len(params), self.b_degree + 1), dtype=np.int64)
        out[:, self.b_degree] = params[:, 0]
        return out

    def rough_size(self) -> int:
        """The size of the box, counted without building it."""
        w = 2 * self.bound + 1
        if self.family == "general":
            return (w ** (self.a_degree + 1) - 1) // 2 * (w ** (self.b_degree + 1) - 1)
        return (w ** (self.a_degree // 2 + 1) - 1) // 2 * (w - 1)

    def size(self) -> int:
        return len(self._a_params()) * len(self._b_params())

    def chunks(self, size: int = CHUNK) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(a-parameter rows, b-parameter rows) covering the box, about ``size`` at a time."""
        ap, bp = self._a_params(), self._b_params()
        per = max(1, size // max(1, len(bp)))
        for i in range(0, len(ap), per):
            block = ap[i:i + per]
            yield np.repeat(block, len(bp), axis=0), np.tile(bp, (len(block), 1))

    def sympy_ab(self, a_params: Any, b_params: Any) -> tuple[sympy.Expr, sympy.Expr]:
        a = self.a_coeffs(np.asarray([a_params]))[0]
        b = self.b_coeffs(np.asarray([b_params]))[0]
        to = lambda c: sympy.expand(sum(int(v) * _N ** k for k, v in enumerate(c)))  # noqa: E731
        if self.family == "symmetric":
            u = [int(v) for v in a_params]
            inner = sum(uk * (_N * (_N + 1)) ** k for k, uk in enumerate(u))
            pref = (2 * _N + 1) if self.a_degree % 2 else 1
            return sympy.factor(pref * inner), to(b)
        return to(a), to(b)


def default_spaces() -> list[PCFSpace]:
    """The spaces searched by ``family="auto"``: about 150,000 PCFs."""
    return [PCFSpace("general", 1, 2, 5), PCFSpace("symmetric", 1, 2, 20),
            PCFSpace("symmetric", 2, 4, 20), PCFSpace("symmetric", 3, 6, 20)]


def float_values(A: np.ndarray, B: np.ndarray, depth: int = FLOAT_DEPTH,
                 check: int = FLOAT_CHECK) -> np.ndarray:
    """Values of many PCFs at once (NaN where not converged to ~11 digits).

    ``A``, ``B``: ascending coefficient rows of a(n) and b(n), one PCF per row.
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    n = np.arange(depth + 1, dtype=np.float64)
    pa = n[:, None] ** np.arange(A.shape[1])[None, :]
    pb = n[:, None] ** np.arange(B.shape[1])[None, :]
    with np.errstate(all="ignore"):
        p_prev = np.ones(len(A))
        p = A @ pa[0]
        q_prev = np.zeros(len(A))
        q = np.ones(len(A))
        mid = None
        for k in range(1, depth + 1):
            a = A @ pa[k]
            b = B @ pb[k]
            p, p_prev = a * p + b * p_prev, p
            q, q_prev = a * q + b * q_prev, q
            s = np.maximum(np.maximum(np.abs(p), np.abs(q)),
                           np.maximum(np.abs(p_prev), np.abs(q_prev)))
            s[s == 0] = 1.0
            p, p_prev, q, q_prev = p / s, p_prev / s, q / s, q_prev / s
            if k == check:
                mid = p / q
        v = p / q
        ok = np.isfinite(v) & (np.abs(v - mid) <= FLOAT_AGREE * np.maximum(1.0, np.abs(v)))
    return np.where(ok, v, np.nan)


def mobius_table(x: float, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values (a + b·x)/(c + d·x) for |a|, |b|, |c|, |d| <= bound, and their (a,b,c,d)."""
    r = np.arange(-bound, bound + 1)
    a, b, c, d = (m.ravel() for m in np.meshgrid(r, r, r, r, indexing="ij"))
    keep = (a * d - b * c) != 0
    # one representative per projective class: gcd 1, first non-zero of (c, d) positive
    g = np.gcd(np.gcd(a, b), np.gcd(c, d))
    keep &= g == 1
    lead = np.where(c != 0, c, d)
    keep &= lead > 0
    a, b, c, d = a[keep], b[keep], c[keep], d[keep]
    with np.errstate(all="ignore"):
        v = (a + b * x) / (c + d * x)
    ok = np.isfinite(v)
    v, coeffs = v[ok], np.stack([a[ok], b[ok], c[ok], d[ok]], axis=1)
    order = np.argsort(v)
    return v[order], coeffs[order]


def pcf_value(a: list[int], b: list[int], terms: int, dps: int) -> mpmath.mpf:
    """a(0) + b(1)/(a(1) + ... b(terms)/a(terms)) at ``dps`` digits (ascending coefficients)."""
    def poly(c, k):
        return sum(int(v) * k ** i for i, v in enumerate(c))
    with mpmath.workdps(dps):
        p_prev, p = mpmath.mpf(1), mpmath.mpf(poly(a, 0))
        q_prev, q = mpmath.mpf(0), mpmath.mpf(1)
        for k in range(1, terms + 1):
            ak, bk = poly(a, k), poly(b, k)
            p, p_prev = ak * p + bk * p_prev, p
            q, q_prev = ak * q + bk * q_prev, q
            if k % 16 == 0:
                s = max(abs(p), abs(q))
                if s:
                    p, p_prev, q, q_prev = p / s, p_prev / s, q / s, q_prev / s
        return p / q if q else mpmath.inf


def verify_pcf(a: list[int], b: list[int], y_of, known: int, clock: Clock | None = None
               ) -> tuple[int, int]:
    """(digits of the target transform that the PCF reproduces, terms used).

    ``y_of(dps)`` gives (value, uncertainty) of the transform of the target at ``dps`` digits.
    The number of terms doubles until every known digit agrees, the agreement stops
    improving, or `MAX_TERMS` is reached.
    """
    dps = known + 15
    with mpmath.workdps(dps):
        y, dy = y_of(dps)
    if y == 0 or not mpmath.isfinite(y):
        return 0, 0
    best, terms, history = 0, 64, []
    while terms <= MAX_TERMS:
        with mpmath.workdps(dps):
            v = pcf_value(a, b, terms, dps)
            err = abs(v - y)
            if err <= 2 * dy + abs(y) * mpmath.mpf(10) ** (-known - 3):
                return known, terms
            digits = int(mpmath.floor(mpmath.log10(abs(y) / err)))
        history.append(digits)
        best = max(best, digits)
        if len(history) >= 2 and _hopeless(history, terms, known):
            break
        terms *= 2
        if clock is not None and clock.remaining() <= 0:
            break
    return max(0, min(best, known - 1)), terms


def _hopeless(history: list[int], terms: int, known: int) -> bool:
    """Whether doubling the terms further cannot reach ``known`` digits within MAX_TERMS.

    ``history``: digits agreed after 64, 128, ... terms (the last after ``terms``). Geometric
    convergence (digits grow in proportion to terms, so the gain per doubling grows) is
    projected linearly in the terms; slower convergence (a constant gain per doubling) in the
    number of doublings.
    """
    gain = history[-1] - history[-2]
    if gain <= 0:
        return True  # not converging to the target
    digits = max(history[-1], 1)
    if len(history) >= 3 and gain <= 1.3 * max(1, history[-2] - history[-3]):
        doublings = (known - digits) / gain
        return terms * 2 ** doublings > MAX_TERMS
    return terms * known / digits > 2 * MAX_TERMS


def search_pcf(target: Target, spaces: list[PCFSpace], mobius_bound: int, known: int,
               margin: float, clock: Clock, formula_of, found: list, stats: dict,
               max_verify: int = 200) -> None:
    """Run the meet-in-the-middle search over ``spaces``; append claims to ``found``."""
    with mpmath.workdps(30):
        xs = target.magnitude(30)
        x = float(-xs if target.negative else xs)
    table, coeffs = mobius_table(x, mobius_bound)
    stats["mobius_table"] = int(len(table))
    total = sum(s.size() for s in spaces)
    stats["pcf_space"] = int(total)
    stats["pcf_spaces"] = [str(s) for s in spaces]
    look = math.log10(max(1, total) * max(1, len(table)))
    stats["pcf_look_digits"] = round(look, 2)
    hits: list[tuple[float, PCFSpace, np.ndarray, np.ndarray, np.ndarray]] = []
    done = converged = 0
    for space in spaces:
        for ap, bp in space.chunks():
            clock.tick(f"pcf: {space.family} deg {space.a_degree}", done, total, len(found))
            v = float_values(space.a_coeffs(ap), space.b_coeffs(bp))
            done += len(v)
            good = np.flatnonzero(np.isfinite(v))
            converged += len(good)
            vals = v[good]
            tol = MATCH_TOL * np.maximum(1.0, np.abs(vals))
            lo = np.searchsorted(table, vals - tol, side="left")
            hi = np.searchsorted(table, vals + tol, side="right")
            for g, i0, i1 in zip(good, lo, hi, strict=True):
                if i1 > i0 and _scaled_copy(space.a_coeffs(ap[g:g + 1])[0],
                                            space.b_coeffs(bp[g:g + 1])[0]):
                    continue  # lambda·a, lambda²·b: lambda times a smaller fraction's value
                for t in range(i0, i1):
                    cost = coefficient_digits(ap[g]) + coefficient_digits(bp[g]) + \
                        coefficient_digits(coeffs[t])
                    hits.append((cost, space, ap[g], bp[g], coeffs[t]))
    stats["pcf_converged"] = int(converged)
    stats["pcf_matches"] = len(hits)
    hits.sort(key=lambda h: h[0])
    verified = 0
    seen: set[tuple] = set()
    for cost, space, ap, bp, mob in hits[:max_verify]:
        clock.tick("pcf: verifying matches", verified, min(len(hits), max_verify), len(found))
        if cost + look > known - margin:
            continue
        a_c = [int(v) for v in space.a_coeffs(np.asarray([ap]))[0]]
        b_c = [int(v) for v in space.b_coeffs(np.asarray([bp]))[0]]
        m = tuple(int(v) for v in mob)
        if m[3] < 0 or (m[3] == 0 and m[2] < 0):
            m = tuple(-v for v in m)
        key = (tuple(a_c), tuple(b_c), m)
        if key in seen:  # the same fraction in two families
            continue
        seen.add(key)

        def y_of(dps, m=m):
            return target.transform(lambda t, m=m: (m[0] + m[1] * t) / (m[2] + m[3] * t),
                                    known)
        digits, terms = verify_pcf(a_c, b_c, y_of, known, clock)
        verified += 1
        if digits < known:
            stats["pcf_unverified"] = stats.get("pcf_unverified", 0) + 1
            continue
        a_expr, b_expr = space.sympy_ab(ap, bp)
        found.append(ContinuedFraction(
            formula=formula_of(m), kind="pcf", digits_verified=digits,
            complexity=round(cost, 2), mobius=m, a=a_expr, b=b_expr, terms_used=terms,
            family=str(space)))


def _scaled_copy(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a = g·a', b = g²·b' with g > 1: the fraction is g times another one's value."""
    ga, gb = int(np.gcd.reduce(np.abs(a))), int(np.gcd.reduce(np.abs(b)))
    return any(ga % g == 0 and gb % (g * g) == 0 for g in range(2, ga + 1))
