"""Unit strings (pint), PMLB's unit descriptions and physical constants as exponent vectors."""

import math
import re
from fractions import Fraction

import pytest

from eurisko.bench.feynman import feynman_dir, read_pmlb_metadata
from eurisko.physics.units import (
    BASE_DIMENSIONS,
    parse_unit,
    parse_units,
    physical_constant,
    pmlb_unit,
)


def dims(**powers) -> tuple[Fraction, ...]:
    """An exponent vector from keyword powers: dims(length=1, time=-1)."""
    return tuple(Fraction(powers.get(d, 0)) for d in BASE_DIMENSIONS)


@pytest.mark.parametrize("text, expected, factor", [
    ("kg", dims(mass=1), 1),
    ("m/s", dims(length=1, time=-1), 1),
    ("N*m", dims(mass=1, length=2, time=-2), 1),
    ("J/K", dims(mass=1, length=2, time=-2, temperature=-1), 1),
    ("kg*m^2/s^2", dims(mass=1, length=2, time=-2), 1),
    ("kg m^2 s^-2", dims(mass=1, length=2, time=-2), 1),
    ("1", dims(), 1),
    ("", dims(), 1),
    ("  ", dims(), 1),
    ("rad", dims(), 1),
    ("km", dims(length=1), 1000),
    ("g", dims(mass=1), 0.001),
    ("V", dims(mass=1, length=2, time=-3, current=-1), 1),
    ("mol/m^3", dims(amount=1, length=-3), 1),
    ("cd", dims(luminosity=1), 1),
    ("m^(1/2)", dims(length=Fraction(1, 2)), 1),
])
def test_unit_strings_give_exact_exponents_and_si_factors(text, expected, factor):
    unit = parse_unit(text)
    assert unit.exponents == expected
    assert all(isinstance(p, Fraction) for p in unit.exponents)
    assert unit.factor == pytest.approx(factor, rel=1e-12)
    assert unit.text == text
    assert unit.dimensionless == (expected == dims())


def test_si_text():
    assert parse_unit("J/K").si == "kg*m^2/(s^2*K)"
    assert parse_unit("Hz").si == "1/s"
    assert parse_unit("").si == "1"
    assert parse_unit("m^(1/2)").si == "m^(1/2)"


def test_unknown_unit_names_the_string_and_the_column():
    with pytest.raises(ValueError, match=r"^unknown unit 'meter/sek' for column 'v': 'sek'") \
            as info:
        parse_unit("meter/sek", column="v")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["m/", "m)", "kg**", "m+s"])
def test_unreadable_unit_is_one_line(text):
    with pytest.raises(ValueError, match=f"could not read unit {re.escape(repr(text))} "
                                         "for column 'x'") as info:
        parse_unit(text, column="x")
    assert "\n" not in str(info.value)


def test_offset_units_are_refused_with_advice():
    with pytest.raises(ValueError, match="offset.*kelvin.*delta_degC"):
        parse_unit("degC", column="T")
    assert parse_unit("delta_degC").exponents == dims(temperature=1)


def test_a_unit_must_be_a_string():
    with pytest.raises(TypeError, match="the unit of column 'v' must be a unit string"):
        parse_unit(3, column="v")


def test_parse_units_from_a_mapping_or_a_list():
    units = parse_units({"c": "m/s", "m_0": "kg", "v": "km/s"}, ["m_0", "v", "c"])
    assert [u.exponents for u in units] == [dims(mass=1), dims(length=1, time=-1),
                                            dims(length=1, time=-1)]
    assert [u.factor for u in units] == [1, 1000, 1]
    assert [u.text for u in parse_units(["kg", "1"], ["m", "n"])] == ["kg", "1"]


@pytest.mark.parametrize("units, message", [
    ({"m_0": "kg"}, r"X_units gives no unit for columns \['v'\]"),
    ({"m_0": "kg", "v": "m/s", "w": "s"}, r"X_units names \['w'\], which are not columns"),
    (["kg"], r"X_units must give one unit per column \(2"),
    ("kg", "X_units must be a dict .* got the single string 'kg'"),
    (3, "X_units must be a dict"),
    ({"m_0": "kg", "v": "m/sek"}, "unknown unit 'm/sek' for column 'v'"),
])
def test_parse_units_errors(units, message):
    with pytest.raises(ValueError, match=message):
        parse_units(units, ["m_0", "v"])


@pytest.mark.parametrize("description, expected", [
    ("Velocity, m^1 * s^(-1)", dims(length=1, time=-1)),
    ("Mass, kg^1", dims(mass=1)),
    ("Temperature, T^1", dims(temperature=1)),  # PMLB's T is the kelvin, not the tesla
    ("Voltage, V^1", dims(mass=1, length=2, time=-3, current=-1)),
    ("Charge, m^2 * s^(-2) * kg^1 * V^(-1)", dims(time=1, current=1)),
    ("Dimensionless", dims()),
    ("f, Dimensionless ", dims()),
    ("L_rad, Spectral radiance, s^(-2) * kg^1 ", dims(mass=1, time=-2)),
    ("Τime, s^1", dims(time=1)),  # a Greek capital tau in PMLB's text
])
def test_pmlb_descriptions(description, expected):
    unit = pmlb_unit(description)
    assert unit.exponents == expected
    assert unit.factor == pytest.approx(1)


@pytest.mark.parametrize("description", ["Velocity, m^1 * q^(-1)", "Mass, kg", "Speed, m/s"])
def test_pmlb_description_errors(description):
    with pytest.raises(ValueError, match="could not read the PMLB unit"):
        pmlb_unit(description)


def test_every_feynman_file_has_readable_units():
    paths = sorted(feynman_dir().glob("feynman_*.yaml"))
    assert len(paths) >= 99  # the copy shipped in the package holds 99
    read = 0
    for path in paths:
        meta, _ = read_pmlb_metadata(path)
        units = [pmlb_unit(meta["target"]["description"])]
        units += [pmlb_unit(f["description"]) for f in meta["features"]]
        assert len(units) >= 2, path.name
        read += len(units)
    assert read > 400


def test_constants_from_pints_table():
    c = physical_constant("c")
    assert c.value == 299792458
    assert c.unit.exponents == dims(length=1, time=-1)
    assert c.unit.factor == 1
    assert c.name == "c"
    h = physical_constant("h")  # Planck's constant, not the hour
    assert h.value == pytest.approx(6.62607015e-34)
    assert h.unit.si == "kg*m^2/s"
    assert physical_constant("hbar").value == pytest.approx(6.62607015e-34 / (2 * math.pi))
    for name in ("k", "k_B", "kb"):
        assert physical_constant(name).value == pytest.approx(1.380649e-23)
    G = physical_constant("G")  # Newton's constant, not the gauss
    assert G.value == pytest.approx(6.6743e-11)
    assert G.unit.exponents == dims(length=3, mass=-1, time=-2)
    assert physical_constant("e").unit.exponents == dims(time=1, current=1)
    assert physical_constant("epsilon_0").unit.exponents == dims(mass=-1, length=-3, time=4,
                                                                 current=2)
    assert physical_constant("mu_0").value == pytest.approx(1.25663706e-6)
    assert physical_constant("N_A").unit.exponents == dims(amount=-1)
    assert physical_constant("speed_of_light").value == 299792458


def test_constants_given_by_the_user_are_converted_to_si():
    L = physical_constant((1.5, "km"), name="L")
    assert (L.name, L.value, L.unit.exponents, L.unit.factor) == ("L", 1500.0, dims(length=1), 1)


@pytest.mark.parametrize("constant, error, message", [
    ("not_a_constant", ValueError, "unknown constant 'not_a_constant'"),
    ((1.0,), ValueError, r"must be \(value, unit string\)"),
    ((float("nan"), "m"), ValueError, "the value of constant must be a finite number"),
    ((1.0, "m/sek"), ValueError, "unknown unit 'm/sek' for column 'constant'"),
    (3.0, TypeError, "constant must be a constant's name"),
])
def test_constant_errors(constant, error, message):
    with pytest.raises(error, match=message):
        physical_constant(constant)
