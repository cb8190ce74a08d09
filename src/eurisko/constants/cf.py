"""Continued fractions of a constant: simple, signed and polynomial ones, and the search for them.

``continued_fraction(x, signs=...)`` gives the partial quotients that the known digits of x
determine: both ends of the interval the digits allow are expanded exactly (with rationals) and
only the common prefix is kept, so no quotient is an artefact of rounding. With ``signs=(1,)``
that is the simple continued fraction; other sign patterns give signed continued fractions
x = q0 + s1/(q1 + s2/(q2 + ...)) with numerators s_n = ±1 repeating the pattern.

``find_continued_fractions`` conjectures continued fractions for a constant:

- ``search="pcf"``: polynomial continued fractions from a box of coefficients (`pcf`);
- ``search="cf"``: ESMA-style (after Ben David et al., "Enumerated Signed-continued-fraction
  Massey Approve"): for small Möbius transforms y = (a + b·x)/(c + d·x) and a few sign patterns,
  the signed continued fraction of y is expanded and the Berlekamp-Massey algorithm looks for a
  short linear recurrence among its partial quotients (e = [2; 1, 2, 1, 1, 4, 1, 1, 6, ...]
  follows q[n] = 2·q[n-3] - q[n-6]); a recurrence is kept if it predicts many more quotients
  than it was fitted on, and the fraction it generates reproduces every known digit of y.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import mpmath
import sympy

from eurisko.constants._numbers import Target, make_target
from eurisko.constants.pcf import PCFSpace, default_spaces, search_pcf
from eurisko.constants.results import (
    Clock,
    ContinuedFraction,
    Progress,
    Results,
    TimeLimitReached,
    coefficient_digits,
)
from eurisko.validation import check_choice, check_int, check_number

SIGN_PATTERNS: tuple[tuple[int, ...], ...] = ((1,), (-1,), (1, -1), (-1, 1))
MAX_QUOTIENTS = 2000
_PRIME = (1 << 61) - 1


def expand(r: Fraction, signs: Sequence[int] = (1,), max_terms: int = MAX_QUOTIENTS
           ) -> list[int]:
    """Partial quotients of the rational ``r`` with numerator signs repeating ``signs``."""
    num, den = r.numerator, r.denominator  # den > 0 throughout
    out: list[int] = []
    for n in range(max_terms):
        q, rem = divmod(num, den)  # floor
        if signs[n % len(signs)] < 0 and rem:
            q, rem = q + 1, den - rem  # ceil; rem now stands for q - r
        out.append(q)
        if rem == 0:
            break
        num, den = den, rem
    return out


def _common_prefix(u: list[int], v: list[int]) -> list[int]:
    out = []
    for a, b in zip(u, v, strict=False):
        if a != b:
            break
        out.append(a)
    return out


def quotients_of_interval(lo: Fraction, hi: Fraction, signs: Sequence[int] = (1,),
                          max_terms: int = MAX_QUOTIENTS) -> list[int]:
    """The partial quotients shared by every number in [lo, hi]."""
    # The last shared quotient may still be cut short at the ends; drop it to be safe.
    return _common_prefix(expand(lo, signs, max_terms), expand(hi, signs, max_terms))[:-1]


def continued_fraction(x: Any, *, signs: Sequence[int] = (1,), digits: int | None = None,
                       max_terms: int = MAX_QUOTIENTS) -> list[int]:
    """Partial quotients of x that its known digits determine (all of them, no guesses).

    ``signs``: numerator signs, repeated (``(1,)`` for the simple continued fraction,
    ``(-1,)`` for the "minus" continued fraction). Input as in `identify`.

    Example: ``continued_fraction("2.718281828459045235360287471352662497757")`` gives
    [2, 1, 2, 1, 1, 4, 1, 1, 6, ...].
    """
    signs = _check_signs(signs)
    max_terms = check_int(max_terms, "max_terms", low=1)
    target = make_target(x, digits)
    lo, hi = _signed_interval(target, target.digits)
    return quotients_of_interval(lo, hi, signs, max_terms)


def _check_signs(signs: Sequence[int]) -> tuple[int, ...]:
    out = tuple(signs)
    if not out or any(s not in (1, -1) for s in out):
        raise ValueError(f"signs must be a non-empty sequence of +1 and -1, not {signs!r}")
    return out


def _signed_interval(target: Target, dps: int) -> tuple[Fraction, Fraction]:
    lo, hi = target.interval(dps)
    return (-hi, -lo) if target.negative else (lo, hi)


def cf_value(quotients: Sequence[int], signs: Sequence[int], dps: int) -> mpmath.mpf:
    """q0 + s1/(q1 + s2/(q2 + ...)) at ``dps`` digits."""
    with mpmath.workdps(dps):
        p_prev, p = mpmath.mpf(1), mpmath.mpf(quotients[0])
        q_prev, q = mpmath.mpf(0), mpmath.mpf(1)
        for k in range(1, len(quotients)):
            s = signs[(k - 1) % len(signs)]
            p, p_prev = quotients[k] * p + s * p_prev, p
            q, q_prev = quotients[k] * q + s * q_prev, q
            if k % 16 == 0:
                m = max(abs(p), abs(q))
                if m:
                    p, p_prev, q, q_prev = p / m, p_prev / m, q / m, q_prev / m
        return p / q if q else mpmath.inf


# --- Berlekamp-Massey --------------------------------------------------------------------


def recurrence_length(seq: Sequence[int], max_order: int, prime: int = _PRIME) -> int | None:
    """Length of the shortest linear recurrence of ``seq`` modulo a large prime
    (Berlekamp-Massey), or None as soon as it exceeds ``max_order``."""
    c, b = [1], [1]
    length, m, last = 0, 1, 1
    for n, s in enumerate(seq):
        d = s % prime
        for i in range(1, length + 1):
            d = (d + c[i] * seq[n - i]) % prime
        if d == 0:
            m += 1
            continue
        coef = d * pow(last, prime - 2, prime) % prime
        t = list(c)
        c = c + [0] * max(0, len(b) + m - len(c))
        for i, bi in enumerate(b):
            c[i + m] = (c[i + m] - coef * bi) % prime
        if 2 * length <= n:
            length, b, last, m = n + 1 - length, t, d, 1
            if length > max_order:
                return None
        else:
            m += 1
    return length


def find_recurrence(seq: Sequence[int], guard: int, max_order: int = 12
                    ) -> tuple[Fraction, ...] | None:
    """Rational c with seq[n] = sum(c[i] * seq[n-1-i]) for all n, if at least ``guard``
    terms beyond the 2L fitted ones confirm it; else None."""
    length = recurrence_length(seq, min(max_order, (len(seq) - guard) // 2))
    if not length:
        return None
    rows = [[Fraction(seq[n - 1 - i]) for i in range(length)] for n in range(length,
                                                                                 2 * length)]
    rhs = [Fraction(seq[n]) for n in range(length, 2 * length)]
    sol = _solve(rows, rhs)
    if sol is None:
        return None
    rec = tuple(sol)
    predicted = extend(seq[:length], rec, len(seq))
    return rec if predicted is not None and predicted == list(seq) else None


def _solve(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction] | None:
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = next((r for r in range(col, n) if m[r][col] != 0), None)
        if piv is None:
            return None
        m[col], m[piv] = m[piv], m[col]
        for r in range(n):
            if r != col and m[r][col] != 0:
                f = m[r][col] / m[col][col]
                m[r] = [u - f * v for u, v in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def extend(start: Sequence[int], rec: Sequence[Fraction], total: int) -> list[int] | None:
    """``start`` continued by the recurrence to ``total`` terms (None if not all integers)."""
    den = math.lcm(*(f.denominator for f in rec))
    coef = [int(f * den) for f in rec]
    out = list(start)
    while len(out) < total:
        v, r = divmod(sum(c * out[-1 - i] for i, c in enumerate(coef)), den)
        if r:
            return None
        out.append(v)
    return out


def search_cf(target: Target, ds: int, known: int, margin: float, clock: Clock,
              formula_of: Callable[[tuple[int, int, int, int]], sympy.Expr],
              found: list, stats: dict, mobius_bound: int = 2, max_verify: int = 40) -> None:
    """ESMA-style search: recurrences in signed continued fractions of Möbius transforms."""
    lo, hi = _signed_interval(target, ds)
    lo_all, hi_all = _signed_interval(target, known)
    r = range(-mobius_bound, mobius_bound + 1)
    mobs = [(a, b, c, d) for a in r for b in r for c in r for d in r
            if a * d - b * c != 0 and math.gcd(math.gcd(a, b), math.gcd(c, d)) == 1
            and (d > 0 or (d == 0 and c > 0))]
    skips = (1, 2)
    tests = len(mobs) * len(SIGN_PATTERNS) * len(skips)
    look = math.log10(tests)
    stats["cf_transforms"] = len(mobs)
    stats["cf_sign_patterns"] = len(SIGN_PATTERNS)

    def image(m, lo, hi):
        a, b, c, d = m
        den_lo, den_hi = c + d * lo, c + d * hi
        if den_lo == 0 or den_hi == 0 or (den_lo > 0) != (den_hi > 0):
            return None  # the pole is inside the interval
        y1, y2 = (a + b * lo) / den_lo, (a + b * hi) / den_hi
        return min(y1, y2), max(y1, y2)

    candidates: list[tuple] = []
    for k, m in enumerate(mobs):
        clock.tick("cf: signed fractions + Berlekamp-Massey", k, len(mobs), len(found))
        y = image(m, lo, hi)
        if y is None:
            continue
        for signs in SIGN_PATTERNS:
            q = quotients_of_interval(y[0], y[1], signs, 4 * ds)
            for skip in skips:
                rec = find_recurrence(q[skip:], guard=max(8, (len(q) - skip) // 4))
                if rec is None:
                    continue
                start = q[:skip + len(rec)]
                nums = [f.numerator for f in rec] + [f.denominator for f in rec
                                                     if f.denominator != 1]
                cost = coefficient_digits(nums) + coefficient_digits(start) + \
                    coefficient_digits(m)
                if cost + look <= known - margin:
                    candidates.append((cost, m, signs, start, rec))
                break
    stats["cf_candidates"] = len(candidates)
    candidates.sort(key=lambda c: c[0])
    for i, (cost, m, signs, start, rec) in enumerate(candidates[:max_verify]):
        clock.tick("cf: verifying", i, min(len(candidates), max_verify), len(found))
        _claim_cf(target, m, signs, start, rec, image(m, lo_all, hi_all), known, cost,
                  formula_of, found, stats)


def _claim_cf(target: Target, m: tuple[int, int, int, int], signs: tuple[int, ...],
              start: list[int], rec: tuple[Fraction, ...], y_all: Any, known: int,
              cost: float, formula_of: Callable, found: list, stats: dict) -> None:
    """Check a recurrence found in the quotients and keep it if it reproduces every digit."""
    if y_all is None:
        return
    # Cheap first: the quotients that all known digits determine must follow the rule too.
    q_all = quotients_of_interval(y_all[0], y_all[1], signs, 8 * known)
    predicted = extend(start, rec, len(q_all))
    if predicted is None or predicted[:len(q_all)] != q_all:
        stats["cf_unverified"] = stats.get("cf_unverified", 0) + 1
        return
    digits, used = _verify_cf(start, rec, signs, target, m, known)
    if digits < known:
        stats["cf_unverified"] = stats.get("cf_unverified", 0) + 1
        return
    found.append(ContinuedFraction(
        formula=formula_of(m), kind="cf", digits_verified=digits, complexity=round(cost, 2),
        mobius=m, signs=signs, quotients=tuple(start),
        recurrence=tuple(int(f) if f.denominator == 1 else f for f in rec),
        quotient_formula=_polynomial_rule(start, rec), terms_used=used,
        family=f"recurrence of order {len(rec)}"))


def _polynomial_rule(start: Sequence[int], rec: Sequence[Fraction]) -> sympy.Expr | None:
    """q(n) as a polynomial when the recurrence is (1 - shift)^L, i.e. q is polynomial."""
    rec = list(rec)
    while rec and rec[-1] == 0:  # a zero tail only lets the first quotients be irregular
        rec.pop()
    length = len(rec)
    if not rec or rec != [(-1) ** i * math.comb(length, i + 1) for i in range(length)]:
        return None
    first = len(start) - length
    n = sympy.Symbol("n")
    points = [(first + k, start[first + k]) for k in range(length)]
    return sympy.expand(sympy.interpolate(points, n))


def _verify_cf(start: Sequence[int], rec: Sequence[Fraction], signs: Sequence[int],
               target: Target, m: tuple[int, int, int, int], known: int) -> tuple[int, int]:
    """Digits of (a + b x)/(c + d x) that the continued fraction generated by ``rec`` gives."""
    dps = known + 15
    with mpmath.workdps(dps):
        y, dy = target.transform(lambda t: (m[0] + m[1] * t) / (m[2] + m[3] * t), known)
    best, terms = 0, 64
    while terms <= 20_000:
        qs = extend(start, rec, terms)
        if qs is None:
            return 0, 0
        with mpmath.workdps(dps):
            try:
                v = cf_value(qs, signs, dps)
            except ZeroDivisionError:
                return 0, 0
            err = abs(v - y)
            if err <= 2 * dy + abs(y) * mpmath.mpf(10) ** (-known - 3):
                return known, terms
            digits = int(mpmath.floor(mpmath.log10(abs(y) / err))) if y else 0
        if digits <= best:
            break
        best = digits
        terms *= 4
    return max(0, min(best, known - 1)), terms


# --- the public search -------------------------------------------------------------------


def find_continued_fractions(x: Any, *, digits: int | None = None, search: str = "pcf",
                             family: str = "auto", a_degree: int | None = None,
                             b_degree: int | None = None, coeff_bound: int | None = None,
                             mobius_bound: int = 6, time_limit: float | None = 120.0,
                             margin: float = 10.0, max_results: int = 10,
                             progress: Callable[[Progress], None] | None = None) -> Results:
    """Conjecture continued fractions equal to a Möbius transform of a constant.

    Parameters:
        x: as for `identify`: digits as a string, or a SymPy expression (``parse_constant``)
            computed to ``digits`` digits (default 60) and verified at 1.5× as many.
        search: "pcf" (polynomial continued fractions), "cf" (ESMA-style signed continued
            fractions with recurrent quotients) or "all".
        family: "auto" (the spaces of `default_spaces`), "general" or "symmetric"; see `pcf`.
        a_degree, b_degree, coeff_bound: the box for "general" (defaults 1, 2, 5) or
            "symmetric" (a_degree default 3, coefficient bound default 20).
        mobius_bound: largest |a|, |b|, |c|, |d| in the transforms (a + b·x)/(c + d·x).
        time_limit: seconds; what was verified by then is returned (``timed_out`` is set).
        margin: digits by which complexity plus the size of the search must stay below the
            digits known for a claim.

    Returns:
        `Results` of `ContinuedFraction` (formula = the transform it equals, e.g. 6/zeta(3);
        a(n), b(n); digits_verified; complexity), simplest first; ``stats`` records the
        number of PCFs searched (``pcf_space``) and the size of the Möbius table.

    Example:
        >>> from eurisko.constants import parse_constant
        >>> r = find_continued_fractions(parse_constant("zeta(3)"), family="symmetric")
        >>> r[0].formula, r[0].a, r[0].b
        (6/zeta(3), (2*n + 1)*(17*n**2 + 17*n + 5), -n**6)
    """
    search = check_choice(search, "search", ("pcf", "cf", "all"))
    limit = check_number(time_limit, "time_limit", low=0, low_open=True, none_ok=True,
                         what="seconds")
    mobius_bound = check_int(mobius_bound, "mobius_bound", low=1, high=20,
                             hint="the table grows as its fourth power")
    margin = check_number(margin, "margin", low=0, what="digits")
    max_results = check_int(max_results, "max_results", low=1)
    spaces = pcf_spaces(family, a_degree, b_degree, coeff_bound)
    target = make_target(x, digits)
    if target.computable:
        ds, known = target.digits, target.digits + max(20, target.digits // 2)
    else:
        ds, known = target.digits - max(5, target.digits // 6), target.digits
    symbol = target.expr if target.computable else sympy.Symbol("x")

    def formula_of(m: tuple[int, int, int, int]) -> sympy.Expr:
        a, b, c, d = m
        return (a + b * symbol) / (c + d * symbol)

    clock = Clock(limit, progress)
    found: list[ContinuedFraction] = []
    stats: dict[str, Any] = {"digits_known": known}
    timed_out = interrupted = False
    try:
        if search in ("cf", "all"):
            search_cf(target, ds, known, margin, clock, formula_of, found, stats)
        if search in ("pcf", "all"):
            search_pcf(target, spaces, mobius_bound, known, margin, clock, formula_of, found,
                       stats)
    except TimeLimitReached:
        timed_out = True
    except KeyboardInterrupt:
        interrupted = True
    found.sort(key=lambda f: (f.complexity, f.kind))
    clock.finish("done", len(found), str(found[0].formula) if found else None)
    stats["elapsed"] = round(clock.elapsed(), 3)
    return Results(found[:max_results], target=target.text, digits=known, stats=stats,
                   timed_out=timed_out, interrupted=interrupted)


def pcf_spaces(family: str, a_degree: int | None, b_degree: int | None,
               coeff_bound: int | None) -> list[PCFSpace]:
    """The PCF spaces a search covers, from the user's family, degrees and bound."""
    family = check_choice(family, "family", ("auto", "general", "symmetric"))
    a_degree = check_int(a_degree, "a_degree", low=0, none_ok=True)
    b_degree = check_int(b_degree, "b_degree", low=0, none_ok=True)
    coeff_bound = check_int(coeff_bound, "coeff_bound", low=1, none_ok=True)
    if family == "auto":
        if a_degree is not None or b_degree is not None or coeff_bound is not None:
            raise ValueError("a_degree, b_degree and coeff_bound need family='general' or "
                             "'symmetric'")
        return default_spaces()
    if family == "general":
        space = PCFSpace("general", 1 if a_degree is None else a_degree,
                         2 if b_degree is None else b_degree,
                         5 if coeff_bound is None else coeff_bound)
    else:  # symmetric
        d = 3 if a_degree is None else a_degree
        if b_degree is not None and b_degree != 2 * d:
            raise ValueError("the symmetric family has b_degree = 2 * a_degree")
        space = PCFSpace("symmetric", d, 2 * d, 20 if coeff_bound is None else coeff_bound)
    if space.rough_size() > 50_000_000:
        raise ValueError(f"the space {space} holds about {space.rough_size():,} fractions, "
                         "more than 50,000,000; lower the degrees or the coefficient bound")
    return [space]
