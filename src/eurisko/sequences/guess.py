"""``guess``: which rule makes this integer sequence? Search, check, group, rank.

The search tries models in order of their number of unknowns (simplest first), from two
families: linear recurrences with polynomial coefficients (constant ones included) and
algebraic equations for the generating function. A model is only tried when the terms leave
at least ``min_checks`` equations beyond its unknowns; its fit uses the first equations and the
rest must hold exactly on terms the fit never saw. Rules that predict the same continuation are
one guess seen several ways (a recurrence, a closed form, a generating function).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

from eurisko.sequences import closed_form as cf
from eurisko.sequences._input import check_terms
from eurisko.sequences._linalg import PRIME
from eurisko.sequences.algebraic import AlgebraicGF, SeriesPowers, fit_algebraic
from eurisko.sequences.recurrence import Recurrence, fit_recurrence
from eurisko.validation import check_int, check_number

MIN_CHECKS = 5
MAX_UNKNOWNS = 40
MAX_ALGEBRAIC_DEGREE = 4  # degree of the equation in G; 1 (rational) is the C-finite case
COMPARE_TERMS = 20  # rules that agree on this many predicted terms are grouped as one guess

Rule = Recurrence | AlgebraicGF


@dataclass(frozen=True)
class _Model:
    unknowns: int
    family: str  # "rec" or "alg"
    p: int  # order, or degree in G
    q: int  # degree of the coefficients in n, or in x


def _models(n_terms: int, min_checks: int, max_unknowns: int) -> list[_Model]:
    """Every model the terms can fit and check, simplest first."""
    out = [_Model(0, "rec", 0, 0)]  # a(n) = 0
    for r in range(1, n_terms):
        for d in range(n_terms):
            u = (r + 1) * (d + 1) - 1
            if u > max_unknowns or u > n_terms - r - min_checks:
                break
            out.append(_Model(u, "rec", r, d))
    for D in range(2, MAX_ALGEBRAIC_DEGREE + 1):
        for dx in range(n_terms):
            u = (D + 1) * (dx + 1) - 1
            if u > max_unknowns or u > n_terms - min_checks:
                break
            out.append(_Model(u, "alg", D, dx))
    return sorted(out, key=lambda m: (m.unknowns, m.family != "rec", m.p))


def _terms_needed(m: _Model, min_checks: int) -> int:
    return m.unknowns + min_checks + (m.p if m.family == "rec" else 0)


def _to_output(q: int | Fraction) -> Any:
    """Predicted terms: Python ints, or SymPy Rationals for the (rare) non-integers."""
    if isinstance(q, int):
        return q
    import sympy as sp

    return sp.Rational(q.numerator, q.denominator)


def _extend_upto(rule: Rule, terms: list[int], k: int) -> list[int | Fraction]:
    try:
        return rule.extend(terms, k)
    except ValueError:  # a leading coefficient vanishes: keep what comes before it
        out: list[int | Fraction] = []
        for _ in range(k):
            try:
                out += rule.extend(terms + out, 1)
            except ValueError:
                break
        return out


def _newest_first(rhs, show) -> str:
    """The right side of a recurrence as text, a(n - 1) first, then a(n - 2), ..."""
    from sympy.core.function import AppliedUndef

    n, _ = cf.symbols()

    def lag(term) -> int:
        calls = list(term.atoms(AppliedUndef))
        return int(n - calls[0].args[0]) if len(calls) == 1 else 0

    text = ""
    for term in sorted(rhs.args if rhs.is_Add else (rhs,), key=lag):
        t = show(term).strip()
        if not text:
            text = t
        elif t.startswith("-"):
            text += " - " + t[1:].strip()
        else:
            text += " + " + t
    return text


def _simplicity(rule: Rule) -> tuple:
    """Fewest unknowns first; at a tie, a recurrence that gives every term, then lower order."""
    if isinstance(rule, Recurrence):
        return (rule.n_unknowns, 0, rule.leading_vanishes, rule.degree, rule.order)
    return (rule.n_unknowns, 1, False, rule.x_degree, rule.degree)


class Guess:
    """One rule for the sequence, with every view of it that was found.

    Attributes
    ----------
    kind : str
        the family of the simplest rule ("linear recurrence with constant coefficients",
        "... with polynomial coefficients", "algebraic generating function").
    recurrence : sympy.Eq or None
        in ``a(n)``, newest term on the left; holds for ``n >= valid_from``.
    closed_form : sympy expression in ``n`` or None
        ``a(n)`` for every ``n >= offset``.
    generating_function : sympy expression in ``x``, an implicit ``Eq(P(x, G(x)), 0)``, or None
        ``G(x) = sum_{n >= offset} a(n) x**n``.
    n_unknowns, n_checked : int
        free coefficients of the simplest rule, and the equations it satisfied beyond those it
        was fitted on (each on a term the fit had not seen).
    rules : tuple
        the rules found (``Recurrence``/``AlgebraicGF``), simplest first, that all predict the
        same continuation.
    """

    def __init__(self, rules: list[Rule], terms: list[int], offset: int,
                 derived: Recurrence | None = None):
        self.rules = tuple(sorted(rules, key=_simplicity))
        self.terms = list(terms)
        self.offset = offset
        self._derived = derived

    # --- the simplest rule ---------------------------------------------------------------
    @property
    def primary(self) -> Rule:
        return self.rules[0]

    @property
    def kind(self) -> str:
        return self.primary.kind

    @property
    def n_unknowns(self) -> int:
        return self.primary.n_unknowns

    @property
    def n_checked(self) -> int:
        return self.primary.n_checked

    def extend(self, k: int) -> list[Any]:
        """The next ``k`` terms the rule predicts (ints; SymPy Rationals if not whole)."""
        k = check_int(k, "k", low=0, hint="extend(k) gives the next k terms")
        return [_to_output(q) for q in self.primary.extend(self.terms, k)]

    # --- views -----------------------------------------------------------------------------
    @property
    def _recurrence_rule(self) -> Recurrence | None:
        recs = [r for r in self.rules if isinstance(r, Recurrence)]
        return recs[0] if recs else self._derived

    @property
    def recurrence_derived(self) -> bool:
        """True when the recurrence was read off terms generated by the generating function."""
        return not any(isinstance(r, Recurrence) for r in self.rules) and \
            self._derived is not None

    @property
    def valid_from(self) -> int | None:
        rec = self._recurrence_rule
        return None if rec is None else self.offset + rec.order

    @cached_property
    def recurrence(self):
        rec = self._recurrence_rule
        return None if rec is None else rec.sympy()

    @cached_property
    def closed_form(self):
        for rec in [r for r in self.rules if isinstance(r, Recurrence)]:
            if rec.degree == 0:
                expr = cf.cfinite_closed_form(rec, self.terms)
            elif rec.order == 1:
                expr = cf.hypergeometric_closed_form(rec, self.terms)
            else:
                continue
            if expr is not None:
                return expr
        return None

    @cached_property
    def _gf(self) -> tuple[Any, Any]:
        for rule in self.rules:
            if isinstance(rule, Recurrence) and rule.degree == 0:
                g = cf.rational_gf(rule, self.terms)
                if g is not None:
                    return g, None
        for rule in self.rules:
            if isinstance(rule, AlgebraicGF):
                return cf.algebraic_gf(rule, self.terms)
        return None, None

    @property
    def generating_function(self):
        explicit, equation = self._gf
        return explicit if explicit is not None else equation

    @property
    def gf_equation(self):
        """The algebraic equation ``P(x, G(x)) = 0`` where one was found, else None."""
        return self._gf[1]

    # --- printing --------------------------------------------------------------------------
    def views(self, latex: bool = False) -> list[tuple[str, str]]:
        """(label, text) for each view found: recurrence, closed form, generating function."""
        import sympy as sp

        show = sp.latex if latex else sp.sstr
        n, x = cf.symbols()
        a, G = sp.Function("a"), sp.Function("G")
        lines = []
        if self.recurrence is not None:
            rec = self.recurrence
            text = f"{show(rec.lhs)} = {_newest_first(rec.rhs, show)}"
            when = (rf"\quad (n \geq {self.valid_from})" if latex
                    else f"   for n >= {self.valid_from}")
            note = "   (derived from the generating function)" if self.recurrence_derived else ""
            lines.append(("recurrence", text + when + ("" if latex else note)))
        if self.closed_form is not None:
            lines.append(("closed form", f"{show(a(n))} = {show(self.closed_form)}"))
        explicit, equation = self._gf
        if explicit is not None:
            text = f"{show(G(x))} = {show(explicit)}"
            if equation is not None:
                text += (r",\quad " if latex else ",   ") + \
                    f"{show(equation.lhs)} = {show(equation.rhs)}"
            lines.append(("generating function", text))
        elif equation is not None:
            lines.append(("generating function", f"{show(equation.lhs)} = {show(equation.rhs)}"))
        return lines

    def latex(self) -> str:
        """The views as LaTeX, one per line (joined with ``\\\\``)."""
        return " \\\\\n".join(text for _, text in self.views(latex=True))

    def summary(self) -> str:
        """One line: what kind of rule, how big, how well checked."""
        u = self.n_unknowns
        return (f"{self.primary.describe()}: {u} unknown{'' if u == 1 else 's'}, checked on "
                f"{self.n_checked} terms it was not fitted on")

    def __str__(self) -> str:
        rows = [self.summary()]
        for label, text in self.views():
            rows.append(f"  {label + ':':<21}{text}")
        return "\n".join(rows)

    def __repr__(self) -> str:
        return f"<Guess {self.primary.describe()}: {self.recurrence}>"


class Guesses(list):
    """The guesses, simplest first; ``reason`` says why the list is empty (or was cut short)."""

    def __init__(self, guesses: list[Guess], *, reason: str, n_terms: int, offset: int,
                 timed_out: bool, models_tried: int, max_unknowns: int):
        super().__init__(guesses)
        self.reason = reason
        self.n_terms = n_terms
        self.offset = offset
        self.timed_out = timed_out
        self.models_tried = models_tried
        self.max_unknowns = max_unknowns

    def __str__(self) -> str:
        if not self:
            return self.reason
        parts = [f"{i}. {g}" for i, g in enumerate(self, 1)]
        if self.reason:
            parts.append(self.reason)
        return "\n".join(parts)


def guess(terms: Any, offset: int = 0, *, time_limit: float | None = 10.0,
          max_unknowns: int | None = None, min_checks: int = MIN_CHECKS) -> Guesses:
    """Guess the rules that make an integer sequence, simplest first.

    Parameters
    ----------
    terms : sequence of int
        at least 8 terms, ``terms[0] = a(offset)``; 20 or more let larger rules be checked.
    offset : int
        the index n of the first term (default 0: the first term is a(0)).
    time_limit : float or None
        seconds for the search (default 10); the simplest models are tried first, so a search
        cut short has still tried everything smaller than where it stopped.
    max_unknowns : int or None
        the largest rule to try, in free coefficients (default 40, and never more than the
        terms can check).
    min_checks : int
        equations each rule must satisfy beyond those it is fitted on (default 5; at least 1).

    Returns
    -------
    Guesses
        a list of `Guess`, possibly empty; ``.reason`` says why nothing was found.

    Examples
    --------
    >>> g = guess([1, 1, 2, 5, 14, 42, 132, 429, 1430, 4862, 16796, 58786])
    >>> g[0].closed_form
    binomial(2*n, n)/(n + 1)
    >>> g[0].extend(3)
    [208012, 742900, 2674440]
    """
    a = check_terms(terms)
    offset = check_int(offset, "offset", hint="offset is the index n of the first term")
    time_limit = check_number(time_limit, "time_limit", low=0, low_open=True, none_ok=True,
                              what="seconds")
    min_checks = check_int(min_checks, "min_checks", low=1,
                           hint="each rule must predict this many terms it was not fitted on")
    max_unknowns = check_int(max_unknowns, "max_unknowns", low=1, none_ok=True,
                             hint=f"it caps a rule's free coefficients; None means {MAX_UNKNOWNS}")
    if max_unknowns is None:
        max_unknowns = MAX_UNKNOWNS
    start = time.monotonic()
    deadline = start + time_limit if time_limit is not None else float("inf")
    N = len(a)
    models = _models(N, min_checks, max_unknowns)
    found: list[Rule] = []
    hits: dict[str, list[tuple[int, int]]] = {"rec": [], "alg": []}
    a_mod = [t % PRIME for t in a]
    series = SeriesPowers(a, MAX_ALGEBRAIC_DEGREE)  # computed when first needed
    cfinite = False
    timed_out = False
    tried = 0  # models fitted (the others were cut by the time limit or contain a rule found)
    largest = 0
    covered = models
    for i, m in enumerate(models):
        if time.monotonic() > deadline:
            timed_out = True
            covered = models[:i]
            break
        if any(m.p >= p and m.q >= q for p, q in hits[m.family]):
            continue  # contains a rule already found: its solutions are not unique
        if m.family == "alg" and cfinite:
            continue  # the rational generating function is known; algebraic adds nothing
        tried += 1
        largest = m.unknowns
        rule: Rule | None
        if m.family == "rec":
            rule = fit_recurrence(a, offset, m.p, m.q, min_checks, a_mod)
        else:
            rule = fit_algebraic(series.a, offset, m.p, m.q, min_checks, series)
        if rule is not None:
            found.append(rule)
            hits[m.family].append((m.p, m.q))
            if isinstance(rule, Recurrence) and rule.degree == 0:
                cfinite = True
    guesses = [Guess(group, a, offset) for group in _group(found, a)]
    for g in guesses:
        if g._recurrence_rule is None:
            g._derived = _derive_recurrence(g, deadline, min_checks, max_unknowns)
    guesses.sort(key=lambda g: _simplicity(g.primary))
    reason = _reason(guesses, N, models, covered, largest, timed_out, time_limit, min_checks,
                     max_unknowns)
    return Guesses(guesses, reason=reason, n_terms=N, offset=offset, timed_out=timed_out,
                   models_tried=tried, max_unknowns=largest)


def _group(rules: list[Rule], a: list[int]) -> list[list[Rule]]:
    """Rules predicting the same next terms are one guess."""
    groups: list[tuple[list[int | Fraction], list[Rule]]] = []
    for rule in rules:
        ext = _extend_upto(rule, a, COMPARE_TERMS)
        for key, members in groups:
            common = min(len(key), len(ext))
            if common >= min(10, COMPARE_TERMS) and key[:common] == ext[:common]:
                members.append(rule)
                break
        else:
            groups.append((ext, [rule]))
    return [members for _, members in groups]


def _derive_recurrence(g: Guess, deadline: float, min_checks: int,
                       max_unknowns: int) -> Recurrence | None:
    """A recurrence for an algebraic generating function, guessed on terms it generates."""
    more = max(2 * len(g.terms), 40)
    try:
        ext = g.terms + [int(q) for q in g.primary.extend(g.terms, more - len(g.terms))
                         if Fraction(q).denominator == 1]
    except ValueError:
        return None
    if len(ext) < more:
        return None
    for m in _models(len(ext), min_checks, max_unknowns):
        if m.family != "rec" or m.unknowns == 0:
            continue
        if time.monotonic() > deadline:
            return None
        rec = fit_recurrence(ext, g.offset, m.p, m.q, min_checks)
        if rec is not None:
            return rec
    return None


def _reason(guesses: list[Guess], N: int, models: list[_Model], covered: list[_Model],
            largest: int, timed_out: bool, time_limit: float | None, min_checks: int,
            max_unknowns: int) -> str:
    """Why the list is empty (what was tried, what more terms would allow), or was cut short."""
    cut = ""
    if timed_out:
        cut = (f"the search stopped at the time limit ({time_limit:g} s) after trying rules "
               f"with up to {largest} unknowns; give a larger time limit to try larger ones")
    if guesses:
        return cut + "." if timed_out else ""
    if not covered:
        return f"no rule found: {cut}."
    largest_rec = max((m.p for m in covered if m.family == "rec"), default=0)
    largest_deg = max((m.q for m in covered if m.family == "rec" and m.p == 1), default=0)
    algebraic = max((m.p for m in covered if m.family == "alg"), default=0)
    alg = (f" and no algebraic generating function (up to degree {algebraic} in G)"
           if algebraic else "")
    poly = (f"; polynomial coefficients up to degree {largest_deg} for order 1"
            if largest_deg else "")
    text = (f"no rule found: no linear recurrence (constant coefficients up to order "
            f"{largest_rec}{poly}){alg} fits these {N} terms and predicts the later ones. "
            f"Every rule must hold on at least {min_checks} terms it was not fitted on, so {N} "
            f"terms can check rules with at most {max(m.unknowns for m in models)} unknowns")
    if not timed_out and largest < max_unknowns:
        text += ("; more terms let larger rules be checked (a rule with u unknowns and order r "
                 f"needs u + r + {min_checks} terms")
        examples = [(_Model(2, "rec", 2, 0), "a recurrence of order 2 with constant coefficients"),
                    (_Model(5, "rec", 2, 1), "one of order 2 with linear coefficients")]
        shown = [f"{what} {_terms_needed(m, min_checks)}" for m, what in examples
                 if _terms_needed(m, min_checks) > N]
        text += (": " + ", ".join(shown) if shown else "") + ")"
    return text + (f"; {cut}" if timed_out else "") + "."
