"""Closed forms of a number: integer relations (PSLQ) between the number and known constants.

The search tries shapes in order of how cheap they are to write, and stops once no later shape
could be simpler than an answer already verified:

1. rational p/q;
2. algebraic: a polynomial with integer coefficients that has x as a root (degree 2 to 8);
3. Möbius transforms (a + b·c)/(d + e·c) of one basis constant c (this includes c, c/2, 1 + c);
4. x = log(α)/log(b) or x = b^α with α algebraic and b = e, 2, 3 (log(1+√2), √e, 2^√2,
   log 3/log 2);
5. products of powers: a relation among log x and the logs of `POWER_ATOMS` (e^π, π·e, √(2π));
6. x² or √x a Möbius transform of one basis constant (cos²1, √ζ(3));
7. x or 1/x a linear combination (a + b·c1 + c·c2)/d of two basis constants (√2 + π,
   π²/12 - log²2/2, 1/log 10), exhaustively for coefficients up to 40 by a meet-in-the-middle
   match in float64;
8. linear combinations of three or more constants of a group (`LINEAR_GROUPS`, one PSLQ run per
   group), e.g. π²/6 + log 2 - γ/2.

Claim rule (no false claims). A relation with integer coefficients m costs
C = sum(log10(2|m_i|+1)) + log10(number of shapes of its kind tried) digits: about the log of how
many relations of that size the search could have stumbled on. By chance such a relation holds to
D digits with probability about 10**(C - D). A relation is claimed only if

- it was found with fewer digits than are known (digit strings: D minus a hold-out of
  max(5, D/6) digits; expressions: the digits asked for), and then reproduces *every* known digit
  when its formula is evaluated at higher precision (expressions are recomputed to 1.5× the digits
  for this), and
- C is at most the known digits minus ``margin`` (default 10), so chance would need odds of 1 in
  10**10.

Answers are ranked by C, the simplest first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import sympy

from eurisko.constants._numbers import Target, make_target, to_mpf
from eurisko.constants.basis import (
    DEFAULT_BASIS,
    LINEAR_GROUPS,
    POWER_EXPONENTS,
    POWER_GROUPS,
    BasisConstant,
    make_basis,
)
from eurisko.constants.results import (
    Clock,
    Identification,
    Progress,
    Results,
    TimeLimitReached,
    coefficient_digits,
)
from eurisko.validation import check_bool, check_int, check_number

MAX_SEARCH_DIGITS = 400  # PSLQ gains little from more; more digits still serve the verification
EXPLOG_DEGREE = 4
EXPLOG_BASES = ("e", 2, 3)
KIND_ORDER = ("rational", "algebraic", "mobius", "log-algebraic", "exp-algebraic",
              "power-product", "linear", "pslq")
PAIR_BOUND = 40
_X = sympy.Symbol("x")


def identify(x: Any, *, digits: int | None = None, basis: Sequence[Any] | None = None,
             time_limit: float | None = 60.0, margin: float = 10.0, max_degree: int = 8,
             max_results: int = 10, exhaustive: bool = False,
             progress: Callable[[Progress], None] | None = None) -> Results:
    """Find closed forms of a real number, each verified to every digit known.

    Parameters:
        x: the digits as a string (``"0.5963473623231940743..."``; all significant digits are
            taken as correct), a float (15 digits), a Decimal, an mpmath mpf (the current
            precision), or a SymPy expression (computed to ``digits`` digits, default 60).
        digits: for expressions only: digits to search with (verification uses 1.5× as many).
        basis: known constants (SymPy expressions or strings like ``"zeta(3)"``) for the linear
            and Möbius searches; default `DEFAULT_BASIS`.
        time_limit: seconds; the answers found by then are returned (``timed_out`` is set).
        margin: digits by which a claim's complexity must stay below the digits known.
        max_degree: highest degree of the algebraic search.
        max_results: answers returned at most.
        exhaustive: run every stage even when a simpler answer is already certain.
        progress: called with a `Progress` a few times a second.

    Returns:
        `Results`, a list of `Identification` (formula, kind, digits_verified, complexity, ...),
        simplest first; empty when nothing could be claimed. Ctrl-C stops the search and keeps
        what was found (``interrupted`` is set).

    Examples:
        >>> identify("1.6449340668482264364724151666460251892189499012067984377")[0].formula
        pi**2/6
    """
    limit = check_number(time_limit, "time_limit", low=0, low_open=True, none_ok=True,
                         what="seconds")
    margin = check_number(margin, "margin", low=0, what="digits")
    max_degree = check_int(max_degree, "max_degree", low=2)
    max_results = check_int(max_results, "max_results", low=1)
    exhaustive = check_bool(exhaustive, "exhaustive")
    target = make_target(x, digits)
    chosen = DEFAULT_BASIS if basis is None else make_basis(basis)
    search = _Identifier(target, chosen, margin, max_degree, Clock(limit, progress), exhaustive)
    return search.run(max_results)


def search_digits(target: Target) -> tuple[int, int]:
    """(digits the search uses, digits known for verification) for a target."""
    if target.computable:
        return min(target.digits, MAX_SEARCH_DIGITS), target.digits + max(20, target.digits // 2)
    holdout = max(5, target.digits // 6)
    return min(target.digits - holdout, MAX_SEARCH_DIGITS), target.digits


def verified_digits(target: Target, known: int, value_of: Callable[[int], Any]) -> int:
    """How many significant digits of the target a value reproduces (``known`` when all).

    ``value_of(dps)`` gives the candidate's value at ``dps`` digits (an mpf).
    """
    dps = known + 10
    with mpmath.workdps(dps):
        try:
            value = value_of(dps)
        except (ValueError, TypeError, ArithmeticError, RecursionError):
            return 0
        if value is None or not mpmath.isfinite(value):
            return 0
        x = target.magnitude(known)
        err = abs(value - x)
        if not target.computable:
            if err <= target.ulp() * (1 + mpmath.mpf(10) ** -5):
                return known
        elif err == 0:
            return known
        if err == 0:
            return known
        digits = int(mpmath.floor(mpmath.log10(abs(x) / err)))
        if target.computable and digits >= known - 1:
            return known
        return max(0, min(digits, known - 1))


def _formula_value(formula: sympy.Expr) -> Callable[[int], Any]:
    def value(dps: int):
        v = sympy.N(formula, dps)
        re_part, im_part = v.as_real_imag()
        if not re_part.is_Number or not im_part.is_Number:
            return None
        if im_part != 0 and abs(im_part) > abs(re_part) * sympy.Float(10) ** (-dps + 5):
            return None
        return to_mpf(re_part)
    return value


class _Identifier:
    """One identification run: the stages, the claim rule, the answers."""

    def __init__(self, target: Target, basis: tuple[BasisConstant, ...], margin: float,
                 max_degree: int, clock: Clock, exhaustive: bool) -> None:
        self.target = target
        self.basis = basis
        self.margin = margin
        self.max_degree = max_degree
        self.clock = clock
        self.exhaustive = exhaustive
        self.pair_bound = PAIR_BOUND
        self.ds, self.known = search_digits(target)
        self.budget = self.known - margin
        mag = abs(math.log10(float(target.magnitude(30)))) if target.digits else 0.0
        self.work = max(20, self.ds + int(mag) + 5)  # fixed-point room for large or small x
        with mpmath.workdps(self.ds):
            self.x = +target.magnitude(self.ds)
        self.found: dict[str, Identification] = {}
        self.stats = {"pslq_runs": 0, "rejected_complexity": 0, "rejected_unverified": 0,
                      "digits_known": self.known, "digits_searched": self.ds,
                      "claim_budget_digits": round(self.budget, 1), "stages": []}
        self.stage = ""
        n_basis = len(basis)
        n_power = len(POWER_EXPONENTS) + max(len(g) for g in POWER_GROUPS)
        two = 2 * math.log10(3)
        self.stages: list[tuple[str, float, Callable[[], None]]] = [
            ("rational", two, self._rational),
            ("algebraic", two + math.log10(max_degree - 1), self._algebraic),
            ("mobius", two + math.log10(n_basis), self._mobius),
            ("exp/log", two + math.log10(2 * len(EXPLOG_BASES) * EXPLOG_DEGREE), self._explog),
            ("power-product", two + math.log10(len(POWER_GROUPS) * n_power), self._power),
            ("mobius of x^2, sqrt(x)", two + math.log10(3 * n_basis), self._mobius_powers),
            ("pairs", 3 * math.log10(3) + math.log10(max(1, 2 * math.comb(n_basis, 2))),
             self._pairs),
        ]
        if basis is DEFAULT_BASIS:
            self.stages.append(("groups", 4 * math.log10(3) + math.log10(
                len(LINEAR_GROUPS) * math.comb(8, 3)), self._groups))

    # --- the run -------------------------------------------------------------------------

    def run(self, max_results: int) -> Results:
        timed_out = interrupted = False
        try:
            for i, (name, _, stage) in enumerate(self.stages):
                self.stage = name
                self.stats["stages"].append(name)
                stage()
                rest = [low for _, low, _ in self.stages[i + 1:]]
                best = self._best()
                if rest and best is not None and not self.exhaustive and \
                        best.complexity <= min(rest):
                    break
        except TimeLimitReached:
            timed_out = True
        except KeyboardInterrupt:
            interrupted = True
        answers = sorted(self.found.values(),
                         key=lambda a: (a.complexity, KIND_ORDER.index(a.kind), str(a.formula)))
        if self.target.negative:
            answers = [_negate(a) for a in answers]
        best = self._best()
        self.clock.finish(self.stage, len(answers), None if best is None else str(best.formula))
        self.stats["elapsed"] = round(self.clock.elapsed(), 3)
        return Results(answers[:max_results], target=self.target.text, digits=self.known,
                       stats=self.stats, timed_out=timed_out, interrupted=interrupted)

    def _best(self) -> Identification | None:
        return min(self.found.values(), key=lambda a: a.complexity, default=None)

    def _tick(self, done: int, total: int) -> None:
        best = self._best()
        self.clock.tick(self.stage, done, total, len(self.found),
                        None if best is None else str(best.formula))

    def _search(self, vector: Callable[[Any], list[Any]],
                maxcoeff: int | None = None) -> list[int] | None:
        """An integer relation among ``vector(x)`` with x at the search digits, or None."""
        self.stats["pslq_runs"] += 1
        with mpmath.workdps(self.work):
            guard = max(2, self.ds // 5)
            tol = mpmath.mpf(10) ** (-(self.ds - guard))
            try:
                vals = vector(self.x)
                if maxcoeff is None:
                    # A relation of n similar coefficients of size M costs about n·log10(M)
                    # digits; larger ones could never be claimed. Beyond 10**8 (more with
                    # many digits) PSLQ only spends time on relations nobody would call simple.
                    cap = max(8, self.ds // 10)
                    maxcoeff = 10 ** max(3, min(cap, int(self.budget) // len(vals)))
                rel = mpmath.pslq(vals, tol=tol, maxcoeff=maxcoeff, maxsteps=20000)
            except (ValueError, ZeroDivisionError):
                return None
        return None if rel is None else [int(r) for r in rel]

    def _holds(self, rel: Sequence[int], vector: Callable[[Any], list[Any]]) -> bool:
        """Whether the relation holds to every known digit (a cheap check before SymPy).

        The relation is evaluated with x at all known digits and with x moved by its
        uncertainty; it holds if its value is within that change (plus rounding).
        """
        extra = self.work - self.ds + 10
        with mpmath.workdps(self.known + extra):
            x0 = self.target.magnitude(self.known)
            if self.target.computable:
                delta = x0 * mpmath.mpf(10) ** (-self.known)
            else:
                delta = self.target.ulp()
            try:
                v0, v1 = vector(x0), vector(x0 + delta)
            except (ValueError, ZeroDivisionError):
                return False
            r0 = mpmath.fsum(m * v for m, v in zip(rel, v0, strict=True))
            r1 = mpmath.fsum(m * v for m, v in zip(rel, v1, strict=True))
            scale = mpmath.fsum(abs(m * v) for m, v in zip(rel, v0, strict=True))
            return abs(r0) <= 2 * abs(r1 - r0) + scale * mpmath.mpf(10) ** (-self.known - 5)

    def _consider(self, build: Callable[[], Any], kind: str, rel: Sequence[int], look: float,
                  relation: str, vector: Callable[[Any], list[Any]]) -> None:
        """Apply the claim rule to a relation; ``build()`` makes its formula only if needed.

        ``build`` returns the formula, or (formula, coefficients) when the formula rests on
        fewer digits than the raw relation (a factor of a polynomial), or None.
        """
        complexity = coefficient_digits(rel) + look
        if complexity > self.budget:
            self.stats["rejected_complexity"] += 1
            return
        if not self._holds(rel, vector):
            self.stats["rejected_unverified"] += 1
            return
        built = build()
        if built is None:
            return
        if isinstance(built, tuple):
            formula, coeffs = built
            complexity = coefficient_digits(coeffs) + look
        else:
            formula = built
        key = sympy.srepr(formula)
        if key in self.found and self.found[key].complexity <= complexity:
            return
        digits = verified_digits(self.target, self.known, _formula_value(formula))
        if digits < self.known:
            self.stats["rejected_unverified"] += 1
            return
        self.found[key] = Identification(formula, kind, digits, round(complexity, 2), self.ds,
                                         relation)

    # --- stages --------------------------------------------------------------------------
    # Each shape is a function x -> vector of numbers, evaluated at the current precision;
    # the search runs it at the search digits, the check at every known digit.

    def _rational(self) -> None:
        def vector(x):
            return [x, mpmath.mpf(1)]
        rel = self._search(vector, maxcoeff=10 ** max(2, int(self.budget) // 2))
        self._tick(1, 1)
        if rel and rel[0]:
            q, p = rel[0], -rel[1]
            if q < 0:
                q, p = -q, -p
            self._consider(lambda: sympy.Rational(p, q), "rational", rel, 0.0, f"{q}*x - {p}",
                           vector)

    def _algebraic(self) -> None:
        look = math.log10(self.max_degree - 1)
        for deg in range(2, self.max_degree + 1):
            self._tick(deg - 2, self.max_degree - 1)

            def vector(x, deg=deg):
                return [x ** k for k in range(deg + 1)]
            rel = self._search(vector)
            if not rel or not any(rel[1:]):
                continue

            def build(rel=rel, x=self.x):
                root = _algebraic_root(rel, x)
                if root is None or root[1].degree() < 2:
                    return None
                return root[0], root[1].all_coeffs()
            self._consider(build, "algebraic", rel, look,
                           str(sympy.Poly(list(reversed(rel)), _X).as_expr()), vector)
            return

    def _mobius(self, power: int = 1) -> None:
        """t = (a + b·c)/(d + e·c) for each basis constant c, with t = x (power 1), x² (2)
        or √x (-2)."""
        look = math.log10(len(self.basis) * (1 if power == 1 else 3))
        forward = {1: lambda x: x, 2: lambda x: x * x, -2: mpmath.sqrt}[power]
        back = {1: lambda t: t, 2: sympy.sqrt, -2: lambda t: t ** 2}[power]
        name = {1: "x", 2: "x^2", -2: "sqrt(x)"}[power]
        for i, c in enumerate(self.basis):
            self._tick(i, len(self.basis))

            def vector(x, c=c):
                cv = c.value(mpmath.mp.dps)
                t = forward(x)
                return [mpmath.mpf(1), cv, t, t * cv]
            rel = self._search(vector)
            if not rel:
                continue
            r0, r1, r2, r3 = rel
            if not (r2 or r3) or not (r1 or r3) or r0 * r3 - r1 * r2 == 0:
                continue  # no x, no c, or x rational
            if r3 < 0 or (r3 == 0 and r2 < 0):
                r0, r1, r2, r3 = -r0, -r1, -r2, -r3
            num, den = -r0 - r1 * c.expr, r2 + r3 * c.expr
            self._consider(lambda num=num, den=den: back(num / den), "mobius", rel, look,
                           f"{r0} + {r1}*{c.name} + {r2}*t + {r3}*t*{c.name}, t = {name}",
                           vector)

    def _mobius_powers(self) -> None:
        self._mobius(2)
        self._mobius(-2)

    def _explog(self) -> None:
        """b^x or log(x)/log(b) algebraic, for b = e, 2, 3: x = log(α)/log(b) or x = b^α."""
        transforms = []
        for b in EXPLOG_BASES:
            if b == "e":
                transforms.append(("log-algebraic", mpmath.exp, sympy.log, "exp(x)"))
                transforms.append(("exp-algebraic", mpmath.log, sympy.exp, "log(x)"))
                continue
            sb = sympy.Integer(b)
            transforms.append(("log-algebraic", lambda x, b=b: mpmath.power(b, x),
                               lambda a, sb=sb: sympy.log(a) / sympy.log(sb), f"{b}^x"))
            transforms.append(("exp-algebraic", lambda x, b=b: mpmath.log(x) / mpmath.log(b),
                               lambda a, sb=sb: sb ** a, f"log(x)/log({b})"))
        look = math.log10(len(transforms) * EXPLOG_DEGREE)
        for j, (kind, forward, back, inner) in enumerate(transforms):
            if kind == "log-algebraic" and abs(self.x) > 100:
                continue  # b^x would be huge
            for deg in range(1, EXPLOG_DEGREE + 1):
                self._tick(j * EXPLOG_DEGREE + deg, len(transforms) * EXPLOG_DEGREE)

                def vector(x, deg=deg, forward=forward):
                    t = forward(x)
                    return [t ** k for k in range(deg + 1)]
                rel = self._search(vector)
                if not rel or not any(rel[1:]):
                    continue

                def build(rel=rel, kind=kind, back=back, forward=forward):
                    with mpmath.workdps(self.work):
                        t = forward(self.x)
                    root = _algebraic_root(rel, t)
                    if root is None or (kind == "log-algebraic" and not root[0].is_positive):
                        return None
                    return back(root[0]), root[1].all_coeffs()
                text = str(sympy.Poly(list(reversed(rel)), _X).as_expr().subs(
                    _X, sympy.Symbol(inner)))
                self._consider(build, kind, rel, look, text, vector)
                break

    def _power(self) -> None:
        if abs(self.x - 1) < mpmath.mpf(10) ** (-self.ds // 2):
            return
        sets = [(POWER_EXPONENTS, group) for group in POWER_GROUPS]
        for j, (exps, atoms) in enumerate(sets):
            self._tick(j, len(sets))

            def vector(x, exps=exps, atoms=atoms):
                dps = mpmath.mp.dps
                return [mpmath.log(x)] + [e.value(dps) for e in exps] + \
                    [mpmath.log(a.value(dps)) for a in atoms]
            rel = self._search(vector)
            if not rel or not rel[0] or not any(rel[1:]):
                continue
            r0 = rel[0]
            k = sum(1 for r in rel[1:] if r)
            look = math.log10(len(sets) * math.comb(len(rel) - 1, k))

            def build(rel=rel, r0=r0, exps=exps, atoms=atoms):
                exponent = sum(sympy.Rational(-r, r0) * e.expr
                               for r, e in zip(rel[1:1 + len(exps)], exps, strict=True))
                factors = [a.expr ** sympy.Rational(-r, r0)
                           for r, a in zip(rel[1 + len(exps):], atoms, strict=True) if r]
                return sympy.powsimp(sympy.exp(exponent) * sympy.Mul(*factors))
            names = ["log(x)"] + [e.name for e in exps] + [f"log({a.name})" for a in atoms]
            text = " + ".join(f"{r}*{n}" for r, n in zip(rel, names, strict=True) if r)
            self._consider(build, "power-product", rel, look, text, vector)

    def _pairs(self) -> None:
        """x = (p + q·c1 + r·c2)/s: every such relation with |p|, |q|, |r|, s <= pair_bound.

        Exhaustive over that box by meeting in the middle in float64 (s·x - q·c1 against
        p + r·c2, sorted and matched); each match is then checked at every known digit. With
        ``exhaustive=True`` a PSLQ run per pair follows, for larger coefficients.
        """

        n = len(self.basis)
        if n < 2:
            return
        look = math.log10(2 * math.comb(n, 2))
        self.stats["pair_box"] = 0
        for inverse in (False, True):
            self._pair_match(1 / float(self.x) if inverse else float(self.x), inverse, look)
        if self.exhaustive:
            pairs = list(itertools.combinations(self.basis, 2))
            for inverse in (False, True):
                for i, (c1, c2) in enumerate(pairs):
                    self._tick(i, len(pairs))
                    rel = self._search(self._pair_vector(c1, c2, inverse))
                    if rel and rel[0] and rel[2] and rel[3]:
                        self._linear(rel, c1, c2, look, inverse)

    def _pair_match(self, xf: float, inverse: bool, look: float) -> None:
        import numpy as np

        n, k = len(self.basis), self.pair_bound
        cv = np.array([float(c.value(self.ds)) for c in self.basis])
        s_ = np.arange(1, k + 1, dtype=np.float64)
        q_ = np.concatenate([np.arange(-k, 0), np.arange(1, k + 1)]).astype(np.float64)
        p_ = np.arange(-k, k + 1, dtype=np.float64)
        left = (s_[:, None, None] * xf - q_[None, :, None] * cv[None, None, :]).ravel()
        right = (p_[:, None, None] + q_[None, :, None] * cv[None, None, :]).ravel()
        order = np.argsort(right)
        rs = right[order]
        scale = (s_[:, None, None] * abs(xf) + np.abs(q_)[None, :, None] * np.abs(cv)
                 ).ravel() + 1.0
        tol = 1e-11 * scale
        self._tick(int(inverse), 2)
        lo = np.searchsorted(rs, left - tol, side="left")
        hi = np.searchsorted(rs, left + tol, side="right")
        hits = np.flatnonzero(hi > lo)
        self.stats["pair_box"] += int(left.size * right.size)
        seen = set()
        for li in hits[:200]:
            for rj in order[lo[li]:hi[li]]:
                si, qi, i = np.unravel_index(li, (k, 2 * k, n))
                pi, ri, j = np.unravel_index(rj, (2 * k + 1, 2 * k, n))
                if i == j:
                    continue
                s, q, p, r = int(s_[si]), int(q_[qi]), int(p_[pi]), int(q_[ri])
                g = math.gcd(math.gcd(s, q), math.gcd(p, r))
                a, b = (i, j) if i < j else (j, i)
                ca, cb = (q, r) if i < j else (r, q)
                rel = [s // g, -p // g, -ca // g, -cb // g]
                if tuple(rel) + (a, b) in seen:
                    continue
                seen.add(tuple(rel) + (a, b))
                self._linear(rel, self.basis[a], self.basis[b], look, inverse)

    def _groups(self) -> None:
        """x = (a + sum b_i·c_i)/d over each group of `LINEAR_GROUPS` (one PSLQ run each)."""
        for j, group in enumerate(LINEAR_GROUPS):
            self._tick(j, len(LINEAR_GROUPS))

            def vector(x, group=group):
                dps = mpmath.mp.dps
                return [x, mpmath.mpf(1)] + [c.value(dps) for c in group]
            rel = self._search(vector)
            if not rel or not rel[0] or not any(rel[2:]):
                continue
            k = sum(1 for r in rel[2:] if r)
            look = math.log10(len(LINEAR_GROUPS) * math.comb(len(group), k))
            num = -(rel[1] + sum(r * c.expr for r, c in zip(rel[2:], group, strict=True)))
            text = " + ".join(f"{r}*{n}" for r, n in zip(
                rel, ["x", "1"] + [c.name for c in group], strict=True) if r)
            self._consider(lambda num=num, r0=rel[0]: num / r0, "pslq", rel, look, text,
                           vector)

    @staticmethod
    def _pair_vector(c1: BasisConstant, c2: BasisConstant,
                     inverse: bool = False) -> Callable[[Any], list[Any]]:
        def vector(x):
            dps = mpmath.mp.dps
            return [1 / x if inverse else x, mpmath.mpf(1), c1.value(dps), c2.value(dps)]
        return vector

    def _linear(self, rel: list[int], c1: BasisConstant, c2: BasisConstant, look: float,
                inverse: bool = False) -> None:
        r0, r1, r2, r3 = rel
        num = -(r1 + r2 * c1.expr + r3 * c2.expr)
        t = "1/x" if inverse else "x"
        self._consider(lambda: r0 / num if inverse else num / r0, "linear", rel, look,
                       f"{r0}*{t} + {r1} + {r2}*{c1.name} + {r3}*{c2.name}",
                       self._pair_vector(c1, c2, inverse))


def _negate(a: Identification) -> Identification:
    return Identification(-a.formula, a.kind, a.digits_verified, a.complexity,
                          a.digits_searched, a.relation + "  (for -x)")


def _algebraic_root(rel: Sequence[int], x: Any) -> tuple[sympy.Expr, sympy.Poly] | None:
    """The closed form of the root near ``x`` of sum(rel[k] * t**k): (root, its factor)."""
    poly = sympy.Poly(list(reversed([int(r) for r in rel])), _X)
    xf = float(x)
    best = None
    for factor, _ in sympy.factor_list(poly)[1]:
        f = sympy.Poly(factor, _X)
        if f.degree() < 1:
            continue
        for r in f.nroots(n=20):
            if abs(sympy.im(r)) < 1e-12 * max(1.0, abs(xf)):
                d = abs(float(sympy.re(r)) - xf)
                if best is None or d < best[0]:
                    best = (d, f)
    if best is None or best[0] > 1e-8 * max(1.0, abs(xf)):
        return None
    f = best[1]
    if f.LC() < 0:
        f = -f
    if f.degree() == 1:
        c1, c0 = f.all_coeffs()
        return sympy.Rational(-c0, c1), f
    root = None
    if f.degree() <= 4:
        try:
            candidates = sympy.roots(f, _X)
        except (NotImplementedError, ValueError):
            candidates = {}
        for r in candidates:
            if not r.has(sympy.I) and _near(r, xf):
                root = sympy.sqrtdenest(r)
                break
    if root is None:
        for k in range(f.degree()):
            r = sympy.CRootOf(f.as_expr(), k)
            if r.is_real and _near(r, xf):
                root = r
                break
    if root is None:
        return None
    return root, f


def _near(r: sympy.Expr, xf: float) -> bool:
    """Whether the (real) value of ``r`` is ``xf`` to 8 digits."""
    v = complex(sympy.N(r, 30))
    scale = max(1.0, abs(xf))
    return abs(v.imag) <= 1e-12 * scale and abs(v.real - xf) <= 1e-8 * scale
