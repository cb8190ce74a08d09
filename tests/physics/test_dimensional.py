"""Dimensional analysis on known laws: exact scales and groups, numbers, and the way back."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from eurisko.bench.feynman import load_problem, load_problems, read_pmlb_metadata
from eurisko.physics.dimensional import (
    DimensionalAnalysis,
    analyze,
    scale_constant,
    scaled_target,
)
from eurisko.physics.units import pmlb_unit


def feynman(name):
    """A Feynman problem, its columns' and target's units (from its yaml) and its analyses."""
    problem = load_problem(name)
    meta, _ = read_pmlb_metadata(problem.path)
    x_units = [pmlb_unit(f["description"]) for f in meta["features"]]
    y_unit = pmlb_unit(meta["target"]["description"])
    analyses, why = analyze(x_units, y_unit, problem.variables, y_name=problem.target)
    return problem, x_units, y_unit, analyses, why


def f_of_groups(analysis, law, symbols):
    """The law divided by its scale, written in the group symbols z0, z1, ...: for each group,
    solve for a column that appears in it alone; what remains must be a function of z."""
    zs = sp.symbols(f"z0:{analysis.n_groups}", positive=True)
    ratio = law / analysis.scale_expression(symbols)
    monomials = analysis.group_expressions(symbols)
    for k, (z, monomial) in enumerate(zip(zs, monomials, strict=True)):
        own = next(j for j, p in enumerate(analysis.groups[k])
                   if p and all(g[j] == 0 for i, g in enumerate(analysis.groups) if i != k))
        x, p = symbols[own], analysis.groups[k][own]
        ratio = ratio.subs(x, (z / (monomial / x**p)) ** sp.Rational(1, p))
    return sp.simplify(ratio), zs


# name, rank, groups of the best basis, scale of the best basis (exponents in column order)
KNOWN = [
    ("I.10.7", 2, [(0, 1, -1)], (1, 0, 0)),  # m = m_0 f(v/c)
    ("I.41.16", 4, [(1, -1, 1, -1, 0)], (3, 0, 1, 0, -2)),  # L_rad = h w^3/c^2 f(h w/(kb T))
    ("III.4.33", 3, [(1, 1, -1, -1)], (0, 0, 1, 1)),  # E_n = kb T f(h w/(kb T))
]


@pytest.mark.parametrize("name, rank, groups, scale", KNOWN)
def test_known_laws_exact_groups_and_scale(name, rank, groups, scale):
    problem, _, _, analyses, why = feynman(name)
    assert why == ""
    best = analyses[0]
    assert best.names == problem.variables
    assert best.rank == rank and best.n_groups == len(problem.variables) - rank
    assert [list(g) for g in best.groups] == [list(g) for g in groups]
    assert best.scale == tuple(Fraction(p) for p in scale)
    assert all(isinstance(p, Fraction) for p in best.scale)
    assert all(isinstance(p, int) for g in best.groups for p in g)


@pytest.mark.parametrize("name", [k[0] for k in KNOWN])
def test_law_over_scale_is_a_function_of_the_groups(name):
    """For every alternative basis: symbolically, law/scale depends on the groups alone, and
    to_original of that function is the law again; numerically, on random rows, y/scale from
    transform equals that function evaluated on transform's groups."""
    problem, _, _, analyses, _ = feynman(name)
    symbols = [sp.Symbol(v, positive=True) for v in problem.variables]
    law = problem.formula.xreplace({sp.Symbol(v, real=True): s
                                    for v, s in zip(problem.variables, symbols, strict=True)})
    X, y = problem.sample(200, seed=1)
    for analysis in analyses:
        f, zs = f_of_groups(analysis, law, symbols)
        assert f.free_symbols <= set(zs), (str(analysis), f)
        back = analysis.to_original(f, zs, symbols)
        assert sp.simplify(back - law) == 0, (str(analysis), back)
        Z, s = analysis.transform(X.to_numpy())
        assert Z.shape == (200, analysis.n_groups)
        np.testing.assert_allclose(y / s, sp.lambdify(zs, f, "numpy")(*Z.T), rtol=1e-9)


def test_i_10_7_back_in_the_original_variables():
    _, _, _, analyses, _ = feynman("I.10.7")
    m_0, v, c = sp.symbols("m_0 v c", real=True)
    z0 = sp.Symbol("z0")
    law = analyses[0].to_original(1 / sp.sqrt(1 - z0**2), [z0], [m_0, v, c])
    assert law == m_0 / sp.sqrt(1 - v**2 / c**2)
    assert str(analyses[0]) == "m/m_0 = f(v/c)"


def test_planck_alternative_scales():
    _, _, _, analyses, _ = feynman("I.41.16")
    assert [str(a) for a in analyses] == [
        "L_rad/(h*omega**3/c**2) = f(h*omega/(T*kb))",
        "L_rad/(T*kb*omega**2/c**2) = f(h*omega/(T*kb))",
        "L_rad/(T**3*kb**3/(c**2*h**2)) = f(h*omega/(T*kb))",
    ]


def test_energy_scale_alternatives_m_c2_and_m_v2():
    analyses, why = analyze(["kg", "m/s", "m/s"], "J", ["m", "v", "c"], alternatives=4)
    assert why == ""
    assert [(a.scale, a.groups) for a in analyses] == [
        ((1, 0, 2), ((0, 1, -1),)),  # m c^2, f(v/c)
        ((1, 2, 0), ((0, 1, -1),)),  # m v^2, f(v/c)
    ]
    assert len(analyze(["kg", "m/s", "m/s"], "J", ["m", "v", "c"], alternatives=1)[0]) == 1


# Problems whose PMLB units are wrong, so that y/scale is not a function of the groups.
PMLB_UNIT_ERRORS = {
    # v = mu_drift*q*Volt/d: the mobility is velocity per force, s/kg (as I.43.31 writes it);
    # PMLB writes "Drift velocity constant, s^(-1) * kg^1", the inverse.
    "I.43.16",
}


def test_every_feynman_law_balances_and_is_a_function_of_its_groups():
    """On every shipped Feynman problem: the units balance, and a change of units (each base
    dimension rescaled by a random factor) changes no group and not y/scale, so y/scale is
    a function of the groups for every alternative basis, except where PMLB's units are
    wrong."""
    rng = np.random.default_rng(2)
    wrong = set()
    for problem in load_problems():
        meta, _ = read_pmlb_metadata(problem.path)
        x_units = [pmlb_unit(f["description"]) for f in meta["features"]]
        analyses, why = analyze(x_units, pmlb_unit(meta["target"]["description"]),
                                problem.variables)
        assert analyses and why == "", problem.name
        assert 1 <= len(analyses) <= 4
        X, _ = problem.sample(20, seed=0)
        X = X.to_numpy()
        factor = rng.uniform(0.3, 3.0, 7)
        X_new = X * np.array([np.prod(factor ** np.array(u.exponents, dtype=float))
                              for u in x_units])
        law = sp.lambdify([sp.Symbol(v, real=True) for v in problem.variables],
                          problem.formula, "numpy")
        for a in analyses:
            assert len(set(a.groups)) == a.n_groups <= len(problem.variables)
            Z, s = a.transform(X)
            Z_new, s_new = a.transform(X_new)
            np.testing.assert_allclose(Z_new, Z, rtol=1e-9, err_msg=problem.name)
            if not np.allclose(law(*X_new.T) / s_new, law(*X.T) / s, rtol=1e-8, atol=0):
                wrong.add(problem.name)
    assert wrong == PMLB_UNIT_ERRORS


def test_unbalanced_units_name_the_missing_constant():
    # Planck's law without c: kg/s^2 cannot be made from omega, T, h, kb.
    analyses, why = analyze(["1/s", "K", "J*s", "J/K"], "kg/s^2", ["omega", "T", "h", "kb"],
                            y_name="L_rad")
    assert analyses is None
    assert why.startswith("the unit of L_rad (kg/s^2) cannot be made from the columns' units "
                          "(omega: 1/s, T: K, h: kg*m^2/s, kb: kg*m^2/(s^2*K))")
    assert "dimensional constant that is not a column is missing" in why
    assert "adding c (the speed of light)" in why and "or a unit is wrong" in why
    assert "\n" not in why
    # E = m c^2 with the mass alone
    analyses, why = analyze(["kg"], "J", ["m"])
    assert analyses is None and "adding c (the speed of light)" in why
    # a dimension in y that no column has
    analyses, why = analyze(["m", "s"], "K", ["x", "t"])
    assert analyses is None and "temperature appears in y but in no column" in why


def test_i_10_7_without_c_leaves_no_groups():
    """Units alone cannot tell that I.10.7 needs c: without it y = C * m_0, one constant,
    which the data then refute (the fit is poor)."""
    analyses, why = analyze(["kg", "m/s"], "kg", ["m_0", "v"])
    assert why == "" and analyses[0].n_groups == 0 and analyses[0].scale == (1, 0)
    X = np.array([[1.0, 1.0], [2.0, 5.0], [3.0, -2.0]])
    Z, s = analyses[0].transform(X)
    assert Z.shape == (3, 0)
    assert scale_constant(2.5 * X[:, 0], s) == pytest.approx(2.5)
    assert str(analyses[0]) == "y/m_0 = C"


def test_dimensionless_columns_are_their_own_groups():
    analyses, _ = analyze(["1", "rad", "1"], "1", ["a", "theta", "n"])
    assert analyses[0].groups == ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    assert analyses[0].scale == (0, 0, 0)
    assert str(analyses[0]) == "y = f(a, theta, n)"


def test_transform_keeps_signs_of_integer_powers():
    analysis = analyze(["kg", "m/s", "m/s"], "kg*m^2/s^2", ["m", "v", "c"])[0][0]
    X = np.array([[2.0, -1.5, 3.0], [1.0, 2.0, -4.0], [1.0, 0.0, 2.0], [1.0, -3.0, -0.5]])
    Z, s = analysis.transform(X)
    np.testing.assert_allclose(Z[:, 0], X[:, 1] / X[:, 2], rtol=1e-14)
    np.testing.assert_allclose(s, X[:, 0] * X[:, 2] ** 2, rtol=1e-14)
    # a group with a cube keeps the sign, one with a square loses it
    a = DimensionalAnalysis(("x", "y"), (Fraction(0), Fraction(0)), ((3, -1), (2, 0)))
    Z, _ = a.transform(np.array([[-2.0, 4.0], [2.0, -4.0]]))
    np.testing.assert_allclose(Z, [[-2.0, 4.0], [-2.0, 4.0]], rtol=1e-14)


def test_transform_does_not_overflow_in_between():
    a = DimensionalAnalysis(("x", "y"), (Fraction(0), Fraction(0)), ((4, -4),))
    Z, _ = a.transform(np.array([[1e100, 1e100], [-1e-100, 1e-100]]))
    np.testing.assert_allclose(Z[:, 0], [1.0, 1.0], rtol=1e-12)


def test_rational_scale_exponents_use_the_size_of_the_column():
    """Orbital speed sqrt(G*M/r): the scale has exponents 1/2, which need |x|."""
    analyses, _ = analyze(["m^3/(kg*s^2)", "kg", "m"], "m/s", ["G", "M", "r"])
    a = analyses[0]
    assert a.scale == (Fraction(1, 2), Fraction(1, 2), Fraction(-1, 2)) and a.n_groups == 0
    _, s = a.transform(np.array([[2.0, 8.0, 4.0], [2.0, 8.0, -4.0]]))
    np.testing.assert_allclose(s, [2.0, 2.0])
    G, M, r = sp.symbols("G M r", positive=True)
    assert a.to_original(sp.Integer(1), [], [G, M, r]) == sp.sqrt(G * M / r)
    G, M, r = sp.symbols("G M r", real=True)
    assert a.to_original(sp.Integer(1), [], [G, M, r]).has(sp.Abs)


def test_units_other_than_si_are_converted_and_written_back():
    """v in km/s and c in m/s: the group is the true v/c; the law carries the 1000 exactly,
    and y in grams the 1000 of the kilogram."""
    analyses, _ = analyze(["kg", "km/s", "m/s"], "g", ["m_0", "v", "c"])
    a = analyses[0]
    X = np.array([[2.0, 100.0, 3e5], [1.0, -50.0, 1e5]])
    Z, s = a.transform(X)
    np.testing.assert_allclose(Z[:, 0], 1000 * X[:, 1] / X[:, 2], rtol=1e-14)
    np.testing.assert_allclose(s, 1000 * X[:, 0], rtol=1e-14)
    m_0, v, c = sp.symbols("m_0 v c", positive=True)
    z0 = sp.Symbol("z0")
    law = a.to_original(1 / sp.sqrt(1 - z0**2), [z0], [m_0, v, c])
    assert sp.simplify(law - 1000 * m_0 / sp.sqrt(1 - (1000 * v / c) ** 2)) == 0
    y = 1000 * X[:, 0] / np.sqrt(1 - (1000 * X[:, 1] / X[:, 2]) ** 2)
    np.testing.assert_allclose(y / s, 1 / np.sqrt(1 - Z[:, 0] ** 2), rtol=1e-12)


def test_to_original_simplify_and_errors():
    a = analyze(["kg", "m/s", "m/s"], "kg", ["m_0", "v", "c"])[0][0]
    m_0, v, c = sp.symbols("m_0 v c", positive=True)
    z0 = sp.Symbol("z0")
    simple = a.to_original(1 / sp.sqrt(1 - z0**2), [z0], [m_0, v, c], simplify=True)
    assert sp.simplify(simple - m_0 / sp.sqrt(1 - v**2 / c**2)) == 0
    with pytest.raises(ValueError, match=r"group_symbols must give one symbol per group \(1\)"):
        a.to_original(z0, [], [m_0, v, c])
    with pytest.raises(ValueError, match=r"variable_symbols must give one symbol per column"):
        a.to_original(z0, [z0], [m_0, v])
    with pytest.raises(ValueError, match=r"uses the variables \['v'\] directly"):
        a.to_original(z0 * v, [z0], [m_0, v, c])
    with pytest.raises(TypeError, match="expr_in_groups must be a SymPy expression"):
        a.to_original("z0", [z0], [m_0, v, c])


def test_transform_checks_its_input():
    a = analyze(["kg", "m/s", "m/s"], "kg", ["m_0", "v", "c"])[0][0]
    with pytest.raises(ValueError, match=r"X must have one column per variable \(3"):
        a.transform(np.ones((4, 2)))


@pytest.mark.parametrize("args, kwargs, error, message", [
    (("kg", "kg"), {}, ValueError, "x_units must be a list of units, one per column, got the "
                                   "single string 'kg'"),
    ((["kg", "m"], "kg", ["a"]), {}, ValueError, r"names must give one name per unit \(2\)"),
    ((["kg"], "kg"), {"alternatives": 0}, ValueError, "alternatives must be a positive"),
    ((["kg", "m/sek"], "kg", ["m", "v"]), {}, ValueError, "unknown unit 'm/sek' for column "
                                                          "'v'"),
    (([(1, 0)], "kg"), {}, ValueError, r"the unit of 'x0' must have 7 exponents"),
    (([3.0], "kg"), {}, TypeError, "the unit of 'x0' must be a unit string, a Unit or 7 "
                                   "exponents"),
])
def test_analyze_errors(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        analyze(*args, **kwargs)


def test_analyze_accepts_exponent_vectors():
    velocity = (1, 0, -1, 0, 0, 0, 0)
    analyses, _ = analyze([(0, 1, 0, 0, 0, 0, 0), velocity, velocity], (0, 1, 0, 0, 0, 0, 0),
                          ["m_0", "v", "c"])
    assert analyses[0].groups == ((0, 1, -1),) and analyses[0].factors == ()


def test_scaled_weights_make_the_loss_on_t_the_loss_on_y():
    rng = np.random.default_rng(0)
    y, s = rng.normal(size=50), rng.uniform(0.1, 10, 50) * rng.choice([-1, 1], 50)
    w, f = rng.uniform(0, 2, 50), rng.normal(size=50)
    t, w_t = scaled_target(y, s, w)
    assert np.sum(w_t * (t - f) ** 2) == pytest.approx(np.sum(w * (y - s * f) ** 2), rel=1e-12)
    t, w_t = scaled_target(y, s)
    assert np.sum(w_t * (t - f) ** 2) == pytest.approx(np.sum((y - s * f) ** 2), rel=1e-12)


def test_rows_without_a_usable_scale_get_no_weight():
    t, w = scaled_target([1.0, 2.0, 3.0, 4.0], [0.0, np.inf, np.nan, 2.0], [1.0, 1.0, 1.0, 3.0])
    assert t.tolist() == [0.0, 0.0, 0.0, 2.0] and w.tolist() == [0.0, 0.0, 0.0, 12.0]
    with pytest.raises(ValueError, match="same length"):
        scaled_target([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"one weight per row \(1\)"):
        scaled_target([1.0], [1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="no row has a finite, nonzero scale"):
        scale_constant([1.0], [0.0])


def test_scale_constant_is_weighted_least_squares():
    s = np.array([1.0, 2.0, -3.0])
    y = np.array([1.0, 5.0, -5.0])
    w = np.array([1.0, 0.5, 2.0])
    assert scale_constant(y, s, w) == pytest.approx(np.sum(w * s * y) / np.sum(w * s * s))
