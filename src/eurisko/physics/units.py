"""Units as a physicist writes them, read by pint: exponents over the SI base dimensions.

A column's unit (``"kg"``, ``"m/s"``, ``"N*m"``, ``"J/K"``, ``"kg*m^2/s^2"``; ``"1"`` or ``""``
for a pure number) becomes a `Unit`: its exponent vector over the seven SI base dimensions
(`BASE_DIMENSIONS`), exact as `fractions.Fraction`, and its SI ``factor``, the size of one of
this unit in SI base units (``km`` -> 1000, ``g`` -> 0.001, ``J`` -> 1).

Why the factor is kept: dimensional analysis needs only the exponents, but a group computed
from raw numbers is the true dimensionless number only when its columns are in consistent
units. ``v`` in km/s over ``c`` in m/s is ``v/c`` times 1000, and the law found on it would
carry a stray 1000 in place of the constants physics knows (``1/sqrt(1 - z**2)``).
`eurisko.physics.dimensional` therefore converts each column to SI (multiplies by its factor)
before it forms the groups and the scale, and writes the factor back, exactly, into the law it
returns in the user's own variables; with every unit in SI all factors are 1 and nothing
changes.

Pint reads the text (its own tokenizer; nothing is evaluated as Python). Units with an offset
(``degC``, ``degF``) are refused: a law in absolute temperature needs kelvin, and a column of
temperature differences can say so with ``delta_degC``. Write a rational power with
parentheses, ``m^(1/2)``: ``m^1/2`` reads as metres divided by 2.

PMLB's Feynman metadata writes units its own way (``"Velocity, m^1 * s^(-1)"``), with ``T``
for the kelvin (pint would read tesla) and the volt ``V`` as a base unit in place of the
ampere: `pmlb_unit` reads those. `physical_constant` looks up a named constant (``c``, ``h``,
``hbar``, ``k_B``, ``G``, ``e``, ``epsilon_0``, ...) in pint's table, or takes the user's own
``(value, "unit")``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

from eurisko.validation import check_instance, check_number

__all__ = ["BASE_DIMENSIONS", "BASE_SYMBOLS", "CONSTANT_ALIASES", "Constant", "Unit",
           "parse_unit", "parse_units", "physical_constant", "pmlb_unit"]

#: The seven SI base dimensions, in the order of every exponent vector.
BASE_DIMENSIONS = ("length", "mass", "time", "current", "temperature", "amount", "luminosity")
#: The SI base unit of each dimension, as `Unit.si` writes them.
BASE_SYMBOLS = ("m", "kg", "s", "A", "K", "mol", "cd")

_PINT_DIMENSIONS = {f"[{d}]": i for i, d in enumerate(BASE_DIMENSIONS)}
_PINT_DIMENSIONS["[substance]"] = BASE_DIMENSIONS.index("amount")


@cache
def _registry():
    """One pint registry of our own (the application registry is the user's to configure)."""
    import pint

    return pint.UnitRegistry()


def _fraction(value: Any, text: str) -> Fraction:
    """A pint exponent (int or float) as an exact fraction with a small denominator."""
    out = Fraction(value).limit_denominator(1000)
    if abs(float(out) - float(value)) > 1e-9:
        raise ValueError(f"unit {text!r} has exponent {value}, which is not a simple fraction; "
                         "write rational powers as m^(1/2)")
    return out


@dataclass(frozen=True)
class Unit:
    """A unit: its ``exponents`` over `BASE_DIMENSIONS` (exact) and its SI ``factor``.

    ``text`` is the unit as it was written. Two units with the same exponents measure the
    same kind of quantity; their factors say how large one of each is in SI.

    >>> u = parse_unit("km/h")
    >>> u.si, round(u.factor, 6)
    ('m/s', 0.277778)
    >>> parse_unit("J/K").si
    'kg*m^2/(s^2*K)'
    """

    text: str
    exponents: tuple[Fraction, ...]
    factor: float = 1.0

    @property
    def dimensionless(self) -> bool:
        """True for a pure number (``""``, ``"1"``, ``"rad"``, ``"percent"``)."""
        return not any(self.exponents)

    @property
    def si(self) -> str:
        """The dimension written in SI base units, ``"kg*m^2/s^2"`` (``"1"`` for none)."""
        def power(symbol: str, p: Fraction) -> str:
            if p == 1:
                return symbol
            return f"{symbol}^{p}" if p.denominator == 1 else f"{symbol}^({p})"
        # Mass first, as physicists write kg*m^2/s^2.
        order = (1, 0, 2, 3, 4, 5, 6)
        up = [power(BASE_SYMBOLS[i], self.exponents[i]) for i in order if self.exponents[i] > 0]
        down = [power(BASE_SYMBOLS[i], -self.exponents[i]) for i in order
                if self.exponents[i] < 0]
        text = "*".join(up) or "1"
        if down:
            text += "/" + (down[0] if len(down) == 1 else "(" + "*".join(down) + ")")
        return text


def _from_quantity(quantity: Any, text: str, column: str | None) -> Unit:
    where = f" for column {column!r}" if column is not None else ""
    base = quantity.to_base_units()
    exponents = [Fraction(0)] * len(BASE_DIMENSIONS)
    for name, power in base.dimensionality.items():
        if name not in _PINT_DIMENSIONS:
            raise ValueError(f"unit {text!r}{where} has the dimension {name}, which is not one "
                             "of the seven SI base dimensions; give it in SI units")
        exponents[_PINT_DIMENSIONS[name]] = _fraction(power, text)
    factor = float(base.magnitude)
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"unit {text!r}{where} is {factor} in SI units; a unit must be a "
                         "positive size, e.g. 'km' or 'm/s'")
    return Unit(text, tuple(exponents), factor)


def parse_unit(text: str, column: str | None = None) -> Unit:
    """Read one unit string with pint: ``"kg*m^2/s^2"`` -> `Unit` (exponents and SI factor).

    ``""`` and ``"1"`` are dimensionless. ``column`` names the column in error messages, which
    are one line: ``unknown unit 'meter/sek' for column 'v': 'sek' is not defined ...``.

    >>> parse_unit("kg*m^2/s^2").exponents[:3]
    (Fraction(2, 1), Fraction(1, 1), Fraction(-2, 1))
    >>> parse_unit("g").factor
    0.001
    >>> parse_unit("m/sek", column="v")
    Traceback (most recent call last):
    ...
    ValueError: unknown unit 'm/sek' for column 'v': 'sek' is not defined in pint's registry; \
write units as pint reads them, e.g. 'm/s', 'kg*m^2/s^2', 'J/K' or '1' for a pure number
    """
    import pint

    what = "unit" if column is None else f"the unit of column {column!r}"
    check_instance(text, what, str, expected="a unit string such as 'm/s' or '1'")
    where = f" for column {column!r}" if column is not None else ""
    advice = ("write units as pint reads them, e.g. 'm/s', 'kg*m^2/s^2', 'J/K' or '1' for a "
              "pure number")
    ureg = _registry()
    stripped = text.strip()
    try:
        quantity = ureg.Quantity(1) if stripped in ("", "1") else ureg.parse_expression(stripped)
        if not isinstance(quantity, ureg.Quantity):  # "2" parses to a plain number
            quantity = ureg.Quantity(quantity)
        offset = ureg.Quantity(0, quantity.units).to_base_units().magnitude != 0
    except pint.errors.UndefinedUnitError as e:
        names = ", ".join(repr(n) for n in e.args) or "a name"
        raise ValueError(f"unknown unit {text!r}{where}: {names} is not defined in pint's "
                         f"registry; {advice}") from None
    except pint.errors.OffsetUnitCalculusError:
        offset = True
    except Exception as e:  # noqa: BLE001 - pint's tokenizer raises several kinds; one message
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(f"could not read unit {text!r}{where} ({detail}); {advice}") from None
    if offset:
        raise ValueError(f"unit {text!r}{where} has an offset (its zero is not zero); convert "
                         "the column to kelvin, or write 'delta_degC' for temperature "
                         "differences")
    return _from_quantity(quantity, text, column)


def parse_units(units: Mapping[str, str] | Sequence[str], names: Sequence[str],
                what: str = "X_units") -> list[Unit]:
    """The units of the columns ``names``: a mapping ``{column: unit}`` or one per column.

    Every column needs a unit (``"1"`` for a pure number): a column left out would silently
    count as dimensionless and could make a wrong law look right.

    >>> [u.si for u in parse_units({"v": "km/s", "m_0": "kg"}, ["m_0", "v"])]
    ['kg', 'm/s']
    """
    names = [str(n) for n in names]
    expected = "a dict {column: unit} or a list of units, one per column"
    if isinstance(units, str):  # a str is a Sequence too, of letters
        raise ValueError(f"{what} must be {expected}, got the single string {units!r}; "
                         f"e.g. [{units!r}] for one column")
    check_instance(units, what, (Mapping, Sequence), expected=expected)
    if isinstance(units, Mapping):
        unknown = [k for k in units if k not in names]
        if unknown:
            raise ValueError(f"{what} names {unknown}, which are not columns; the columns are "
                             f"{names}")
        missing = [n for n in names if n not in units]
        if missing:
            raise ValueError(f"{what} gives no unit for columns {missing}; give every column a "
                             "unit, '1' for a pure number")
        texts = [units[n] for n in names]
    else:
        if len(units) != len(names):
            raise ValueError(f"{what} must give one unit per column ({len(names)}: {names}), "
                             f"got {len(units)}")
        texts = list(units)
    return [parse_unit(t, column=n) for t, n in zip(texts, names, strict=True)]


# PMLB's Feynman metadata: "Velocity, m^1 * s^(-1)". T is the kelvin and V the volt there.
_PMLB_SYMBOLS = {"m": "meter", "s": "second", "kg": "kilogram", "T": "kelvin", "V": "volt",
                 "K": "kelvin", "A": "ampere", "mol": "mole", "cd": "candela"}
_PMLB_FACTOR = re.compile(r"^\s*([A-Za-z]+)\s*\^\s*(\(\s*[-+]?\d+\s*\)|[-+]?\d+)\s*$")


def pmlb_unit(description: str) -> Unit:
    """The unit in a PMLB Feynman ``description``: ``"Velocity, m^1 * s^(-1)"`` -> m/s.

    The unit is the last comma-separated part (the parts before it name the quantity and,
    for a target, the variable: ``"L_rad, Spectral radiance, s^(-2) * kg^1"``);
    ``"Dimensionless"`` is a pure number. PMLB writes ``T`` for the kelvin and uses the volt
    ``V`` as a base unit; both are read as such.

    >>> pmlb_unit("Temperature, T^1").si
    'K'
    >>> pmlb_unit("Charge, m^2 * s^(-2) * kg^1 * V^(-1)").si
    's*A'
    """
    check_instance(description, "description", str, expected="a PMLB unit description")
    last = description.split(",")[-1].strip()
    if last.lower() == "dimensionless":
        return Unit(description, (Fraction(0),) * len(BASE_DIMENSIONS))
    pieces = []
    for factor in last.split("*"):
        m = _PMLB_FACTOR.match(factor)
        if not m or m.group(1) not in _PMLB_SYMBOLS:
            raise ValueError(f"could not read the PMLB unit {last!r} in {description!r}: "
                             f"expected factors like 'm^1' or 's^(-2)' of "
                             f"{', '.join(_PMLB_SYMBOLS)} joined by '*', or 'Dimensionless'")
        power = int(m.group(2).strip("() "))
        pieces.append(f"{_PMLB_SYMBOLS[m.group(1)]}**{power}")
    unit = parse_unit(" * ".join(pieces))
    return Unit(description, unit.exponents, unit.factor)


@dataclass(frozen=True)
class Constant:
    """A physical constant: its ``value`` in SI units and its `Unit` (``unit.factor`` is 1)."""

    name: str
    value: float
    unit: Unit


# Names physicists use that pint reads as something else (h: hour, G: gauss, kb: kilobarn).
CONSTANT_ALIASES = {
    "h": "planck_constant", "G": "newtonian_constant_of_gravitation",
    "k": "boltzmann_constant", "k_B": "boltzmann_constant", "kB": "boltzmann_constant",
    "kb": "boltzmann_constant", "epsilon_0": "vacuum_permittivity",
    "eps_0": "vacuum_permittivity", "eps0": "vacuum_permittivity",
    "epsilon0": "vacuum_permittivity", "mu0": "vacuum_permeability",
}


def physical_constant(constant: str | tuple[float, str], name: str | None = None) -> Constant:
    """A constant that is not a column: a name in pint's table, or ``(value, "unit")``.

    Names are pint's (``"speed_of_light"``, ``"hbar"``, ``"mu_0"``, ``"N_A"``, ...) plus the
    symbols physicists write where pint means something else: ``h`` is Planck's constant
    (not the hour), ``G`` Newton's (not the gauss), ``k``/``k_B``/``kb`` Boltzmann's,
    ``epsilon_0``/``eps0`` the vacuum permittivity. A pair ``(value, unit)`` is the user's
    own, converted to SI. ``name`` labels the result (default: the name looked up).

    >>> c = physical_constant("c")
    >>> c.value, c.unit.si
    (299792458.0, 'm/s')
    >>> physical_constant((1.5, "km"), name="L").value
    1500.0
    """
    if isinstance(constant, tuple):
        if len(constant) != 2:
            raise ValueError(f"a constant given as a tuple must be (value, unit string), got "
                             f"{constant!r}")
        label = name or "constant"
        value = check_number(constant[0], f"the value of {label}")
        unit = parse_unit(constant[1], column=label)
        return Constant(label, value * unit.factor, Unit(unit.si, unit.exponents))
    check_instance(constant, "constant", (str, tuple),
                   expected="a constant's name such as 'c' or a pair (value, 'unit')")
    key = CONSTANT_ALIASES.get(constant.strip(), constant.strip())
    try:
        unit = parse_unit(key)
    except ValueError:
        raise ValueError(f"unknown constant {constant!r}: not a name in pint's table; use e.g. "
                         "'c', 'h', 'hbar', 'k_B', 'G', 'e', 'epsilon_0', 'mu_0', 'N_A', or "
                         "give (value, 'unit')") from None
    return Constant(name or constant, unit.factor, Unit(unit.si, unit.exponents))
