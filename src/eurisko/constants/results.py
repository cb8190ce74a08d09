"""What the constant searches return: verified answers, ranked simplest first."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sympy


def coefficient_digits(coeffs: Iterable[int]) -> float:
    """Decimal digits needed to write the non-zero integers: sum of log10(2|m|+1).

    This is the log of how many integer vectors of that size exist, so a relation that costs C
    digits holds by chance to D digits with probability about 10**(C - D).
    """
    return sum(math.log10(2 * abs(int(m)) + 1) for m in coeffs if m)


@dataclass(frozen=True)
class Identification:
    """A closed form of the input, verified numerically.

    Attributes:
        formula: SymPy expression equal to the input (to ``digits_verified`` digits).
        kind: how it was found: "rational", "algebraic", "mobius", "log-algebraic" (log of an
            algebraic number), "exp-algebraic", "power-product", "linear" (two constants) or
            "pslq" (a group of constants).
        digits_verified: significant digits of the input that the formula reproduces, computed
            at higher precision than the search used.
        complexity: digits spent on the answer (coefficient sizes plus the number of shapes
            tried); smaller is simpler, and claims need it well below the digits known.
        digits_searched: digits the relation was found with.
        relation: the integer relation found, as text (x is the input).
    """

    formula: sympy.Expr
    kind: str
    digits_verified: int
    complexity: float
    digits_searched: int
    relation: str = ""

    def latex(self) -> str:
        return sympy.latex(self.formula)

    def __str__(self) -> str:
        return (f"{self.formula}  [{self.kind}; verified to {self.digits_verified} digits; "
                f"complexity {self.complexity:.1f}]")


@dataclass(frozen=True)
class ContinuedFraction:
    """A continued fraction equal to a Möbius transform of the input.

    ``formula`` is the value the fraction converges to, e.g. ``6/zeta(3)`` (with ``x`` standing
    for the input when it was given as digits). For kind "pcf", ``a`` and ``b`` are polynomials
    in ``n`` and the fraction is a(0) + b(1)/(a(1) + b(2)/(a(2) + ...)). For kind "cf" (a signed
    continued fraction whose partial quotients follow a linear recurrence, ESMA-style), ``signs``
    gives the numerators ±1 (repeating) and ``recurrence`` the rule of the quotients
    q[n] = sum(c[i] * q[n-1-i]), from ``quotients``.
    """

    formula: sympy.Expr
    kind: str
    digits_verified: int
    complexity: float
    mobius: tuple[int, int, int, int]
    a: sympy.Expr | None = None
    b: sympy.Expr | None = None
    signs: tuple[int, ...] = ()
    quotients: tuple[int, ...] = ()
    recurrence: tuple[Any, ...] = ()
    quotient_formula: sympy.Expr | None = None
    terms_used: int = 0
    family: str = ""

    def latex(self) -> str:
        lhs = sympy.latex(self.formula)
        if self.a is not None and self.b is not None:
            n = sympy.Symbol("n")
            t = [(int(self.a.subs(n, k)), int(self.b.subs(n, k + 1))) for k in range(3)]
            body = (f"{t[0][0]} + \\cfrac{{{t[0][1]}}}{{{t[1][0]} + \\cfrac{{{t[1][1]}}}"
                    f"{{{t[2][0]} + \\cfrac{{{t[2][1]}}}{{\\ddots}}}}}}")
            return (f"{lhs} = {body}, \\quad a_n = {sympy.latex(self.a)},\\ "
                    f"b_n = {sympy.latex(self.b)}")
        q = self.quotients
        parts = [str(q[0])] + [f"\\cfrac{{{self.signs[(i - 1) % len(self.signs)]}}}{{{q[i]}"
                               for i in range(1, min(5, len(q)))]
        rule = (f", \\quad q_n = {sympy.latex(self.quotient_formula)}"
                if self.quotient_formula is not None else "")
        return f"{lhs} = " + " + ".join(parts) + " + \\dots" + "}" * (min(5, len(q)) - 1) + rule

    def describe(self) -> str:
        if self.a is not None:
            return f"a(n) = {self.a},  b(n) = {self.b}"
        sign = "".join("+" if s > 0 else "-" for s in self.signs)
        shown = ", ".join(str(v) for v in self.quotients[:10])
        if self.quotient_formula is not None:
            order = len(self.recurrence)
            while order and self.recurrence[order - 1] == 0:
                order -= 1
            start = len(self.quotients) - order
            return (f"signs {sign}, quotients {shown}, ...: q(n) = {self.quotient_formula} "
                    f"for n >= {start}")
        terms = [f"{c}*q[n-{i + 1}]" for i, c in enumerate(self.recurrence) if c]
        rule = " + ".join(terms).replace("+ -", "- ").replace("1*q", "q")
        return f"signs {sign}, quotients {shown}, ... with q[n] = {rule}"

    def __str__(self) -> str:
        return (f"{self.formula} = CF[{self.describe()}]  [{self.kind}; verified to "
                f"{self.digits_verified} digits; complexity {self.complexity:.1f}]")


class Results(list):
    """The answers, simplest first, with a record of what was searched.

    Attributes: ``target`` (the input as read), ``digits`` (digits known), ``stats`` (sizes of
    the spaces searched, tests run, candidates rejected), ``timed_out`` and ``interrupted``
    (the search stopped early; the answers found so far are kept).
    """

    def __init__(self, items: Iterable[Any] = (), *, target: str = "", digits: int = 0,
                 stats: dict[str, Any] | None = None, timed_out: bool = False,
                 interrupted: bool = False) -> None:
        super().__init__(items)
        self.target = target
        self.digits = digits
        self.stats = dict(stats or {})
        self.timed_out = timed_out
        self.interrupted = interrupted


@dataclass
class Progress:
    """A progress report: the stage running, how far it is, what was found so far."""

    stage: str
    done: int
    total: int
    elapsed: float
    found: int
    best: str | None = None
    finished: bool = False


class TimeLimitReached(Exception):
    """Raised inside a search when its time limit is reached."""


@dataclass
class Clock:
    """Time limit and progress reporting shared by the searches."""

    time_limit: float | None
    progress: Callable[[Progress], None] | None = None
    every: float = 0.25
    started: float = field(default_factory=time.monotonic)
    _last: float = -math.inf

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return math.inf if self.time_limit is None else self.time_limit - self.elapsed()

    def tick(self, stage: str, done: int, total: int, found: int, best: str | None = None,
             force: bool = False) -> None:
        """Report progress (throttled); raise `TimeLimitReached` once the time is up."""
        now = time.monotonic()
        if self.progress is not None and (force or now - self._last >= self.every):
            self._last = now
            self.progress(Progress(stage, done, total, now - self.started, found, best))
        if self.remaining() <= 0:
            raise TimeLimitReached

    def finish(self, stage: str, found: int, best: str | None) -> None:
        if self.progress is not None:
            self.progress(Progress(stage, 1, 1, self.elapsed(), found, best, finished=True))
