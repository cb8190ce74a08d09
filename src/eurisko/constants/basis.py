"""The known constants that answers are built from.

The basis is kept small on purpose: every constant added is one more place where chance could
produce a fit, and the claim rule charges for it (see `eurisko.constants.relations`). It is chosen
so that its members are believed to be linearly independent over the rationals (no ζ(2) next to
π², no log 4 next to log 2), because a relation among the basis constants themselves would be
found instead of one involving the input.

``DEFAULT_BASIS`` (linear and Möbius searches):

    π, π², π³, e, e², γ, Catalan's G, ζ(3), ζ(5), log 2, log 3, log 5, log π, √2, √3, √5, √π,
    π√3, π log 2, log² 2, Γ(1/4), Γ(1/3), sin 1, cos 1, tan 1, E1(1) = -Ei(-1)

- π², π³, π log 2, log² 2, π√3: the products that sums and integrals produce most often
  (ζ(2) = π²/6, Li2(1/2) = π²/12 - log² 2/2, sums over residues mod 3 give π√3).
- e² and sin 1, cos 1, tan 1: values of exp and tan at small arguments, so that Möbius transforms
  reach coth 1 = (e²+1)/(e²-1) and tan 1.
- E1(1): the exponential integral, so that the Euler-Gompertz constant e·E1(1) is reachable.

``LINEAR_GROUPS``: three groups of up to 8 of these, searched by one PSLQ run each for
combinations of three or more (π²/6 + log 2 - γ/2 and the like).

``POWER_ATOMS`` (products of powers, found by a linear relation among logarithms): the exponents
of e and e^π and the primes 2, 3, 5, 7, π, Γ(1/4), Γ(1/3), γ, G, ζ(3), log 2, E1(1), searched in
the three groups of ``POWER_GROUPS``; so e^π, π·e, √(2π), Γ(1/4)²/√π and similar are found.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy

from eurisko.constants._numbers import to_mpf

_S = sympy.S
_QUARTER, _THIRD = sympy.Rational(1, 4), sympy.Rational(1, 3)


@dataclass(frozen=True)
class BasisConstant:
    """A named known constant: ``name`` for relation text, ``expr`` for formulas and values."""

    name: str
    expr: sympy.Expr

    def value(self, dps: int) -> mpmath.mpf:
        """The constant rounded to ``dps`` digits (cached)."""
        return _value(self.expr, dps)


_CACHE: dict[tuple[str, int], mpmath.mpf] = {}


def _value(expr: sympy.Expr, dps: int) -> mpmath.mpf:
    key = (sympy.srepr(expr), dps)
    if key not in _CACHE:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        with mpmath.workdps(dps + 10):
            exact = to_mpf(sympy.N(expr, dps + 10))
        with mpmath.workdps(dps):
            _CACHE[key] = +exact
    return _CACHE[key]


def _c(name: str, expr: sympy.Expr) -> BasisConstant:
    return BasisConstant(name, expr)


DEFAULT_BASIS: tuple[BasisConstant, ...] = (
    _c("pi", sympy.pi), _c("pi^2", sympy.pi ** 2), _c("pi^3", sympy.pi ** 3), _c("e", sympy.E),
    _c("e^2", sympy.exp(2)), _c("gamma", sympy.EulerGamma), _c("Catalan", sympy.Catalan),
    _c("zeta(3)", sympy.zeta(3)), _c("zeta(5)", sympy.zeta(5)), _c("log(2)", sympy.log(2)),
    _c("log(3)", sympy.log(3)), _c("log(5)", sympy.log(5)), _c("log(pi)", sympy.log(sympy.pi)),
    _c("sqrt(2)", sympy.sqrt(2)), _c("sqrt(3)", sympy.sqrt(3)), _c("sqrt(5)", sympy.sqrt(5)),
    _c("sqrt(pi)", sympy.sqrt(sympy.pi)), _c("pi*sqrt(3)", sympy.pi * sympy.sqrt(3)),
    _c("pi*log(2)", sympy.pi * sympy.log(2)), _c("log(2)^2", sympy.log(2) ** 2),
    _c("Gamma(1/4)", sympy.gamma(_QUARTER)), _c("Gamma(1/3)", sympy.gamma(_THIRD)),
    _c("sin(1)", sympy.sin(1)), _c("cos(1)", sympy.cos(1)), _c("tan(1)", sympy.tan(1)),
    _c("E1(1)", sympy.expint(1, 1)),
)

# Exponents: log of the atom is the constant itself (e**1, e**pi).
POWER_EXPONENTS: tuple[BasisConstant, ...] = (_c("1", _S.One), _c("pi", sympy.pi))
POWER_ATOMS: tuple[BasisConstant, ...] = (
    _c("2", _S(2)), _c("3", _S(3)), _c("5", _S(5)), _c("7", _S(7)), _c("pi", sympy.pi),
    _c("Gamma(1/4)", sympy.gamma(_QUARTER)), _c("Gamma(1/3)", sympy.gamma(_THIRD)),
    _c("gamma", sympy.EulerGamma), _c("Catalan", sympy.Catalan), _c("zeta(3)", sympy.zeta(3)),
    _c("log(2)", sympy.log(2)), _c("E1(1)", sympy.expint(1, 1)),
)
_BY_NAME = {c.name: c for c in DEFAULT_BASIS}
# Linear combinations of three or more constants are searched by one PSLQ run per group of
# constants that occur together (sums and integrals: zeta values and logs; Euler's gamma with
# logs; square roots with pi and logs).
LINEAR_GROUPS: tuple[tuple[BasisConstant, ...], ...] = tuple(
    tuple(_BY_NAME[n] for n in names) for names in (
        ("pi", "pi^2", "pi^3", "zeta(3)", "log(2)", "pi*log(2)", "log(2)^2", "Catalan"),
        ("gamma", "log(2)", "log(3)", "log(5)", "log(pi)", "pi", "pi*sqrt(3)"),
        ("pi", "sqrt(2)", "sqrt(3)", "sqrt(5)", "pi*sqrt(3)", "log(2)", "log(3)"),
    ))

_ATOM = {a.name: a for a in POWER_ATOMS}
# Searched one group at a time (a PSLQ run in 15 dimensions costs ten times one in 8):
# primes and pi; the Gamma values (lemniscate-type products); the other special constants.
POWER_GROUPS: tuple[tuple[BasisConstant, ...], ...] = tuple(
    tuple(_ATOM[n] for n in names) for names in (
        ("2", "3", "5", "7", "pi"),
        ("2", "3", "pi", "Gamma(1/4)", "Gamma(1/3)"),
        ("2", "pi", "gamma", "Catalan", "zeta(3)", "log(2)", "E1(1)"),
    ))


def make_basis(constants) -> tuple[BasisConstant, ...]:
    """A basis from SymPy expressions or strings (read with `parse_constant`)."""
    from eurisko.constants._numbers import parse_constant

    out = []
    for c in constants:
        if isinstance(c, BasisConstant):
            out.append(c)
            continue
        expr = parse_constant(c) if isinstance(c, str) else c
        if not isinstance(expr, sympy.Expr) or expr.free_symbols or expr.is_Rational:
            raise ValueError(f"basis constant {c!r} must be an irrational number such as "
                             "'pi' or 'zeta(3)'")
        out.append(BasisConstant(str(expr), expr))
    if not out:
        raise ValueError("the basis is empty; pass at least one constant or None for the default")
    return tuple(out)
