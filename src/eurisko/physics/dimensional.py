"""Dimensional analysis: a law between dimensional columns as a law between dimensionless groups.

Buckingham's Pi theorem: if ``y = F(x_1, ..., x_n)`` is a physical law, then
``y / scale(x) = f(z_1, ..., z_k)`` where ``scale`` is a monomial of the columns with y's units
and the ``z_j`` are dimensionless monomials, ``k = n - rank`` of them. The search then works
on fewer, dimensionless variables: I.10.7, ``m = m_0/sqrt(1 - v**2/c**2)`` with columns
``m_0, v, c``, becomes ``m/m_0 = f(v/c)``, and Planck's law, five columns, one group
``h*omega/(kb*T)``.

`analyze` finds the scale and the groups exactly (rational arithmetic on the exponent
matrix) and ranks a few alternative bases; `DimensionalAnalysis.transform` computes them on
data; `DimensionalAnalysis.to_original` writes a law found on the groups back in the
original variables; `scaled_target` says how to weight the search so that its loss on
``y/scale`` is the loss on ``y``.

How a basis is chosen. The groups are an integer basis of the nullspace of the exponent
matrix, the scale one rational solution of ``D p = d_y``; neither is unique. Each choice of
``rank`` "repeating" columns whose units are independent gives one basis (the others each
make one group with them, as in textbook dimensional analysis; it is the RREF nullspace of
the matrix with those columns first): every such choice is tried, each group is scaled to
coprime integers, and the bases are ranked by the size of their exponents (sum of absolute
values, then the number of columns used, then the largest). Ties go to the basis whose
repeating columns come later in the user's order, as constants (``c``, ``h``) usually do.
A group is written with its first column (in the user's order) to a positive power:
``v/c`` rather than ``c/v`` for columns ``m_0, v, c``, so bases never differ by a group's
orientation alone; bases whose scale or groups differ (``m*c**2`` against ``m*v**2``) are
alternatives, and `analyze` returns a few, best first, for the caller to try.

Units in other than SI (``km``, ``g``): the columns are converted to SI with each unit's
factor before the groups and the scale are computed, so the groups are the true
dimensionless numbers, and `to_original` puts the factors back as exact rationals (see
`eurisko.physics.units`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Any

import numpy as np
import sympy as sp

from eurisko.physics.units import BASE_DIMENSIONS, Unit, parse_unit, physical_constant
from eurisko.validation import check_bool, check_instance, check_int

__all__ = ["DimensionalAnalysis", "analyze", "scale_constant", "scaled_target"]

Vector = tuple[Fraction, ...]

# Constants whose absence most often unbalances a law, named in the reason `analyze` gives.
_SUSPECTS = (("c", "the speed of light"), ("h", "Planck's constant"),
             ("k_B", "Boltzmann's constant"), ("G", "Newton's constant"),
             ("e", "the elementary charge"), ("epsilon_0", "the vacuum permittivity"),
             ("N_A", "Avogadro's constant"))

# At most this many choices of repeating columns are tried (C(12, 6) = 924 fits).
_MAX_CHOICES = 1000


def _rref(rows: list[list[Fraction]]) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row echelon form over the rationals, and the pivot columns."""
    rows = [list(r) for r in rows]
    pivots: list[int] = []
    n_cols = len(rows[0]) if rows else 0
    r = 0
    for col in range(n_cols):
        pivot = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        lead = rows[r][col]
        rows[r] = [v / lead for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][col] != 0:
                k = rows[i][col]
                rows[i] = [a - k * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(col)
        r += 1
        if r == len(rows):
            break
    return rows, pivots


def _rank(columns: Sequence[Vector]) -> int:
    if not columns:
        return 0
    rows = [[col[d] for col in columns] for d in range(len(BASE_DIMENSIONS))]
    return len(_rref(rows)[1])


def _coprime(vector: Sequence[Fraction]) -> tuple[int, ...]:
    """A rational vector scaled to coprime integers (signs kept)."""
    lcm = math.lcm(*(v.denominator for v in vector)) if vector else 1
    ints = [int(v * lcm) for v in vector]
    g = math.gcd(*ints) or 1
    return tuple(i // g for i in ints)


def _oriented(group: tuple[int, ...]) -> tuple[int, ...]:
    """A group or its inverse: the one whose first column (in the user's order) is raised
    to a positive power, so ``v/c`` for columns ``m_0, v, c`` whichever column repeats."""
    first = next((v for v in group if v), 1)
    return group if first > 0 else tuple(-v for v in group)


def _exact(value: float) -> sp.Rational:
    """A unit's SI factor as a rational: 5/18 for km/h, 1/1000 for g, exact decimals else."""
    near = Fraction(value).limit_denominator(10**6)
    return sp.Rational(near.numerator, near.denominator) if float(near) == value \
        else sp.Rational(repr(value))


def _exponents(unit: Any, name: str) -> tuple[Vector, float]:
    """A `Unit`, a unit string or 7 exponents -> (exponents, SI factor)."""
    if isinstance(unit, Unit):
        return unit.exponents, unit.factor
    if isinstance(unit, str):
        parsed = parse_unit(unit, column=name)
        return parsed.exponents, parsed.factor
    label = repr(name)
    check_instance(unit, f"the unit of {label}", (Sequence, np.ndarray),
                   expected="a unit string, a Unit or 7 exponents")
    if len(unit) != len(BASE_DIMENSIONS):
        raise ValueError(f"the unit of {label} must have {len(BASE_DIMENSIONS)} exponents "
                         f"({', '.join(BASE_DIMENSIONS)}), got {len(unit)}")
    try:
        vector = tuple(Fraction(v).limit_denominator(1000) if isinstance(v, float)
                       else Fraction(v) for v in unit)
    except (TypeError, ValueError):
        raise ValueError(f"the exponents of {label} must be numbers, got {list(unit)!r}") \
            from None
    return vector, 1.0


def _unit_text(vector: Vector) -> str:
    return Unit("", vector).si


@dataclass(frozen=True)
class DimensionalAnalysis:
    """``y / scale(x) = f(z_1, ..., z_k)``, each ``z_j`` a dimensionless monomial of the columns.

    Attributes
    ----------
    names : the columns, in order.
    scale : the exponent of each column in y's scale monomial (exact; rational exponents
        such as 1/2 are possible, e.g. ``sqrt(G*M/r)``).
    groups : one integer exponent vector per group, coprime, small.
    factors : each column's SI factor (1 for a column in SI units); ``()`` means all 1.
    y_factor : the SI factor of y's unit.
    y_name : what `__str__` calls the target.

    >>> a = analyze(["kg", "m/s", "m/s"], "kg", ["m_0", "v", "c"])[0][0]
    >>> print(a)
    y/m_0 = f(v/c)
    """

    names: tuple[str, ...]
    scale: Vector
    groups: tuple[tuple[int, ...], ...]
    factors: tuple[float, ...] = ()
    y_factor: float = 1.0
    y_name: str = "y"

    @property
    def n_groups(self) -> int:
        """How many dimensionless groups; 0 means ``y = C * scale``."""
        return len(self.groups)

    @property
    def rank(self) -> int:
        """The rank of the columns' exponent matrix: ``len(names) - n_groups``."""
        return len(self.names) - len(self.groups)

    def _symbols(self, variable_symbols: Sequence[sp.Symbol] | None) -> list[sp.Symbol]:
        if variable_symbols is None:
            return [sp.Symbol(n, real=True) for n in self.names]
        symbols = list(variable_symbols)
        if len(symbols) != len(self.names):
            raise ValueError(f"variable_symbols must give one symbol per column "
                             f"({len(self.names)}: {list(self.names)}), got {len(symbols)}")
        return symbols

    @staticmethod
    def _monomial(exponents: Sequence[Fraction | int], symbols: Sequence[sp.Expr]) -> sp.Expr:
        """prod x**p; a rational p takes ``Abs(x)`` (x**p has no real value for x < 0),
        which SymPy writes as x for a positive symbol."""
        out = sp.Integer(1)
        for p, x in zip(exponents, symbols, strict=True):
            if p:
                p = sp.Rational(p.numerator, p.denominator) if isinstance(p, Fraction) \
                    else sp.Integer(p)
                out *= (x if p.is_integer else sp.Abs(x)) ** p
        return out

    def _si_symbols(self, symbols: Sequence[sp.Symbol]) -> list[sp.Expr]:
        factors = self.factors or (1.0,) * len(self.names)
        return [x if f == 1 else _exact(f) * x for f, x in zip(factors, symbols, strict=True)]

    def group_expressions(self, variable_symbols: Sequence[sp.Symbol] | None = None
                          ) -> list[sp.Expr]:
        """The groups as monomials of the columns (in SI, factors written out)."""
        xs = self._si_symbols(self._symbols(variable_symbols))
        return [self._monomial(g, xs) for g in self.groups]

    def scale_expression(self, variable_symbols: Sequence[sp.Symbol] | None = None
                         ) -> sp.Expr:
        """The scale in the raw columns: ``y = scale_expression * f(groups)``."""
        xs = self._si_symbols(self._symbols(variable_symbols))
        return self._monomial(self.scale, xs) / _exact(self.y_factor)

    def __str__(self) -> str:
        scale = self._monomial(self.scale, [sp.Symbol(n) for n in self.names])
        groups = [self._monomial(g, [sp.Symbol(n) for n in self.names]) for g in self.groups]
        left = self.y_name if scale == 1 else f"{self.y_name}/({scale})" \
            if isinstance(scale, sp.Mul) else f"{self.y_name}/{scale}"
        return f"{left} = " + (f"f({', '.join(map(str, groups))})" if groups else "C")

    def _check_X(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim == 1 and len(self.names) == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != len(self.names):
            raise ValueError(f"X must have one column per variable ({len(self.names)}: "
                             f"{list(self.names)}), got an array of shape {X.shape}")
        if self.factors:
            X = X * np.asarray(self.factors, dtype=float)
        return X

    @staticmethod
    def _power_product(X: np.ndarray, exponents: Sequence[Fraction | int]) -> np.ndarray:
        """prod_i x_i**p_i per row, through logs (no overflow in between) with exact signs:
        an integer power keeps the sign of a negative x; a fractional one uses |x|."""
        log_size = np.zeros(X.shape[0])
        negative = np.zeros(X.shape[0], dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            for i, p in enumerate(exponents):
                if not p:
                    continue
                log_size = log_size + float(p) * np.log(np.abs(X[:, i]))
                if Fraction(p).denominator == 1 and p % 2:
                    negative ^= X[:, i] < 0
            return np.where(negative, -1.0, 1.0) * np.exp(log_size)

    def transform(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """The groups and the scale on data: ``(Z, scale_values)``, ``Z`` of shape (rows, k).

        ``X`` holds the columns in ``names`` order, in the user's units; ``y / scale_values``
        is the dimensionless target for the search. Groups have integer exponents, so a
        negative column keeps its sign (``v/c`` with ``v < 0`` is negative); a fractional
        exponent in the scale takes ``|x|``. A zero in a column makes the group 0 or inf as
        the power says.
        """
        X = self._check_X(X)
        Z = np.column_stack([self._power_product(X, g) for g in self.groups]) if self.groups \
            else np.empty((X.shape[0], 0))
        return Z, self._power_product(X, self.scale) / self.y_factor

    def to_original(self, expr_in_groups: sp.Expr, group_symbols: Sequence[sp.Symbol],
                    variable_symbols: Sequence[sp.Symbol] | None = None, *,
                    simplify: bool = False) -> sp.Expr:
        """``f(z)`` found on the groups -> the law for y in the original variables.

        Each group symbol is replaced by its monomial (exact rational exponents, unit factors
        as exact rationals) and the result is multiplied by the scale: for I.10.7, ``f(z0) =
        1/sqrt(1 - z0**2)`` gives ``m_0/sqrt(1 - v**2/c**2)``. Then `sympy.powsimp`, whose work
        grows with the size of the expression only; ``simplify=True`` also runs
        `sympy.simplify` (seconds on a large expression) when the expression is small, and
        keeps its answer if shorter.

        >>> a = analyze(["kg", "m/s", "m/s"], "kg", ["m_0", "v", "c"])[0][0]
        >>> z0 = sp.Symbol("z0")
        >>> a.to_original(1 / sp.sqrt(1 - z0**2), [z0])
        m_0/sqrt(1 - v**2/c**2)
        """
        check_instance(expr_in_groups, "expr_in_groups", sp.Expr, expected="a SymPy expression")
        group_symbols = list(group_symbols)
        if len(group_symbols) != len(self.groups):
            raise ValueError(f"group_symbols must give one symbol per group ({len(self.groups)}"
                             f"), got {len(group_symbols)}")
        check_bool(simplify, "simplify")
        symbols = self._symbols(variable_symbols)
        stray = expr_in_groups.free_symbols - set(group_symbols)
        clash = stray & set(symbols)
        if clash:
            raise ValueError(f"expr_in_groups uses the variables {sorted(map(str, clash))} "
                             "directly; a law on the groups must use the group symbols only")
        groups = self.group_expressions(symbols)
        law = self.scale_expression(symbols) * expr_in_groups.xreplace(
            dict(zip(group_symbols, groups, strict=True)))
        law = sp.powsimp(law)
        if simplify and sp.count_ops(law) <= 40:
            shorter = sp.simplify(law)
            if sp.count_ops(shorter) < sp.count_ops(law):
                law = shorter
        return law


def _solve(basis: list[Vector], targets: list[Vector]) -> list[list[Fraction]] | None:
    """Coefficients a with sum_b a_b * basis_b == target, for each target; None if one is
    outside the span. ``basis`` is independent."""
    d = len(BASE_DIMENSIONS)
    rows = [[b[i] for b in basis] + [t[i] for t in targets] for i in range(d)]
    reduced, pivots = _rref(rows)
    r = len(basis)
    if pivots[:r] != list(range(r)) or any(p >= r for p in pivots):
        return None
    return [[reduced[i][r + j] for i in range(r)] for j in range(len(targets))]


def _candidate(columns: list[Vector], y: Vector, repeating: tuple[int, ...]
               ) -> tuple[Vector, tuple[tuple[int, ...], ...]] | None:
    """The scale and groups with ``repeating`` as the repeating columns (None if dependent)."""
    n = len(columns)
    others = [j for j in range(n) if j not in repeating]
    solution = _solve([columns[i] for i in repeating], [y] + [columns[j] for j in others])
    if solution is None:
        return None
    scale = [Fraction(0)] * n
    for i, a in zip(repeating, solution[0], strict=True):
        scale[i] = a
    groups = []
    for j, coeffs in zip(others, solution[1:], strict=True):
        vector = [Fraction(0)] * n
        vector[j] = Fraction(1)
        for i, a in zip(repeating, coeffs, strict=True):
            vector[i] = -a
        groups.append(_oriented(_coprime(vector)))
    return tuple(scale), tuple(groups)


def _size(scale: Vector, groups: tuple[tuple[int, ...], ...]) -> tuple:
    vectors = [*groups, scale]
    return (sum(abs(v) for vec in vectors for v in vec),
            sum(1 for vec in vectors for v in vec if v),
            max((abs(v) for vec in vectors for v in vec), default=0))


def _unbalanced(columns: list[Vector], y: Vector, names: list[str], y_name: str) -> str:
    listed = ", ".join(f"{n}: {_unit_text(c)}" for n, c in zip(names, columns, strict=True))
    text = (f"the unit of {y_name} ({_unit_text(y)}) cannot be made from the columns' units "
            f"({listed or 'no columns'})")
    absent = [BASE_DIMENSIONS[d] for d in range(len(BASE_DIMENSIONS))
              if y[d] and not any(c[d] for c in columns)]
    if absent:
        text += f"; {' and '.join(absent)} appears in {y_name} but in no column"
    rank = _rank(columns)
    helpers = []
    for symbol, words in _SUSPECTS:
        extra = physical_constant(symbol).unit.exponents
        if _rank([*columns, extra, y]) == _rank([*columns, extra]) > rank:
            helpers.append(f"{symbol} ({words})")
    cause = "a dimensional constant that is not a column is missing"
    if helpers:
        cause += f" (adding {' or '.join(helpers)} as a column would balance them)"
    return f"{text}: {cause}, or a unit is wrong"


def analyze(x_units: Sequence[Any], y_unit: Any, names: Sequence[str] | None = None, *,
            y_name: str = "y", alternatives: int = 4
            ) -> tuple[tuple[DimensionalAnalysis, ...] | None, str]:
    """The scale and the dimensionless groups of ``y = F(x)``, a few alternatives, best first.

    ``x_units`` has one entry per column: a unit string (``"m/s"``), a `Unit`, or 7
    exponents over `BASE_DIMENSIONS`; ``y_unit`` likewise. Returns ``(analyses, "")``, or
    ``(None, reason)`` when no monomial of the columns has y's units: the reason names the
    unit that cannot be made and the likely cause (a dimensional constant such as ``c`` that
    is not a column, or a wrong unit). An analysis with no groups means ``y = C * scale``
    (`scale_constant` fits C).

    >>> analyses, why = analyze(["kg", "m/s", "m/s"], "J", ["m", "v", "c"])
    >>> [str(a) for a in analyses]
    ['y/(c**2*m) = f(v/c)', 'y/(m*v**2) = f(v/c)']
    >>> analyze(["kg"], "J", ["m"])[1]  # doctest: +ELLIPSIS
    "the unit of y (kg*m^2/s^2) cannot be made from ... (adding c (the speed of light) ..."
    """
    check_instance(x_units, "x_units", (Sequence, np.ndarray),
                   expected="a list of units, one per column")
    if isinstance(x_units, str):
        raise ValueError(f"x_units must be a list of units, one per column, got the single "
                         f"string {x_units!r}; e.g. [{x_units!r}] for one column")
    names = [f"x{i}" for i in range(len(x_units))] if names is None else [str(n) for n in names]
    if len(names) != len(x_units):
        raise ValueError(f"names must give one name per unit ({len(x_units)}), got "
                         f"{len(names)}")
    check_instance(y_name, "y_name", str)
    alternatives = check_int(alternatives, "alternatives", low=1, what="bases")
    parsed = [_exponents(u, n) for u, n in zip(x_units, names, strict=True)]
    columns = [p[0] for p in parsed]
    y, y_factor = _exponents(y_unit, y_name)
    rank = _rank(columns)
    if _rank([*columns, y]) > rank:
        return None, _unbalanced(columns, y, names, y_name)
    factors = tuple(p[1] for p in parsed)
    factors = () if all(f == 1 for f in factors) else factors
    found: dict[tuple, tuple[tuple, DimensionalAnalysis]] = {}
    # Latest columns first, so that ties go to repeating columns late in the user's order.
    choices = combinations(range(len(columns) - 1, -1, -1), rank)
    for tried, repeating in enumerate(choices):
        if tried >= _MAX_CHOICES:
            break
        candidate = _candidate(columns, y, tuple(sorted(repeating)))
        if candidate is None:
            continue
        scale, groups = candidate
        key = (scale, frozenset(groups))
        order = (_size(scale, groups), tried)
        if key not in found or order < found[key][0]:
            found[key] = (order, DimensionalAnalysis(tuple(names), scale, groups, factors,
                                                     y_factor, y_name))
    ranked = sorted(found.values(), key=lambda item: item[0])
    return tuple(a for _, a in ranked[:alternatives]), ""


def scaled_target(y: Any, scale_values: Any, sample_weight: Any = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The search's target ``t = y / scale`` and weights ``w' = w * scale**2``.

    With these weights the weighted squared loss of ``f`` on ``t`` is the loss of
    ``scale * f`` on ``y``: ``sum w' (t - f)**2 == sum w (y - scale*f)**2``, so fitting on
    the groups optimizes what the user asked. Rows whose scale is 0 or not finite get
    ``t = 0`` and weight 0: there ``scale * f`` does not depend on ``f``, so their loss is
    the same for every formula. (Unit weights instead would fit the relative error.)

    >>> t, w = scaled_target([2.0, 6.0], [1.0, 3.0])
    >>> t.tolist(), w.tolist()
    ([2.0, 2.0], [1.0, 9.0])
    """
    y = np.asarray(y, dtype=float).ravel()
    s = np.asarray(scale_values, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y and scale_values must have the same length, got {y.size} and "
                         f"{s.size}")
    w = np.ones_like(y) if sample_weight is None \
        else np.asarray(sample_weight, dtype=float).ravel()
    if w.shape != y.shape:
        raise ValueError(f"sample_weight must have one weight per row ({y.size}), got {w.size}")
    usable = np.isfinite(s) & (s != 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = np.where(usable, y / np.where(usable, s, 1.0), 0.0)
        weights = np.where(usable, w * np.where(usable, s, 0.0) ** 2, 0.0)
    return t, weights


def scale_constant(y: Any, scale_values: Any, sample_weight: Any = None) -> float:
    """The least-squares ``C`` of ``y = C * scale`` (the law when there are no groups).

    >>> scale_constant([2.0, 4.0], [1.0, 2.0])
    2.0
    """
    t, w = scaled_target(y, scale_values, sample_weight)
    total = float(np.sum(w))
    if not total > 0:
        raise ValueError("no row has a finite, nonzero scale and a positive weight; "
                         "C cannot be fitted")
    return float(np.sum(w * t) / total)
